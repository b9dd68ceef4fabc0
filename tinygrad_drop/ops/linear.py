"""Linear: the affine map of a fully connected layer, as one op with one backward."""

from ..autograd import Function
from .softmax import check_floating


class Linear(Function):
    """y = x W^T + b, with x of shape (..., in), W of shape (out, in) and b of shape (out,).

    dL/dx = dL/dy W,   dL/dW = sum over batch of dL/dy^T x,   dL/db = sum over batch of dL/dy.
    dx is skipped when x needs no gradient (the first layer of a network).
    """

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        if weight.ndim != 2 or x.ndim == 0 or x.shape[-1] != weight.shape[1]:
            raise ValueError(
                f"linear: input of shape {x.shape} does not fit weight of shape {weight.shape} "
                f"(expected input shape (..., {weight.shape[-1]}) and a 2-D weight (out, in))"
            )
        check_floating(x, "linear")
        if bias is not None and bias.shape != (weight.shape[0],):
            raise ValueError(f"linear: bias of shape {bias.shape} does not fit weight of shape {weight.shape}")
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        y = (x.reshape(-1, x.shape[-1]) @ weight.T).reshape(*x.shape[:-1], weight.shape[0])  # 2-D: one BLAS call
        if bias is not None and bias.dtype == y.dtype:
            y += bias  # in place: saves one output-sized copy
        elif bias is not None:
            y = y + bias  # mixed dtypes promote as NumPy does
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors[:2]  # DropConnectLinear saves its mask after them
        grad_2d = grad.reshape(-1, weight.shape[0])
        grad_x = (grad_2d @ weight).reshape(x.shape) if ctx.needs_input_grad[0] else None
        grad_w = grad_2d.T @ x.reshape(-1, weight.shape[1]) if ctx.needs_input_grad[1] else None
        grad_b = grad_2d.sum(axis=0) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b
