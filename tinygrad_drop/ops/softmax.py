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
