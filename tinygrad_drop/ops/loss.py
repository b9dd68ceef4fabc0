"""Softmax cross-entropy as one op: the usual last layer of a classifier, fused for speed and stability."""

from ..autograd import Function
from ..backend import get_array_module
from .softmax import check_floating


class CrossEntropy(Function):
    """Softmax cross-entropy of logits x (N, C) against class indices t (N,), with label smoothing e.

    log p = (x - max) - log(sum(e^(x - max))),   loss_i = -(1 - e) log p[i, t_i] - e * mean_c log p[i, c]
    dloss_i/dx_i = p_i - q_i  with the smoothed target q_i = (1 - e) onehot(t_i) + e / C.
    The reduction ("mean", "sum" or "none") is part of the op, so backward scales once.
    """

    @staticmethod
    def forward(ctx, logits, target, label_smoothing=0.0, reduction="mean"):
        check_floating(logits, "cross_entropy")
        xp = get_array_module(logits)
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
        rows = xp.arange(logits.shape[0])
        losses = -log_probs[rows, target]
        if label_smoothing:
            losses *= logits.dtype.type(1 - label_smoothing)
            losses -= logits.dtype.type(label_smoothing) * log_probs.mean(axis=1)
        ctx.save_for_backward(log_probs, target)
        ctx.label_smoothing, ctx.reduction = label_smoothing, reduction
        if reduction == "mean":
            return losses.mean()
        return losses.sum() if reduction == "sum" else losses

    @staticmethod
    def backward(ctx, grad):
        log_probs, target = ctx.saved_tensors
        xp = get_array_module(log_probs)
        n, c = log_probs.shape
        e, dtype = ctx.label_smoothing, log_probs.dtype.type
        grad_x = xp.exp(log_probs)  # p
        if e:
            grad_x -= dtype(e / c)
        grad_x[xp.arange(n), target] -= dtype(1 - e)
        if ctx.reduction == "mean":
            grad_x *= grad / dtype(n)
        elif ctx.reduction == "sum":
            grad_x *= grad
        else:
            grad_x *= grad[:, None]
        return grad_x, None
