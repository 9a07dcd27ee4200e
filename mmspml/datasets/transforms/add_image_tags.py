import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class AddImageTags(BaseTransform):
    """Image-level class tags from the *full* weak label (spml-method.md §1.2, §10).

    Must run before any crop, so cropping never removes a tag. Tags are the classes
    ``0..C-1`` present in the label; the unlabeled index and 255 are not tags. SPML's
    co-occurrence loss uses the foreground part ``tags[1:]``.

    If the sample carries ``img_tag_ids`` (image-level class ids from a tags file, e.g.
    ``VOCWeakDataset(tags_file=...)``), those are the tags and the label is not looked
    at. A label without any class pixel (all unlabeled/ignore) gives all-False tags:
    the image then only takes part in the losses that need no class.

    Required Keys: ``gt_seg_map`` (np.uint8 [H, W]) or ``img_tag_ids`` (list[int]),
    ``num_classes`` (or the argument).

    Added Keys: ``img_tags`` (np.bool_ [C]).

    Args:
        num_classes (int, optional): overrides ``results['num_classes']``.
    """

    def __init__(self, num_classes=None) -> None:
        self.num_classes = num_classes

    def transform(self, results: dict) -> dict:
        num_classes = self.num_classes or results.get('num_classes')
        if num_classes is None:
            raise KeyError('AddImageTags needs num_classes (argument or from the dataset)')
        tags = np.zeros(num_classes, dtype=bool)
        ids = results.get('img_tag_ids')
        if ids is not None:
            ids = np.asarray(ids, dtype=np.int64).reshape(-1)
            bad = ids[(ids < 0) | (ids >= num_classes)]
            if bad.size:
                raise ValueError(f'image tags {bad.tolist()} of {results.get("img_path")!r} '
                                 f'are not class ids 0..{num_classes - 1}')
            tags[ids] = True
        else:
            values = np.unique(results['gt_seg_map'])
            tags[values[values < num_classes]] = True
        results['img_tags'] = tags
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(num_classes={self.num_classes})'
