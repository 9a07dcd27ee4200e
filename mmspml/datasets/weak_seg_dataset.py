"""A generic dataset of ``image / (weak) label / over-segmentation`` triplets.

Label conventions (stated once for the whole package, spml-method.md §1.2):

* ``0 .. C-1`` are classes, ``255`` (``ignore_index``) is *ignore* (void, padding): such
  pixels take part in nothing;
* ``unlabeled_index`` (default ``C``; ``C <= u < 255``) marks *unlabeled but valid*
  pixels: SPML clusters them and uses them in the co-occurrence and image-similarity
  losses, while every cross-entropy loss ignores them.

The dataset checks the file layout when it is built (missing ``data_root``, missing or
empty list file, missing image/label/over-segmentation file: ``FileNotFoundError`` /
``ValueError`` naming the path); label values and image/label sizes are checked by
:class:`~mmspml.datasets.transforms.LoadWeakAnnotations` when a sample is first loaded.
"""
import json
import os.path as osp
from typing import Dict, List, Optional

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from mmspml.functional._utils import check_scalar
from mmspml.utils.list_file import read_list_file

DOC_HINT = 'see docs/dataset_prepare.md'


@DATASETS.register_module()
class WeakSegDataset(BaseSegDataset):
    """List-file dataset for weakly supervised segmentation.

    Two list-file formats are accepted (one sample a line, fields separated by spaces):

    * 1 field, ``NAME``: paths are ``img_dir/NAME{img_suffix}``,
      ``label_dir/NAME{seg_map_suffix}`` and (if ``overseg_dir`` is set)
      ``overseg_dir/NAME{overseg_suffix}``;
    * 3 fields, ``IMAGE LABEL OVERSEG`` (SPML's own lists, spml-method.md §1.1), or 2
      fields ``IMAGE LABEL``: paths relative to ``data_root``.

    Directory arguments may contain ``{split}``; relative directories are taken relative
    to ``data_root``, absolute ones are used as they are (e.g. weak labels generated
    outside the dataset tree).

    Args:
        data_root (str): dataset root; must exist.
        split (str): split name, substituted into ``ann_file`` and the directories.
        ann_file (str): list file (relative to ``data_root``), default ``'{split}.txt'``.
        img_dir, label_dir (str): image / label directories (``label_dir=None``: no
            labels, e.g. a test server split).
        overseg_dir (str, optional): over-segmentation directory, ``None`` = not used.
        unlabeled_index (int, optional): value of unlabeled-but-valid pixels; default
            ``len(classes)``.
        check_files (bool): verify that every listed file exists when the dataset is
            built (one ``stat`` a file). Default True.
        tags_file (str, optional): JSON ``{"NAME": [class ids]}`` (relative to
            ``data_root``, may contain ``{split}``): every sample gets these image-level
            tags (``img_tag_ids``; :class:`~mmspml.datasets.transforms.AddImageTags` then
            takes them instead of the classes of the label). Every listed name needs an entry.
        classes_file (str, optional): class names, one a line, line ``i`` = class ``i``
            (relative to ``data_root``): the dataset's ``classes``, e.g. the
            ``classes.txt`` the annotation converters write. An error if ``metainfo``
            also gives other classes.
        **kwargs: passed to :class:`mmseg.datasets.BaseSegDataset`.
    """

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 ann_file: str = '{split}.txt',
                 img_dir: str = 'images/{split}',
                 label_dir: Optional[str] = 'labels/{split}',
                 overseg_dir: Optional[str] = None,
                 img_suffix: str = '.jpg',
                 seg_map_suffix: str = '.png',
                 overseg_suffix: str = '.png',
                 unlabeled_index: Optional[int] = None,
                 check_files: bool = True,
                 tags_file: Optional[str] = None,
                 classes_file: Optional[str] = None,
                 **kwargs) -> None:
        if data_root is None or not osp.isdir(data_root):
            raise FileNotFoundError(
                f'{type(self).__name__}: data_root {data_root!r} does not exist or is not '
                f'a directory ({DOC_HINT}; set it with --cfg-options '
                f'<loader>.dataset.data_root=DIR)')
        self.split = split
        fmt = lambda s: None if s is None else s.format(split=split)  # noqa: E731
        self.img_dir = fmt(img_dir)
        self.label_dir = fmt(label_dir)
        self.overseg_dir = fmt(overseg_dir)
        self.overseg_suffix = overseg_suffix
        self.check_files = check_files
        self._unlabeled_index_arg = unlabeled_index
        self.tags_file = fmt(tags_file)
        if classes_file is not None:
            kwargs['metainfo'] = self._classes_from_file(data_root, fmt(classes_file),
                                                         kwargs.get('metainfo'))
        # Paths are resolved by this class (not by BaseSegDataset's prefix joining), so a
        # data_prefix would be silently ignored: reject it.
        if 'data_prefix' in kwargs:
            raise ValueError(
                f'{type(self).__name__}: data_prefix={kwargs["data_prefix"]!r} is not used by '
                'this dataset; set img_dir / label_dir / overseg_dir (relative to data_root '
                'or absolute) instead')
        super().__init__(
            ann_file=fmt(ann_file),
            data_root=data_root,
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            data_prefix=dict(img_path='', seg_map_path=''),
            **kwargs)

    # ------------------------------------------------------------------ metainfo
    @property
    def num_classes(self) -> int:
        return len(self._metainfo['classes'])

    @property
    def unlabeled_index(self) -> int:
        u = self._unlabeled_index_arg
        u = self.num_classes if u is None else int(u)
        if not (self.num_classes <= u < 255) or u == self.ignore_index:
            raise ValueError(
                f'{type(self).__name__}: unlabeled_index={u} must satisfy '
                f'num_classes ({self.num_classes}) <= unlabeled_index < 255 and differ '
                f'from ignore_index ({self.ignore_index})')
        return u

    def _classes_from_file(self, data_root: str, classes_file: str,
                           metainfo: Optional[dict]) -> dict:
        path = classes_file if osp.isabs(classes_file) else osp.join(data_root, classes_file)
        if not osp.isfile(path):
            raise FileNotFoundError(f'{type(self).__name__}: classes_file {path!r} does not '
                                    f'exist ({DOC_HINT})')
        with open(path, encoding='utf-8') as f:
            names = tuple(line.strip() for line in f if line.strip())
        if not names:
            raise ValueError(f'{type(self).__name__}: classes_file {path!r} is empty')
        metainfo = dict(metainfo or {})
        given = metainfo.get('classes')
        if given is not None and tuple(given) != names:
            raise ValueError(f'{type(self).__name__}: metainfo classes {tuple(given)} differ '
                             f'from classes_file {path!r} {names}; give one of them')
        metainfo['classes'] = names
        return metainfo

    # ------------------------------------------------------------------ listing
    def _path(self, d: Optional[str], rel: str) -> str:
        base = self.data_root if d is None else osp.join(self.data_root, d)
        return osp.join(base, rel)

    def _read_list(self) -> List[List[str]]:
        """Rows of 1 field (NAME) or 2-3 fields (IMAGE LABEL [OVERSEG])."""
        return read_list_file(self.ann_file, max_fields=3,
                              what=f'{type(self).__name__}: list file',
                              hint=f' (split {self.split!r}; {DOC_HINT})')

    def _sample_info(self, row: List[str]) -> dict:
        """``img_path``, ``name`` and the label conventions of one list row."""
        if len(row) == 1:
            name = row[0]
            img = self._path(self.img_dir, name + self.img_suffix)
        else:
            name = osp.splitext(osp.basename(row[0]))[0]
            img = osp.join(self.data_root, row[0])
        return dict(img_path=img, name=name, label_map=self.label_map,
                    reduce_zero_label=self.reduce_zero_label, seg_fields=[],
                    num_classes=self.num_classes, unlabeled_index=self.unlabeled_index,
                    ignore_index=self.ignore_index)

    def _check_files(self, info: dict, label_note: str = '') -> None:
        """``FileNotFoundError`` naming the first listed file of ``info`` that is missing."""
        if not self.check_files:
            return
        for key in ('img_path', 'seg_map_path', 'overseg_path'):
            if key in info and not osp.isfile(info[key]):
                note = label_note if key == 'seg_map_path' else ''
                raise FileNotFoundError(
                    f'{type(self).__name__}: {key.replace("_path", "")} file '
                    f'{info[key]!r}{note} of {info["name"]!r} (listed in {self.ann_file!r}) '
                    f'does not exist ({DOC_HINT})')

    def _load_tags(self) -> Dict[str, List[int]]:
        """``{name: [class ids]}`` of ``tags_file``, checked (errors name the file)."""
        path = self.tags_file
        if not osp.isabs(path):
            path = osp.join(self.data_root, path)
        if not osp.isfile(path):
            raise FileNotFoundError(f'{type(self).__name__}: tags_file {path!r} does not '
                                    f'exist ({DOC_HINT})')
        try:
            with open(path) as f:
                tags = json.load(f)
        except ValueError as exc:
            raise ValueError(f'tags_file {path!r} is not valid JSON: {exc}') from exc
        if not isinstance(tags, dict):
            raise ValueError(f'tags_file {path!r}: expected {{"NAME": [class ids]}}, got a '
                             f'{type(tags).__name__}')
        for key, ids in tags.items():
            if not isinstance(ids, list):
                raise ValueError(f'tags_file {path!r}: tags of {key!r} must be a list of '
                                 f'class ids, got {ids!r}')
            for i in ids:
                check_scalar(i, f'tags_file {path!r}: a tag of {key!r}', integer=True)
            bad = [i for i in ids if not 0 <= i < self.num_classes]
            if bad:
                raise ValueError(f'tags_file {path!r}: tags {bad} of {key!r} are not class '
                                 f'ids 0..{self.num_classes - 1}')
        self._tags_path = path
        return tags

    def load_data_list(self) -> List[dict]:
        tags = None if self.tags_file is None else self._load_tags()
        data_list = []
        for row in self._read_list():
            info = self._sample_info(row)
            if tags is not None:
                if info['name'] not in tags:
                    raise ValueError(f'{type(self).__name__}: {info["name"]!r} (listed in '
                                     f'{self.ann_file!r}) has no entry in tags_file '
                                     f'{self._tags_path!r}')
                info['img_tag_ids'] = list(tags[info['name']])
            if len(row) == 1:
                name = row[0]
                if self.label_dir is not None:
                    info['seg_map_path'] = self._path(self.label_dir, name + self.seg_map_suffix)
                if self.overseg_dir is not None:
                    info['overseg_path'] = self._path(self.overseg_dir,
                                                      name + self.overseg_suffix)
            else:
                info['seg_map_path'] = osp.join(self.data_root, row[1])
                # the config decides whether the 3rd column is used
                if len(row) == 3 and self.overseg_dir is not None:
                    info['overseg_path'] = osp.join(self.data_root, row[2])
            self._check_files(info)
            data_list.append(info)
        return data_list
