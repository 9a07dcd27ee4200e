from .add_image_tags import AddImageTags
from .compute_superpixels import ComputeSuperpixels
from .dense_pose_flip import DENSEPOSE_FLIP_MAP, DensePoseFlip
from .load_over_segmentation import LoadOverSegmentation
from .loading import LoadWeakAnnotations, check_label_values
from .pack_spml_inputs import PackSPMLInputs
from .pad_seg_fields import PadSegFields
from .random_rescale import RandomRescale
from .simulate_weak_label import SimulateWeakLabel

__all__ = ['AddImageTags', 'ComputeSuperpixels', 'DENSEPOSE_FLIP_MAP', 'DensePoseFlip', 'LoadOverSegmentation',
           'LoadWeakAnnotations', 'PackSPMLInputs', 'PadSegFields', 'RandomRescale',
           'SimulateWeakLabel', 'check_label_values']
