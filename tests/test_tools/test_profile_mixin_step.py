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


@pytest.mark.slow
def test_profile_tags_stage1_on_generated_crops(tmp_path, monkeypatch, capsys):
    """--labels tags: the crop-tags partial CE and SPML configs of camvid_tags.sh, on the
    crops of a generated tree with their dense labels standing in for the CAM seeds; the
    three tags losses are each left out once."""
    from tools.make_camvid_crop_tags import main as make_crops
    monkeypatch.chdir(REPO)
    frames = write_camvid_tree(str(tmp_path / 'camvid'), splits=(('train', 2), ('val', 1)))
    crops = str(tmp_path / 'crops')
    make_crops([frames, '--out-dir', crops])
    with pytest.raises(SystemExit):  # the seeds are required
        tool.parse_args(['--labels', 'tags'])
    with pytest.raises(FileNotFoundError, match='--label-dir'):
        tool.main(['--labels', 'tags', '--data-root', crops, '--label-dir',
                   str(tmp_path / 'no_seeds')])
    rows = tool.main(['--labels', 'tags', '--threads', '1', '--batches', '1', '--reps', '1',
                      '--data-root', crops, '--label-dir', crops + '/labels/train'])
    assert [name for name, _ in rows] == [
        'partial CE', 'mix-in', 'mix-in, SPML losses zeroed', 'mix-in without loss_sem_ann',
        'mix-in without loss_sem_occ', 'mix-in without loss_img_sim']
    assert all(seconds > 0 for _, seconds in rows)
    assert 'CamVid crop tags, 1 thread(s)' in capsys.readouterr().out
