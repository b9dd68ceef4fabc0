"""Softmax cross-entropy as one op: the usual last layer of a classifier, fused for speed and stability."""

import numpy as np

from ..autograd import Function
from ..backend import get_array_module
from .softmax import check_floating


class CrossEntropy(Function):
    """Softmax cross-entropy of logits x (N, C) against class indices t (N,), as torch's F.cross_entropy.

    log p = (x - max) - log(sum(e^(x - max))).  With class weights w (all 1 when not given), label
    smoothing e, and v_i = 0 where t_i is ignore_index (1 elsewhere), row i's loss is
        loss_i = v_i [(1 - e) w_{t_i} (-log p_{i,t_i}) + (e / C) sum_c w_c (-log p_{i,c})]
        dloss_i/dx_i = v_i [(1 - e) w_{t_i} (p_i - onehot(t_i)) + (e / C) (p_i sum_c w_c - w)].
    reduction="mean" divides the sum by sum_i v_i w_{t_i} (torch's rule: the weights of the counted
    targets, so N when there are no weights and nothing is ignored; NaN when everything is ignored).
    The reduction is part of the op, so backward scales once.
    """

    @staticmethod
    def forward(ctx, logits, target, weight=None, ignore_index=-100, label_smoothing=0.0, reduction="mean"):
        check_floating(logits, "cross_entropy")
        xp = get_array_module(logits)
        dtype = logits.dtype.type
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
        counted = target != ignore_index
        safe_target = xp.where(counted, target, 0)  # any valid class where ignored; its weight is 0
        rows = xp.arange(logits.shape[0])
        row_weight = counted.astype(logits.dtype) if weight is None else weight[safe_target] * counted
        losses = -log_probs[rows, safe_target] * row_weight
        if label_smoothing:
            smooth = -(log_probs.sum(axis=1) if weight is None else log_probs @ weight) * counted
            losses *= dtype(1 - label_smoothing)
            losses += dtype(label_smoothing / logits.shape[1]) * smooth
        ctx.save_for_backward(log_probs, safe_target, row_weight, counted)
        ctx.weight, ctx.label_smoothing, ctx.reduction = weight, label_smoothing, reduction
        if reduction == "mean":
            ctx.divisor = row_weight.sum()
            with np.errstate(invalid="ignore"):  # 0 / 0 = NaN when every target is ignored, as torch
                return losses.sum() / ctx.divisor
        return losses.sum() if reduction == "sum" else losses

    @staticmethod
    def backward(ctx, grad):
        log_probs, target, row_weight, counted = ctx.saved_tensors
        xp = get_array_module(log_probs)
        n, c = log_probs.shape
        e, dtype = ctx.label_smoothing, log_probs.dtype.type
        p = xp.exp(log_probs)
        grad_x = p * row_weight[:, None]
        grad_x[xp.arange(n), target] -= row_weight  # w_t (p - onehot(t))
        if e:
            grad_x *= dtype(1 - e)
            w_sum, w = (dtype(c), dtype(1)) if ctx.weight is None else (ctx.weight.sum(), ctx.weight)
            grad_x += dtype(e / c) * (p * w_sum - w) * counted[:, None]
        if ctx.reduction == "mean":
            grad_x *= grad / ctx.divisor
        elif ctx.reduction == "sum":
            grad_x *= grad
        else:
            grad_x *= grad[:, None]
        return grad_x, None
