# tools/test.py --tta: scales x {no flip, flip}, softmax scores averaged (SegTTAModel; the
# reference's multi-scale protocol, spec §6.4)
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5]
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='TestTimeAug',
         transforms=[
             [dict(type='Resize', scale_factor=r, keep_ratio=True) for r in img_ratios],
             [dict(type='RandomFlip', prob=0., direction='horizontal'),
              dict(type='RandomFlip', prob=1., direction='horizontal')],
             [dict(type='LoadWeakAnnotations', allow_unlabeled=False)],
             [dict(type='PackSPMLInputs')]
         ])
]
