import torch
from mmengine.hooks import Hook
from mmseg.registry import HOOKS


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Save torch's global RNG state in checkpoints and restore it on resume.

    mmengine re-seeds on resume and replays the data loader to the resumed iteration
    (which reproduces numpy's augmentation draws), but the torch RNG used by dropout in
    the model would restart from the seed: the resumed run would then differ from an
    uninterrupted one. With this hook ``--resume`` continues bit-for-bit (same losses on
    CPU with a fixed seed). Checkpoints without the key load as before.
    """
    priority = 'VERY_LOW'
    _KEY = 'mmspml_rng_state'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = dict(torch=torch.get_rng_state())
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state['cuda'] = torch.cuda.get_rng_state_all()
        checkpoint[self._KEY] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get(self._KEY)
        if not state or not getattr(runner, '_resume', False):  # not for load_from
            return
        torch.set_rng_state(state['torch'])
        if 'cuda' in state and torch.cuda.is_available():
            cuda = state['cuda']
            if len(cuda) == torch.cuda.device_count():
                torch.cuda.set_rng_state_all(cuda)
