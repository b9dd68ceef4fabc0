"""Inverted dropout, as one op that owns its mask.

Training:  m ~ Bernoulli(1 - p) (m = 1 keeps a unit),   y = m * x / (1 - p),
backward:  dL/dx = m / (1 - p) * dL/dy,  so a dropped unit gets exactly zero gradient.
Scaling by 1/(1 - p) while training keeps E[y] = x, so evaluation needs no change: y = x.
"""

from .. import backend
from ..autograd import Function
from ..random import MaskDraw

MASK_STORAGES = ("bool", "recompute")


def check_mask_storage(mask_storage):
    """Return mask_storage if it is "bool" or "recompute"; raise a ValueError otherwise."""
    if mask_storage not in MASK_STORAGES:
        raise ValueError(f"mask_storage must be 'bool' or 'recompute', got {mask_storage!r}")
    return mask_storage


class Dropout(Function):
    """y = mask * x * scale with scale = 1/(1 - p) (0 when p = 1);  dL/dx = mask * scale * dL/dy.

    `mask` is a bool array (True = keep) given by the user to replay a mask, or a `MaskDraw` (where
    the mask's bits sit in the framework's random stream), which the op turns into the mask itself:
    on CuPy one kernel draws the bits, forms the mask and scales. It may be any shape that
    broadcasts to x (a mask shared along some axes).

    What backward needs is kept by `mask_storage`: "bool" saves the mask (1 byte per element);
    "recompute" saves only the MaskDraw (0 bytes per element) and draws the same mask again in
    backward. A user-given mask is saved as it is.
    """

    @staticmethod
    def forward(ctx, x, mask, scale, mask_storage="bool"):
        scale = x.dtype.type(scale)
        ctx.scale = scale
        if isinstance(mask, MaskDraw) and mask_storage == "recompute":
            ctx.save_for_backward(mask)
            return mask.apply(x, scale)
        if isinstance(mask, MaskDraw):
            y, mask = mask.apply(x, scale, return_keep=True)
        else:
            y = backend.masked_scale(x, mask, scale)
        ctx.save_for_backward(mask)
        return y

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        if isinstance(mask, MaskDraw):  # dL/dx = mask * scale * dL/dy is the forward map applied to dL/dy
            return mask.apply(grad, ctx.scale), None
        return backend.masked_scale(grad, mask, ctx.scale), None
