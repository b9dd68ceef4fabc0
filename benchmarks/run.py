"""Benchmarks: tinygrad_drop against hand-written NumPy (the speed limit) and PyTorch eager (if installed).

    python -m benchmarks            # every workload, on 1 and 2 BLAS threads
    python -m benchmarks --quick    # a smoke run in well under a minute
    python -m benchmarks --gpu      # the GPU rows (needs CuPy and a GPU)

The workloads are listed in benchmarks/workloads.py. Each workload's implementations run
interleaved, round after round, in one process, and the table gives medians and ratios to the
workload's baseline (hand-written NumPy on the CPU) of the same run: absolute times drift between
runs on a shared machine, ratios much less. Results go to a JSON file with the CPU, BLAS and threads.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from . import transformer
from .memory import peak_memory
from .workloads import TARGETS, mlp_step_candidates, workloads

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- timing


def time_interleaved(candidates, rounds, min_seconds=0.002, sync=lambda: None, clock=time.perf_counter):
    """Median seconds per call of each candidate (name -> callable), measured in alternating rounds.

    `sync` waits for queued work (a GPU's): it runs before each timed round starts and before it ends.
    `clock` is wall time by default; time.thread_time counts only this thread's CPU time, which other
    processes on a shared machine disturb much less (right only when the work runs on this thread).
    """
    for fn in candidates.values():  # warm up caches, allocators, compiled kernels and lazy state
        fn()
        fn()
    calls = {}
    for name, fn in candidates.items():  # enough calls per round to outlast the timer's resolution
        sync()
        start, n = clock(), 0
        while clock() - start < min_seconds:
            fn()
            n += 1
        calls[name] = n
    samples = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, fn in candidates.items():
            sync()
            start = clock()
            for _ in range(calls[name]):
                fn()
            sync()
            samples[name].append((clock() - start) / calls[name])
    return {name: float(np.median(s)) for name, s in samples.items()}


# ---------------------------------------------------------------- measurements beyond the table


def dropout_storage(shape=(1024, 4096), p=0.5, rounds=15):
    """Bytes per element that dropout keeps for backward, and backward's time, for each mask_storage."""
    import tinygrad_drop as td
    import tinygrad_drop.nn.functional as F

    rng = np.random.default_rng(0)
    x = td.Tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
    grad = rng.standard_normal(shape).astype(np.float32)
    report = {}
    for storage in ("bool", "recompute"):
        y = F.dropout(x, p, mask_storage=storage)
        saved = sum(getattr(a, "nbytes", 0) for a in y._ctx.saved_tensors)
        forward = lambda s=storage: F.dropout(x, p, mask_storage=s)  # noqa: E731

        def forward_backward(s=storage):
            x.grad = None
            F.dropout(x, p, mask_storage=s).backward(grad)

        medians = time_interleaved({"forward": forward, "both": forward_backward}, rounds)
        report[storage] = {"bytes_per_element": saved / x.size, "backward_s": medians["both"] - medians["forward"]}
    report["recompute"]["backward_ratio"] = report["recompute"]["backward_s"] / report["bool"]["backward_s"]
    return report


# ---------------------------------------------------------------- environment and reporting


def environment():
    """CPU, BLAS and thread count, recorded with every result."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    blas = "unknown"
    try:
        from threadpoolctl import threadpool_info

        blas = ", ".join(f"{i['internal_api']} {i.get('version')} ({i['num_threads']} threads)"
                         for i in threadpool_info() if i.get("user_api") == "blas") or blas
    except ImportError:
        config = np.show_config(mode="dicts") if hasattr(np, "show_config") else {}
        blas = config.get("Build Dependencies", {}).get("blas", {}).get("name", blas)
    return {"cpu": cpu, "blas": blas, "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
            "numpy": np.__version__, "python": platform.python_version()}


SWEEP_BATCHES = [32, 128, 512, 2048, 4096]
SWEEP_WIDTHS = [64, 256, 1024, 4096]


def scaling_sweep():
    """Training-step ratios to NumPy as the batch grows (width 256) and as the width grows (batch 128)."""
    sweep = {"batch": [], "width": []}
    for batch in SWEEP_BATCHES:
        medians = time_interleaved(mlp_step_candidates([64, 256, 256, 10], batch, 0.2, 0.5), rounds=5)
        sweep["batch"].append({"x": batch, **{k: v / medians["numpy"] for k, v in medians.items()}})
        print(f"  sweep batch {batch:5d} (width 256): {sweep['batch'][-1]}", file=sys.stderr, flush=True)
    for width in SWEEP_WIDTHS:
        medians = time_interleaved(mlp_step_candidates([64, width, width, 10], 128, 0.2, 0.5), rounds=5)
        sweep["width"].append({"x": width, **{k: v / medians["numpy"] for k, v in medians.items()}})
        print(f"  sweep width {width:5d} (batch 128): {sweep['width'][-1]}", file=sys.stderr, flush=True)
    return sweep


def plot_sweep(sweep, path):
    """Save the scaling sweep as a PNG (needs matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print('matplotlib is not installed, so the sweep was not plotted: pip install "tinygrad_drop[examples]"')
        return
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, (axis, label) in zip(axes, [("batch", "batch size (width 256)"), ("width", "width (batch 128)")],
                                 strict=True):
        points = sweep[axis]
        for impl in [k for k in points[0] if k != "x"]:
            ax.plot([p["x"] for p in points], [p[impl] for p in points], marker="o", label=impl)
        ax.set(xscale="log", xlabel=label, title=f"training step vs {axis}")
        ax.axhline(1.0, color="grey", lw=0.8)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("time / hand-written NumPy")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    print(f"saved the scaling sweep to {path}")


CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}


def run_all(quick, rounds, gpu=False, clock="wall"):
    """Run every workload in this process; return a list of result dicts."""
    sync = lambda: None  # noqa: E731
    if gpu:
        import cupy

        sync = cupy.cuda.get_current_stream().synchronize
    results = []
    for workload in workloads(quick, gpu):
        medians = time_interleaved(workload.make(), rounds, sync=sync, clock=CLOCKS[clock])
        results.append({"workload": workload.name, "baseline": workload.baseline, "median_s": medians,
                        "ratio": {k: v / medians[workload.baseline] for k, v in medians.items()}})
        print(f"  {workload.name:<44}" + "".join(f"  {k} {v * 1e3:.3f} ms" for k, v in medians.items()),
              file=sys.stderr, flush=True)
    return results


def markdown_table(report):
    """One row per workload and thread count: each implementation's median and its ratio to the row's baseline."""
    names = []
    for run in report:
        for r in run["results"]:
            names += [k for k in r["median_s"] if k not in names]
    lines = ["| workload | BLAS threads | baseline | " + " | ".join(names) + " |",
             "|---|---|---|" + "---|" * len(names)]
    for run in report:
        for r in run["results"]:
            cells = [f"{r['median_s'][k] * 1e3:.3f} ms ({r['ratio'][k]:.2f}x)" if k in r["median_s"] else ""
                     for k in names]
            lines.append(f"| {r['workload']} | {run['environment']['blas_threads']} | {r['baseline']} | "
                         + " | ".join(cells) + " |")
    return "\n".join(lines)


def target_lines(run):
    """The issue's targets met or missed in one run: implementation / reference against its bound.

    Where the reference is not the hand-written NumPy code itself (the naive dropout), the line also
    gives NumPy's ratio to it: what the same random bits allow without any framework around them.
    """
    by_name = {r["workload"]: r["median_s"] for r in run["results"]}
    lines = []
    for workload, impl, reference, bound in TARGETS:
        medians = by_name.get(workload)
        if medians is None or impl not in medians or reference not in medians:
            continue
        ratio = medians[impl] / medians[reference]
        line = (f"  {'met   ' if ratio <= bound else 'MISSED'} {workload}: {impl} / {reference} = {ratio:.2f}x "
                f"(target <= {bound}x{f', {1 / ratio:.2f}x faster' if ratio < 1 else ''})")
        if reference != "numpy" and "numpy" in medians:
            line += f"; numpy / {reference} = {medians['numpy'] / medians[reference]:.2f}x"
        lines.append(line)
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description="tinygrad_drop benchmarks")
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer workloads and rounds")
    parser.add_argument("--threads", type=int, nargs="+", default=None, help="BLAS thread counts (default 1 2)")
    parser.add_argument("--json", default="benchmarks/results.json", help="where to write the results")
    parser.add_argument("--plot", default="docs/images/scaling.png", help="where to save the scaling sweep")
    parser.add_argument("--no-sweep", action="store_true", help="skip the scaling sweep and its plot")
    parser.add_argument("--gpu", action="store_true", help="run the GPU rows instead (needs CuPy and a GPU)")
    parser.add_argument("--clock", choices=list(CLOCKS), default="wall",
                        help="wall time, or this thread's CPU time: steadier on a busy machine, for 1 BLAS thread only")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sweep", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    rounds = 5 if args.quick else 25

    if args.gpu:
        run = {"environment": environment(), "results": run_all(args.quick, rounds, gpu=True)}
        run["environment"]["blas_threads"] = "GPU"
        print("medians, and ratios to each row's baseline in the same run (lower is faster):\n")
        print(markdown_table([run]))
        print("\n".join(["targets:"] + target_lines(run)))
        return [run]

    if args.worker:  # one thread count, in a process whose BLAS was limited before numpy loaded
        run = {"environment": environment(), "results": run_all(args.quick, rounds, clock=args.clock)}
        run["environment"]["clock"] = args.clock
        if args.sweep:
            run["sweep"] = scaling_sweep()
            run["transformer"] = transformer.report(time_interleaved, rounds=10)  # the 1-thread run only
        json.dump(run, sys.stdout)
        return None

    report = []
    for threads in args.threads or ([1] if args.quick else [1, 2]):
        print(f"BLAS threads: {threads}", flush=True)
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
                   MKL_NUM_THREADS=str(threads))
        sweep = threads == 1 and not args.quick and not args.no_sweep
        if args.clock == "cpu" and threads != 1:
            raise SystemExit("--clock cpu counts one thread's CPU time, so it needs --threads 1")
        cmd = [sys.executable, "-m", "benchmarks.run", "--worker", "--clock", args.clock]
        cmd += ["--quick"] if args.quick else []
        cmd += ["--sweep"] if sweep else []
        proc = subprocess.run(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
        if proc.returncode:
            raise SystemExit(f"benchmark worker failed with exit code {proc.returncode}")
        report.append(json.loads(proc.stdout))
    storage = dropout_storage(rounds=5 if args.quick else 15)
    print("dropout keeps for backward (1024x4096, p=0.5): " + ", ".join(
        f"{mode} {r['bytes_per_element']:g} bytes/element, backward {r['backward_s'] * 1e3:.2f} ms"
        for mode, r in storage.items()) + f" (recompute/bool: {storage['recompute']['backward_ratio']:.2f}x)")
    memory = peak_memory()
    print("peak RSS of training the big MLP, above the start of training: " + ", ".join(
        f"{impl} {mib:.2f} MiB ({mib / memory['numpy']:.2f}x)" for impl, mib in memory.items()))
    if "sweep" in report[0]:
        plot_sweep(report[0]["sweep"], args.plot)
    env = report[0]["environment"]
    print(f"\nCPU: {env['cpu']}; BLAS: {env['blas']}; NumPy {env['numpy']}; Python {env['python']}; "
          f"clock: {env['clock']}")
    print("medians, and ratios to each row's baseline (hand-written NumPy) in the same run (lower is faster):\n")
    print(markdown_table(report))
    print("\n".join(["targets (one BLAS thread):"] + target_lines(report[0])))
    if "transformer" in report[0]:
        print("\none training step of examples/tiny_gpt.py's model, 1 thread, against PyTorch eager:\n")
        print(transformer.format_rows(report[0]["transformer"]))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    results = {"runs": report, "peak_rss_mib": memory, "dropout_storage": storage}
    Path(args.json).write_text(json.dumps(results, indent=2))
    print(f"wrote {args.json}")
    return report


if __name__ == "__main__":
    main()
