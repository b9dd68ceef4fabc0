"""ReLU: the rectifier, as one op."""

from ..autograd import Function
from ..backend import get_array_module


class ReLU(Function):
    """y = max(x, 0);  dL/dx = dL/dy where y > 0, else 0 (so the gradient at exactly 0 is 0).

    Saves the output rather than the input: the next layer usually keeps it alive anyway.
    """

    @staticmethod
    def forward(ctx, x):
        y = get_array_module(x).maximum(x, 0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (y > 0)
