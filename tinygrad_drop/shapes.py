"""Shape arithmetic for the movement methods (unsqueeze, squeeze, split) and bool masks, on plain tuples
and arrays, with errors that name the shapes involved.
"""

import numpy as np

from . import backend


def _check_axis(axis, ndim, what):
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{what}: axis must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise IndexError(f"{what}: axis {axis} is out of range for {ndim} dimensions (use -{ndim} to {ndim - 1})")
    return int(axis) % ndim


def unsqueezed(shape, axis):
    """`shape` with a 1 inserted at `axis`, which counts in the result's ndim + 1 axes (torch.unsqueeze)."""
    if axis is None:
        raise TypeError("unsqueeze() needs the axis where the new size-1 axis goes, e.g. x.unsqueeze(0)")
    axis = _check_axis(axis, len(shape) + 1, f"unsqueeze of a tensor of shape {shape}")
    return shape[:axis] + (1,) + shape[axis:]


def squeezed(shape, axis):
    """`shape` without its size-1 axes, or without those of `axis` (int or tuple) that have size 1."""
    if axis is None:
        return tuple(s for s in shape if s != 1)
    axes = (axis,) if not isinstance(axis, (tuple, list)) else axis
    n = max(len(shape), 1)  # a 0-d tensor accepts axis 0 and -1, as in torch
    drop = {_check_axis(a, n, f"squeeze of a tensor of shape {shape}") for a in axes}
    return tuple(s for i, s in enumerate(shape) if not (i in drop and s == 1))


def split_slices(shape, split_size_or_sections, axis):
    """Index tuples cutting `shape` along `axis` into pieces of split_size (the last shorter) or of the listed sizes."""
    axis = _check_axis(axis, len(shape), f"split of a tensor of shape {shape}")
    length = shape[axis]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != length or any(s < 0 for s in sizes):
            raise ValueError(f"split: sections {sizes} must be non-negative and add up to {length}, the size of "
                             f"axis {axis} of shape {shape}")
    else:
        size = split_size_or_sections
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"split: split_size must be a positive int (or a list of sizes), got {size!r}")
        sizes = [min(size, length - start) for start in range(0, length, size)] or [0]
    starts = np.cumsum([0] + sizes[:-1])
    return [(slice(None),) * axis + (slice(int(s), int(s) + n),) for s, n in zip(starts, sizes, strict=True)]


def bool_mask(mask, like, what):
    """`mask` (a bool array or list) as an array on `like`'s device that broadcasts to like's shape."""
    if backend.get_array_module(mask) is np:
        mask = np.asarray(mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"{what}: mask must be bool (True = selected), got dtype {mask.dtype}; compare first, "
                        "e.g. x > 0")
    try:
        fits = np.broadcast_shapes(mask.shape, like.shape) == like.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{what}: mask of shape {mask.shape} does not broadcast to the tensor's shape {like.shape}")
    return backend.to_device(mask, backend.device_of(like))
