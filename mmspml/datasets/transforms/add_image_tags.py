import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class AddImageTags(BaseTransform):
    """Image-level class tags from the *full* weak label (spml-method.md §1.2, §10).

    Must run before any crop, so cropping never removes a tag. Tags are the classes
    ``0..C-1`` present in the label; the unlabeled index and 255 are not tags. SPML's
    co-occurrence loss uses the foreground part ``tags[1:]``.

    Required Keys: ``gt_seg_map`` (np.uint8 [H, W]), ``num_classes`` (or the argument).

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
        values = np.unique(results['gt_seg_map'])
        tags = np.zeros(num_classes, dtype=bool)
        tags[values[values < num_classes]] = True
        results['img_tags'] = tags
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(num_classes={self.num_classes})'
