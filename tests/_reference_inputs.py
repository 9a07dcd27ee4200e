"""The tiny batch of spml-method.md §9.4 (shared by functional, loss and head tests)."""
import torch

from mmspml.functional import location_features

C, UNL, IGN = 21, 21, 255


def reference_inputs(dtype):
    """``(embedding [2,4,8,8], semantic [2,8,8], region [2,8,8], tags [2,256] bool,
    location [2,8,8,2] computed in float32 then cast)``."""
    n, d, h, w = 2, 4, 8, 8
    b = torch.arange(n, dtype=dtype).view(n, 1, 1, 1)
    c = torch.arange(d, dtype=dtype).view(1, d, 1, 1)
    y = torch.arange(h, dtype=dtype).view(1, 1, h, 1)
    x = torch.arange(w, dtype=dtype).view(1, 1, 1, w)
    emb = torch.sin(0.37 * (c + 1) * (y + 1) + 0.53 * (x + 1) * ((c % 2) + 1) + 1.1 * b) + 0.1 * c
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing='ij')
    sem0 = torch.where(xx < 4, 0, 5)
    sem0[(xx >= 4) & (yy < 2)] = UNL
    sem0[7] = IGN
    sem1 = torch.where(yy < 4, 7, UNL)
    semantic = torch.stack([sem0, sem1])
    reg1 = xx // 3
    reg1[7] = 255
    region = torch.stack([2 * (yy // 4) + xx // 4, reg1])
    tags = torch.zeros(n, 256, dtype=torch.bool)
    for i in range(n):
        tags[i, semantic[i].unique()] = True
    loc = location_features((h, w), torch.float32).to(dtype).expand(n, h, w, 2)
    return emb, semantic, region, tags, loc


# §9.4 expected values (weighted): float64
EXPECTED = dict(loss_sem_ann=0.49836441, loss_sem_occ=0.33576828, loss_img_sim=0.51922144,
                acc=0.33125)
EXPECTED_MEMORY = dict(loss_sem_ann=0.30099622, loss_sem_occ=0.23311182,
                       loss_img_sim=0.51922144, acc=0.475)
