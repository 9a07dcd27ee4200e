"""k-NN voting and nearest-labeled label sets (§9.5)."""
import pytest
import torch

from mmspml.functional import (knn_vote, l2_normalize, nearest_labeled_label_sets,
                               segment_prototypes)

F64 = torch.float64
MEMORY = [(1, 0, 0), (0.9, 0.1, 0), (0, 1, 0), (0, 0.9, 0.1), (0, 0, 1), (0.5, 0.5, 0)]
MEMORY_LABELS = [3, 3, 1, 1, 0, 1]


def _memory(repeat=1):
    mem = l2_normalize(torch.tensor(MEMORY, dtype=F64)).repeat(repeat, 1)
    return mem, torch.tensor(MEMORY_LABELS).repeat(repeat)


def test_knn_vote_top3():
    mem, labels = _memory()
    queries = l2_normalize(torch.tensor([(1, 0.05, 0), (0.4, 0.6, 0), (0, 0.1, 1)], dtype=F64))
    topk, majority, scores = knn_vote(queries, mem, labels, k=3)
    assert topk.tolist() == [[3, 3, 1], [1, 1, 1], [0, 1, 1]]
    assert majority.tolist() == [3, 1, 1]
    assert scores.shape == (3, 4)
    torch.testing.assert_close(scores[0], torch.tensor([0, 1 / 3, 0, 2 / 3], dtype=F64))


def test_knn_vote_k20_through_segment_prototypes():
    mem, labels = _memory(repeat=4)
    pixels = l2_normalize(torch.tensor([(1, .05, 0), (1, 0, .02), (0, .1, 1), (.4, .6, 0)],
                                       dtype=F64))
    zeros = torch.zeros(4, dtype=torch.long)
    seg = segment_prototypes(pixels, torch.tensor([5, 5, 9, 7]), zeros, zeros, zeros)
    topk, majority, _ = knn_vote(seg.prototypes, mem, labels, k=20, num_classes=21)
    assert topk.shape == (3, 20)
    assert majority[seg.segment_ids].tolist() == [1, 1, 1, 1]


def test_knn_vote_single_entries_and_ties():
    mem, labels = _memory()
    topk, majority, scores = knn_vote(mem[:1], mem[:1], labels[:1], k=20)
    assert topk.tolist() == [[3]] and majority.tolist() == [3] and scores[0, 3] == 1
    # tie between classes 1 and 3 (one vote each) -> smallest class id
    q = l2_normalize(torch.tensor([[1.0, 1.0, 0.0]], dtype=F64))
    _, majority, _ = knn_vote(q, mem[[0, 2]], labels[[0, 2]], k=2)
    assert majority.tolist() == [1]
    with pytest.raises(ValueError, match='memory'):
        knn_vote(q, mem[:0], labels[:0])
    with pytest.raises(ValueError, match='memory_labels'):
        knn_vote(q, mem, labels, num_classes=3)


def test_nearest_labeled_label_sets():
    protos = l2_normalize(torch.tensor([(1, 0, 0), (0, 1, 0), (0.98, 0.2, 0), (0, 0, 1)],
                                       dtype=F64))
    sets = nearest_labeled_label_sets(protos, torch.tensor([2, 5, 15, 15]),
                                      torch.zeros(4, dtype=torch.long), 15, 0.95)
    assert sets.dtype == torch.bool and sets.shape == (4, 15)
    assert [row.nonzero().flatten().tolist() for row in sets] == [[2], [5], [2], []]
    # another image's labeled prototype is never used
    sets = nearest_labeled_label_sets(protos, torch.tensor([2, 5, 15, 15]),
                                      torch.tensor([0, 0, 1, 1]), 15, 0.95)
    assert [row.nonzero().flatten().tolist() for row in sets] == [[2], [5], [], []]
    assert nearest_labeled_label_sets(protos[:0], torch.zeros(0).long(), torch.zeros(0).long(),
                                      15).shape == (0, 15)


def test_segment_majority_labels():
    from mmspml.functional import segment_majority_labels
    seg = torch.tensor([0, 0, 0, 1, 1, 1, 1, 2, 2])
    lab = torch.tensor([3, 3, 255, 255, 255, 11, 2, 4, 5])
    # 255 competes (segment 1 is ignore-majority), ties -> smallest value, empty -> 255
    assert segment_majority_labels(seg, lab, 4).tolist() == [3, 255, 4, 255]
    with pytest.raises(ValueError, match='segment_ids'):
        segment_majority_labels(seg, lab, 2)


def test_knn_segment_scores_one_segment_and_many():
    from mmspml.functional import knn_segment_scores
    mem, labels = _memory(repeat=4)
    # one segment (1x1 grid): every pixel gets the same scores, no division by zero
    emb = torch.zeros(3, 4, 5, dtype=F64)
    emb[0] = 1.0
    emb[1] = 0.05
    scores = knn_segment_scores(emb, mem, labels, num_classes=5, k=20, grid=(1, 1))
    assert scores.shape == (5, 4, 5)
    torch.testing.assert_close(scores.sum(0), torch.ones(4, 5, dtype=F64))
    # 20 neighbours of ~(1, .05, 0): all 8 label-3, all 12 label-1 entries
    torch.testing.assert_close(scores[:, 0, 0], torch.tensor([0, 12, 0, 8, 0], dtype=F64) / 20)
    # two halves with different embeddings -> two segments with their own votes (k = 3)
    emb = torch.zeros(3, 4, 6, dtype=F64)
    emb[0, :, :3] = 1.0
    emb[2, :, 3:] = 1.0
    scores = knn_segment_scores(emb, mem, labels, num_classes=5, k=3, grid=(2, 2))
    assert scores.argmax(0)[:, :3].eq(3).all() and scores.argmax(0)[:, 3:].eq(0).all()
