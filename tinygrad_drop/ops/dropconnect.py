"""DropConnect (Wan et al. 2013): drop weights instead of activations, as one op with one backward.

Training:  M ~ Bernoulli(1 - p) of the weight's shape (one mask per forward pass, shared by the
batch),  W' = M * W / (1 - p),  y = x W'^T + b  (the bias is not dropped).
Backward:  this is Linear applied to W', so dx and db are Linear's, and by the chain rule
dL/dW = M / (1 - p) * dL/dW': a dropped weight gets exactly zero gradient.
Since E[W'] = W, evaluation uses plain Linear with W. (The paper draws a mask per example, masks
the bias too, and evaluates with a Gaussian approximation; one mask per pass is the cheap form.)
"""

from ..autograd import Function
from .linear import Linear


class DropConnectLinear(Function):
    """y = x (s M * W)^T + b with s = 1/(1 - p) (0 when p = 1);  dL/dW = s M * (dL/dy^T x).

    The bool mask M has the weight's shape and is drawn by the caller
    (`nn.functional.dropconnect_linear`). Forward and backward reuse Linear's on the masked weight.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, mask, scale):
        ctx.scale = weight.dtype.type(scale)
        masked = weight * mask
        masked *= ctx.scale
        y = Linear.forward(ctx, x, masked, bias)  # saves (x, masked weight)
        ctx.save_for_backward(*ctx.saved_tensors, mask)
        return y

    @staticmethod
    def backward(ctx, grad):
        grad_x, grad_masked, grad_b = Linear.backward(ctx, grad)
        mask = ctx.saved_tensors[2]
        grad_w = None if grad_masked is None else grad_masked * mask * ctx.scale
        return grad_x, grad_w, grad_b, None  # no gradient for the mask
