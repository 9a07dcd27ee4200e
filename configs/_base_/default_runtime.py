default_scope = 'mmseg'
# registers every mmspml component (datasets, transforms, models, hooks) in mmseg's registries
custom_imports = dict(imports=['mmspml'], allow_failed_imports=False)
# mmengine's Runner with mmspml's checkpoint handling (weights_only loading, atomic saving,
# resume from the work dir's last readable checkpoint): mmspml.engine.SPMLRunner
runner_type = 'SPMLRunner'
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # tools/train.py switches to gloo when no GPU is present
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='SegLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
# RandomStateHook stores torch's RNG state in checkpoints so that --resume continues
# with the same dropout masks as an uninterrupted run.
custom_hooks = [dict(type='RandomStateHook')]
randomness = dict(seed=0)
tta_model = dict(type='SegTTAModel')
