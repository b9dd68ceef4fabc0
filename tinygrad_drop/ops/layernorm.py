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
        mean = x.mean(axis=axes, keepdims=True)
        centred = x - mean
        variance = (centred * centred).mean(axis=axes, keepdims=True)
        inv_std = 1 / get_array_module(x).sqrt(variance + x.dtype.type(eps))
        x_hat = centred * inv_std
        ctx.save_for_backward(x_hat, inv_std, weight)
        ctx.axes, ctx.bias_shape = axes, None if bias is None else bias.shape
        y = x_hat if weight is None else x_hat * weight
        return y if bias is None else y + bias

    @staticmethod
    def backward(ctx, grad):
        x_hat, inv_std, weight = ctx.saved_tensors
        grad_x_hat = grad if weight is None else grad * weight
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            mean_g = grad_x_hat.mean(axis=ctx.axes, keepdims=True)
            mean_gx = (grad_x_hat * x_hat).mean(axis=ctx.axes, keepdims=True)
            grad_x = (grad_x_hat - mean_g - x_hat * mean_gx) * inv_std
        if weight is not None and ctx.needs_input_grad[1]:
            grad_w = unbroadcast(grad * x_hat, weight.shape)
        if ctx.bias_shape is not None and ctx.needs_input_grad[2]:
            grad_b = unbroadcast(grad, ctx.bias_shape)
        return grad_x, grad_w, grad_b
