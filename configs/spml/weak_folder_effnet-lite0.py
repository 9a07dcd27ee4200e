# SPML (SPMLHead) on the pretrained EfficientNet-Lite0 (as camvid_scribbles_effnet-lite0.py)
# for your own weak labels, in the layout of tools/dataset_converters/*2weak.py
# (../_base_/datasets/weak_folder.py). A config of yours sets data_root and num_classes (the
# lines of DATA_ROOT/classes.txt) for the decode head; see docs/train_on_your_data.md.
_base_ = [
    '../_base_/models/spml_effnet-lite0.py', '../_base_/datasets/weak_folder.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_cpu_1k.py'
]
num_classes = 11  # placeholder (as the model bases): your config sets the number of your classes
crop_size = (256, 256)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor, decode_head=dict(num_classes=num_classes))
custom_hooks = [dict(type='RandomStateHook'), dict(type='SPMLMemoryBankHook'),
                dict(type='CheckNumClassesHook')]
