from typing import Optional

from mmseg.datasets import PascalVOCDataset
from mmseg.registry import DATASETS

from ._spml_list_dataset import _SPMLListDataset

_SCRIBBLE_LENGTHS = (1.0, 0.8, 0.5, 0.3)


@DATASETS.register_module()
class VOCWeakDataset(_SPMLListDataset):
    """PASCAL VOC 2012 + SBD (``train_aug`` 10,582 / ``val`` 1,449) in SPML's layout.

    21 classes (0 = background), void 255, unlabeled index 21 by default. Layout under
    ``data_root`` (spml-method.md §1.1, §1.3; docs/dataset_prepare.md)::

        VOC2012/JPEGImages/ID.jpg            images (VOC 2012 trainval + SBD)
        VOC2012/segcls/ID.png                dense ground truth of VOC images
        sbd/dataset/clsimg/ID.png            dense ground truth of SBD images
        VOC2012/hed/ID.png                   over-segmentation (HED-owt-ucm or superpixels)
        VOC2012/cam/seam_a6_th0.2/ID.png     weak_label='tags'  (thresholded SEAM CAMs)
        VOC2012/cam/seambox_a6_th0.5/ID.png  weak_label='boxes'
        VOC2012/scribble/dilate_3[_F]/ID.png weak_label='scribbles' (F = scribble_length)
        VOC2012/scribble/dilate_6_0.0/ID.png weak_label='points'
        seam_train+_a6_th0.2_hed.txt, ...    SPML's list files (3 columns), or
        VOC2012/ImageSets/Segmentation/{split}.txt   one ID a line

    ``weak_label`` picks the label directory (``'full'``: ``VOC2012/segcls``, falling
    back to ``sbd/dataset/clsimg``); a 3-column list contributes the image path and the
    ID (``weak_label=None`` takes its label/over-segmentation columns verbatim).

    Unlabeled pixels: rloss-style scribble/point PNGs (and, if so encoded, thresholded
    CAMs) mark them with 255. ``unlabeled_from_255`` (default: True for every weak kind,
    False for ``'full'``) makes :class:`~mmspml.datasets.transforms.LoadWeakAnnotations`
    turn 255 into the unlabeled index at load time (spml-method.md §8 item 4) -- weak
    labels have no real void, and padding added by the pipeline stays 255. Files whose
    unlabeled value is already in ``[21, 254]`` are unaffected.

    Image-level tags instead of CAM labels: ``weak_label='tags', tags_file='x.json'``
    with ``{"ID": [class ids]}`` (VOC ids, 0 = background, e.g. from
    ``tools/simulate_weak_labels.py --kind tags``): the label is all unlabeled (255 only
    where the pipeline pads) and ``img_tags`` come from the file.

    Args:
        data_root (str): the directory holding ``VOC2012`` and ``sbd``.
        split (str): substituted into ``{split}`` of ``ann_file``. Default 'train_aug'.
        weak_label (str, optional): 'tags', 'boxes', 'scribbles', 'points', 'full' or
            None. Default 'tags'.
        scribble_length (float): fraction of the scribble length, 1.0 (``dilate_3``),
            0.8, 0.5 or 0.3 (``dilate_3_0.8`` ...); only with 'scribbles'. Default 1.0.
        ann_file (str): list file, relative to ``data_root``.
            Default ``'VOC2012/ImageSets/Segmentation/{split}.txt'``.
        label_dir (str | list[str], optional): overrides the directory of ``weak_label``.
        overseg_dir (str, optional): over-segmentation directory; None = not used.
            Default ``'VOC2012/hed'``.
        unlabeled_from_255 (bool, optional): see above; None = by ``weak_label``.
        tags_file (str, optional): JSON of image tags (``weak_label='tags'`` only),
            relative to ``data_root`` or absolute; may contain ``{split}``.
        **kwargs: passed to :class:`~mmspml.datasets.WeakSegDataset` (``img_dir``,
            ``unlabeled_index``, ``check_files``, ``pipeline``, ...).
    """
    METAINFO = dict(classes=PascalVOCDataset.METAINFO['classes'],
                    palette=PascalVOCDataset.METAINFO['palette'])
    LABEL_DIRS = dict(
        tags=('VOC2012/cam/seam_a6_th0.2', ),
        boxes=('VOC2012/cam/seambox_a6_th0.5', ),
        scribbles=('VOC2012/scribble/dilate_3', ),
        points=('VOC2012/scribble/dilate_6_0.0', ),
        full=('VOC2012/segcls', 'sbd/dataset/clsimg'),
    )

    def __init__(self,
                 data_root: str,
                 split: str = 'train_aug',
                 weak_label: Optional[str] = 'tags',
                 scribble_length: float = 1.0,
                 ann_file: str = 'VOC2012/ImageSets/Segmentation/{split}.txt',
                 label_dir=None,
                 overseg_dir: Optional[str] = 'VOC2012/hed',
                 unlabeled_from_255: Optional[bool] = None,
                 tags_file: Optional[str] = None,
                 **kwargs) -> None:
        scribble_length = float(scribble_length)
        if scribble_length not in _SCRIBBLE_LENGTHS:
            raise ValueError(f'VOCWeakDataset: scribble_length={scribble_length}, expected '
                             f'one of {_SCRIBBLE_LENGTHS} (the released scribble sets)')
        if scribble_length != 1.0 and weak_label != 'scribbles':
            raise ValueError(f'VOCWeakDataset: scribble_length={scribble_length} needs '
                             f"weak_label='scribbles', got {weak_label!r}")
        self.scribble_length = scribble_length
        if weak_label == 'scribbles' and scribble_length != 1.0 and label_dir is None:
            label_dir = f'VOC2012/scribble/dilate_3_{scribble_length}'
        kwargs.setdefault('img_dir', 'VOC2012/JPEGImages')
        kwargs.setdefault('img_suffix', '.jpg')
        super().__init__(data_root=data_root, split=split, weak_label=weak_label,
                         label_dir=label_dir, unlabeled_from_255=unlabeled_from_255,
                         tags_file=tags_file, ann_file=ann_file, overseg_dir=overseg_dir,
                         **kwargs)
