#!/usr/bin/env bash
# SPML on VOC 2012 scribbles (spml-method.md §5.4 "VOC scribbles / points"; reported
# 76.1 val "with denseCRF"):
#   stage 1 on the scribbles -> stage-1 softmax (scale 1 +- flip) restricted to the labelled
#   classes + random walk T^64 + DenseCRF -> stage 2 on these pseudo labels (the intended
#   behaviour; the reference's script trains it on the raw scribbles, §8 item 9) -> test
#   single scale, and multi-scale + flip + DenseCRF (the README's claim, §8 item 10).
#   bash tools/pipelines/voc_scribbles.sh [WORK_DIR]     (GPUs; settings: _voc_common.sh)
source "$(dirname "$0")/_voc_common.sh"
scribble_point_pipeline scribbles "${1:-work_dirs/pipelines/voc_scribbles}"
