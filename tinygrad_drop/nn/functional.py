"""Functional forms of the layers and losses: plain functions of Tensors, no state.

Random ops take an explicit `training=` flag: there is no global training mode.
"""

import sys
import warnings

import numpy as np

from .. import backend, shapes
from .. import random as _random
from ..ops.activations import ELU, LeakyReLU, SiLU, Softplus
from ..ops.batchnorm import BatchNorm
from ..ops.conv import AvgPool2d, Conv2d, MaxPool2d
from ..ops.dropconnect import DropConnectLinear
from ..ops.dropout import Dropout, DropoutRecompute
from ..ops.embedding import Embedding
from ..ops.gelu import GELU
from ..ops.layernorm import LayerNorm
from ..ops.linear import Linear
from ..ops.loss import BinaryCrossEntropy, BinaryCrossEntropyWithLogits, CrossEntropy, Huber
from ..ops.noise import SELU_ALPHA, SELU_SCALE, AlphaDropout, GaussianDropout, alpha_dropout_affine
from ..ops.relu import ReLU
from ..ops.softmax import MaskedSoftmax
from ..tensor import Tensor, _is_float, as_floating
from .module import current_module


def linear(x, weight, bias=None):
    """y = x W^T + b, with W of shape (out, in) (PyTorch's layout)."""
    _check_tensors("linear", input=x, weight=weight, bias=bias)
    return Linear.apply(x, weight, bias)



def relu(x):
    """max(x, 0), with gradient 0 at x = 0."""
    return ReLU.apply(x)


def sigmoid(x):
    return x.sigmoid()


def tanh(x):
    return x.tanh()


def softmax(x, axis=None, *, dim=None):
    return x.softmax(axis, dim=dim)


def log_softmax(x, axis=None, *, dim=None):
    return x.log_softmax(axis, dim=dim)


def leaky_relu(x, negative_slope=0.01, inplace=False):
    """x where x > 0, negative_slope * x elsewhere. (`inplace` is accepted for ported code; the result is new.)"""
    return LeakyReLU.apply(as_floating(x), negative_slope=negative_slope)


def elu(x, alpha=1.0, inplace=False):
    """x where x > 0, alpha * (e^x - 1) elsewhere."""
    return ELU.apply(as_floating(x), alpha=alpha)


def selu(x, inplace=False):
    """scale * elu(x, alpha) with torch's constants alpha = 1.6733, scale = 1.0507 (self-normalising)."""
    return ELU.apply(as_floating(x), alpha=SELU_ALPHA, scale=SELU_SCALE)


def softplus(x, beta=1.0, threshold=20.0):
    """log(1 + e^(beta x)) / beta, and x itself where beta * x > threshold."""
    return Softplus.apply(as_floating(x), beta=beta, threshold=threshold)


def silu(x, inplace=False):
    """x * sigmoid(x) (swish)."""
    return SiLU.apply(as_floating(x))


def check_p(p):
    """p as a float when it is a probability in [0, 1]; a ValueError otherwise (bools are refused)."""
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got p={p!r}")
    return float(p)


def _check_mask(mask, x):
    """Return a user-given keep-mask as a bool array on x's device that broadcasts to x's shape."""
    mask = mask.data if isinstance(mask, Tensor) else mask
    # a copy, so that changing the caller's array after forward cannot change backward
    mask = np.array(mask) if backend.get_array_module(mask) is np else mask.copy()
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
    if not broadcast_dims and broadcast_dims != 0:  # the usual case: one value per element
        return shape
    dims = (broadcast_dims,) if isinstance(broadcast_dims, int) else tuple(broadcast_dims)
    for d in dims:
        if not -len(shape) <= d < len(shape):
            raise ValueError(f"broadcast_dims {broadcast_dims} is out of range for an input of shape {shape}")
    shared = {d % len(shape) for d in dims}
    return tuple(1 if i in shared else s for i, s in enumerate(shape))


MASK_STORAGES = ("bool", "recompute")


def check_mask_storage(mask_storage):
    """Return mask_storage if it is "bool" or "recompute"; raise a ValueError otherwise."""
    if mask_storage not in MASK_STORAGES:
        raise ValueError(f"mask_storage must be 'bool' or 'recompute', got {mask_storage!r}")
    return mask_storage


