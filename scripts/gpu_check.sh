#!/usr/bin/env bash
# The GPU check, one command on a machine with an NVIDIA GPU (under 8 minutes on one H100):
#   1. the whole test suite, which runs every device test on cpu and on cuda,
#   2. the digits example trained on --device cuda, which must reach 95% test accuracy,
#   3. the training-step benchmark on cpu and cuda (PyTorch CUDA as a baseline where installed).
# Needs the package with its CUDA extra: pip install -e ".[test,cuda12]" (or [cuda13] for CUDA 13).
set -euo pipefail
cd "$(dirname "$0")/.."

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

echo "== 1/3 test suite on cpu and cuda"
timeout 330 python -m pytest -q -p no:cacheprovider

echo "== 2/3 digits example on cuda"
timeout 90 python - <<'PY'
import sys

sys.path.insert(0, "examples")
import train_mlp  # noqa: E402

history = train_mlp.main(["--device", "cuda", "--no-progress", "--epochs", "20"])
accuracy = history["test_acc"][-1]
sys.exit(0 if accuracy >= 0.95 else f"test accuracy {accuracy:.4f} on cuda is below 0.95")
PY

echo "== 3/3 benchmark: one MLP training step on cpu and cuda"
timeout 45 python benchmarks/gpu_step.py
echo "GPU check passed"
