"""tools/profile_mixin_step.py on a generated CamVid tree: every ablation row is timed
and printed."""
import pytest

from tests.conftest import REPO, write_camvid_tree
from tools import profile_mixin_step as tool


@pytest.mark.slow
def test_profile_rows_on_a_generated_tree(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    root = write_camvid_tree(str(tmp_path / 'camvid'), splits=(('train', 4), ('val', 1)))
    rows = tool.main(['--labels', 'points', '--threads', '1', '--batches', '1', '--reps', '1',
                      '--data-root', root])
    names = [name for name, _ in rows]
    assert names == ['partial CE', 'mix-in', 'mix-in, SPML losses zeroed',
                     'mix-in without loss_sem_ann', 'mix-in without loss_img_sim']
    assert all(seconds > 0 for _, seconds in rows)
    out = capsys.readouterr().out
    assert '| mix-in | ' in out and '| partial CE | ' in out and '| 1.000 |' in out
