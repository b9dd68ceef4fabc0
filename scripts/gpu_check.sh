#!/usr/bin/env bash
# The GPU check, one command on a machine with an NVIDIA GPU (about 5 minutes on one H200):
#   1. the CUDA tests: every test that runs on the "cuda" device (each op's forward and backward
#      against the CPU's, the CUDA mask and fused dropout kernels against NumPy's Philox), and the
#      random-stream and dropout tests in full;
#   2. the digits example trained on --device cuda, which must reach 95% test accuracy;
#   3. the GPU benchmark rows (python -m benchmarks --gpu): dropout forward+backward on 1024x4096
#      float32 against the floor of one read and one write per pass (target: within 1.5x), and an
#      MLP training step against hand-written CuPy (target: within 1.2x);
#   4. the training-step benchmark on cpu and cuda (PyTorch CUDA as a baseline where installed).
# Needs the package with its CUDA extra: pip install -e ".[test,cuda12]" (or [cuda13] for CUDA 13).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

python - <<'PY'
import sys

import numpy
import tinygrad_drop as td

if not td.cuda.is_available():
    sys.exit('no GPU is visible to CuPy: pip install -e ".[test,cuda12]" (or [cuda13]) on a machine with a GPU')
import cupy  # noqa: E402 - only to report its version

print(f"python {sys.version.split()[0]}, numpy {numpy.__version__}, cupy {cupy.__version__}, "
      f"{td.cuda.device_count()} GPU(s): {cupy.cuda.runtime.getDeviceProperties(0)['name'].decode()}")
PY

echo "== 1/4 CUDA tests"
timeout 240 python -m pytest -q -p no:cacheprovider -k cuda tests
timeout 120 python -m pytest -q -p no:cacheprovider tests/test_random.py tests/ops/test_dropout.py \
  tests/ops/test_dropout_storage.py

echo "== 2/4 digits example on cuda"
timeout 90 python - <<'PY'
import sys

sys.path.insert(0, "examples")
import train_mlp  # noqa: E402

history = train_mlp.main(["--device", "cuda", "--no-progress", "--epochs", "20"])
accuracy = history["test_acc"][-1]
sys.exit(0 if accuracy >= 0.95 else f"test accuracy {accuracy:.4f} on cuda is below 0.95")
PY

echo "== 3/4 GPU benchmark rows"
timeout 120 python -m benchmarks --gpu

echo "== 4/4 benchmark: one MLP training step on cpu and cuda"
timeout 45 python benchmarks/gpu_step.py --steps 20
echo "GPU check passed"
