from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS


@HOOKS.register_module()
class SPMLMemoryBankHook(Hook):
    """Fill SPML's prototype memory bank after every optimiser step (spml-method.md §4.8).

    Calls ``commit_memory()`` on every sub-module that has it (e.g.
    :class:`~mmspml.models.SPMLHead`), which pushes the prototypes of the step just
    taken — computed with the pre-update weights, as in the reference — into its bank.
    It also saves every :class:`~mmspml.models.utils.PrototypeMemoryBank` of the model in
    checkpoints (key ``mmspml_memory_banks``) and restores them on ``--resume`` (not for
    ``load_from``), so a resumed run continues with the same memory.
    """
    priority = 'LOW'  # after the optimiser step of the train loop
    _KEY = 'mmspml_memory_banks'

    @staticmethod
    def _model(runner):
        return runner.model.module if is_model_wrapper(runner.model) else runner.model

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None):
        for module in self._model(runner).modules():
            commit = getattr(module, 'commit_memory', None)
            if callable(commit):
                commit()

    def _banks(self, runner):
        from mmspml.models.utils import PrototypeMemoryBank
        return {name: m for name, m in self._model(runner).named_modules()
                if isinstance(m, PrototypeMemoryBank)}

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint[self._KEY] = {name: bank.export_state()
                                 for name, bank in self._banks(runner).items()}

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if not getattr(runner, '_resume', False) or self._KEY not in checkpoint:
            return
        saved = checkpoint[self._KEY]
        for name, bank in self._banks(runner).items():
            if name in saved:
                bank.import_state(saved[name])
