"""Convolution and pooling over (N, C, H, W) images: Conv2d as im2col plus one matmul, MaxPool2d, AvgPool2d.

All three look at the same windows. Window (i, j) of the kernel, at every output position at once,
is one strided slice of the padded input:

    x_pad[:, :, i*dilation : i*dilation + stride*(H_out - 1) + 1 : stride, (the same for j and W)]

so a loop over the kh * kw kernel offsets (9 for a 3x3 kernel) gathers every window without a
Python loop over pixels, and the backward passes add the gradients back through the same slices.
"""

from ..autograd import Function
from ..backend import get_array_module
from .softmax import check_floating


def output_size(size, kernel, stride, padding, dilation=1):
    """floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1, torch's formula."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def _pad(x, padding, value=0.0):
    """x with `padding` = (ph, pw) rows and columns of `value` added on both sides of its last two axes."""
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    return get_array_module(x).pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def _window(kernel_offset, stride, out_size, dilation):
    """The slice of a padded axis that kernel offset i sees at every output position."""
    start = kernel_offset * dilation
    return slice(start, start + stride * (out_size - 1) + 1, stride)


def _windows(shape, kernel, stride, dilation):
    """(i, j, rows, cols) for each kernel offset: rows/cols are the slices of the padded input it sees."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    h_out, w_out = shape
    return [(i, j, _window(i, sh, h_out, dh), _window(j, sw, w_out, dw)) for i in range(kh) for j in range(kw)]


def _output_shape(x_shape, kernel, stride, padding, dilation, name):
    """(H_out, W_out), or a ValueError saying that the kernel does not fit the padded input."""
    (h, w), (kh, kw) = x_shape[-2:], kernel
    h_out = output_size(h, kh, stride[0], padding[0], dilation[0])
    w_out = output_size(w, kw, stride[1], padding[1], dilation[1])
    if h_out < 1 or w_out < 1:
        raise ValueError(
            f"{name}: a {kh}x{kw} kernel (dilation {dilation}) does not fit an input of shape {tuple(x_shape)} "
            f"with padding {padding}: the output would be {h_out}x{w_out}; use a smaller kernel or more padding"
        )
    return h_out, w_out


# ---------------------------------------------------------------- convolution


