"""Layer normalisation over the last axes, as one op with one backward."""

import math

from ..autograd import Function
from ..backend import get_array_module
from .blocks import blockwise


class LayerNorm(Function):
    """y = x_hat * w + b with x_hat = (x - mean) / sqrt(var + eps), mean and (biased) var over the last
    `n_axes` axes; w and b (optional) have the shape of those axes.

    With g = dL/dy and N the number of normalised elements per row:
    dL/dx_hat = g * w,   dL/dx = (dL/dx_hat - mean(dL/dx_hat) - x_hat * mean(dL/dx_hat * x_hat)) / sqrt(var + eps),
    dL/dw = sum over the other axes of g * x_hat,   dL/db = sum over the other axes of g.
    """

    @staticmethod
    def forward(ctx, x, weight=None, bias=None, n_axes=1, eps=1e-5):
        rows = x.reshape(math.prod(x.shape[:x.ndim - n_axes]), math.prod(x.shape[x.ndim - n_axes:]))
        flat_weight, flat_bias = (None if t is None else t.reshape(-1) for t in (weight, bias))
        y, x_hat, inv_std = blockwise(lambda block: _normalise(block, flat_weight, flat_bias, eps), rows)
        ctx.save_for_backward(x_hat, inv_std, weight)
        ctx.shape, ctx.bias_shape = x.shape, None if bias is None else bias.shape
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        x_hat, inv_std, weight = ctx.saved_tensors
        grad_rows = grad.reshape(x_hat.shape)
        grad_x = grad_w = grad_b = None
        if weight is not None and ctx.needs_input_grad[1]:
            grad_w = (grad_rows * x_hat).sum(axis=0).reshape(weight.shape)
        if ctx.bias_shape is not None and ctx.needs_input_grad[2]:
            grad_b = grad_rows.sum(axis=0).reshape(ctx.bias_shape)
        if ctx.needs_input_grad[0]:
            flat_weight = None if weight is None else weight.reshape(-1)
            (grad_x,) = blockwise(lambda g, xh, s: _input_gradient(g, xh, s, flat_weight), grad_rows, x_hat, inv_std)
            grad_x = grad_x.reshape(ctx.shape)
        return grad_x, grad_w, grad_b


def _normalise(x, weight, bias, eps):
    """(y, x_hat, 1 / sqrt(var + eps)) for rows x of shape (n, N), in place on fresh arrays."""
    xp, inv_n = get_array_module(x), x.dtype.type(1 / x.shape[1])
    x_hat = x - x.sum(axis=1, keepdims=True) * inv_n  # centred, then scaled in place below
    variance = xp.square(x_hat).sum(axis=1, keepdims=True)
    variance *= inv_n
    variance += x.dtype.type(eps)
    inv_std = xp.reciprocal(xp.sqrt(variance, out=variance), out=variance)
    x_hat *= inv_std
    if weight is None and bias is None:
        return x_hat.copy(), x_hat, inv_std  # x_hat is saved for backward: the output must be another array
    y = x_hat * weight if weight is not None else x_hat + bias
    if weight is not None and bias is not None:
        y = xp.add(y, bias, out=y) if y.dtype == xp.result_type(y, bias) else y + bias  # mixed dtypes promote
    return y, x_hat, inv_std


def _input_gradient(grad, x_hat, inv_std, weight):
    """dL/dx for rows of shape (n, N), in place on fresh arrays."""
    xp, inv_n = get_array_module(grad), x_hat.dtype.type(1 / x_hat.shape[1])
    grad_x = grad * weight if weight is not None else grad.copy()  # dL/dx_hat, updated in place below
    product = grad_x * x_hat
    mean_gx = product.sum(axis=1, keepdims=True) * inv_n
    mean_g = grad_x.sum(axis=1, keepdims=True) * inv_n
    grad_x -= xp.multiply(x_hat, mean_gx, out=product)
    grad_x -= mean_g
    grad_x *= inv_std
    return (grad_x,)
