"""Loading transforms that validate weak labels (label conventions: see
:mod:`mmspml.datasets.weak_seg_dataset`)."""
import cv2
import numpy as np
from mmengine import fileio
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
    absent), optionally ``img`` (to check sizes), ``unlabeled_from_255`` (bool) and
    ``img_tag_ids`` (list[int]; set by the datasets, see below).

    Added Keys: ``gt_seg_map`` (np.uint8, [H, W]); appends to ``seg_fields``.

    Two dataset options act here (spml-method.md §8 item 4):

    * ``unlabeled_from_255``: rloss-style scribble/point PNGs (and thresholded CAMs) mark
      *unlabeled* pixels with 255; they are turned into the unlabeled index right after
      reading, before the value check, so SPML clusters them instead of dropping them.
      Padding added later by the pipeline is still 255 (ignore).
    * image-level tags only (a sample with ``img_tag_ids`` and no ``seg_map_path``): the
      label is all unlabeled index, the size of the loaded ``img``.

    Palette PNGs (VOC's format) are read as their indices; 16-bit PNGs are accepted when
    every value fits in 8 bits.

    Raises ``ValueError`` (naming the file) if the label is not 2-D, is a 16-bit PNG with
    values > 255 (mmseg's uint8 cast would wrap them silently), differs in size from
    the already loaded image, or holds values other than classes, the unlabeled index and
    255; a missing file raises ``FileNotFoundError`` naming it.

    Args:
        num_classes (int, optional): overrides ``results['num_classes']``.
        allow_unlabeled (bool): accept the unlabeled index (weak labels). False for dense
            ground truth. Default True.
        unlabeled_from_255 (bool, optional): convert 255 to the unlabeled index; ``None``
            (default) follows ``results['unlabeled_from_255']`` (False when absent).
        **kwargs: passed to ``LoadAnnotations``.
    """

    def __init__(self, num_classes=None, allow_unlabeled=True, unlabeled_from_255=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.allow_unlabeled = allow_unlabeled
        self.unlabeled_from_255 = unlabeled_from_255

    def _unlabeled_index(self, results: dict) -> int:
        num_classes = self.num_classes or results.get('num_classes')
        unl = results.get('unlabeled_index', num_classes)
        if unl is None:
            raise KeyError(f'{type(self).__name__}: need unlabeled_index or num_classes '
                           f'for {results.get("img_path")!r}')
        return unl

    def _label_from_tags(self, results: dict) -> None:
        if results.get('img') is None:
            raise KeyError(f'{type(self).__name__}: a tags-only sample '
                           f'({results.get("img_path")!r}) needs LoadImageFromFile first '
                           '(the label takes the image size)')
        results['gt_seg_map'] = np.full(results['img'].shape[:2],
                                        self._unlabeled_index(results), np.uint8)
        results.setdefault('seg_fields', []).append('gt_seg_map')

    def _check_16_bit(self, path: str) -> None:
        """mmseg casts labels to uint8: a 16-bit PNG with values > 255 would wrap around
        silently (256 -> class 0). Reject it instead, naming the file."""
        try:
            buf = fileio.get(path, backend_args=self.backend_args)
        except FileNotFoundError as exc:
            raise FileNotFoundError(f'label file {path!r} does not exist') from exc
        is_png = buf[:8] == b'\x89PNG\r\n\x1a\n' and buf[12:16] == b'IHDR'
        if is_png and len(buf) > 24 and buf[24] == 16:
            label = cv2.imdecode(np.frombuffer(buf, np.uint8), cv2.IMREAD_UNCHANGED)
            if label is not None and label.max() > 255:
                raise ValueError(
                    f'label file {path!r} is a 16-bit PNG with values up to '
                    f'{int(label.max())}; labels must be 8-bit class ids (0..C-1, the '
                    'unlabeled index, 255 = ignore)')

    def _load_seg_map(self, results: dict) -> None:
        if results.get('seg_map_path') is None and results.get('img_tag_ids') is not None:
            self._label_from_tags(results)
            return
        path = results['seg_map_path']
        self._check_16_bit(path)
        try:
            super()._load_seg_map(results)
        except FileNotFoundError as exc:
            raise FileNotFoundError(f'label file {path!r} does not exist') from exc
        except Exception as exc:
            raise ValueError(f'label file {path!r} could not be decoded: {exc}') from exc
        from_255 = self.unlabeled_from_255
        if from_255 is None:
            from_255 = bool(results.get('unlabeled_from_255', False))
        if from_255:
            if not self.allow_unlabeled:
                raise ValueError(
                    f'{type(self).__name__}: unlabeled_from_255 with '
                    f'allow_unlabeled=False (dense ground truth) for {path!r}; build the '
                    "dense dataset with weak_label='full' or unlabeled_from_255=False")
            label = results['gt_seg_map']
            label[label == 255] = self._unlabeled_index(results)
        label = results['gt_seg_map']
        if label.ndim != 2:
            raise ValueError(f'label file {path!r}: expected a single-channel 8-bit PNG, '
                             f'got an array of shape {label.shape}')
        # the image as read (ori_shape): test pipelines load the label after Resize
        img_hw = results.get('ori_shape')
        if img_hw is None and 'img' in results:
            img_hw = results['img'].shape[:2]
        if img_hw is not None and tuple(img_hw[:2]) != label.shape:
            raise ValueError(
                f'label file {path!r} has size {label.shape[::-1]} (w, h) but its image '
                f'{results.get("img_path")!r} has size {tuple(img_hw[1::-1])}')
        num_classes = self.num_classes or results.get('num_classes')
        if num_classes is not None:
            unl = results.get('unlabeled_index') if self.allow_unlabeled else None
            check_label_values(label, num_classes, unl, results.get('ignore_index', 255),
                               f'label file {path!r}')

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_classes={self.num_classes}, '
                f'allow_unlabeled={self.allow_unlabeled}, '
                f'unlabeled_from_255={self.unlabeled_from_255}, '
                f'reduce_zero_label={self.reduce_zero_label}, '
                f"imdecode_backend='{self.imdecode_backend}', "
                f'backend_args={self.backend_args})')
