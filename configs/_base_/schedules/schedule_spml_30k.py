# Stage-1 schedule of the paper (spec §5.1, §5.2): SGD lr 3e-3, momentum 0.9, wd 5e-4,
# the reference's parameter groups (head x10, head biases x20 without decay, backbone
# biases x2 without decay, stem + layer1 frozen by lr 0) and its poly schedule with a
# 100-iteration linear warm-up from 0.1, 30k iterations of 16 images (4 GPUs x 4).
optimizer = dict(type='SGD', lr=3e-3, momentum=0.9, weight_decay=5e-4)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=optimizer,
    constructor='SPMLOptimWrapperConstructor',
    paramwise_cfg=dict(head_lr_mult=10, head_bias_lr_mult=20, backbone_bias_lr_mult=2))
param_scheduler = [
    dict(type='SPMLPolyLR', power=0.9, warmup_iters=100, warmup_ratio=0.1, begin=0,
         end=30000, by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=30000, val_interval=5000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=5000, save_last=True),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
