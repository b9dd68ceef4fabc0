"""Losses as ops: softmax cross-entropy (the usual last layer of a classifier, fused for speed and stability),
binary cross-entropy on probabilities and on logits, and Huber's loss (also smooth L1's).
"""

import numpy as np

from ..autograd import Function
from ..backend import get_array_module
from .activations import stable_sigmoid
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


# ---------------------------------------------------------------- elementwise losses (F applies the reduction)


def _times(grad, weight):
    """grad * weight, where a weight of None means 1."""
    return grad if weight is None else grad * weight


class BinaryCrossEntropy(Function):
    """loss = -w (y log x + (1 - y) log(1 - x)) for probabilities x, with each log clamped at -100 (as torch).

    dloss/dx = w (x - y) / max(x (1 - x), 1e-12),   dloss/dy = w (log(1 - x) - log x).
    The optional weight w broadcasts to x and gets no gradient.
    """

    @staticmethod
    def forward(ctx, x, y, weight=None):
        xp = get_array_module(x)
        if ((x < 0) | (x > 1)).any():
            raise ValueError("binary_cross_entropy: all elements of input must be probabilities in [0, 1]; "
                             "for logits use binary_cross_entropy_with_logits")
        with np.errstate(divide="ignore"):  # log 0 = -inf, clamped just below
            log_x, log_1mx = xp.maximum(xp.log(x), -100), xp.maximum(xp.log1p(-x), -100)
        ctx.save_for_backward(x, y)
        ctx.weight = weight
        return _times(-(y * log_x + (1 - y) * log_1mx), weight)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        xp = get_array_module(x)
        grad_x = grad_y = None
        if ctx.needs_input_grad[0]:
            eps = x.dtype.type(np.float32(1e-12))  # torch's 1e-12 is a float32 constant: 9.99999996e-13
            grad_x = _times(grad * (x - y) / xp.maximum(x * (1 - x), eps), ctx.weight)
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore"):
                grad_y = _times(grad * (xp.log1p(-x) - xp.log(x)), ctx.weight)
        return grad_x, grad_y


class BinaryCrossEntropyWithLogits(Function):
    """BCE of sigmoid(x) in one stable op:  loss = w [(1 - y) x + (1 + (q - 1) y) softplus(-x)],

    with pos_weight q (1 when not given) scaling the positive term, and softplus(-x) = log(1 + e^-x)
    computed as max(-x, 0) + log1p(e^-|x|), which never overflows.
    dloss/dx = w [(1 + (q - 1) y) sigmoid(x) - q y],   dloss/dy = w [(q - 1) softplus(-x) - x].
    The weights w and q broadcast to x and get no gradient.
    """

    @staticmethod
    def forward(ctx, x, y, weight=None, pos_weight=None):
        xp = get_array_module(x)
        softplus_neg = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))
        scale = 1 if pos_weight is None else 1 + (pos_weight - 1) * y  # 1 + (q - 1) y
        ctx.save_for_backward(x, y, softplus_neg)
        ctx.weight, ctx.pos_weight = weight, pos_weight
        return _times((1 - y) * x + scale * softplus_neg, weight)

    @staticmethod
    def backward(ctx, grad):
        x, y, softplus_neg = ctx.saved_tensors
        q = ctx.pos_weight
        grad_x = grad_y = None
        if ctx.needs_input_grad[0]:
            sigmoid = stable_sigmoid(x)
            grad_x = sigmoid - y if q is None else (1 + (q - 1) * y) * sigmoid - q * y
            grad_x = _times(grad * grad_x, ctx.weight)
        if ctx.needs_input_grad[1]:
            grad_y = -x if q is None else (q - 1) * softplus_neg - x
            grad_y = _times(grad * grad_y, ctx.weight)
        return grad_x, grad_y


class Huber(Function):
    """Huber's loss of a difference d:  0.5 d^2 where |d| <= delta, delta (|d| - 0.5 delta) elsewhere;
    dloss/dd = d inside, delta sign(d) outside. smooth_l1_loss(beta) is this divided by beta.
    """

    @staticmethod
    def forward(ctx, d, delta):
        xp = get_array_module(d)
        delta = d.dtype.type(delta)
        abs_d = xp.abs(d)
        ctx.save_for_backward(d)
        ctx.delta = delta
        return xp.where(abs_d <= delta, 0.5 * d * d, delta * (abs_d - 0.5 * delta))

    @staticmethod
    def backward(ctx, grad):
        (d,) = ctx.saved_tensors
        return (grad * get_array_module(d).clip(d, -ctx.delta, ctx.delta),)
