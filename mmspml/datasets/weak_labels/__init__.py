"""Weak-label simulation and conversion (pure NumPy / SciPy / scikit-image / OpenCV).

Label conventions (stated once for the project; ``spml-method.md`` §1.2 and §8-4):

* A label map is ``np.uint8 [H, W]``, one channel.
* ``0 .. C-1`` are classes (``C = num_classes``; on VOC 0 is the background).
* ``255`` is *ignore* (void, padding): the pixel takes part in nothing. Every function here keeps
  255 exactly where its dense input has 255 and never writes 255 anywhere else.
* The *unlabeled index* ``U`` (default ``C``, any value with ``C <= U < 255``) marks a valid pixel
  that carries no annotation: SPML clusters it and uses it in the co-occurrence and image-similarity
  losses, but not in the annotation loss. Weak labels written here are ``U`` wherever nothing was
  annotated; unlabeled pixels are never turned into 0 or 255.
* Simulators take a *dense* label (values in ``[0, C)`` or 255) and only ever copy a pixel's own
  dense class to it (points, scribbles), so a simulated point/scribble label is never wrong.

Shorthand: ``H, W`` label size, ``C`` classes, ``n`` connected segments (connected components of one
class), ``K`` superpixel regions.

Randomness: all random choices for one image come from :func:`make_rng` keyed by the image name, so
the result depends only on ``(seed, name, parameters, label)``, not on processing order or on the
number of worker process

The functions live in one module per subject: :mod:`.label_checks` (value checks, tags,
connected segments), :mod:`.simulators` (points, scribbles, boxes, ``make_rng``),
:mod:`.over_segmentation` (superpixels) and :mod:`.whats_the_point` (click files); this
package re-exports them for the tools and transforms that import
``mmspml.datasets.weak_labels``.
"""
from .label_checks import IGNORE_INDEX, check_label, connected_segments, image_tags
from .simulators import make_rng, simulate_boxes, simulate_points, simulate_scribbles
from .over_segmentation import superpixels
from .whats_the_point import clicks_outside, clicks_to_label, load_whats_the_point

__all__ = [
    'IGNORE_INDEX', 'make_rng', 'check_label', 'image_tags', 'connected_segments',
    'simulate_points', 'simulate_scribbles', 'simulate_boxes', 'superpixels',
    'load_whats_the_point', 'clicks_outside', 'clicks_to_label'
]
