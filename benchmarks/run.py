"""Benchmarks: tinygrad_drop against hand-written NumPy (the speed limit) and PyTorch eager (if installed).

    python -m benchmarks            # every workload, on 1 and 2 BLAS threads
    python -m benchmarks --quick    # a smoke run in well under a minute

Each workload's implementations run interleaved, round after round, in one process, and the table
gives medians and ratios to the NumPy baseline of the same run: absolute times drift between runs
on a shared machine, ratios much less. Results go to a JSON file with the CPU, BLAS and threads.
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

from . import numpy_baseline as base
from . import transformer
from .memory import peak_memory

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- timing


def time_interleaved(candidates, rounds, min_seconds=0.002):
    """Median seconds per call of each candidate (name -> callable), measured in alternating rounds."""
    for fn in candidates.values():  # warm up caches, allocators and lazy state
        fn()
        fn()
    calls = {}
    for name, fn in candidates.items():  # enough calls per round to outlast the timer's resolution
        start, n = time.perf_counter(), 0
        while time.perf_counter() - start < min_seconds:
            fn()
            n += 1
        calls[name] = n
    samples = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, fn in candidates.items():
            start = time.perf_counter()
            for _ in range(calls[name]):
                fn()
            samples[name].append((time.perf_counter() - start) / calls[name])
    return {name: float(np.median(s)) for name, s in samples.items()}


# ---------------------------------------------------------------- workloads


def _digits_like_batch(batch, features, classes, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((batch, features)).astype(np.float32), rng.integers(0, classes, batch)


def mlp_step_candidates(sizes, batch, p_input, p_hidden):
    """One SGD-momentum training step of the same MLP in each implementation."""
    x, y = _digits_like_batch(batch, sizes[0], sizes[-1])
    candidates = {"numpy": numpy_mlp_step(sizes, x, y, p_input, p_hidden),
                  "tinygrad_drop": td_mlp_step(sizes, x, y, p_input, p_hidden)}
    torch_step = _torch_mlp_step(sizes, x, y, p_input, p_hidden)
    if torch_step:
        candidates["torch"] = torch_step
    return candidates


def numpy_mlp_step(sizes, x, y, p_input, p_hidden):
    """The hand-written NumPy training step."""
    model = base.NumpyMLP(sizes, p_input, p_hidden)
    return lambda: model.step(x, y)


def td_mlp_step(sizes, x, y, p_input, p_hidden):
    """The tinygrad_drop training step, written as a user would."""
    import tinygrad_drop as td
    import tinygrad_drop.nn.functional as F
    from tinygrad_drop import nn

    layers = [nn.Dropout(p_input)] if p_input else []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers += [nn.ReLU()] + ([nn.Dropout(p_hidden)] if p_hidden else [])
    model = nn.Sequential(*layers)
    optimizer = td.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    tx, ty = td.Tensor(x), td.Tensor(y)

    def step():
        loss = F.cross_entropy(model(tx), ty)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


def _torch_mlp_step(sizes, x, y, p_input, p_hidden):
    """The same step in PyTorch eager, or None when torch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    layers = [torch.nn.Dropout(p_input)] if p_input else []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(torch.nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers += [torch.nn.ReLU()] + ([torch.nn.Dropout(p_hidden)] if p_hidden else [])
    model = torch.nn.Sequential(*layers)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        loss = torch.nn.functional.cross_entropy(model(tx), ty)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


def dropout_candidates(shape, p):
    """Dropout forward + backward alone."""
    import tinygrad_drop as td
    import tinygrad_drop.nn.functional as F

    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    grad = rng.standard_normal(shape).astype(np.float32)
    philox, pcg = np.random.Philox(0), np.random.PCG64(0)
    tx = td.Tensor(x, requires_grad=True)

    def td_fwd_bwd():
        tx.grad = None
        F.dropout(tx, p).backward(grad)

    candidates = {
        "numpy": lambda: base.best_dropout_fwd_bwd(x, grad, p, philox),
        "numpy_pcg64": lambda: base.best_dropout_fwd_bwd(x, grad, p, pcg),
        "naive": lambda: base.naive_dropout_fwd_bwd(x, grad, p, rng),
        "tinygrad_drop": td_fwd_bwd,
    }
    try:
        import torch
    except ImportError:
        return candidates
    t_x, t_grad = torch.from_numpy(x).requires_grad_(), torch.from_numpy(grad)

    def torch_fwd_bwd():
        t_x.grad = None
        torch.nn.functional.dropout(t_x, p).backward(t_grad)

    candidates["torch"] = torch_fwd_bwd
    return candidates


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


def linear_candidates(batch, fan_in, fan_out):
    """Linear forward + backward alone (dx, dW, db)."""
    import tinygrad_drop as td
    import tinygrad_drop.nn.functional as F

    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, fan_in)).astype(np.float32)
    W = rng.standard_normal((fan_out, fan_in)).astype(np.float32)
    b = rng.standard_normal(fan_out).astype(np.float32)
    grad = rng.standard_normal((batch, fan_out)).astype(np.float32)
    tx, tW, tb = (td.Tensor(a, requires_grad=True) for a in (x, W, b))

    def td_fwd_bwd():
        tx.grad = tW.grad = tb.grad = None
        F.linear(tx, tW, tb).backward(grad)

    return {"numpy": lambda: base.linear_fwd_bwd(x, W, b, grad), "tinygrad_drop": td_fwd_bwd}