def dropout(x, p=0.5, training=True, mask=None, return_mask=False, broadcast_dims=(), mask_storage="bool"):
    """Inverted dropout: zero each element with probability p, scale the rest by 1/(1 - p).

    `broadcast_dims` (an int or tuple of axes) shares one mask value along those axes, so whole
    rows, channels or time steps are dropped together (Keras's noise_shape, Flax's broadcast_dims).
    `mask` (bool, True = keep, any shape that broadcasts to x) replays a given mask instead of
    drawing one; `return_mask=True` returns `(y, mask)`, the very mask the op used. With p = 0 or
    training=False, x is returned unchanged with no draw and no graph node (mask is then None).
    p = 1 gives zeros and zero gradients. `mask_storage` is what backward keeps: "bool" saves the
    mask (1 byte per element, ops.dropout.Dropout), "recompute" saves its place in the random
    stream and draws it again (ops.dropout.DropoutRecompute); a given mask is always saved.
    """
    p = check_p(p)
    check_mask_storage(mask_storage)
    mask_shape = _mask_shape(x.shape, broadcast_dims)
    if not training or p == 0.0:
        return (x, None) if return_mask else x
    if not _is_float(x.dtype):
        raise TypeError(f"dropout needs a floating-point input, got dtype {x.dtype}")
    _warn_if_module_in_eval()
    scale = 1.0 / (1.0 - p) if p < 1.0 else 0.0
    if mask is None and mask_storage == "recompute":
        draw = _random.next_mask_draw(mask_shape)
        y = DropoutRecompute.apply(x, draw, p, scale)
        return (y, _random.keep_mask_at(draw, p, x.device)) if return_mask else y
    keep = _random.keep_mask(mask_shape, p, x.device) if mask is None else _check_mask(mask, x)
    y = Dropout.apply(x, keep, scale)
    return (y, keep) if return_mask else y


