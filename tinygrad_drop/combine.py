"""Functions that build one tensor from several: where, cat and stack (torch's names and meaning)."""

import numpy as np

from . import backend
from .ops.movement import Cat, Where
from .tensor import Tensor, resolve_axis


def where(condition, input, other):  # noqa: A002 - torch's name
    """Elementwise `input if condition else other`, broadcasting all three; one of the values may be a number."""
    like = input if isinstance(input, Tensor) else other
    if not isinstance(like, Tensor):
        raise TypeError("where: input or other must be a Tensor (one of them may be a number)")
    xp = backend.array_module_for(like.device)
    a, b = (v if isinstance(v, Tensor) else xp.asarray(v, dtype=like.dtype) for v in (input, other))
    if a.dtype != b.dtype:
        raise TypeError(f"where: input and other have dtypes {a.dtype} and {b.dtype}; cast one with .to(dtype=...)")
    cond = condition.data if isinstance(condition, Tensor) else condition
    cond = backend.to_device(np.asarray(cond) if backend.get_array_module(cond) is np else cond, like.device)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be bool, got dtype {cond.dtype}; compare first, e.g. x > 0")
    try:
        np.broadcast_shapes(cond.shape, a.shape, b.shape)
    except ValueError:
        raise ValueError(f"where: shapes {cond.shape} (condition), {a.shape} (input) and {b.shape} (other) cannot "
                         "be broadcast together") from None
    return Where.apply(cond, a, b)


def _check_joinable(tensors, what):
    """The tensors as a list, checked to be a non-empty sequence of Tensors of one dtype."""
    tensors = list(tensors)
    if not tensors or not all(isinstance(t, Tensor) for t in tensors):
        raise TypeError(f"{what} expects a non-empty sequence of Tensors")
    dtypes = {t.dtype for t in tensors}
    if len(dtypes) > 1:
        raise TypeError(f"{what}: the tensors have different dtypes {sorted(map(str, dtypes))}; cast them to one")
    return tensors


def cat(tensors, axis=None, *, dim=None):
    """Join tensors along an existing axis (default 0); all other axes must match, as torch.cat."""
    tensors = _check_joinable(tensors, "cat")
    axis = resolve_axis(axis, dim, default=0)
    ndim = tensors[0].ndim
    if ndim == 0 or not -ndim <= axis < ndim:
        raise IndexError(f"cat: axis {axis} is out of range for tensors of {ndim} dimensions")
    axis %= ndim
    first = tensors[0].shape
    for t in tensors[1:]:
        if t.ndim != ndim or t.shape[:axis] + t.shape[axis + 1:] != first[:axis] + first[axis + 1:]:
            raise ValueError(f"cat: shapes {[t.shape for t in tensors]} differ outside axis {axis}; "
                             "all other axes must match")
    return Cat.apply(*tensors, axis=axis)


def stack(tensors, axis=None, *, dim=None):
    """Join same-shaped tensors along a new axis (default 0), as torch.stack: cat of unsqueezed tensors."""
    tensors = _check_joinable(tensors, "stack")
    if len({t.shape for t in tensors}) > 1:
        raise ValueError(f"stack: all tensors must have the same shape, got {[t.shape for t in tensors]}")
    axis = resolve_axis(axis, dim, default=0)
    return cat([t.unsqueeze(axis) for t in tensors], axis=axis)
