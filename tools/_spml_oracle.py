"""A faithful re-implementation of the authors' SPML contrastive step (the oracle).

Written from spml-method.md §3.1-§3.4 and §4.1-§4.4, §4.7-§4.8 as the reference code
does it, *not* for speed: a Python loop over images with ``torch.unique`` per image
(§3.3), the global unification by ``unique`` of packed keys (§3.4), prototypes by
``scatter_add_`` of expanded labels (``calculate_prototypes_from_labels``), and the
SegSort+ kernel evaluated as ``exp`` then masked sums (§4.1: ``A = sum_P s - s_own``,
fallback to the own term when ``A <= 0``). In float32 this kernel has the cancellation
of §8 item 5; compare values in float64.

It is the yardstick of ``tools/benchmark_spml.py`` (mmspml must be at least 2x faster)
and of ``tests/test_models/test_spml_oracle.py`` (same float64 values and gradients).
It imports nothing from mmspml.
"""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

LABEL_DIVISOR = 2048


def l2n(x: Tensor, dim: int = -1) -> Tensor:
    return x / x.norm(p=2, dim=dim, keepdim=True).clamp_min(1e-12)


def initialize_cluster_labels(grid, size, device=None) -> Tensor:
    """§3.2: column-major grid ids, float32 linspace rounded half to even."""
    gy, gx = grid
    h, w = size
    ylab = torch.linspace(0, gy - 1, h, dtype=torch.float32).round().long()
    xlab = torch.linspace(0, gx - 1, w, dtype=torch.float32).round().long()
    return (ylab[:, None] + (int(ylab.max()) + 1) * xlab[None, :]).to(device)


def calculate_prototypes_from_labels(embeddings: Tensor, labels: Tensor,
                                     max_label: Optional[int] = None) -> Tensor:
    if max_label is None:
        max_label = int(labels.max()) + 1
    prototypes = embeddings.new_zeros(max_label, embeddings.shape[-1])
    index = labels.view(-1, 1).expand(-1, embeddings.shape[-1])
    prototypes = prototypes.scatter_add(0, index, embeddings)
    return l2n(prototypes)


def kmeans_with_initial_labels(features: Tensor, labels: Tensor, iterations: int) -> Tensor:
    """§3.3 E/M loop of one image (labels already compacted)."""
    num = int(labels.max()) + 1
    for _ in range(iterations):
        protos = calculate_prototypes_from_labels(features, labels, num)
        labels = torch.mm(features, protos.t()).argmax(dim=1)
    return labels


def location_features(h: int, w: int, dtype) -> Tensor:
    y = torch.linspace(0, 1, h, dtype=torch.float32) - 0.5
    x = torch.linspace(0, 1, w, dtype=torch.float32) - 0.5
    return torch.stack([y[:, None].expand(h, w), x[None, :].expand(h, w)], -1).to(dtype)


def segment_batch(embedding: Tensor, semantic: Tensor, region: Tensor, grid=(6, 6),
                  iterations: int = 10) -> Dict[str, Tensor]:
    """§3.1-§3.4 for one process (rank 0): per-image k-means, then the unification.

    ``semantic``/``region`` are at embedding resolution ``[B, h, w]``.
    """
    b, d, h, w = embedding.shape
    pan = semantic.long() * LABEL_DIVISOR + region.long()
    ign = int(pan.max()) + 1
    pan = pan.masked_fill(semantic == 255, ign)
    e = l2n(embedding.permute(0, 2, 3, 1), -1)
    loc = location_features(h, w, e.dtype)
    g0 = initialize_cluster_labels(grid, (h, w)).view(-1)
    outs = dict(e=[], f=[], pan=[], c=[], b=[])
    for n in range(b):
        _, c = torch.unique(g0, return_inverse=True)
        f = l2n(torch.cat([e[n], loc], -1), -1).view(h * w, -1)
        keep = pan[n].view(-1) != ign
        c, f, en, pn = c[keep], f[keep], e[n].reshape(h * w, d)[keep], pan[n].view(-1)[keep]
        if keep.any():
            with torch.no_grad():
                c = kmeans_with_initial_labels(f.detach(), c, iterations)
        outs['e'].append(en)
        outs['f'].append(f)
        outs['pan'].append(pn)
        outs['c'].append(c)
        outs['b'].append(torch.full_like(c, n))
    e_all, f_all = torch.cat(outs['e']), torch.cat(outs['f'])
    pan_all, c_all, b_all = (torch.cat(outs[k]) for k in ('pan', 'c', 'b'))
    _, c_all = torch.unique(b_all * (int(c_all.max()) + 1) + c_all, return_inverse=True)
    _, c_all = torch.unique(pan_all + c_all * (int(pan_all.max()) + 1), return_inverse=True)
    sem_all, inst_all = pan_all // LABEL_DIVISOR, pan_all % LABEL_DIVISOR
    # §3.4 (one GPU): the global unification and the prototypes
    _, c_all = torch.unique(b_all * (int(c_all.max()) + 1) + c_all, return_inverse=True)
    ld = max(int(inst_all.max()) + 1, int(sem_all.max()) + 1)
    key = b_all * ld * ld + sem_all * ld + inst_all
    kmax = int(key.max()) + 1
    u, seg = torch.unique(key + c_all * kmax, return_inverse=True)
    proto_key = u % kmax
    return dict(
        embedding=e_all, embedding_with_loc=f_all, semantic=sem_all, instance=inst_all,
        batch=b_all, segment=seg,
        prototype=calculate_prototypes_from_labels(e_all, seg),
        prototype_with_loc=calculate_prototypes_from_labels(f_all, seg),
        prototype_batch=proto_key // (ld * ld), prototype_semantic=(proto_key % (ld * ld)) // ld,
        prototype_instance=proto_key % ld)


