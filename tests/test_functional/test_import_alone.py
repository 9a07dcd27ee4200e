"""`import mmspml.functional` works without mmseg, mmengine and mmcv (docs/api.md)."""
import ast
import glob
import os.path as osp
import subprocess
import sys

from tests.conftest import REPO

BLOCKED = ('mmseg', 'mmengine', 'mmcv')


def test_functional_sources_import_no_openmmlab_package():
    for path in glob.glob(osp.join(REPO, 'mmspml', 'functional', '*.py')):
        for node in ast.walk(ast.parse(open(path).read())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            for name in names:
                assert name.split('.')[0] not in BLOCKED + ('mmspml', ), (path, name)


def test_import_functional_with_openmmlab_packages_absent():
    code = (
        'import sys\n'
        f'for m in {BLOCKED!r}: sys.modules[m] = None  # as if not installed\n'
        'import torch\n'
        'import mmspml.functional as F\n'
        'seg = F.generate_segments(torch.randn(1, 4, 6, 6), torch.zeros(1, 6, 6, dtype=torch.long),'
        ' None, grid=(2, 2))\n'
        'assert seg.prototypes.shape[1] == 4\n'
        "assert 'mmspml.models' not in sys.modules and 'mmspml.datasets' not in sys.modules\n"
        "print('ok')\n")
    proc = subprocess.run([sys.executable, '-c', code], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == 'ok', proc.stderr[-3000:]
