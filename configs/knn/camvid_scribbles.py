# k-NN inference (spml-method.md §6.3) with the stage-1 model of
# configs/spml/camvid_scribbles.py: each k-means segment (12x12 grid, 10 iterations) of a
# test image takes the majority label of its 20 nearest prototypes of the bank written
#   python tools/extract_prototypes.py configs/spml/camvid_scribbles.py CKPT --out FILE
# Test with
#   python tools/test.py configs/knn/camvid_scribbles.py CKPT \
#       --cfg-options model.decode_head.prototype_file=FILE
_base_ = '../spml/camvid_scribbles.py'
model = dict(
    decode_head=dict(
        type='SPMLKNNHead',
        prototype_file='{{ fileDirname }}/../../work_dirs/pipelines/camvid_scribbles/'
        'prototypes.pth',
        knn_k=20,
        knn_grid=(12, 12),
        knn_iterations=10))
