"""Peak memory of training steps, measured in a fresh process per implementation.

    python -m benchmarks.memory            # prints peak RSS above the pre-training baseline
"""

import argparse
import json
import resource
import subprocess
import sys

SIZES, BATCH, STEPS = [784, 512, 512, 10], 128, 20


def _rss_mib():
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(impl):
    """Peak RSS growth (MiB) over STEPS training steps of the big MLP, in this process."""
    from .run import mlp_step_candidates

    step = mlp_step_candidates(SIZES, BATCH, 0.2, 0.5)[impl]
    before = _rss_mib()
    for _ in range(STEPS):
        step()
    return _rss_mib() - before


def peak_memory():
    """{implementation: peak RSS growth in MiB}, each measured in its own subprocess."""
    results = {}
    for impl in ("numpy", "tinygrad_drop"):
        cmd = [sys.executable, "-m", "benchmarks.memory", "--impl", impl]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        results[impl] = json.loads(out)["peak_mib"]
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", choices=["numpy", "tinygrad_drop"])
    args = parser.parse_args(argv)
    if args.impl:
        print(json.dumps({"peak_mib": measure(args.impl)}))
        return
    results = peak_memory()
    for impl, mib in results.items():
        print(f"{impl:<14} peak RSS above baseline: {mib:7.2f} MiB ({mib / results['numpy']:.2f}x)")


if __name__ == "__main__":
    main()
