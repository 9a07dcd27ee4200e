from typing import Optional

from mmseg.registry import DATASETS

from ._spml_list_dataset import _SPMLListDataset


@DATASETS.register_module()
class DensePoseDataset(_SPMLListDataset):
    """DensePose-COCO body parts (15 classes, 0 = background) in SPML's layout.

    Layout under ``data_root`` (spml-method.md §1.1-§1.3; docs/dataset_prepare.md)::

        images/train2014/COCO_train2014_ID.jpg     images/val2014/COCO_val2014_ID.jpg
        segcls/densepose_points/gray/NAME.png      weak_label='points' (part points)
        segcls/densepose/gray/NAME.png             weak_label='full' (dense parts)
        seginst/pmi_0.1_256/NAME.png               over-segmentation (PMI-owt-ucm)
        panoptic_train2014_points_pmi0.1_256.txt   weak training list (3 columns)
        panoptic_minival2014.txt, ...              evaluation lists (3 columns)

    ``NAME`` is the image file name without ``.jpg``. With a 1-column list of names the
    image directory is ``images/train2014`` for splits starting with ``train`` and
    ``images/val2014`` otherwise (``img_dir`` overrides it).

    The format of the released point PNGs is not documented; like the rloss-style VOC
    scribbles they are assumed to mark unannotated pixels with 255, which
    ``unlabeled_from_255`` (default True for 'points', False for 'full') turns into the
    unlabeled index at load time (spml-method.md §8 item 4). Set it to False for point
    files that already use a value in ``[15, 254]``.

    Horizontal flips must swap left/right parts: use
    :class:`~mmspml.datasets.transforms.DensePoseFlip` instead of ``RandomFlip``.

    Args:
        data_root (str): the DensePose root.
        split (str): 'train2014', 'minival2014', 'valminusminival2014', 'train2014_sub'
            ...; substituted into ``{split}``. Default 'train2014'.
        weak_label (str, optional): 'points', 'full' or None (3-column list taken
            verbatim). Default 'points'.
        ann_file (str): list file relative to ``data_root``. Default
            ``'panoptic_{split}.txt'``.
        label_dir (str, optional): overrides the directory of ``weak_label``.
        overseg_dir (str, optional): Default ``'seginst/pmi_0.1_256'``; None = not used.
        unlabeled_from_255 (bool, optional): see above; None = by ``weak_label``.
        **kwargs: passed to :class:`~mmspml.datasets.WeakSegDataset`.
    """
    METAINFO = dict(
        classes=('background', 'torso', 'right hand', 'left hand', 'left foot',
                 'right foot', 'right thigh', 'left thigh', 'right leg', 'left leg',
                 'left arm', 'right arm', 'left forearm', 'right forearm', 'head'),
        # left/right pairs share a hue (left darker) so flips are easy to check by eye
        palette=[[0, 0, 0], [128, 128, 128], [255, 64, 64], [160, 0, 0],
                 [0, 0, 160], [64, 64, 255], [255, 160, 0], [160, 96, 0],
                 [255, 255, 64], [160, 160, 0], [0, 160, 0], [64, 255, 64],
                 [0, 160, 160], [64, 255, 255], [255, 0, 255]])
    LABEL_DIRS = dict(
        points=('segcls/densepose_points/gray', ),
        full=('segcls/densepose/gray', ),
    )

    def __init__(self,
                 data_root: str,
                 split: str = 'train2014',
                 weak_label: Optional[str] = 'points',
                 ann_file: str = 'panoptic_{split}.txt',
                 label_dir=None,
                 overseg_dir: Optional[str] = 'seginst/pmi_0.1_256',
                 unlabeled_from_255: Optional[bool] = None,
                 **kwargs) -> None:
        kwargs.setdefault('img_dir', 'images/train2014' if split.startswith('train')
                          else 'images/val2014')
        kwargs.setdefault('img_suffix', '.jpg')
        super().__init__(data_root=data_root, split=split, weak_label=weak_label,
                         label_dir=label_dir, unlabeled_from_255=unlabeled_from_255,
                         ann_file=ann_file, overseg_dir=overseg_dir, **kwargs)
