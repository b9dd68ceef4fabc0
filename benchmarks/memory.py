"""Peak memory of training the big MLP, measured in a fresh process per implementation.

    python -m benchmarks.memory

Each process (one BLAS thread) imports everything, makes the batch and warms up BLAS, reads its
resident set size (RSS), then builds
the model and optimizer and trains for a few steps. The figure is the peak RSS minus that
starting RSS: parameters, gradients, optimizer state, activations and temporaries together.
"""

import argparse
import json
import os
import resource
import subprocess
import sys

SIZES, BATCH, STEPS = [784, 512, 512, 10], 128, 20


def _current_rss_mib():
    """The resident set size of this process now, in MiB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_rss_mib():
    """The highest resident set size of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(impl):
    """Peak RSS above the starting RSS (MiB) over STEPS training steps, in this process."""
    import tinygrad_drop  # noqa: F401 - imported by both, so that the baseline holds the same modules

    from .workloads import digits_like_batch, numpy_mlp_step, td_mlp_step

    x, y = digits_like_batch(BATCH, SIZES[0], SIZES[-1])
    x @ x.T  # BLAS allocates its per-thread buffers on first use: not part of either implementation
    start = _current_rss_mib()
    step = {"numpy": numpy_mlp_step, "tinygrad_drop": td_mlp_step}[impl](SIZES, x, y, 0.2, 0.5)
    for _ in range(STEPS):
        step()
    return _peak_rss_mib() - start


def peak_memory():
    """{implementation: peak RSS growth in MiB}, each measured in its own subprocess."""
    results = {}
    for impl in ("numpy", "tinygrad_drop"):
        cmd = [sys.executable, "-m", "benchmarks.memory", "--impl", impl]
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout
        results[impl] = json.loads(out)["peak_mib"]
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", choices=["numpy", "tinygrad_drop"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.impl:
        print(json.dumps({"peak_mib": measure(args.impl)}))
        return None
    results = peak_memory()
    for impl, mib in results.items():
        print(f"{impl:<14} peak RSS above the start: {mib:6.2f} MiB ({mib / results['numpy']:.2f}x)")
    return results


if __name__ == "__main__":
    main()
