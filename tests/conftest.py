import os
import os.path as osp

import cv2
import numpy as np
import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

# One thread for torch and OpenCV in the test processes: pytest.ini runs one worker per
# core, and the tools run as forks of them (tests/test_tools/_run.py); a fork made after
# OpenCV or OpenMP started a thread pool can deadlock in the child (seen: the child hung
# in cv2.setNumThreads), and spinning OpenMP threads on a busy core are very slow.
cv2.setNumThreads(1)
if os.environ.get('PYTEST_XDIST_WORKER') or os.environ.get('MMSPML_TEST_SUBPROCESS') != '1':
    import torch
    torch.set_num_threads(1)
SHARED = osp.normpath(osp.join(REPO, '..', 'shared'))
SHARED_CAMVID = osp.join(SHARED, 'data', 'camvid')


def make_blocky_label(rng, h, w, num_classes, void=True):
    """A label of random axis-aligned blocks, some void (255)."""
    label = np.full((h, w), rng.integers(num_classes), np.uint8)
    for _ in range(6):
        y0, x0 = rng.integers(0, h - 4), rng.integers(0, w - 4)
        y1, x1 = y0 + rng.integers(3, h // 2), x0 + rng.integers(3, w // 2)
        label[y0:y1, x0:x1] = rng.integers(num_classes)
    if void:
        label[:, :2] = 255
    return label


def write_camvid_tree(root, splits=(('train', 8), ('val', 3)), size=(48, 64),
                      num_classes=11, seed=0):
    """A CamVid-layout tree: images/{split}/*.jpg, labels/{split}/*.png, {split}.txt."""
    rng = np.random.default_rng(seed)
    h, w = size
    for split, n in splits:
        os.makedirs(osp.join(root, 'images', split), exist_ok=True)
        os.makedirs(osp.join(root, 'labels', split), exist_ok=True)
        names = [f'{split}_{i:03d}' for i in range(n)]
        for name in names:
            label = make_blocky_label(rng, h, w, num_classes)
            palette = rng.integers(0, 255, (256, 3), dtype=np.uint8)
            img = palette[label] + rng.integers(0, 20, (h, w, 3), dtype=np.uint8)
            cv2.imwrite(osp.join(root, 'images', split, name + '.jpg'), img)
            cv2.imwrite(osp.join(root, 'labels', split, name + '.png'), label)
        with open(osp.join(root, f'{split}.txt'), 'w') as f:
            f.write('\n'.join(names) + '\n')
    return root


@pytest.fixture(scope='session')
def camvid_tree(tmp_path_factory):
    return write_camvid_tree(str(tmp_path_factory.mktemp('camvid')))


@pytest.fixture(autouse=True, scope='session')
def _mmseg_scope():
    import mmspml  # noqa: F401  (registers everything)
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')


def _under_ci() -> bool:
    return os.environ.get('CI', '').strip().lower() in ('1', 'true', 'yes')


def require_shared(path: str) -> str:
    """``path`` (real data under ../shared) or, when it is missing, a failure under CI
    (``CI=true``, set by .ci/run: CI cannot pass without the real-data tests) and a skip
    elsewhere."""
    if not osp.exists(path):
        reason = f'{path} not present (needs ../shared beside the repo)'
        if _under_ci():
            pytest.fail(f'CI=true: {reason}; the real-data tests cannot run', pytrace=False)
        pytest.skip(reason)
    return path


def require_crf() -> None:
    """Skip (or, under ``CI=true``, fail) when pydensecrf2 is not installed:
    ``tools/install.sh`` installs it (``WITH_CRF=1``, the default), so CI must run the
    DenseCRF tests, never skip them."""
    from mmspml.functional import dense_crf_available
    if not dense_crf_available():
        reason = 'pydensecrf2 not installed (bash tools/install.sh installs it; WITH_CRF=1)'
        if _under_ci():
            pytest.fail(f'CI=true: {reason}; the DenseCRF tests cannot run', pytrace=False)
        pytest.skip(reason)


@pytest.fixture
def crf():
    require_crf()


@pytest.fixture(scope='session')
def shared_camvid():
    return require_shared(SHARED_CAMVID)


@pytest.fixture(scope='session')
def shared_wtp_json():
    return require_shared(osp.join(SHARED, 'data', 'whats_the_point',
                                   'voc_whats_the_point.json'))