def workloads(quick):
    """(name, factory) for every workload; --quick keeps the smallest of each kind."""
    big, tiny = [784, 512, 512, 10], [2, 64, 64, 2]
    items = [
        ("MLP 784-512-512-10 b128 dropout 0.2/0.5", lambda: mlp_step_candidates(big, 128, 0.2, 0.5)),
        ("MLP 2-64-64-2 b32 dropout 0.2/0.5", lambda: mlp_step_candidates(tiny, 32, 0.2, 0.5)),
    ]
    if not quick:
        items += [
            ("MLP 784-512-512-10 b128 no dropout", lambda: mlp_step_candidates(big, 128, 0.0, 0.0)),
            ("MLP 2-64-64-2 b32 no dropout", lambda: mlp_step_candidates(tiny, 32, 0.0, 0.0)),
        ]
    shapes = [(128, 4096)] if quick else [(128, 4096), (1024, 4096)]
    for shape in shapes:
        for p in ([0.5] if quick else [0.2, 0.5]):
            name = f"dropout fwd+bwd {shape[0]}x{shape[1]} p={p}"
            items.append((name, lambda s=shape, p=p: dropout_candidates(s, p)))
    items.append(("Linear fwd+bwd 128x512 -> 512", lambda: linear_candidates(128, 512, 512)))
    return items


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


def run_all(quick, rounds):
    """Run every workload in this process; return a list of result dicts."""
    results = []
    for name, factory in workloads(quick):
        medians = time_interleaved(factory(), rounds)
        results.append({"workload": name, "median_s": medians,
                        "ratio_to_numpy": {k: v / medians["numpy"] for k, v in medians.items()}})
        print(f"  {name:<44}" + "".join(f"  {k} {v * 1e3:.3f} ms" for k, v in medians.items()),
              file=sys.stderr, flush=True)
    return results


def markdown_table(report):
    """One row per workload and thread count: each implementation's median and its ratio to NumPy."""
    names = []
    for run in report:
        for r in run["results"]:
            names += [k for k in r["median_s"] if k not in names]
    lines = ["| workload | BLAS threads | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for run in report:
        for r in run["results"]:
            cells = [f"{r['median_s'][k] * 1e3:.3f} ms ({r['ratio_to_numpy'][k]:.2f}x)" if k in r["median_s"] else ""
                     for k in names]
            lines.append(f"| {r['workload']} | {run['environment']['blas_threads']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description="tinygrad_drop benchmarks")
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer workloads and rounds")
    parser.add_argument("--threads", type=int, nargs="+", default=None, help="BLAS thread counts (default 1 2)")
    parser.add_argument("--json", default="benchmarks/results.json", help="where to write the results")
    parser.add_argument("--plot", default="docs/images/scaling.png", help="where to save the scaling sweep")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sweep", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    rounds = 5 if args.quick else 25

    if args.worker:  # one thread count, in a process whose BLAS was limited before numpy loaded
        run = {"environment": environment(), "results": run_all(args.quick, rounds)}
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
        sweep = threads == 1 and not args.quick
        cmd = [sys.executable, "-m", "benchmarks.run", "--worker"] + (["--quick"] if args.quick else [])
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
    print(f"\nCPU: {env['cpu']}; BLAS: {env['blas']}; NumPy {env['numpy']}; Python {env['python']}")
    print("medians, and ratios to the hand-written NumPy baseline of the same run (lower is faster):\n")
    print(markdown_table(report))
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
