"""One MLP training step (784-512-512-10, batch 128, dropout 0.5, Adam) on the CPU and on the GPU.

    python benchmarks/gpu_step.py             # cpu; cuda when CuPy sees a GPU; PyTorch CUDA when installed
    python benchmarks/gpu_step.py --steps 50

Every step ends with loss.item(), which waits for the GPU, as a training loop that logs its loss
does. Prints the median step time of each run and how many times faster it is than the CPU.
"""

import argparse
import statistics
import time

import numpy as np

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tinygrad_drop import nn

WIDTHS, BATCH, P, LR = (784, 512, 512, 10), 128, 0.5, 1e-3


def batch():
    """A fixed random batch: inputs (BATCH, 784) float32 and class labels (BATCH,)."""
    rng = np.random.default_rng(0)
    return rng.standard_normal((BATCH, WIDTHS[0]), dtype=np.float32), rng.integers(0, WIDTHS[-1], BATCH)


def tinygrad_drop_step(device):
    """A training step of tinygrad_drop on `device`, returning the loss."""
    layers = []
    for fan_in, fan_out in zip(WIDTHS[:-2], WIDTHS[1:-1], strict=True):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU(), nn.Dropout(P)]
    model = nn.Sequential(*layers, nn.Linear(WIDTHS[-2], WIDTHS[-1])).to(device)
    optimizer = td.optim.Adam(model.parameters(), lr=LR)
    x, y = (td.tensor(a, device=device) for a in batch())

    def step():
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def torch_cuda_step():
    """The same step in PyTorch on its GPU, or None when PyTorch or its CUDA is missing."""
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    layers = []
    for fan_in, fan_out in zip(WIDTHS[:-2], WIDTHS[1:-1], strict=True):
        layers += [torch.nn.Linear(fan_in, fan_out), torch.nn.ReLU(), torch.nn.Dropout(P)]
    model = torch.nn.Sequential(*layers, torch.nn.Linear(WIDTHS[-2], WIDTHS[-1])).cuda()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    x, y = (torch.from_numpy(a).cuda() for a in batch())

    def step():
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def median_seconds(step, steps, warmup):
    """Median wall time of one call of step() after `warmup` calls (which compile kernels and fill caches)."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="timed steps per run")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    args = parser.parse_args(argv)

    runs = {"tinygrad_drop cpu": tinygrad_drop_step("cpu")}
    if td.cuda.is_available():
        runs["tinygrad_drop cuda"] = tinygrad_drop_step("cuda")
    else:
        print("no GPU visible to CuPy: timing the CPU only")
    torch_step = torch_cuda_step()
    if torch_step is not None:
        runs["torch cuda"] = torch_step
    print(f"MLP {'-'.join(map(str, WIDTHS))}, batch {BATCH}, dropout {P}, Adam: median of {args.steps} steps")
    cpu = None
    for name, step in runs.items():
        seconds = median_seconds(step, args.steps, args.warmup)
        cpu = cpu or seconds
        print(f"  {name:<20} {seconds * 1e3:9.3f} ms   {cpu / seconds:6.1f}x the CPU")


if __name__ == "__main__":
    main()
