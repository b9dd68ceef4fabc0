"""Reductions over an int or tuple `axis` (None: all axes). Backward spreads the gradient back over
the reduced axes.
"""

import numpy as np

from ..autograd import Function
from ..backend import get_array_module


def _normalize_axis(axis, ndim):
    """Return `axis` as a sorted tuple of non-negative ints (all axes for None)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for a in axes:
        if not -max(ndim, 1) <= a < max(ndim, 1):  # a 0-d tensor takes axis 0 or -1, as in torch
            raise ValueError(f"axis {a} is out of range for a tensor with {ndim} dimensions")
    return tuple(sorted(a % ndim for a in axes)) if ndim else ()


def _restore_axes(grad, axes, keepdims):
    """Give `grad` size-1 axes where the reduction removed them, so it broadcasts to the input."""
    if keepdims or not axes:
        return grad
    xp = get_array_module(grad)
    return xp.expand_dims(grad, axes)


class Sum(Function):
    """y = sum of x over axes;  dL/dx = dL/dy broadcast back over those axes."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.axes = _normalize_axis(axis, x.ndim)
        ctx.shape, ctx.keepdims = x.shape, keepdims
        return x.sum(axis=ctx.axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        xp = get_array_module(grad)
        return xp.broadcast_to(_restore_axes(grad, ctx.axes, ctx.keepdims), ctx.shape).copy()


class Mean(Function):
    """y = mean of x over axes (n elements each);  dL/dx = dL/dy / n broadcast back."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.axes = _normalize_axis(axis, x.ndim)
        ctx.shape, ctx.keepdims = x.shape, keepdims
        ctx.count = 1
        for a in ctx.axes:
            ctx.count *= x.shape[a]
        return x.mean(axis=ctx.axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        xp = get_array_module(grad)
        # divide in float64, then round once: float16(n) is inf for n > 65504, which would give 0
        grad = (_restore_axes(grad, ctx.axes, ctx.keepdims) / np.float64(ctx.count)).astype(grad.dtype, copy=False)
        return xp.broadcast_to(grad, ctx.shape).copy()


def _extremum_forward(ctx, x, reduce, axis, keepdims, name):
    """Max's and Min's forward: `reduce` is x.max or x.min; keeps x and the keepdims result for backward."""
    if x.size == 0:
        raise ValueError(f"{name} of an empty tensor of shape {x.shape} is undefined")
    ctx.axes, ctx.keepdims = _normalize_axis(axis, x.ndim), keepdims
    out = reduce(axis=ctx.axes, keepdims=True)
    ctx.save_for_backward(x, out)
    return out if keepdims else out.reshape([s for i, s in enumerate(x.shape) if i not in ctx.axes])


def _share_among_ties(ctx, grad):
    """Max's and Min's backward: dL/dy / k at each of the k elements equal to the result, 0 elsewhere."""
    x, out = ctx.saved_tensors
    is_extreme = x == out
    count = is_extreme.sum(axis=ctx.axes, keepdims=True)
    return is_extreme * (_restore_axes(grad, ctx.axes, ctx.keepdims) / count).astype(x.dtype, copy=False)


class Max(Function):
    """y = max of x over axes;  dL/dx = dL/dy / k at the k tied maxima, 0 elsewhere (torch.amax)."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        return _extremum_forward(ctx, x, x.max, axis, keepdims, "max")

    @staticmethod
    def backward(ctx, grad):
        return (_share_among_ties(ctx, grad),)


class Min(Function):
    """y = min of x over axes;  dL/dx = dL/dy / k at the k tied minima, 0 elsewhere (torch.amin).

    Its own reduction rather than -max(-x): negation wraps on integers (-(-128) is -128 in int8,
    uint8 has no negatives) and is undefined on bools.
    """

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        return _extremum_forward(ctx, x, x.min, axis, keepdims, "min")

    @staticmethod
    def backward(ctx, grad):
        return (_share_among_ties(ctx, grad),)


# ---------------------------------------------------------------- variance


class Var(Function):
    """y = sum over axes of (x - mean)^2 / (n - correction);  dL/dx = dL/dy * 2 (x - mean) / (n - correction).

    correction=1 is the unbiased (Bessel) estimate, correction=0 the population variance, as in torch.var.
    """

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False, correction=1):
        ctx.axes, ctx.keepdims = _normalize_axis(axis, x.ndim), keepdims
        count = 1
        for a in ctx.axes:
            count *= x.shape[a]
        ctx.divisor = x.dtype.type(max(count - correction, 0))  # 0 gives inf/nan, as in torch
        centred = x - x.mean(axis=ctx.axes, keepdims=True)
        ctx.save_for_backward(centred)
        return (centred * centred).sum(axis=ctx.axes, keepdims=keepdims) / ctx.divisor

    @staticmethod
    def backward(ctx, grad):
        (centred,) = ctx.saved_tensors
        return (_restore_axes(grad, ctx.axes, ctx.keepdims) * (2 * centred / ctx.divisor),)
