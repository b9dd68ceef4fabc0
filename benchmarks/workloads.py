"""Every benchmark workload, in one registry that `run.py` and `memory.py` both import.

A workload is a name and a factory that returns {implementation name: a callable doing one unit
of work}. The table gives each implementation's median time and its ratio to the workload's
baseline implementation, measured in the same run. To add a row, append a `Workload` to
`WORKLOADS` (or `GPU_WORKLOADS` for rows that need CuPy and a GPU).
"""

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from . import numpy_baseline as base

BIG_MLP, TINY_MLP = [784, 512, 512, 10], [2, 64, 64, 2]


class Workload(NamedTuple):
    """One row of the table: `make()` gives {implementation: callable}; ratios are to `baseline`."""

    name: str
    make: Callable[[], dict]
    baseline: str = "numpy"
    quick: bool = False  # part of the --quick smoke run


# ---------------------------------------------------------------- MLP training steps


def digits_like_batch(batch, features, classes, seed=0):
    """A fixed random batch: float32 inputs (batch, features) and class labels (batch,)."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((batch, features)).astype(np.float32), rng.integers(0, classes, batch)


def mlp_step_candidates(sizes, batch, p_input, p_hidden):
    """One SGD-momentum training step of the same MLP in each implementation."""
    x, y = digits_like_batch(batch, sizes[0], sizes[-1])
    candidates = {"numpy": numpy_mlp_step(sizes, x, y, p_input, p_hidden),
                  "tinygrad_drop": td_mlp_step(sizes, x, y, p_input, p_hidden)}
    torch_step = torch_mlp_step(sizes, x, y, p_input, p_hidden)
    if torch_step:
        candidates["torch"] = torch_step
    return candidates


def numpy_mlp_step(sizes, x, y, p_input, p_hidden, xp=np):
    """The hand-written NumPy (or, with xp=cupy, CuPy) training step."""
    model = base.NumpyMLP(sizes, p_input, p_hidden, xp=xp)
    x, y = xp.asarray(x), xp.asarray(y)
    return lambda: model.step(x, y)


def td_mlp_step(sizes, x, y, p_input, p_hidden, device="cpu"):
    """The tinygrad_drop training step, written as a user would."""
    import tinygrad_drop as td
    import tinygrad_drop.nn.functional as F
    from tinygrad_drop import nn

    layers = [nn.Dropout(p_input)] if p_input else []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers += [nn.ReLU()] + ([nn.Dropout(p_hidden)] if p_hidden else [])
    model = nn.Sequential(*layers).to(device)
    optimizer = td.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    tx, ty = td.tensor(x, device=device), td.tensor(y, device=device)

    def step():
        loss = F.cross_entropy(model(tx), ty)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


def torch_mlp_step(sizes, x, y, p_input, p_hidden, device="cpu"):
    """The same step in PyTorch eager, or None when torch (or its CUDA, for device="cuda") is missing."""
    try:
        import torch
    except ImportError:
        return None
    if device != "cpu" and not torch.cuda.is_available():
        return None
    layers = [torch.nn.Dropout(p_input)] if p_input else []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(torch.nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers += [torch.nn.ReLU()] + ([torch.nn.Dropout(p_hidden)] if p_hidden else [])
    model = torch.nn.Sequential(*layers).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    tx, ty = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)

    def step():
        loss = torch.nn.functional.cross_entropy(model(tx), ty)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


# ---------------------------------------------------------------- single ops


def dropout_candidates(shape, p):
    """Dropout forward + backward alone, against the best NumPy code and the tutorials' naive version."""
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


# ---------------------------------------------------------------- GPU rows (CuPy)


def gpu_dropout_candidates(shape=(1024, 4096), p=0.5):
    """Dropout forward + backward on the GPU against the floor of one read and one write per pass.

    The floor is two device copies of the array (forward: x -> y, backward: dL/dy -> dL/dx): no
    dropout can move fewer bytes.
    """
    import cupy

    import tinygrad_drop as td
    import tinygrad_drop.nn.functional as F

    rng = np.random.default_rng(0)
    host_x, host_grad = (rng.standard_normal(shape).astype(np.float32) for _ in range(2))
    x, grad = cupy.asarray(host_x), cupy.asarray(host_grad)
    y, grad_x = cupy.empty_like(x), cupy.empty_like(x)
    tx = td.tensor(host_x, requires_grad=True, device="cuda")

    def floor():
        cupy.copyto(y, x)
        cupy.copyto(grad_x, grad)

    def td_fwd_bwd(mask_storage):
        tx.grad = None
        F.dropout(tx, p, mask_storage=mask_storage).backward(grad)

    return {"floor": floor, "tinygrad_drop": lambda: td_fwd_bwd("bool"),
            "tinygrad_drop recompute": lambda: td_fwd_bwd("recompute")}


