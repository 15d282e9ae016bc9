#!/usr/bin/env bash
# The check a session runs when it is lent a GPU (the `device` tool): one call, under 8 minutes.
#
#   1. the CUDA tests (tests/test_engine.py, tests/test_refine.py: the network and the torch solver
#      on CUDA against the CPU);
#   2. benchmarks/model_speed.py fp16 rows, peak GPU memory included: lite and paper at 1080p and
#      4K, and the bundled weights with the default (mixed) and KNN refinements at 1080p; KNN's solve, scipy
#      on the CPU against torch on the GPU, at 1080p and 4K;
#   3. a fixed-time training burst of the cpu recipe, resumed from runs/lite-cpu's checkpoint as it
#      is in the working tree, on the packed training set; the new checkpoint comes back through
#      $OUT, split in two (one returned file may hold 16 MiB; the checkpoint is ~20 MB).
# Everything it prints also lands in $OUT/gpu_check.log.
#
# Prepare here, once per data or dependency change (no GPU needed; both folders are git-ignored):
#   python benchmarks/pack_training_set.py --out .pack            # ~26 MiB: the training set, packed
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#       --platform manylinux_2_28_x86_64 -d .whl openimageio==3.2.2.0   # the device lacks OpenImageIO
# Stop the CPU training (its checkpoint is what travels), then:
#   device run:  command "bash benchmarks/gpu_check.sh", carry [".pack", ".whl"], timeout_s 540
#   here:        bash benchmarks/gpu_check.sh --take FILES_AT    # rejoin, verify, install the checkpoint
# and resume the CPU training from it.
#
# Without a GPU the same steps run small (the CPU side of the tests, one 960x540 CPU row, a
# 30-second burst into a scratch folder), which is how the script is tested where it is written.
# BURST_MINUTES overrides the burst's length.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=runs/lite-cpu

if [[ ${1:-} == --take ]]; then
    from=${2:?usage: gpu_check.sh --take FOLDER}
    incoming=$(mktemp -d "$RUN.incoming.XXXX")
    trap 'rm -rf "$incoming"' EXIT
    cat "$from"/checkpoint.safetensors.part-* >"$incoming/checkpoint.safetensors"
    cp "$from/checkpoint.json" "$incoming/checkpoint.json"
    PYTHONPATH=core python3 -c "import sys
from adamatte.errors import InputError
from adamatte.train.checkpoint import read_checkpoint
try:
    print('gpu_check: checkpoint at step', read_checkpoint(sys.argv[1] + '/checkpoint')[1]['step'], 'verified')
except InputError as e:
    sys.exit(f'gpu_check: {e} (from {sys.argv[2]}); nothing replaced')" "$incoming" "$from"
    mv "$incoming/checkpoint.safetensors" "$incoming/checkpoint.json" "$RUN/"
    cp "$from/log.csv" "$RUN/log.csv"
    exit 0
fi

OUT=${OUT:-$(mktemp -d /tmp/gpu_check.XXXX)}
WORK=$(mktemp -d /tmp/gpu_check_work.XXXX)
PY=${PYTHON:-python3}
exec > >(tee "$OUT/gpu_check.log") 2>&1
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD/core${PYTHONPATH:+:$PYTHONPATH}"
if ! $PY -c "import OpenImageIO" 2>/dev/null; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$WORK/site" .whl/*.whl
    export PYTHONPATH="$PYTHONPATH:$WORK/site"
fi
[[ -f .pack/data.tar.xz ]] || { echo "gpu_check: no .pack/data.tar.xz; run benchmarks/pack_training_set.py first"; exit 2; }

if $PY -c "import torch, sys; sys.exit(not torch.cuda.is_available())"; then
    gpu=1; minutes=${BURST_MINUTES:-4}; workers=12
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
else
    gpu=0; minutes=${BURST_MINUTES:-0.5}; workers=0
    echo "gpu_check: no CUDA GPU here; running the CPU fallback (small sizes, a short burst)"
fi
$PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)"
step() { echo; echo "== $1 ($(date -u +%T))"; }

step "CUDA tests"
$PY -m pytest -q -p no:cacheprovider tests/test_engine.py tests/test_refine.py

step "engine speed, fp16"
if (( gpu )); then
    $PY benchmarks/model_speed.py --devices cuda --sizes 1920x1080,3840x2160 --configs lite,paper --closed-form-max 0x0
    $PY benchmarks/model_speed.py --devices cuda --sizes 1920x1080 --configs bundled+mixed,bundled+knn --closed-form-max 0x0
    $PY benchmarks/model_speed.py --solvers --devices cuda --sizes 1920x1080,3840x2160
else
    $PY benchmarks/model_speed.py --devices cpu --sizes 960x540 --configs lite --closed-form-max 0x0
fi

step "training burst: $minutes min of the cpu recipe from $RUN"
mkdir -p "$WORK/data" "$WORK/runs/lite-cpu"
tar xJf .pack/data.tar.xz -C "$WORK/data"
cp "$RUN/checkpoint.safetensors" "$RUN/checkpoint.json" "$RUN/log.csv" "$WORK/runs/lite-cpu/"
$PY -m adamatte train --config .pack/cpu.json --data "$WORK/data" --output-dir "$WORK/runs" --resume \
    --minutes "$minutes" --workers "$workers" --no-progress
tail -n 3 "$WORK/runs/lite-cpu/log.csv"
split -b 12m "$WORK/runs/lite-cpu/checkpoint.safetensors" "$OUT/checkpoint.safetensors.part-"
cp "$WORK/runs/lite-cpu/checkpoint.json" "$WORK/runs/lite-cpu/log.csv" "$OUT/"
step "done; bring the checkpoint home with: bash benchmarks/gpu_check.sh --take FILES_AT"
ls -l "$OUT"
