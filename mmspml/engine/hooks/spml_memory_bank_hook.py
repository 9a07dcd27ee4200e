from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS


@HOOKS.register_module()
class SPMLMemoryBankHook(Hook):
    """Fill SPML's prototype memory bank after every optimiser step (spml-method.md §4.8).

    Calls ``commit_memory()`` on every sub-module that has it (e.g.
    :class:`~mmspml.models.SPMLHead`), which pushes the prototypes of the step just
    taken — computed with the pre-update weights, as in the reference — into its bank.
    The bank itself is saved in the model's ``state_dict``, so resuming keeps it.
    """
    priority = 'LOW'  # after the optimiser step of the train loop

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        for module in model.modules():
            commit = getattr(module, 'commit_memory', None)
            if callable(commit):
                commit()