def gpu_mlp_step_candidates(sizes, batch, p_input, p_hidden):
    """One training step on the GPU: hand-written CuPy, tinygrad_drop, and PyTorch CUDA when installed."""
    import cupy

    x, y = digits_like_batch(batch, sizes[0], sizes[-1])
    candidates = {"cupy": numpy_mlp_step(sizes, x, y, p_input, p_hidden, xp=cupy),
                  "tinygrad_drop": td_mlp_step(sizes, x, y, p_input, p_hidden, device="cuda")}
    torch_step = torch_mlp_step(sizes, x, y, p_input, p_hidden, device="cuda")
    if torch_step:
        candidates["torch"] = torch_step
    return candidates


# ---------------------------------------------------------------- the registry


def _dropout_rows(shape, ps, quick_p=None):
    return [Workload(f"dropout fwd+bwd {shape[0]}x{shape[1]} p={p}", lambda p=p: dropout_candidates(shape, p),
                     quick=p == quick_p) for p in ps]


WORKLOADS = [
    Workload("MLP 784-512-512-10 b128 dropout 0.2/0.5", lambda: mlp_step_candidates(BIG_MLP, 128, 0.2, 0.5),
             quick=True),
    Workload("MLP 2-64-64-2 b32 dropout 0.2/0.5", lambda: mlp_step_candidates(TINY_MLP, 32, 0.2, 0.5), quick=True),
    Workload("MLP 784-512-512-10 b128 no dropout", lambda: mlp_step_candidates(BIG_MLP, 128, 0.0, 0.0)),
    Workload("MLP 2-64-64-2 b32 no dropout", lambda: mlp_step_candidates(TINY_MLP, 32, 0.0, 0.0)),
    *_dropout_rows((128, 4096), [0.2, 0.5], quick_p=0.5),
    *_dropout_rows((1024, 4096), [0.2, 0.5]),
    Workload("Linear fwd+bwd 128x512 -> 512", lambda: linear_candidates(128, 512, 512), quick=True),
]

GPU_WORKLOADS = [
    Workload("GPU dropout fwd+bwd 1024x4096 float32 p=0.5", gpu_dropout_candidates, baseline="floor", quick=True),
    Workload("GPU MLP 784-512-512-10 b128 dropout 0.2/0.5",
             lambda: gpu_mlp_step_candidates(BIG_MLP, 128, 0.2, 0.5), baseline="cupy", quick=True),
]

# The targets, checked on every full run: (workload, implementation, reference, at most this ratio).
TARGETS = [
    ("dropout fwd+bwd 128x4096 p=0.2", "tinygrad_drop", "naive", 0.5),
    ("dropout fwd+bwd 128x4096 p=0.5", "tinygrad_drop", "naive", 0.5),
    ("MLP 784-512-512-10 b128 dropout 0.2/0.5", "tinygrad_drop", "numpy", 1.10),
    ("MLP 2-64-64-2 b32 dropout 0.2/0.5", "tinygrad_drop", "numpy", 2.1),
    ("GPU dropout fwd+bwd 1024x4096 float32 p=0.5", "tinygrad_drop", "floor", 1.5),
    ("GPU dropout fwd+bwd 1024x4096 float32 p=0.5", "tinygrad_drop recompute", "floor", 1.5),
    ("GPU MLP 784-512-512-10 b128 dropout 0.2/0.5", "tinygrad_drop", "cupy", 1.2),
]


def workloads(quick=False, gpu=False):
    """The workloads of a run: the CPU rows (only the quick ones with quick=True), or the GPU rows."""
    rows = GPU_WORKLOADS if gpu else WORKLOADS
    return [w for w in rows if w.quick or not quick]
