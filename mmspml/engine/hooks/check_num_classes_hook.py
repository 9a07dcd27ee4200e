from mmengine.hooks import Hook
from mmseg.registry import HOOKS
from torch import nn


@HOOKS.register_module()
class CheckNumClassesHook(Hook):
    """Stop a run whose model heads and dataset disagree on the number of classes.

    The generic configs of your own data (``configs/*/weak_folder_*.py``) take the class names
    from the dataset's ``classes.txt``, while the heads' ``num_classes`` is a number in the
    config; a head with more classes than the data would train and predict classes that do not
    exist without any error. Before training, validation and testing, every head of the model
    (``decode_head`` and ``auxiliary_head``, when they have ``num_classes``) is compared with
    the dataset's ``classes``; a difference is a ``ValueError`` saying what to set.
    """
    priority = 'VERY_HIGH'

    @staticmethod
    def _heads(model):
        model = getattr(model, 'module', model)  # DDP / TTA wrappers
        heads = []
        for name in ('decode_head', 'auxiliary_head'):
            head = getattr(model, name, None)
            if head is None:
                continue
            for i, h in enumerate(head if isinstance(head, nn.ModuleList) else [head]):
                key = name if not isinstance(head, nn.ModuleList) else f'{name}[{i}]'
                if getattr(h, 'num_classes', None) is not None:
                    heads.append((key, int(h.num_classes)))
        return heads

    def _check(self, runner, loader: str) -> None:
        dataset = getattr(runner, loader).dataset
        classes = dataset.metainfo.get('classes')
        if classes is None:
            return
        for key, num in self._heads(runner.model):
            if num != len(classes):
                raise ValueError(
                    f'CheckNumClassesHook: model.{key}.num_classes = {num} but the '
                    f'{loader} dataset has {len(classes)} classes ({", ".join(classes)}); '
                    f'set num_classes={len(classes)} for every head of the model in the '
                    'config')

    def before_train(self, runner) -> None:
        self._check(runner, 'train_dataloader')

    def before_val(self, runner) -> None:
        self._check(runner, 'val_dataloader')

    def before_test(self, runner) -> None:
        self._check(runner, 'test_dataloader')
