"""Shared base of the datasets in SPML's own layouts (VOC 2012 + SBD, DensePose-COCO)."""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

from mmengine.logging import print_log

from .weak_seg_dataset import WeakSegDataset


class _SPMLListDataset(WeakSegDataset):
    """A :class:`WeakSegDataset` whose label directory is chosen by ``weak_label``.

    The list file gives the samples: one ``NAME`` a line (image ``img_dir/NAME.jpg``) or
    SPML's ``IMAGE LABEL OVERSEG`` lines (image path from the first column). Label and
    over-segmentation paths are ``{label_dir}/NAME.png`` and ``{overseg_dir}/NAME.png``,
    the directories being the configured ones, so one list serves every annotation kind
    and a substitute over-segmentation (``tools/make_superpixels.py``) needs no new list.
    If the columns of a 3-column list name other files, a warning says so once.
    ``weak_label=None`` takes a 3-column list as it is (SPML's behaviour).

    Subclasses define ``LABEL_DIRS`` (kind -> label directories, searched in order).
    """
    LABEL_DIRS: Dict[str, Tuple[str, ...]] = {}
    #: kinds whose PNGs are dense ground truth (255 = void, never converted)
    DENSE_KINDS = ('full', )

    def __init__(self,
                 data_root: str,
                 split: str,
                 weak_label: Optional[str],
                 label_dir: Union[None, str, Sequence[str]] = None,
                 unlabeled_from_255: Optional[bool] = None,
                 tags_file: Optional[str] = None,
                 **kwargs) -> None:
        name = type(self).__name__
        if weak_label is not None and weak_label not in self.LABEL_DIRS:
            raise ValueError(f'{name}: weak_label={weak_label!r}, expected one of '
                             f'{tuple(self.LABEL_DIRS)} or None (labels as listed)')
        self.weak_label = weak_label
        if label_dir is None:
            dirs = self.LABEL_DIRS.get(weak_label)
        elif isinstance(label_dir, str):
            dirs = (label_dir, )
        else:
            dirs = tuple(label_dir)
        self.label_dirs = None if dirs is None else tuple(d.format(split=split) for d in dirs)
        if unlabeled_from_255 is None:
            # weak labels (CAMs, boxes, scribbles, points) have no genuine void region, so
            # a 255 in them can only mean "not annotated" (spml-method.md §8 item 4)
            unlabeled_from_255 = weak_label is not None and weak_label not in self.DENSE_KINDS
        self.unlabeled_from_255 = bool(unlabeled_from_255)
        kwargs.setdefault('overseg_suffix', '.png')
        super().__init__(data_root=data_root, split=split, tags_file=tags_file,
                         label_dir=None if dirs is None else dirs[0], **kwargs)

    # ------------------------------------------------------------------ helpers
    def _find_label(self, name: str) -> str:
        candidates = [self._path(d, name + self.seg_map_suffix) for d in self.label_dirs]
        for c in candidates:
            if len(candidates) == 1 or osp.isfile(c):
                return c
        return candidates[0]

    def load_data_list(self) -> List[dict]:
        cls = type(self).__name__
        if self.tags_file is not None and self.weak_label != 'tags':
            raise ValueError(f"{cls}: tags_file needs weak_label='tags', got "
                             f'{self.weak_label!r}')
        tags = None if self.tags_file is None else self._load_tags()
        rows = self._read_list()
        mismatch = []
        data_list = []
        for i, row in enumerate(rows):
            where = f'{self.ann_file}:{i + 1}'
            info = self._sample_info(row)
            info['unlabeled_from_255'] = self.unlabeled_from_255
            name = info['name']
            listed_ovs = osp.join(self.data_root, row[2]) if len(row) == 3 else None
            if tags is not None:
                if name not in tags:
                    raise ValueError(f'{cls}: {where}: {name!r} has no entry in tags_file '
                                     f'{self._tags_path!r}')
                info['img_tag_ids'] = list(tags[name])
            elif self.label_dirs is None:
                if len(row) < 2:
                    raise ValueError(
                        f'{cls}: {where}: a 1-column list needs weak_label or label_dir '
                        '(weak_label=None reads the label column of a 3-column list)')
                info['seg_map_path'] = osp.join(self.data_root, row[1])
            else:
                info['seg_map_path'] = self._find_label(name)
                if len(row) >= 2:
                    listed = osp.normpath(osp.join(self.data_root, row[1]))
                    if listed != osp.normpath(info['seg_map_path']):
                        mismatch.append((where, 'label', listed, info['seg_map_path']))
            if self.overseg_dir is not None:
                if self.label_dirs is None and listed_ovs is not None and tags is None:
                    info['overseg_path'] = listed_ovs
                else:
                    info['overseg_path'] = self._path(self.overseg_dir,
                                                      name + self.overseg_suffix)
                    if (listed_ovs is not None and osp.normpath(listed_ovs)
                            != osp.normpath(info['overseg_path'])):
                        mismatch.append((where, 'over-segmentation', listed_ovs,
                                         info['overseg_path']))
            self._check_files(info, label_note=(f' (nor in {self.label_dirs[1:]})'
                                                if len(self.label_dirs or ()) > 1 else ''))
            data_list.append(info)
        if mismatch:
            where, what, listed, used = mismatch[0]
            print_log(
                f'{cls}: {len(mismatch)} column(s) of {self.ann_file!r} name other files '
                f'than the configured directories (weak_label={self.weak_label!r}, '
                f'overseg_dir={self.overseg_dir!r}); the configured ones are used, e.g. '
                f'{where}: {what} {listed!r} -> {used!r}',
                logger='current', level=30)
        return data_list
