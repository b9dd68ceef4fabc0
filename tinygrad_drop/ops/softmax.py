"""Softmax and log-softmax along one axis, shifted by the max so that large logits do not overflow."""

from ..autograd import Function
from ..backend import get_array_module


def check_floating(x, op_name):
    """Raise a TypeError naming the op and dtype unless x is floating point (torch raises here too)."""
    if x.dtype.kind != "f":
        raise TypeError(f"{op_name} needs a floating-point input, got dtype {x.dtype}: convert it first, "
                        "e.g. x.float()")


class Softmax(Function):
    """y = e^(x - max) / sum(e^(x - max));  dL/dx = y * (dL/dy - sum(dL/dy * y))."""

    @staticmethod
    def forward(ctx, x, axis=-1):
        check_floating(x, "softmax")
        xp = get_array_module(x)
        e = xp.exp(x - x.max(axis=axis, keepdims=True))
        y = e / e.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return y * (grad - (grad * y).sum(axis=ctx.axis, keepdims=True))


class LogSoftmax(Function):
    """y = (x - max) - log(sum(e^(x - max)));  dL/dx = dL/dy - e^y * sum(dL/dy)."""

    @staticmethod
    def forward(ctx, x, axis=-1):
        check_floating(x, "log_softmax")
        xp = get_array_module(x)
        shifted = x - x.max(axis=axis, keepdims=True)
        y = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        xp = get_array_module(y)
        return grad - xp.exp(y) * grad.sum(axis=ctx.axis, keepdims=True)


class MaskedSoftmax(Function):
    """Attention's weights: y = softmax(scale * x) along the last axis, taken over the entries where `keep` is
    True (the others count as -inf scores and get y = 0); keep=None keeps every entry.

    dL/dx = scale * y * (dL/dy - sum(dL/dy * y)), which is 0 where y = 0. One op instead of a scale, a
    masked fill and a softmax: the scores are copied once and the rest happens in place.
    """

    @staticmethod
    def forward(ctx, x, keep, scale):
        check_floating(x, "softmax")
        xp, dtype = get_array_module(x), x.dtype.type
        y = x * dtype(scale)
        if keep is not None:
            xp.copyto(y, dtype(-xp.inf), where=~keep)  # ~keep is as small as the mask, (L, S) when causal
        y -= y.max(axis=-1, keepdims=True)
        y = xp.exp(y, out=y)
        y /= y.sum(axis=-1, keepdims=True)
        ctx.save_for_backward(y)
        ctx.scale = scale
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        xp, dtype = get_array_module(y), y.dtype.type
        out = grad * y
        total = out.sum(axis=-1, keepdims=True)
        out = xp.subtract(grad, total, out=out)
        out *= y
        out *= dtype(ctx.scale)
        return out, None, None