# ---------------------------------------------------------------- losses


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def cross_entropy(logits, target, weight=None, *, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy, as PyTorch's F.cross_entropy.

    `logits` has shape (N, C), (N, C, d1, ...) (the class axis is 1) or (C,). `target` holds class
    indices (int, the logits' shape without the class axis), or class probabilities of the logits'
    shape. `weight` (C,) scales each class's loss; index targets equal to `ignore_index` count for
    nothing. With label smoothing e, the target distribution is (1 - e) * target + e / C. For index
    targets reduction="mean" divides by the summed weights of the counted targets, for probability
    targets by the number of rows N * d1 * ..., as torch does.
    """
    if logits.ndim == 0:
        raise ValueError("cross_entropy expects logits of shape (N, C), (N, C, d1, ...) or (C,), got a 0-d tensor")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    class_axis = 0 if logits.ndim == 1 else 1
    num_classes = logits.shape[class_axis]
    weight = _class_weights(weight, num_classes, logits)
    target = target if isinstance(target, Tensor) else Tensor(target)
    if _is_float(target.dtype):  # class probabilities
        if target.shape != logits.shape:
            raise ValueError(f"probability targets must have the logits' shape {logits.shape}, got {target.shape}")
        if ignore_index >= 0:
            raise ValueError(f"ignore_index={ignore_index} is not supported for probability targets")
        if label_smoothing:
            target = target * (1.0 - label_smoothing) + label_smoothing / num_classes
        log_probs = logits.log_softmax(axis=class_axis)
        picked = log_probs * target.to(dtype=log_probs.dtype)
        if weight is not None:
            picked = picked * Tensor._wrap(weight.reshape((-1,) + (1,) * (logits.ndim - class_axis - 1)))
        return _reduce(-picked.sum(axis=class_axis), reduction)
    _check_targets(target, logits.shape, "cross_entropy", ignore_index)
    rows = logits.reshape(1, -1) if logits.ndim == 1 else logits  # (N, C, d1, ...) -> (N * d1 * ..., C)
    if logits.ndim > 2:
        rows = logits.transpose(0, *range(2, logits.ndim), 1).reshape(-1, num_classes)
    loss = CrossEntropy.apply(rows, target.reshape(-1), weight=weight, ignore_index=ignore_index,
                              label_smoothing=label_smoothing, reduction=reduction)
    return loss.reshape(target.shape) if reduction == "none" else loss


def _class_weights(weight, num_classes, logits):
    """Per-class weights as an array of the logits' dtype and device (None stays None), after a shape check."""
    if weight is None:
        return None
    array = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
    if array.shape != (num_classes,):
        raise ValueError(f"weight must have one entry per class, shape ({num_classes},), got {array.shape}")
    return backend.to_device(array, logits.device).astype(logits.dtype, copy=False)


def _check_targets(target, input_shape, op_name, ignore_index=None):
    """Class-index targets: integers of the input's shape without its class axis (axis 1, or 0 for (C,)),
    each in [0, C) or equal to ignore_index."""
    class_axis = 0 if len(input_shape) == 1 else 1
    num_classes, expected = input_shape[class_axis], input_shape[:class_axis] + input_shape[class_axis + 1:]
    if target.dtype == np.bool_:  # NumPy would read a bool array as a mask, not as classes 0 and 1
        raise TypeError(f"{op_name}: targets must be integer class indices (or float probabilities of the "
                        f"logits' shape {input_shape}), got dtype bool: convert with target.to(dtype=td.int64)")
    if target.shape != expected:
        raise ValueError(f"{op_name}: target of shape {target.shape} does not fit input of shape "
                         f"{input_shape} (expected class indices of shape {expected})")
    if _is_float(target.dtype):
        raise TypeError(f"{op_name}: class-index targets must be integers, got dtype {target.dtype}")
    bad = (target.data < 0) | (target.data >= num_classes)
    if ignore_index is not None:
        bad &= target.data != ignore_index
    if bad.any():
        raise IndexError(f"{op_name}: target {target.data[bad].ravel()[0]} is out of range for {num_classes} "
                         f"classes (targets must be in [0, {num_classes - 1}])")


def _pick_targets(log_probs, target, op_name):
    """-log_probs at each row's target class, after checking the targets' shape and range."""
    if log_probs.ndim > 2:
        raise ValueError(f"{op_name} takes (N, C) or (C,) log-probabilities, got shape {log_probs.shape}; "
                         "for (N, C, d1, ...) inputs use cross_entropy")
    _check_targets(target, log_probs.shape, op_name)
    if log_probs.ndim == 1:
        return -log_probs[target.data]
    rows = backend.array_module_for(log_probs.device).arange(log_probs.shape[0])
    return -log_probs[rows, target.data]


def nll_loss(log_probs, target, reduction="mean"):
    """Negative log-likelihood of class indices, given log-probabilities of shape (N, C) or (C,)."""
    target = target if isinstance(target, Tensor) else Tensor(target)
    return _reduce(_pick_targets(log_probs, target, "nll_loss"), reduction)


def _loss_target(input, target, name, warn=True):  # noqa: A002 - PyTorch's name
    """target as a float Tensor (input's dtype if it was not); a shape unlike input's warns (broadcasts) or raises."""
    target = target if isinstance(target, Tensor) else Tensor(target, dtype=input.dtype, device=input.device)
    if input.shape != target.shape:
        if not warn:
            raise ValueError(f"{name}: target shape {target.shape} differs from input shape {input.shape}; "
                             "they must be the same")
        warnings.warn(f"{name}: input shape {input.shape} and target shape {target.shape} differ and will "
                      "broadcast, which is rarely intended", UserWarning, stacklevel=3)
    return target if _is_float(target.dtype) else target.to(dtype=input.dtype)


def _constant(weight, input):  # noqa: A002 - PyTorch's name
    """An optional weight (Tensor, array or number) as an array of input's dtype and device; None stays None."""
    if weight is None:
        return None
    array = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
    # a copy, so that changing the caller's array after forward cannot change backward
    return backend.to_device(array, input.device).astype(input.dtype)


def mse_loss(input, target, reduction="mean"):  # noqa: A002 - PyTorch's name
    """Mean squared error: mean((input - target)^2). Differing shapes broadcast with a warning."""
    diff = input - _loss_target(input, target, "mse_loss")
    return _reduce(diff * diff, reduction)


def l1_loss(input, target, reduction="mean"):  # noqa: A002 - PyTorch's name
    """Mean absolute error: mean(|input - target|), with gradient 0 where they are equal (as torch)."""
    return _reduce((input - _loss_target(input, target, "l1_loss")).abs(), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0):  # noqa: A002 - PyTorch's name
    """Huber's loss of d = input - target: 0.5 d^2 where |d| <= delta, delta (|d| - 0.5 delta) elsewhere."""
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    diff = input - _loss_target(input, target, "huber_loss")
    return _reduce(Huber.apply(diff, delta=delta), reduction)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):  # noqa: A002 - PyTorch's name
    """Smooth L1 of d = input - target: 0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere (L1 at beta = 0)."""
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    diff = input - _loss_target(input, target, "smooth_l1_loss")
    return _reduce(diff.abs() if beta == 0 else Huber.apply(diff, delta=beta) * (1.0 / beta), reduction)


def binary_cross_entropy(input, target, weight=None, reduction="mean"):  # noqa: A002 - PyTorch's name
    """-w (y log x + (1 - y) log(1 - x)) for probabilities x in [0, 1] (logs clamped at -100, as torch)."""
    target = _loss_target(input, target, "binary_cross_entropy", warn=False)
    return _reduce(BinaryCrossEntropy.apply(input, target, weight=_constant(weight, input)), reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):  # noqa: A002
    """BCE of sigmoid(input) in one stable op; pos_weight (broadcast along the last axis) scales the positives."""
    target = _loss_target(input, target, "binary_cross_entropy_with_logits", warn=False)
    loss = BinaryCrossEntropyWithLogits.apply(input, target, weight=_constant(weight, input),
                                              pos_weight=_constant(pos_weight, input))
    return _reduce(loss, reduction)


def one_hot(tensor, num_classes=-1):
    """int64 tensor of shape (..., num_classes) with a 1 at each label; num_classes=-1 means max label + 1."""
    labels = tensor if isinstance(tensor, Tensor) else Tensor(tensor)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot needs integer class indices, got dtype {labels.dtype}")
    values = labels.data
    if values.size and int(values.min()) < 0:
        raise ValueError(f"one_hot: class values must be non-negative, got {int(values.min())}")
    if num_classes == -1:
        num_classes = int(values.max()) + 1 if values.size else 0
    if values.size and int(values.max()) >= num_classes:
        raise ValueError(f"one_hot: class value {int(values.max())} is not smaller than num_classes={num_classes}")
    xp = backend.get_array_module(values)
    return Tensor._wrap((values[..., None] == xp.arange(num_classes)).astype(np.int64))


# ---------------------------------------------------------------- the dropout family (docs/dropout.md)

_warned_call_sites = set()


def _warn_if_module_in_eval():
    """Warn once per call site when a random op draws (training=True) inside a module in eval mode.

    This is the classic silent bug of calling `F.dropout(x, p)` (training defaults to True) in a
    forward: `model.eval()` cannot turn it off (pytorch#11999). The warning names the caller's line.
    """
    module = current_module()
    if module is None or module.training:
        return
    frame, stacklevel = sys._getframe(1), 2  # the functional op that the caller called
    while frame.f_back.f_code.co_filename == __file__:
        frame, stacklevel = frame.f_back, stacklevel + 1
    caller = frame.f_back
    site = (caller.f_code.co_filename, caller.f_lineno)
    if site in _warned_call_sites:
        return
    _warned_call_sites.add(site)
    warnings.warn(
        f"F.{frame.f_code.co_name}(..., training=True) at {site[0]}:{site[1]} runs inside "
        f"{type(module).__name__}.forward while that module is in eval mode, so it stays on at evaluation; "
        "pass training=self.training (warned once per call site)",
        UserWarning,
        stacklevel=stacklevel + 1,
    )


def _start_random_op(x, name):
    """Before a draw: check that x is floating point, and warn if its module is in eval mode."""
    if not _is_float(x.dtype):
        raise TypeError(f"{name} needs a floating-point input, got dtype {x.dtype}")
    _warn_if_module_in_eval()


def _draw_keep_mask(x, p, mask_shape, name):
    """A bool keep-mask of mask_shape on x's device, after _start_random_op's checks."""
    _start_random_op(x, name)
    return _random.keep_mask(mask_shape, p, x.device)


def _channel_dropout(x, p, training, channel_axis, name):
    """Dropout with one mask value per channel: every axis after `channel_axis` shares it."""
    if x.ndim < channel_axis + 1:
        raise ValueError(f"{name} needs an input with a channel axis, got shape {x.shape}")
    return dropout(x, p, training, broadcast_dims=tuple(range(channel_axis + 1, x.ndim)))


def dropout1d(x, p=0.5, training=True):
    """Zero whole channels of a (N, C, L) or unbatched (C, L) input, as torch.nn.functional.dropout1d."""
    if x.ndim not in (2, 3):
        raise ValueError(f"dropout1d expects a 2-D (C, L) or 3-D (N, C, L) input, got shape {x.shape}; "
                         "use dropout2d/dropout3d for more spatial axes, dropout for elementwise dropout")
    return _channel_dropout(x, p, training, x.ndim - 2, "dropout1d")


def dropout2d(x, p=0.5, training=True):
    """Zero whole channels of a (N, C, H, W) input, as torch.nn.functional.dropout2d.

    Like PyTorch, axis 1 is always the channel axis: a 3-D input is read as (N, C, L), with a
    warning, and other ranks warn that dropout2d is meant for 3-D and 4-D inputs.
    """
    if x.ndim not in (3, 4):
        warnings.warn(f"dropout2d: received a {x.ndim}-D input of shape {x.shape}; dropout2d is meant for "
                      "(N, C, H, W) inputs. Use dropout for elementwise dropout", UserWarning, stacklevel=2)
    if x.ndim == 3:
        warnings.warn("dropout2d: received a 3-D input and, as PyTorch does, reads it as (N, C, L) with C the "
                      "channel axis (not as an unbatched (C, H, W)); use dropout1d to say so, or add a batch "
                      "axis", UserWarning, stacklevel=2)
    return _channel_dropout(x, p, training, 1, "dropout2d")


def dropout3d(x, p=0.5, training=True):
    """Zero whole channels of a (N, C, D, H, W) or unbatched (C, D, H, W) input, as torch's dropout3d.

    Like PyTorch, only a 5-D input has a batch axis; other ranks warn and are read as unbatched.
    """
    if x.ndim not in (4, 5):
        warnings.warn(f"dropout3d: received a {x.ndim}-D input of shape {x.shape}; dropout3d is meant for "
                      "(N, C, D, H, W) or (C, D, H, W) inputs. Use dropout for elementwise dropout",
                      UserWarning, stacklevel=2)
    return _channel_dropout(x, p, training, 1 if x.ndim == 5 else 0, "dropout3d")


def alpha_dropout(x, p=0.5, training=False, broadcast_dims=()):
    """Alpha dropout for SELU networks (PyTorch's formula, see ops/noise.py): keeps zero mean and unit variance.

    Dropped units take SELU's saturation value, then y = a * (.) + b. training defaults to False,
    as in PyTorch. `broadcast_dims` shares one mask value along those axes, as in `dropout`.
    """
    p = check_p(p)
    mask_shape = _mask_shape(x.shape, broadcast_dims)
    if not training or p == 0.0:
        return x
    mask = _draw_keep_mask(x, p, mask_shape, "alpha_dropout")
    return AlphaDropout.apply(x, mask, *alpha_dropout_affine(p))


def feature_alpha_dropout(x, p=0.5, training=False):
    """Alpha dropout of whole channels of a (N, C, ...) input, as torch.nn.functional.feature_alpha_dropout."""
    if x.ndim < 2:
        raise ValueError(f"feature_alpha_dropout needs an (N, C, ...) input of 2 or more axes, got shape {x.shape}")
    return alpha_dropout(x, p, training, broadcast_dims=tuple(range(2, x.ndim)))


def check_gaussian_p(p):
    """p checked as for dropout, and below 1: the noise variance p / (1 - p) must be finite."""
    p = check_p(p)
    if p == 1.0:
        raise ValueError("gaussian dropout: p=1 gives infinite noise variance p / (1 - p); use p < 1")
    return p


def gaussian_dropout(x, p=0.5, training=True):
    """Multiply by noise e ~ N(1, p / (1 - p)): dropout's mean and variance, Gaussian (Keras's GaussianDropout)."""
    p = check_gaussian_p(p)
    if not training or p == 0.0:
        return x
    _start_random_op(x, "gaussian_dropout")
    ftype = np.promote_types(x.dtype, np.float32).type  # the generator draws float32 or float64, not float16
    noise = _random.normal(x.shape, dtype=ftype) * ftype(np.sqrt(p / (1.0 - p))) + ftype(1)
    noise = noise.astype(x.dtype, copy=False)
    return GaussianDropout.apply(x, backend.to_device(noise, x.device))


def check_drop_path_mode(mode):
    """mode, if it is one of torchvision's: "row" (a mask value per sample) or "batch" (one for all)."""
    if mode not in ("row", "batch"):
        raise ValueError(f"drop_path mode has to be 'row' or 'batch', but got {mode!r}")
    return mode


def drop_path(x, p=0.5, training=True, mode="row"):
    """Stochastic depth, as torchvision.ops.stochastic_depth: drop a whole residual branch, scale by 1/(1 - p).

    mode="row" draws one mask value per sample (axis 0), "batch" one for the whole batch.
    Use it on the branch: `x + drop_path(block(x), p, training)`.
    """
    if check_drop_path_mode(mode) == "row" and x.ndim == 0:
        raise ValueError("drop_path with mode='row' needs a batch axis, got a 0-D input")
    first_shared = 1 if mode == "row" else 0
    return dropout(x, p, training, broadcast_dims=tuple(range(first_shared, x.ndim)))


def dropconnect_linear(x, weight, bias=None, p=0.5, training=True):
    """DropConnect (Wan et al. 2013): linear with each weight dropped with probability p, one mask per call.

    The kept weights are scaled by 1/(1 - p), so with training=False this is plain `linear`.
    """
    p = check_p(p)
    if not training or p == 0.0:
        return linear(x, weight, bias)
    _check_tensors("dropconnect_linear", input=x, weight=weight, bias=bias)
    mask = _draw_keep_mask(weight, p, weight.shape, "dropconnect_linear")
    scale = 1.0 / (1.0 - p) if p < 1.0 else 0.0
    return DropConnectLinear.apply(x, weight, bias, mask, scale=scale)


# ---------------------------------------------------------------- convolution, pooling and batch norm


def _pair(value, name):
    """An int or a pair of ints as a pair (h, w) of non-negative ints."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 0
                                 for v in pair):
        raise ValueError(f"{name} must be a non-negative int or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def _positive_pair(value, name):
    pair = _pair(value, name)
    if min(pair) < 1:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return pair


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """2-D cross-correlation of an (N, C, H, W) input with an (out, C, kh, kw) weight, as torch's conv2d.

    stride, padding (zeros) and dilation are ints or (h, w) pairs. There is no `groups`: every output
    channel sees every input channel.
    """
    return Conv2d.apply(x, weight, bias, stride=_positive_pair(stride, "stride"),
                        padding=_pair(padding, "padding"), dilation=_positive_pair(dilation, "dilation"))


def _pool_args(kernel_size, stride, padding):
    kernel = _positive_pair(kernel_size, "kernel_size")
    stride = kernel if stride is None else _positive_pair(stride, "stride")
    return {"kernel_size": kernel, "stride": stride, "padding": _pair(padding, "padding")}


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """The maximum of each window of an (N, C, H, W) input; stride defaults to kernel_size, padding is -inf."""
    return MaxPool2d.apply(x, **_pool_args(kernel_size, stride, padding))


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """The mean of each window of an (N, C, H, W) input; zero padding counts in the divisor (torch's default)."""
    return AvgPool2d.apply(x, **_pool_args(kernel_size, stride, padding))


def adaptive_avg_pool2d(x, output_size):
    """Global average pooling: the mean of each channel of an (N, C, H, W) input, shape (N, C, 1, 1).

    Only output_size 1 (or (1, 1)) is supported.
    """
    if output_size not in (1, (1, 1), [1, 1]):
        raise ValueError(f"adaptive_avg_pool2d supports only output_size=1 (global average pooling), "
                         f"got {output_size!r}; use avg_pool2d for other sizes")
    if x.ndim != 4:
        raise ValueError(f"adaptive_avg_pool2d expects an (N, C, H, W) input, got shape {x.shape}")
    return x.mean(axis=(2, 3), keepdims=True)


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalise each channel (axis 1) of x, as torch.nn.functional.batch_norm.

    training=True uses this batch's mean and biased variance and updates running_mean/running_var
    (Tensors, or None) in place with `momentum`; training=False uses the running statistics.
    """
    return BatchNorm.apply(x, weight, bias, running_mean, running_var, use_batch_stats=training,
                           momentum=momentum, eps=eps)


def _check_tensors(op_name, **arguments):
    """Raise a TypeError naming the first argument that is neither a Tensor nor None (a list, an array)."""
    for name, value in arguments.items():
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"{op_name}: {name} must be a Tensor, got {type(value).__name__}; "
                            "wrap it with td.tensor(...)")


# ---------------------------------------------------------------- transformer building blocks


def embedding(input, weight):  # noqa: A002 - PyTorch's name
    """Rows of `weight` (num_embeddings, dim) picked by the integer indices in `input`: shape input.shape + (dim,)."""
    indices = input.data if isinstance(input, Tensor) else backend.array_module_for(weight.device).asarray(input)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {indices.dtype}")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape {weight.shape}")
    if indices.size and (indices.min() < 0 or indices.max() >= weight.shape[0]):
        raise IndexError(f"embedding: index {int(indices.max() if indices.max() >= weight.shape[0] else indices.min())}"
                         f" is out of range for {weight.shape[0]} embeddings (indices must be in "
                         f"[0, {weight.shape[0] - 1}])")
    return Embedding.apply(backend.to_device(indices, weight.device), weight)


def _normalized_shape(normalized_shape):
    return (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):  # noqa: A002 - PyTorch's name
    """Normalise over the last len(normalized_shape) axes to zero mean and unit (biased) variance, then
    scale by `weight` and shift by `bias` (both of shape normalized_shape, optional), as torch's layer_norm.
    """
    shape = _normalized_shape(normalized_shape)
    if not shape or input.shape[input.ndim - len(shape):] != shape:
        raise ValueError(f"layer_norm: normalized_shape {shape} must be the last axes of the input's shape "
                         f"{input.shape}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != shape:
            raise ValueError(f"layer_norm: {name} of shape {t.shape} must have normalized_shape {shape}")
    return LayerNorm.apply(input, weight, bias, n_axes=len(shape), eps=eps)


def gelu(input, approximate="none"):  # noqa: A002 - PyTorch's name
    """x * Phi(x) with Phi the standard normal CDF; approximate="tanh" uses GPT-2's tanh form of Phi."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    if not _is_float(input.dtype):
        raise TypeError(f"gelu needs a floating-point input, got dtype {input.dtype}")
    return GELU.apply(input, approximate=approximate)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """softmax(Q K^T * scale + mask) V, as torch's F.scaled_dot_product_attention.

    query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev); scale defaults to 1/sqrt(E).
    attn_mask: bool (True = the query may attend to that key) or float (added to the scores), broadcasting
    to (..., L, S). is_causal=True lets query i attend to keys 0..i only. Dropout with dropout_p is applied
    to the attention weights whenever dropout_p > 0: pass dropout_p=0 in evaluation, as in PyTorch.
    """
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise ValueError(f"scaled_dot_product_attention: query, key and value need at least 2 axes (..., L, E), "
                         f"got shapes {query.shape}, {key.shape}, {value.shape}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ValueError(f"scaled_dot_product_attention: query {query.shape}, key {key.shape} and value "
                         f"{value.shape} do not fit: expected (..., L, E), (..., S, E) and (..., S, Ev)")
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: pass either attn_mask or is_causal=True, not both")
    scale = 1.0 / np.sqrt(query.shape[-1]) if scale is None else float(scale)
    scores = query @ key.transpose(*range(key.ndim - 2), -1, -2)  # (..., L, S), scaled inside MaskedSoftmax
    if is_causal:  # query i sees keys 0..i: the lower triangle, aligned at the top left as in torch
        xp = backend.array_module_for(query.device)
        attn_mask = xp.tril(xp.ones(scores.shape[-2:], dtype=bool))
    mask = attn_mask.data if isinstance(attn_mask, Tensor) else attn_mask
    keep = None
    if mask is not None and getattr(mask, "dtype", None) == np.bool_:  # True = take part: the others get -inf
        keep = shapes.bool_mask(mask, scores, "scaled_dot_product_attention")
    elif mask is not None:  # a float mask is added to the scaled scores, in their dtype
        if isinstance(attn_mask, Tensor) and attn_mask.dtype != scores.dtype:
            raise TypeError(f"scaled_dot_product_attention: attn_mask must be bool or have the query's dtype "
                            f"{scores.dtype}, got {attn_mask.dtype}")
        added = attn_mask if isinstance(attn_mask, Tensor) else mask.astype(scores.dtype, copy=False)
        scores = scores * scale + added
        scale = 1.0
    weights = MaskedSoftmax.apply(scores, keep, scale)
    weights = dropout(weights, dropout_p)  # seed site 1: dropout on the attention weights, before they meet V
    return weights @ value
