"""Hardtanh, written as a new op: the worked example of docs/first-op.md."""

import tinygrad_drop as td
from tinygrad_drop.backend import get_array_module


class Hardtanh(td.Function):
    """y = min(max(x, lo), hi);  dL/dx = dL/dy where lo < x < hi, else 0 (0 at the corners too, as PyTorch).

    Saves the input: the gradient depends on where x lies, and the output alone cannot tell
    x = hi from x > hi.
    """

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return get_array_module(x).clip(x, lo, hi)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ((x > ctx.lo) & (x < ctx.hi))


def hardtanh(x, min_val=-1.0, max_val=1.0):
    """Clamp x to [min_val, max_val], as torch.nn.functional.hardtanh."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    return Hardtanh.apply(x, lo=min_val, hi=max_val)
