"""Elementwise ops. Binary ops broadcast like NumPy; backward sums each gradient back to its input's
shape with `unbroadcast`.
"""

from ..autograd import Function, unbroadcast
from ..backend import get_array_module

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
        return unbroadcast(grad, a_shape), unbroadcast(grad, b_shape)


class Sub(Function):
    """y = a - b;  dL/da = dL/dy,  dL/db = -dL/dy."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        return a - b

    @staticmethod
    def backward(ctx, grad):
        a_shape, b_shape = ctx.shapes
        grad_b = -unbroadcast(grad, b_shape) if ctx.needs_input_grad[1] else None
        return unbroadcast(grad, a_shape), grad_b


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
        xp = get_array_module(x)
        e = xp.exp(-xp.abs(x))
        y = xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
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
