"""Functional forms of the layers and losses: plain functions of Tensors, no state.

Random ops take an explicit `training=` flag: there is no global training mode.
"""

import warnings

import numpy as np

from .. import backend
from .. import random as _random
from ..ops.dropout import Dropout
from ..ops.linear import Linear
from ..ops.loss import CrossEntropy
from ..ops.relu import ReLU
from ..tensor import Tensor, _is_float


def linear(x, weight, bias=None):
    """y = x W^T + b, with W of shape (out, in) (PyTorch's layout)."""
    return Linear.apply(x, weight, bias)


def relu(x):
    """max(x, 0), with gradient 0 at x = 0."""
    return ReLU.apply(x)


def sigmoid(x):
    return x.sigmoid()


def tanh(x):
    return x.tanh()


def softmax(x, axis=-1):
    return x.softmax(axis=axis)


def log_softmax(x, axis=-1):
    return x.log_softmax(axis=axis)


def _check_p(p):
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got p={p!r}")
    return float(p)


def _check_mask(mask, x):
    """Return a user-given keep-mask as a bool array on x's device that broadcasts to x's shape."""
    mask = mask.data if isinstance(mask, Tensor) else mask
    if backend.get_array_module(mask) is np:
        mask = np.asarray(mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"dropout mask must be a bool array (True = keep), got dtype {mask.dtype}")
    try:
        fits = np.broadcast_shapes(mask.shape, x.shape) == x.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"dropout mask of shape {mask.shape} does not broadcast to the input's shape {x.shape}")
    return backend.to_device(mask, x.device)


def _mask_shape(shape, broadcast_dims):
    """The input's shape with a 1 on every axis in broadcast_dims (where one mask value is shared)."""
    dims = (broadcast_dims,) if isinstance(broadcast_dims, int) else tuple(broadcast_dims)
    for d in dims:
        if not -len(shape) <= d < len(shape):
            raise ValueError(f"broadcast_dims {broadcast_dims} is out of range for an input of shape {shape}")
    shared = {d % len(shape) for d in dims}
    return tuple(1 if i in shared else s for i, s in enumerate(shape))


def dropout(x, p=0.5, training=True, mask=None, return_mask=False, broadcast_dims=()):
    """Inverted dropout: zero each element with probability p, scale the rest by 1/(1 - p).

    `broadcast_dims` (an int or tuple of axes) shares one mask value along those axes, so whole
    rows, channels or time steps are dropped together (Keras's noise_shape, Flax's broadcast_dims).
    `mask` (bool, True = keep, any shape that broadcasts to x) replays a given mask instead of
    drawing one; `return_mask=True` returns `(y, mask)` so a mask can be recorded. With p = 0 or
    training=False, x is returned unchanged with no draw and no graph node (mask is then None).
    p = 1 gives zeros and zero gradients.
    """
    p = _check_p(p)
    mask_shape = _mask_shape(x.shape, broadcast_dims)
    if not training or p == 0.0:
        return (x, None) if return_mask else x
    if not _is_float(x.dtype):
        raise TypeError(f"dropout needs a floating-point input, got dtype {x.dtype}")
    if mask is None:
        mask = backend.to_device(_random.keep_mask(mask_shape, p), x.device)
    else:
        mask = _check_mask(mask, x)
    scale = 1.0 / (1.0 - p) if p < 1.0 else 0.0
    y = Dropout.apply(x, mask, scale=scale)
    return (y, mask) if return_mask else y


# ---------------------------------------------------------------- losses


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def cross_entropy(logits, target, reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy, as PyTorch's F.cross_entropy.

    `logits` has shape (N, C) (or (C,) with a scalar target). `target` holds class indices
    (int, shape (N,)), or class probabilities of the logits' shape. With label smoothing e, the
    target distribution is (1 - e) * target + e / C, so for an index target y:
    loss = (1 - e) * (-log p_y) + e * mean_c(-log p_c).
    """
    if logits.ndim not in (1, 2):
        raise ValueError(f"cross_entropy expects logits of shape (N, C) or (C,), got {logits.shape}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
    target = target if isinstance(target, Tensor) else Tensor(target)
    if _is_float(target.dtype):  # class probabilities
        if target.shape != logits.shape:
            raise ValueError(f"probability targets must have the logits' shape {logits.shape}, got {target.shape}")
        if label_smoothing:
            target = target * (1.0 - label_smoothing) + label_smoothing / logits.shape[-1]
        log_probs = logits.log_softmax(axis=-1)
        return _reduce(-(log_probs * target.to(dtype=log_probs.dtype)).sum(axis=-1), reduction)
    _check_targets(target, logits.shape, "cross_entropy")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if logits.ndim == 1:  # one sample: a (1, C) batch
        loss = CrossEntropy.apply(logits.reshape(1, -1), target.reshape(1), label_smoothing=label_smoothing,
                                  reduction=reduction)
        return loss.reshape(()) if reduction == "none" else loss
    return CrossEntropy.apply(logits, target, label_smoothing=label_smoothing, reduction=reduction)


def _check_targets(target, input_shape, op_name):
    """Class-index targets must be integers of the input's shape without its class axis, in [0, C)."""
    num_classes, expected = input_shape[-1], input_shape[:-1]
    if target.shape != expected:
        raise ValueError(f"{op_name}: target of shape {target.shape} does not fit input of shape "
                         f"{input_shape} (expected class indices of shape {expected})")
    if _is_float(target.dtype):
        raise TypeError(f"{op_name}: class-index targets must be integers, got dtype {target.dtype}")
    bad = (target.data < 0) | (target.data >= num_classes)
    if bad.any():
        raise IndexError(f"{op_name}: target {target.data[bad].ravel()[0]} is out of range for {num_classes} "
                         f"classes (targets must be in [0, {num_classes - 1}])")


def _pick_targets(log_probs, target, op_name):
    """-log_probs at each row's target class, after checking the targets' shape and range."""
    _check_targets(target, log_probs.shape, op_name)
    if log_probs.ndim == 1:
        return -log_probs[target.data]
    rows = backend.array_module_for(log_probs.device).arange(log_probs.shape[0])
    return -log_probs[rows, target.data]


def nll_loss(log_probs, target, reduction="mean"):
    """Negative log-likelihood of class indices, given log-probabilities of shape (N, C) or (C,)."""
    target = target if isinstance(target, Tensor) else Tensor(target)
    return _reduce(_pick_targets(log_probs, target, "nll_loss"), reduction)


def mse_loss(input, target, reduction="mean"):  # noqa: A002 - PyTorch's name
    """Mean squared error: mean((input - target)^2). Differing shapes broadcast with a warning."""
    target = target if isinstance(target, Tensor) else Tensor(target, dtype=input.dtype)
    if input.shape != target.shape:
        warnings.warn(
            f"mse_loss: input shape {input.shape} and target shape {target.shape} differ and will "
            "broadcast, which is rarely intended",
            UserWarning,
            stacklevel=2,
        )
    diff = input - target
    return _reduce(diff * diff, reduction)
