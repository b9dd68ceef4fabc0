"""Elementwise ops. Binary ops broadcast like NumPy; backward sums each gradient back to its input's
shape with `unbroadcast`.
"""

import numpy as np

from ..autograd import Function, unbroadcast
from ..backend import get_array_module
from .activations import stable_sigmoid

# ---------------------------------------------------------------- binary


class Add(Function):
    """y = a + b;  dL/da = dL/dy,  dL/db = dL/dy."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        return a + b

    @staticmethod
    def backward(ctx, grad):
        a_shape, b_shape = ctx.shapes
        grad_a = unbroadcast(grad, a_shape) if ctx.needs_input_grad[0] else None
        grad_b = unbroadcast(grad, b_shape) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Sub(Function):
    """y = a - b;  dL/da = dL/dy,  dL/db = -dL/dy."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        return a - b

    @staticmethod
    def backward(ctx, grad):
        a_shape, b_shape = ctx.shapes
        grad_a = unbroadcast(grad, a_shape) if ctx.needs_input_grad[0] else None
        grad_b = -unbroadcast(grad, b_shape) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Mul(Function):
    """y = a * b;  dL/da = b * dL/dy,  dL/db = a * dL/dy."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = unbroadcast(grad * b, a.shape) if ctx.needs_input_grad[0] else None
        grad_b = unbroadcast(grad * a, b.shape) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Div(Function):
    """y = a / b;  dL/da = dL/dy / b,  dL/db = -dL/dy * (a / b) / b  (b^2 would overflow or underflow first)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = unbroadcast(grad / b, a.shape) if ctx.needs_input_grad[0] else None
        grad_b = unbroadcast(-grad * (a / b) / b, b.shape) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


# ---------------------------------------------------------------- unary


class Neg(Function):
    """y = -x;  dL/dx = -dL/dy."""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Pow(Function):
    """y = x^c for a constant exponent c;  dL/dx = c * x^(c-1) * dL/dy."""

    @staticmethod
    def forward(ctx, x, exponent):
        ctx.save_for_backward(x)
        ctx.exponent = exponent
        return x**exponent

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        c = ctx.exponent
        if c == 0:  # x^0 = 1 is constant; c * x^(c-1) would be 0 * inf = nan at x = 0
            return grad * 0
        return grad * (c * x ** (c - 1))


class Exp(Function):
    """y = e^x;  dL/dx = y * dL/dy (saves the output)."""

    @staticmethod
    def forward(ctx, x):
        y = get_array_module(x).exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y


class Log(Function):
    """y = ln x;  dL/dx = dL/dy / x.  Non-positive x gives NaN or -inf with NumPy's warning."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x


class Sqrt(Function):
    """y = sqrt(x);  dL/dx = dL/dy / (2 y) (saves the output).  Negative x gives NaN with a warning."""

    @staticmethod
    def forward(ctx, x):
        y = get_array_module(x).sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad / (2 * y)


class Sigmoid(Function):
    """y = 1 / (1 + e^-x);  dL/dx = y (1 - y) dL/dy.  Computed from e^-|x|, so it never overflows."""

    @staticmethod
    def forward(ctx, x):
        y = stable_sigmoid(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y * (1 - y)


class Tanh(Function):
    """y = tanh x;  dL/dx = (1 - y^2) dL/dy (saves the output)."""

    @staticmethod
    def forward(ctx, x):
        y = get_array_module(x).tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (1 - y * y)


class Cast(Function):
    """y = x converted to another dtype;  dL/dx = dL/dy converted back to x's dtype."""

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.dtype)


# ---------------------------------------------------------------- more of torch's elementwise ops


class Abs(Function):
    """y = |x|;  dL/dx = sign(x) dL/dy (0 at x = 0, as torch)."""

    @staticmethod
    def forward(ctx, x):
        xp = get_array_module(x)
        ctx.save_for_backward(x)
        return xp.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return (grad * get_array_module(x).sign(x),)


class Clamp(Function):
    """y = min(max(x, low), high) (either bound may be None);  dL/dx = dL/dy where low <= x <= high, else 0.

    The bounds are inclusive, as torch's, so x exactly at a bound keeps its gradient.
    """

    @staticmethod
    def forward(ctx, x, low=None, high=None):
        xp = get_array_module(x)
        inside = xp.ones(x.shape, dtype=bool)
        if low is not None:
            inside &= x >= low
        if high is not None:
            inside &= x <= high
        ctx.save_for_backward(inside)
        return xp.clip(x, low, high).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved_tensors
        return (grad * inside,)


class Maximum(Function):
    """y = max(a, b) elementwise;  dL/da = dL/dy where a > b, dL/dy / 2 where a == b, else 0 (b likewise)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return get_array_module(a).maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _split_between(grad, a > b, a == b, a.shape, b.shape, ctx.needs_input_grad)


class Minimum(Function):
    """y = min(a, b) elementwise;  dL/da = dL/dy where a < b, dL/dy / 2 where a == b, else 0 (b likewise)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return get_array_module(a).minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _split_between(grad, a < b, a == b, a.shape, b.shape, ctx.needs_input_grad)


def _split_between(grad, a_wins, tie, a_shape, b_shape, needs_input_grad):
    """Maximum's and Minimum's gradients: all of dL/dy to the winner, half to each on a tie (as torch)."""
    xp = get_array_module(grad)
    half = grad * grad.dtype.type(0.5)
    grad_a = unbroadcast(xp.where(a_wins, grad, xp.where(tie, half, 0)), a_shape) if needs_input_grad[0] else None
    b_wins = ~(a_wins | tie)
    grad_b = unbroadcast(xp.where(b_wins, grad, xp.where(tie, half, 0)), b_shape) if needs_input_grad[1] else None
    return grad_a, grad_b


class PowTensor(Function):
    """y = a^b elementwise, both tensors;  dL/da = b a^(b-1) dL/dy,  dL/db = y ln(a) dL/dy.

    As torch: dL/da is 0 where b = 0, and dL/db is 0 where a = 0 and b >= 0 (a^b is 0 or 1 there).
    A Python number as base (`2 ** x`) arrives here as a 0-d array.
    """

    @staticmethod
    def forward(ctx, a, b):
        y = a**b
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        a, b, y = ctx.saved_tensors
        xp = get_array_module(grad)
        grad_a = grad_b = None
        with np.errstate(divide="ignore", invalid="ignore"):  # 0^-1 and ln(0) where masked out (CuPy never warns)
            if ctx.needs_input_grad[0]:
                grad_a = unbroadcast(xp.where(b == 0, 0, grad * b * a ** (b - 1)), a.shape)
            if ctx.needs_input_grad[1]:
                grad_b = unbroadcast(xp.where((a == 0) & (b >= 0), 0, grad * y * xp.log(a)), b.shape)
        return grad_a, grad_b


class Log1p(Function):
    """y = ln(1 + x), accurate for small x;  dL/dx = dL/dy / (1 + x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).log1p(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return (grad / (1 + x),)


class Expm1(Function):
    """y = e^x - 1, accurate for small x;  dL/dx = (y + 1) dL/dy (saves the output)."""

    @staticmethod
    def forward(ctx, x):
        y = get_array_module(x).expm1(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return (grad * (y + 1),)


class Sin(Function):
    """y = sin x;  dL/dx = cos(x) dL/dy."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return (grad * get_array_module(x).cos(x),)


class Cos(Function):
    """y = cos x;  dL/dx = -sin(x) dL/dy."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).cos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return (-grad * get_array_module(x).sin(x),)
