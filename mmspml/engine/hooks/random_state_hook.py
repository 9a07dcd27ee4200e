import warnings

import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import Hook
from mmseg.registry import HOOKS


def _local_state() -> dict:
    state = dict(torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def _set_local_state(state: dict) -> None:
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        cuda = state['cuda']
        if len(cuda) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda)


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Save torch's global RNG state of every process in checkpoints and restore it on
    resume.

    mmengine re-seeds on resume and replays the data loader to the resumed iteration
    (which reproduces numpy's augmentation draws), but the torch RNG used by dropout in
    the model would restart from the seed: the resumed run would then differ from an
    uninterrupted one. With this hook ``--resume`` continues bit-for-bit on the CPU (same
    losses with a fixed seed; on a GPU, atomic float additions make runs differ in the
    last bits whatever the RNG).

    Every process has its own RNG stream (its own dropout masks): the states of all
    ranks are gathered into the checkpoint (``ranks``, index = rank) and each rank
    restores its own. A run resumed with another number of processes keeps the freshly
    seeded states (with a warning; it cannot continue any rank's stream exactly).
    Checkpoints without the key load as before; those of earlier versions (one state,
    rank 0's) are restored in a one-process run only.
    """
    priority = 'VERY_LOW'
    _KEY = 'mmspml_rng_state'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        # Runner.save_checkpoint runs on every rank (only rank 0 writes the file), so
        # this collective is reached by all of them
        state = _local_state()
        states = all_gather_object(state) if get_world_size() > 1 else [state]
        checkpoint[self._KEY] = dict(ranks=states, world_size=len(states))

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        saved = checkpoint.get(self._KEY)
        if not saved or not getattr(runner, '_resume', False):  # not for load_from
            return
        rank, world = get_rank(), get_world_size()
        if 'ranks' not in saved:  # written before the per-rank states: rank 0's only
            states = [saved]
        else:
            states = saved['ranks']
        if len(states) != world:
            warnings.warn(
                f'RandomStateHook: the checkpoint holds the RNG states of {len(states)} '
                f'process(es), this run has {world}; the RNG states are not restored and '
                'the resumed run will not repeat the interrupted one exactly')
            return
        _set_local_state(states[rank])
