"""Activations beyond ReLU, with PyTorch's formulas and its gradients at the kinks.

Sigmoid and tanh live in elementwise.py and softmax in softmax.py; SELU is ELU with fixed
constants (SELU_ALPHA and SELU_SCALE in noise.py), so the two share one op here.
"""

from ..autograd import Function
from ..backend import get_array_module


def stable_sigmoid(x):
    """1 / (1 + e^-x) in x's dtype, computed from e^-|x| so that it never overflows."""
    xp = get_array_module(x)
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


class LeakyReLU(Function):
    """y = x if x > 0 else s * x;  dL/dx = dL/dy if x > 0 else s * dL/dy (s at x = 0, as torch)."""

    @staticmethod
    def forward(ctx, x, negative_slope=0.01):
        positive = x > 0
        ctx.save_for_backward(positive)
        ctx.slope = x.dtype.type(negative_slope)
        return get_array_module(x).where(positive, x, x * ctx.slope)

    @staticmethod
    def backward(ctx, grad):
        (positive,) = ctx.saved_tensors
        return (get_array_module(grad).where(positive, grad, grad * ctx.slope),)


class ELU(Function):
    """y = c * x if x > 0 else c * a * (e^x - 1);  dL/dx = c * dL/dy if x > 0 else c * a * e^x * dL/dy.

    a is alpha and c the output scale: c = 1 gives torch's ELU, (a, c) = (SELU_ALPHA, SELU_SCALE)
    gives SELU. At x = 0 the gradient is c * a, as torch's. e^x - 1 is expm1, exact near 0 where
    exp(x) - 1 would cancel, as torch's; e^x is taken of min(x, 0) only, so large positive inputs
    do not overflow.
    """

    @staticmethod
    def forward(ctx, x, alpha=1.0, scale=1.0):
        xp = get_array_module(x)
        alpha, scale = x.dtype.type(alpha), x.dtype.type(scale)
        ctx.save_for_backward(x)
        ctx.alpha, ctx.scale = alpha, scale
        return scale * xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        xp = get_array_module(grad)
        return (ctx.scale * xp.where(x > 0, grad, grad * ctx.alpha * xp.exp(xp.minimum(x, 0))),)


class Softplus(Function):
    """y = log(1 + e^(b x)) / b, or x where b x > threshold;  dL/dx = sigmoid(b x) * dL/dy (1 past it).

    log(1 + e^z) is computed as max(z, 0) + log1p(e^-|z|), which never overflows.
    """

    @staticmethod
    def forward(ctx, x, beta=1.0, threshold=20.0):
        xp = get_array_module(x)
        z = x * x.dtype.type(beta)
        linear = z > threshold
        ctx.save_for_backward(z, linear)
        smooth = (xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))) / x.dtype.type(beta)
        return xp.where(linear, x, smooth)

    @staticmethod
    def backward(ctx, grad):
        z, linear = ctx.saved_tensors
        return (grad * get_array_module(z).where(linear, grad.dtype.type(1), stable_sigmoid(z)),)


class SiLU(Function):
    """y = x * sigmoid(x);  dL/dx = s (1 + x (1 - s)) dL/dy with s = sigmoid(x) (also called swish)."""

    @staticmethod
    def forward(ctx, x):
        s = stable_sigmoid(x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved_tensors
        return (grad * s * (1 + x * (1 - s)),)
