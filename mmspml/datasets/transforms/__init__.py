from .add_image_tags import AddImageTags
from .compute_superpixels import ComputeSuperpixels
from .loading import LoadWeakAnnotations, check_label_values
from .pack_spml_inputs import PackSPMLInputs
from .simulate_weak_label import SimulateWeakLabel

__all__ = ['AddImageTags', 'ComputeSuperpixels', 'LoadWeakAnnotations', 'PackSPMLInputs', 'SimulateWeakLabel',
           'check_label_values']
