"""Batch normalisation over every axis but the channel axis 1, as one op with one backward."""

from ..autograd import Function
from ..backend import get_array_module


class BatchNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, per channel (axis 1), over the other m values of it.

    With batch statistics (training, or no running statistics): mean and the biased var of this batch,
    and, if running_mean/running_var arrays are given, in place
        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var  = (1 - momentum) * running_var  + momentum * var * m / (m - 1)   (unbiased),
    then, with x_hat = (x - mean) / sqrt(var + eps) and g = dL/dy * weight,
        dL/dx = (g - mean(g) - x_hat * mean(g * x_hat)) / sqrt(var + eps)   (means over the m values),
    With running statistics (eval): mean and var are the running ones, constants: dL/dx = g / sqrt(var + eps).
    Always dL/dweight = sum of dL/dy * x_hat, dL/dbias = sum of dL/dy.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, *, use_batch_stats, momentum, eps):
        if x.ndim < 2:
            raise ValueError(f"batch_norm expects an (N, C, ...) input, got shape {x.shape}")
        channels = x.shape[1]
        for name, array in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                            ("running_var", running_var)):
            if array is not None and array.shape != (channels,):
                raise ValueError(f"batch_norm: {name} of shape {array.shape} does not fit an input of shape "
                                 f"{x.shape}: expected ({channels},), one value per channel (axis 1)")
        axes = (0, *range(2, x.ndim))
        per_channel = (1, channels) + (1,) * (x.ndim - 2)  # broadcasts a (C,) array against x
        m = x.size // channels
        if use_batch_stats:
            if m < 2:
                raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input "
                                 f"of shape {x.shape}; use a larger batch or eval mode")
            mean = x.mean(axis=axes)
            var = x.var(axis=axes)  # biased: divides by m
            if running_mean is not None:
                running_mean *= 1 - momentum
                running_mean += momentum * mean.astype(running_mean.dtype, copy=False)
            if running_var is not None:
                running_var *= 1 - momentum
                running_var += momentum * (var * (m / (m - 1))).astype(running_var.dtype, copy=False)
        else:
            if running_mean is None or running_var is None:
                raise ValueError("batch_norm: running_mean and running_var are needed when training=False")
            mean, var = running_mean, running_var
        inv_std = (1 / get_array_module(x).sqrt(var + eps)).astype(x.dtype, copy=False).reshape(per_channel)
        x_hat = (x - mean.astype(x.dtype, copy=False).reshape(per_channel)) * inv_std
        y = x_hat if weight is None else x_hat * weight.reshape(per_channel)
        if bias is not None:
            y = y + bias.reshape(per_channel)
        ctx.save_for_backward(x_hat, inv_std, weight)
        ctx.axes, ctx.per_channel, ctx.use_batch_stats = axes, per_channel, use_batch_stats
        ctx.bias_dtype = None if bias is None else bias.dtype
        return y

    @staticmethod
    def backward(ctx, grad):
        x_hat, inv_std, weight = ctx.saved_tensors
        axes, per_channel = ctx.axes, ctx.per_channel
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            g = grad if weight is None else grad * weight.reshape(per_channel)
            if ctx.use_batch_stats:
                g = g - g.mean(axis=axes, keepdims=True) - x_hat * (g * x_hat).mean(axis=axes, keepdims=True)
            grad_x = (g * inv_std).astype(x_hat.dtype, copy=False)
        if ctx.needs_input_grad[1]:
            grad_w = (grad * x_hat).sum(axis=axes).astype(weight.dtype, copy=False)
        if ctx.needs_input_grad[2]:
            grad_b = grad.sum(axis=axes).astype(ctx.bias_dtype, copy=False)
        return grad_x, grad_w, grad_b, None, None
