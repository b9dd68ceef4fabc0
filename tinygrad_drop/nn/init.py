"""Parameter initialisation in place, as torch.nn.init: the same fan and gain rules, drawn from the
framework's generator (so `td.manual_seed` makes them reproducible). Each function returns its tensor.
"""

import math

import numpy as np

from .. import backend
from .. import random as _random


def _fill(tensor, array):
    """Write `array` into tensor.data (keeping its dtype and device) and return the tensor."""
    tensor.data = backend.to_device(array.astype(tensor.dtype, copy=False), tensor.device)
    return tensor


def _float_dtype(tensor):
    return tensor.dtype if tensor.dtype.kind == "f" and tensor.dtype.itemsize >= 4 else None


def _uniform(tensor, low, high):
    u = _random.uniform(tensor.shape, dtype=_float_dtype(tensor) or "float32")
    return _fill(tensor, u * (high - low) + low)


def _normal(tensor, mean, std):
    return _fill(tensor, _random.normal(tensor.shape, dtype=_float_dtype(tensor) or "float32") * std + mean)


def zeros_(tensor):
    """Fill with 0."""
    return _fill(tensor, np.zeros(tensor.shape))


def ones_(tensor):
    """Fill with 1."""
    return _fill(tensor, np.ones(tensor.shape))


def uniform_(tensor, a=0.0, b=1.0):
    """Fill with U(a, b) samples."""
    return _uniform(tensor, a, b)


def normal_(tensor, mean=0.0, std=1.0):
    """Fill with N(mean, std^2) samples."""
    return _normal(tensor, mean, std)


def calculate_gain(nonlinearity, param=None):
    """torch's recommended gain for a nonlinearity: 1 (linear, sigmoid), 5/3 (tanh), sqrt(2) (relu),
    sqrt(2 / (1 + slope^2)) (leaky_relu, slope `param`, default 0.01), 3/4 (selu).
    """
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                        "conv_transpose3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) = (shape[1] * receptive field, shape[0] * receptive field), the receptive field
    being the product of the axes after the first two (torch's rule for (out, in, ...) weights).
    """
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor with at least 2 dimensions, got shape {tensor.shape}")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def xavier_uniform_(tensor, gain=1.0):
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio 2010)."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _uniform(tensor, -bound, bound)


def xavier_normal_(tensor, gain=1.0):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return _normal(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """U(-b, b) with b = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a) (He et al. 2015)."""
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(tensor, mode))
    return _uniform(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """N(0, std^2) with std = gain / sqrt(fan), gain = calculate_gain(nonlinearity, a)."""
    return _normal(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode)))
