"""Inverted dropout, as one op that owns its mask.

Training:  m ~ Bernoulli(1 - p) (m = 1 keeps a unit),   y = m * x / (1 - p),
backward:  dL/dx = m / (1 - p) * dL/dy,  so a dropped unit gets exactly zero gradient.
Scaling by 1/(1 - p) while training keeps E[y] = x, so evaluation needs no change: y = x.
"""

from ..autograd import Function


class Dropout(Function):
    """y = mask * x * scale with scale = 1/(1 - p) (0 when p = 1);  dL/dx = mask * scale * dL/dy.

    The mask is a bool array (1 byte per element), drawn by the caller (`nn.functional.dropout`)
    from the framework's generator, or given by the user to replay a recorded mask. It may be any
    shape that broadcasts to x (a mask shared along some axes).
    """

    @staticmethod
    def forward(ctx, x, mask, scale):
        scale = x.dtype.type(scale)
        ctx.save_for_backward(mask)
        ctx.scale = scale
        y = x * mask
        y *= scale
        return y

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        grad_x = grad * mask
        grad_x *= ctx.scale
        return grad_x