def segsort_loss(embeddings: Tensor, positive: Tensor, own: Tensor, prototypes: Tensor,
                 concentration: float) -> Tensor:
    """§4.1 exactly as the reference evaluates it (``group_mode='segsort+'``, mean)."""
    logits = torch.mm(embeddings, prototypes.t()) * concentration
    s = logits.exp()
    positive = positive.to(s.dtype)
    own_mask = F.one_hot(own, prototypes.shape[0]).to(s.dtype)
    s_own = (s * own_mask).sum(1)
    a = (s * positive).sum(1) - s_own
    num = torch.where(a > 0, a, s_own)
    den = num + (s * (1 - positive)).sum(1)
    return (-torch.log(num / den)).mean()


def spml_losses(embedding: Tensor, semantic: Tensor, region: Tensor, tags: Tensor,
                num_classes: int, memory: Optional[List[Tuple[Tensor, Tensor, Tensor]]] = None,
                grid=(6, 6), iterations: int = 10,
                kappa=(6.0, 12.0, 16.0), weight=(1.0, 0.5, 0.1)) -> Dict[str, Tensor]:
    """The stage-1 contrastive step of one process (§3, §4.2-§4.4, §4.7 accuracy).

    Args:
        embedding: ``[B, D, h, w]`` raw embedding.
        semantic, region: ``[B, H, W]`` label maps at input resolution (nearest-resized
            to ``h x w`` here, §3.1); unlabeled pixels have values in ``[C, 255)``.
        tags: ``[B, 256]`` bool tag vectors (§1.2).
        memory: list (oldest first) of ``(prototypes [M, D], semantic [M], tags [M, 256])``.
        kappa, weight: sem_ann / sem_occ / img_sim; a zero weight skips the term.

    Returns:
        dict of the weighted ``sem_ann``, ``sem_occ``, ``img_sim`` losses and ``accuracy``.
    """
    c = num_classes
    h, w = embedding.shape[-2:]
    resize = lambda m: F.interpolate(m[:, None].float(), size=(h, w),  # noqa: E731
                                     mode='nearest')[:, 0].long()
    sem, inst = resize(semantic), resize(region)
    inst = inst.masked_fill(sem == 255, 0)
    d = segment_batch(embedding, sem, inst, grid, iterations)
    protos, p_sem, p_batch = d['prototype'], d['prototype_semantic'], d['prototype_batch']
    p_tag = tags[p_batch]
    if memory:
        m_protos = torch.cat([m[0] for m in memory]).to(protos.dtype)
        m_sem = torch.cat([m[1] for m in memory])
        m_tag = torch.cat([m[2] for m in memory])
    else:
        m_protos = protos.new_zeros(0, protos.shape[1])
        m_sem = p_sem.new_zeros(0)
        m_tag = p_tag.new_zeros(0, p_tag.shape[1])
    out = {}
    # §4.2 semantic annotation: labeled pixels vs labeled segments + labeled memory
    if weight[0]:
        pix = d['semantic'] < c
        lab = p_sem < c
        compact = torch.cumsum(lab.long(), 0) - 1
        mlab = m_sem < c
        all_protos = torch.cat([protos[lab], m_protos[mlab]])
        all_sem = torch.cat([p_sem[lab], m_sem[mlab]])
        positive = d['semantic'][pix].view(-1, 1) == all_sem.view(1, -1)
        out['sem_ann'] = weight[0] * segsort_loss(
            d['embedding'][pix], positive, compact[d['segment'][pix]], all_protos, kappa[0])
    # §4.3 semantic co-occurrence: all pixels vs all segments + memory, tag sets
    if weight[1]:
        all_protos = torch.cat([protos, m_protos])
        all_tags = torch.cat([p_tag, m_tag])[:, 1:c].to(protos.dtype)
        pixel_tags = tags[d['batch']][:, 1:c].to(protos.dtype)
        positive = torch.mm(pixel_tags, all_tags.t()) > 0
        out['sem_occ'] = weight[1] * segsort_loss(
            d['embedding'], positive, d['segment'], all_protos, kappa[1])
    # §4.4 image similarity: per image, sub-segments of the image, label = region
    if weight[2]:
        per_image = []
        for n in torch.unique(d['batch']):
            pix = d['batch'] == n
            f = d['embedding_with_loc'][pix]
            segs, own = torch.unique(d['segment'][pix], return_inverse=True)
            sub = calculate_prototypes_from_labels(f, own)
            sub_inst = d['prototype_instance'][segs]
            positive = d['instance'][pix].view(-1, 1) == sub_inst.view(1, -1)
            per_image.append(segsort_loss(f, positive, own, sub, kappa[2]))
        out['img_sim'] = weight[2] * torch.stack(per_image).mean()
    with torch.no_grad():  # §4.7: top-5 retrieval accuracy of the prototypes
        all_protos = torch.cat([protos, m_protos])
        all_sem = torch.cat([p_sem, m_sem])
        top = torch.mm(all_protos, all_protos.t()).topk(min(5, len(all_sem)), dim=1).indices
        out['accuracy'] = (all_sem[top] == all_sem[:, None]).to(protos.dtype).mean()
    out['num_pixels'] = d['embedding'].shape[0]
    out['num_segments'] = protos.shape[0]
    out['num_prototypes'] = protos.shape[0] + m_protos.shape[0]
    return out


