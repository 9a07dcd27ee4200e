"""Loading transforms that validate weak labels (label conventions: see
:mod:`mmspml.datasets.weak_seg_dataset`)."""
import numpy as np
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS


def check_label_values(label: np.ndarray, num_classes: int, unlabeled_index, ignore_index,
                       name: str) -> None:
    """Raise ``ValueError`` naming ``name`` if ``label`` has a value that is neither a
    class (``< num_classes``), the unlabeled index nor the ignore index."""
    values = np.unique(label)
    allowed = values < num_classes
    allowed |= values == ignore_index
    if unlabeled_index is not None:
        allowed |= values == unlabeled_index
    if not allowed.all():
        bad = values[~allowed].tolist()
        raise ValueError(
            f'{name}: label values {bad[:10]} are not valid: expected class ids '
            f'0..{num_classes - 1}, the unlabeled index {unlabeled_index} or the ignore '
            f'index {ignore_index}')


@TRANSFORMS.register_module()
class LoadWeakAnnotations(LoadAnnotations):
    """mmseg's ``LoadAnnotations`` plus checks, so bad files fail with their path.

    Required Keys: ``seg_map_path`` (str), ``num_classes``, ``unlabeled_index``,
    ``ignore_index`` (set by :class:`~mmspml.datasets.WeakSegDataset`; defaults used when
    absent), optionally ``img`` (to check sizes).

    Added Keys: ``gt_seg_map`` (np.uint8, [H, W]); appends to ``seg_fields``.

    Raises ``ValueError`` (naming the file) if the label is not 2-D, differs in size from
    the already loaded image, or holds values other than classes, the unlabeled index and
    255; a missing file raises ``FileNotFoundError`` naming it.

    Args:
        num_classes (int, optional): overrides ``results['num_classes']``.
        allow_unlabeled (bool): accept the unlabeled index (weak labels). False for dense
            ground truth. Default True.
        **kwargs: passed to ``LoadAnnotations``.
    """

    def __init__(self, num_classes=None, allow_unlabeled=True, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.allow_unlabeled = allow_unlabeled

    def _load_seg_map(self, results: dict) -> None:
        path = results['seg_map_path']
        try:
            super()._load_seg_map(results)
        except FileNotFoundError as exc:
            raise FileNotFoundError(f'label file {path!r} does not exist') from exc
        except Exception as exc:
            raise ValueError(f'label file {path!r} could not be decoded: {exc}') from exc
        label = results['gt_seg_map']
        if label.ndim != 2:
            raise ValueError(f'label file {path!r}: expected a single-channel 8-bit PNG, '
                             f'got an array of shape {label.shape}')
        if 'img' in results and results['img'].shape[:2] != label.shape:
            raise ValueError(
                f'label file {path!r} has size {label.shape[::-1]} (w, h) but its image '
                f'{results.get("img_path")!r} has size {results["img"].shape[1::-1]}')
        num_classes = self.num_classes or results.get('num_classes')
        if num_classes is not None:
            unl = results.get('unlabeled_index') if self.allow_unlabeled else None
            check_label_values(label, num_classes, unl, results.get('ignore_index', 255),
                               f'label file {path!r}')

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_classes={self.num_classes}, '
                f'allow_unlabeled={self.allow_unlabeled}, '
                f'reduce_zero_label={self.reduce_zero_label}, '
                f"imdecode_backend='{self.imdecode_backend}', "
                f'backend_args={self.backend_args})')