class Conv2d(Function):
    """y[n, o] = b[o] + sum over c, i, j of W[o, c, i, j] * x_pad[n, c, s*h + d*i, s*w + d*j]  (cross-correlation).

    im2col: cols[(c, i, j), (n, h, w)] = x_pad[n, c, s*h + d*i, s*w + d*j], then y = W_2d @ cols with
    W_2d = W.reshape(out, in * kh * kw): one matmul for the whole batch.
    dL/dW = dL/dy @ cols^T,   dL/db = sum of dL/dy over n, h, w,
    dL/dcols = W_2d^T @ dL/dy, and col2im adds each window's gradient back to the pixel it came from.
    Weight layout (out_channels, in_channels, kh, kw), as PyTorch's; no groups.
    """

    @staticmethod
    def forward(ctx, x, weight, bias=None, *, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
        if x.ndim != 4 or weight.ndim != 4 or x.shape[1] != weight.shape[1]:
            raise ValueError(
                f"conv2d: input of shape {x.shape} does not fit weight of shape {weight.shape}: expected an "
                f"(N, C, H, W) input and an (out_channels, C, kh, kw) weight with the same C"
            )
        if bias is not None and bias.shape != (weight.shape[0],):
            raise ValueError(f"conv2d: bias of shape {bias.shape} does not fit weight of shape {weight.shape}")
        check_floating(x, "conv2d")  # an integer y would silently drop a float bias's fraction
        xp = get_array_module(x)
        n, c, h, w = x.shape
        out_channels, kernel = weight.shape[0], weight.shape[2:]
        h_out, w_out = _output_shape(x.shape, kernel, stride, padding, dilation, "conv2d")
        x_pad = _pad(x, padding)
        cols = xp.empty((c, kernel[0], kernel[1], n, h_out, w_out), dtype=x.dtype)
        for i, j, rows, columns in _windows((h_out, w_out), kernel, stride, dilation):
            cols[:, i, j] = x_pad[:, :, rows, columns].transpose(1, 0, 2, 3)
        cols = cols.reshape(c * kernel[0] * kernel[1], n * h_out * w_out)
        y = weight.reshape(out_channels, -1) @ cols  # one matmul: (out, K) @ (K, n * L) -> (out, n * L)
        if bias is not None:
            y += bias.reshape(-1, 1).astype(y.dtype, copy=False)
            ctx.bias_dtype = bias.dtype
        ctx.save_for_backward(cols, weight)
        ctx.has_bias, ctx.x_shape, ctx.x_dtype, ctx.padded_shape = bias is not None, x.shape, x.dtype, x_pad.shape
        ctx.stride, ctx.padding, ctx.dilation = stride, padding, dilation
        return y.reshape(out_channels, n, h_out, w_out).transpose(1, 0, 2, 3)

    @staticmethod
    def backward(ctx, grad):
        cols, weight = ctx.saved_tensors
        xp = get_array_module(grad)
        n, out_channels, h_out, w_out = grad.shape
        grad_2d = grad.transpose(1, 0, 2, 3).reshape(out_channels, n * h_out * w_out)  # (out, n * L), as y was
        grad_w = grad_b = grad_x = None
        if ctx.needs_input_grad[1]:
            grad_w = (grad_2d @ cols.T).reshape(weight.shape).astype(weight.dtype, copy=False)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = grad_2d.sum(axis=1).astype(ctx.bias_dtype, copy=False)
        if ctx.needs_input_grad[0]:
            grad_cols = weight.reshape(out_channels, -1).T @ grad_2d  # (K, out) @ (out, n * L) -> (K, n * L)
            grad_cols = grad_cols.reshape(-1, *weight.shape[2:], n, h_out, w_out)
            grad_pad = xp.zeros(ctx.padded_shape, dtype=grad_cols.dtype)
            for i, j, rows, columns in _windows((h_out, w_out), weight.shape[2:], ctx.stride, ctx.dilation):
                grad_pad[:, :, rows, columns] += grad_cols[:, i, j].transpose(1, 0, 2, 3)  # col2im: overlaps add up
            (ph, pw), (h, w) = ctx.padding, ctx.x_shape[2:]
            grad_x = grad_pad[:, :, ph : ph + h, pw : pw + w].astype(ctx.x_dtype, copy=False)
        return grad_x, grad_w, grad_b


# ---------------------------------------------------------------- pooling


def _pool_windows(x, kernel, stride, padding, fill, name):
    """The padded input's windows stacked on a new axis 2: shape (N, C, kh * kw, H_out, W_out)."""
    xp = get_array_module(x)
    h_out, w_out = _output_shape(x.shape, kernel, stride, padding, (1, 1), name)
    x_pad = _pad(x, padding, fill)
    windows = xp.empty((*x.shape[:2], kernel[0] * kernel[1], h_out, w_out), dtype=x.dtype)
    for i, j, rows, columns in _windows((h_out, w_out), kernel, stride, (1, 1)):
        windows[:, :, i * kernel[1] + j] = x_pad[:, :, rows, columns]
    return windows, x_pad.shape


def _unpool(ctx, grad_windows):
    """Add grad_windows[:, :, k] (one gradient per window element) back to the input pixels they came from."""
    xp = get_array_module(grad_windows)
    grad_pad = xp.zeros(ctx.padded_shape, dtype=grad_windows.dtype)
    for i, j, rows, columns in _windows(grad_windows.shape[-2:], ctx.kernel, ctx.stride, (1, 1)):
        grad_pad[:, :, rows, columns] += grad_windows[:, :, i * ctx.kernel[1] + j]
    (ph, pw), (h, w) = ctx.padding, ctx.x_shape[2:]
    return grad_pad[:, :, ph : ph + h, pw : pw + w]


def _check_pool_args(x, kernel, padding, name):
    """Raise ValueError unless x is (N, C, H, W) and the padding is at most half the kernel (torch's rule)."""
    if x.ndim != 4:
        raise ValueError(f"{name} expects an (N, C, H, W) input, got shape {x.shape}")
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{name}: padding {padding} should be at most half of the kernel size {kernel}")


class MaxPool2d(Function):
    """y = max of x over each kh x kw window (padding counts as -inf);  dL/dx = dL/dy at the window's argmax, else 0.

    Tied maxima: the gradient goes to the first one in row-major order within the window, as in PyTorch.
    """

    @staticmethod
    def forward(ctx, x, *, kernel_size, stride, padding):
        _check_pool_args(x, kernel_size, padding, "max_pool2d")
        xp = get_array_module(x)
        windows, ctx.padded_shape = _pool_windows(x, kernel_size, stride, padding, -xp.inf, "max_pool2d")
        ctx.save_for_backward(windows.argmax(axis=2))  # the position of the first maximum of each window
        ctx.x_shape, ctx.kernel, ctx.stride, ctx.padding = x.shape, kernel_size, stride, padding
        return windows.max(axis=2)

    @staticmethod
    def backward(ctx, grad):
        (argmax,) = ctx.saved_tensors
        xp = get_array_module(grad)
        positions = xp.arange(ctx.kernel[0] * ctx.kernel[1]).reshape(1, 1, -1, 1, 1)
        grad_windows = (positions == argmax[:, :, None]) * grad[:, :, None]
        return (_unpool(ctx, grad_windows),)


class AvgPool2d(Function):
    """y = mean of x over each kh x kw window, zero padding included in the divisor kh * kw;
    dL/dx = the sum, over the windows that contain x, of dL/dy / (kh * kw).
    """

    @staticmethod
    def forward(ctx, x, *, kernel_size, stride, padding):
        _check_pool_args(x, kernel_size, padding, "avg_pool2d")
        windows, ctx.padded_shape = _pool_windows(x, kernel_size, stride, padding, 0.0, "avg_pool2d")
        ctx.x_shape, ctx.kernel, ctx.stride, ctx.padding = x.shape, kernel_size, stride, padding
        return windows.mean(axis=2)

    @staticmethod
    def backward(ctx, grad):
        xp = get_array_module(grad)
        area = ctx.kernel[0] * ctx.kernel[1]
        share = grad / grad.dtype.type(area)
        grad_windows = xp.broadcast_to(share[:, :, None], (*grad.shape[:2], area, *grad.shape[2:]))
        return (_unpool(ctx, grad_windows),)
