"""Layer normalisation over the last axes, as one op with one backward."""

from ..autograd import Function, unbroadcast
from ..backend import get_array_module


class LayerNorm(Function):
    """y = x_hat * w + b with x_hat = (x - mean) / sqrt(var + eps), mean and (biased) var over the last
    `n_axes` axes; w and b (optional) have the shape of those axes.

    With g = dL/dy and N the number of normalised elements per row:
    dL/dx_hat = g * w,   dL/dx = (dL/dx_hat - mean(dL/dx_hat) - x_hat * mean(dL/dx_hat * x_hat)) / sqrt(var + eps),
    dL/dw = sum over the other axes of g * x_hat,   dL/db = sum over the other axes of g.
    """

    @staticmethod
    def forward(ctx, x, weight=None, bias=None, n_axes=1, eps=1e-5):
        axes = tuple(range(x.ndim - n_axes, x.ndim))
        xp = get_array_module(x)
        x_hat = x - x.mean(axis=axes, keepdims=True)  # centred, then scaled in place below
        variance = xp.square(x_hat).mean(axis=axes, keepdims=True)
        variance += x.dtype.type(eps)
        inv_std = xp.reciprocal(xp.sqrt(variance, out=variance), out=variance)
        x_hat *= inv_std
        ctx.save_for_backward(x_hat, inv_std, weight)
        ctx.axes, ctx.bias_shape = axes, None if bias is None else bias.shape
        if weight is None and bias is None:
            return x_hat.copy()  # x_hat is saved for backward: the output must be another array
        y = x_hat * weight if weight is not None else x_hat + bias
        if weight is not None and bias is not None and y.dtype == bias.dtype:
            y += bias  # in place on the fresh product
        elif weight is not None and bias is not None:
            y = y + bias  # mixed dtypes promote as NumPy does
        return y

    @staticmethod
    def backward(ctx, grad):
        x_hat, inv_std, weight = ctx.saved_tensors
        grad_x = grad_w = grad_b = None
        if weight is not None and ctx.needs_input_grad[1]:
            grad_w = unbroadcast(grad * x_hat, weight.shape)
        if ctx.bias_shape is not None and ctx.needs_input_grad[2]:
            grad_b = unbroadcast(grad, ctx.bias_shape)
        if ctx.needs_input_grad[0]:
            grad_x = grad * weight if weight is not None else grad.copy()  # dL/dx_hat, updated in place below
            product = grad_x * x_hat
            mean_gx = product.mean(axis=ctx.axes, keepdims=True)
            mean_g = grad_x.mean(axis=ctx.axes, keepdims=True)
            grad_x -= get_array_module(x_hat).multiply(x_hat, mean_gx, out=product)
            grad_x -= mean_g
            grad_x *= inv_std
        return grad_x, grad_w, grad_b
