"""Factories: zeros, ones, rand, randn, arange, full and the *_like variants."""

import numpy as np

from . import backend
from . import random as _random
from .tensor import Tensor, check_requires_grad, default_float


def _shape_from(shape):
    """Accept a shape as separate ints or as one tuple/list."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for s in shape:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"a shape needs non-negative ints, got {shape}")
    return tuple(int(s) for s in shape)


def _make(array, dtype, device, requires_grad):
    """Wrap a freshly made host array as a leaf tensor on `device`."""
    array = backend.to_device(array.astype(dtype or default_float, copy=False), backend.parse_device(device))
    if requires_grad:
        check_requires_grad(array.dtype)
    return Tensor._wrap(array, requires_grad=requires_grad)


def zeros(*shape, dtype=None, device=None, requires_grad=False):
    """A tensor of zeros (float32 by default)."""
    return _make(np.zeros(_shape_from(shape)), dtype, device, requires_grad)


def ones(*shape, dtype=None, device=None, requires_grad=False):
    """A tensor of ones (float32 by default)."""
    return _make(np.ones(_shape_from(shape)), dtype, device, requires_grad)


def full(shape, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor of the given shape filled with `fill_value`."""
    shape = _shape_from((shape,) if isinstance(shape, (int, np.integer)) else (shape,))
    return _make(np.full(shape, fill_value), dtype, device, requires_grad)


def rand(*shape, dtype=None, device=None, requires_grad=False):
    """U[0, 1) samples from the framework's generator."""
    array = _random.uniform(_shape_from(shape), dtype=dtype or default_float)
    return _make(array, dtype, device, requires_grad)


def randn(*shape, dtype=None, device=None, requires_grad=False):
    """N(0, 1) samples from the framework's generator."""
    array = _random.normal(_shape_from(shape), dtype=dtype or default_float)
    return _make(array, dtype, device, requires_grad)


def arange(start, stop=None, step=1, dtype=None, device=None, requires_grad=False):
    """Evenly spaced values in [start, stop): int64 for int arguments, float32 otherwise."""
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange step must not be zero")
    all_ints = all(isinstance(v, (int, np.integer)) for v in (start, stop, step))
    dtype = dtype or (np.int64 if all_ints else default_float)
    return _make(np.arange(start, stop, step), dtype, device, requires_grad)


def zeros_like(tensor, dtype=None, device=None, requires_grad=False):
    """Zeros with the shape, dtype and device of `tensor` (unless overridden)."""
    return zeros(tensor.shape, dtype=dtype or tensor.dtype, device=device or tensor.device,
                 requires_grad=requires_grad)


def ones_like(tensor, dtype=None, device=None, requires_grad=False):
    """Ones with the shape, dtype and device of `tensor` (unless overridden)."""
    return ones(tensor.shape, dtype=dtype or tensor.dtype, device=device or tensor.device,
                requires_grad=requires_grad)


def tensor(data, requires_grad=False, dtype=None, device=None):
    """Same as Tensor(data, ...): a new leaf tensor holding a copy of `data`."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


def from_dlpack(array):
    """A tensor that shares memory with any DLPack array (PyTorch, JAX, CuPy, NumPy): no copy is made."""
    on_cpu = array.__dlpack_device__()[0] == 1  # DLPack's device type 1 is the CPU
    xp = np if on_cpu else backend.array_module_for(backend.parse_device("cuda"))
    return Tensor._wrap(xp.from_dlpack(array))
