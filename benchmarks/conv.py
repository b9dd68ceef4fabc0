"""Conv2d forward + backward: tinygrad_drop against a hand-written NumPy im2col and PyTorch eager (if installed).

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python -m benchmarks.conv --rounds 40   # this workload alone, one thread

It is a row of the registry in benchmarks/workloads.py, like the other workloads.
"""

import numpy as np

SHAPE = {"batch": 64, "in_channels": 16, "out_channels": 32, "kernel": 3, "padding": 1, "size": 28}
NAME = "Conv2d fwd+bwd b64 16->32 3x3 pad 1 28x28"


def numpy_conv2d_fwd_bwd(x, w, b, grad, padding):
    """Stride-1 conv2d forward and backward (dx, dW, db) by im2col and one matmul each way, in plain NumPy."""
    n, c, h, width = x.shape
    out_channels, _, kh, kw = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    h_out, w_out = x_pad.shape[2] - kh + 1, x_pad.shape[3] - kw + 1
    cols = np.empty((c, kh, kw, n, h_out, w_out), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, i, j] = x_pad[:, :, i : i + h_out, j : j + w_out].transpose(1, 0, 2, 3)
    cols = cols.reshape(c * kh * kw, -1)
    y = (w.reshape(out_channels, -1) @ cols + b[:, None]).reshape(out_channels, n, h_out, w_out).transpose(1, 0, 2, 3)
    grad_2d = grad.transpose(1, 0, 2, 3).reshape(out_channels, -1)
    grad_w = (grad_2d @ cols.T).reshape(w.shape)
    grad_b = grad_2d.sum(axis=1)
    grad_cols = (w.reshape(out_channels, -1).T @ grad_2d).reshape(c, kh, kw, n, h_out, w_out)
    grad_pad = np.zeros_like(x_pad)
    for i in range(kh):
        for j in range(kw):
            grad_pad[:, :, i : i + h_out, j : j + w_out] += grad_cols[:, i, j].transpose(1, 0, 2, 3)
    return y, grad_pad[:, :, padding : padding + h, padding : padding + width], grad_w, grad_b


def conv2d_data(seed=0, dtype=np.float32):
    """x, weight, bias and an output gradient of the benchmark's shape."""
    s, rng = SHAPE, np.random.default_rng(seed)
    x = rng.standard_normal((s["batch"], s["in_channels"], s["size"], s["size"])).astype(dtype)
    w = rng.standard_normal((s["out_channels"], s["in_channels"], s["kernel"], s["kernel"])).astype(dtype)
    b = rng.standard_normal(s["out_channels"]).astype(dtype)
    grad = rng.standard_normal((s["batch"], s["out_channels"], s["size"], s["size"])).astype(dtype)
    return x, w, b, grad


def conv2d_candidates():
    """name -> a callable that runs one Conv2d forward + backward: numpy, tinygrad_drop and torch."""
    import tinygrad_drop as td
    import tinygrad_drop.nn.functional as F

    x, w, b, grad = conv2d_data()
    padding = SHAPE["padding"]
    tx, tw, tb = (td.Tensor(a, requires_grad=True) for a in (x, w, b))

    def td_fwd_bwd():
        tx.grad = tw.grad = tb.grad = None
        F.conv2d(tx, tw, tb, padding=padding).backward(grad)

    candidates = {"numpy": lambda: numpy_conv2d_fwd_bwd(x, w, b, grad, padding), "tinygrad_drop": td_fwd_bwd}
    try:
        import torch
    except ImportError:
        return candidates
    torch_x, torch_w, torch_b = (torch.from_numpy(a).requires_grad_() for a in (x, w, b))
    torch_grad = torch.from_numpy(grad)

    def torch_fwd_bwd():
        torch_x.grad = torch_w.grad = torch_b.grad = None
        torch.nn.functional.conv2d(torch_x, torch_w, torch_b, padding=padding).backward(torch_grad)

    candidates["torch"] = torch_fwd_bwd
    return candidates


def main(argv=None):
    import argparse

    from .run import time_interleaved

    parser = argparse.ArgumentParser(description=f"{NAME}: tinygrad_drop, hand-written NumPy and torch")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved timing rounds")
    rounds = parser.parse_args(argv).rounds

    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    medians = time_interleaved(conv2d_candidates(), rounds)
    print(f"{NAME}, float32, one thread: medians and ratios to the hand-written NumPy im2col")
    for name, seconds in medians.items():
        print(f"  {name:<14}{seconds * 1e3:9.2f} ms  {seconds / medians['numpy']:.2f}x")
    return medians


if __name__ == "__main__":
    main()