def synthetic_batch(images: int = 4, size=(128, 128), dims: int = 64, num_classes: int = 21,
                    regions: int = 9, memory_iterations: int = 2, stride: int = 4,
                    pad_rows: int = 14, seed: int = 0, dtype=torch.float32) -> dict:
    """A scribble-like SPML batch (the VOC scale of issue 8 with the defaults).

    Returns a dict with ``embedding [B, D, h, w]`` (a smooth random field plus noise, not
    normalised), ``semantic`` and ``region`` ``[B, H, W]`` at input resolution
    ``(h*stride, w*stride)`` (background 0 and one or two foreground classes drawn as
    thick scribbles, everything else unlabeled = ``num_classes``; the last image has
    ``pad_rows`` embedding rows of 255 padding; regions = Voronoi cells of ``regions``
    random seeds per image), ``tags [B, 256]`` bool, and ``memory``: a list of
    ``memory_iterations`` entries ``(prototypes, semantic, tags)`` of random unit vectors
    with the label statistics of one batch's segments (built by :func:`segment_batch`
    on a second random embedding, so they also have realistic counts).
    """
    g = torch.Generator().manual_seed(seed)
    b, (h, w), c = images, size, num_classes
    big_h, big_w = h * stride, w * stride

    def field():
        low = torch.randn(b, dims, max(h // 16, 2), max(w // 16, 2), generator=g)
        up = F.interpolate(low, size=(h, w), mode='bilinear', align_corners=False)
        return (up + 0.5 * torch.randn(b, dims, h, w, generator=g)).to(dtype)

    yy, xx = torch.meshgrid(torch.arange(big_h), torch.arange(big_w), indexing='ij')
    semantic = torch.full((b, big_h, big_w), c, dtype=torch.long)
    region = torch.zeros(b, big_h, big_w, dtype=torch.long)
    tags = torch.zeros(b, 256, dtype=torch.bool)
    for i in range(b):
        seeds = torch.rand(regions, 2, generator=g) * torch.tensor([big_h, big_w])
        dist = (yy[None] - seeds[:, 0, None, None]) ** 2 + (xx[None] - seeds[:, 1, None, None]) ** 2
        region[i] = dist.argmin(0)
        classes = [0] + (torch.randperm(c - 1, generator=g)[:1 + i % 2] + 1).tolist()
        for cls in classes:  # two thick scribbles (lines) per class
            for _ in range(2):
                y0, y1 = (torch.rand(2, generator=g) * big_h).tolist()
                x0, x1 = (torch.rand(2, generator=g) * big_w).tolist()
                t = torch.linspace(0, 1, 400)
                py, px = (y0 + t * (y1 - y0)).long(), (x0 + t * (x1 - x0)).long()
                for dy in range(-6, 7, 3):
                    for dx in range(-6, 7, 3):
                        semantic[i, (py + dy).clamp(0, big_h - 1), (px + dx).clamp(0, big_w - 1)] = cls
            tags[i, cls] = True
    tags[:, c] = True  # the unlabeled value is present too (tags include it, §1.2)
    if pad_rows:
        semantic[-1, big_h - pad_rows * stride:] = 255
        region[-1, big_h - pad_rows * stride:] = 255
    embedding = field()
    memory = []
    for _ in range(memory_iterations):
        with torch.no_grad():
            res = spml_segments_only(field(), semantic, region)
        memory.append((res['prototype'].detach(), res['prototype_semantic'],
                       tags[res['prototype_batch']]))
    return dict(embedding=embedding, semantic=semantic, region=region, tags=tags,
                memory=memory, num_classes=c)


def spml_segments_only(embedding: Tensor, semantic: Tensor, region: Tensor, grid=(6, 6),
                       iterations: int = 10) -> Dict[str, Tensor]:
    """:func:`segment_batch` from input-resolution label maps (resize as §3.1)."""
    h, w = embedding.shape[-2:]
    resize = lambda m: F.interpolate(m[:, None].float(), size=(h, w),  # noqa: E731
                                     mode='nearest')[:, 0].long()
    sem, inst = resize(semantic), resize(region)
    return segment_batch(embedding, sem, inst.masked_fill(sem == 255, 0), grid, iterations)
