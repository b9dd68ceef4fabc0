"""Movement ops: they rearrange elements without changing them, so backward rearranges the gradient."""

import itertools
from numbers import Integral

from ..autograd import Function, unbroadcast
from ..backend import device_of, get_array_module, scatter_add, to_device


class Reshape(Function):
    """y = x viewed with a new shape;  dL/dx = dL/dy reshaped back."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape)


class Transpose(Function):
    """y = x with axes permuted;  dL/dx = dL/dy with the inverse permutation."""

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return x.transpose(axes)

    @staticmethod
    def backward(ctx, grad):
        inverse = [0] * len(ctx.axes)
        for i, a in enumerate(ctx.axes):
            inverse[a] = i
        return grad.transpose(inverse)


def _is_advanced(index):
    """True if `index` holds an array or list (advanced indexing, where positions can repeat)."""
    parts = index if isinstance(index, tuple) else (index,)
    return any(not isinstance(p, (int, slice, type(None), type(Ellipsis))) for p in parts)


class GetItem(Function):
    """y = x[index];  dL/dx = zeros with dL/dy added at index (repeated positions accumulate)."""

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.dtype, ctx.index = x.shape, x.dtype, index
        return x[index]

    @staticmethod
    def backward(ctx, grad):
        grad_x = get_array_module(grad).zeros(ctx.shape, dtype=ctx.dtype)
        if _is_advanced(ctx.index):
            scatter_add(grad_x, ctx.index, grad)
        else:
            grad_x[ctx.index] = grad
        return grad_x


class ToDevice(Function):
    """y = x copied to another device;  dL/dx = dL/dy copied back to x's device."""

    @staticmethod
    def forward(ctx, x, device):
        ctx.device = device_of(x)
        return to_device(x, device)

    @staticmethod
    def backward(ctx, grad):
        return to_device(grad, ctx.device)


class Expand(Function):
    """y = x repeated along size-1 axes and new leading axes (torch.expand);  dL/dx = dL/dy summed back.

    In the target shape, -1 keeps an existing axis's size.
    """

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        extra = len(shape) - x.ndim
        target = tuple(x.shape[i - extra] if size == -1 and i >= extra else size for i, size in enumerate(shape))
        fits = extra >= 0 and all(isinstance(s, Integral) and not isinstance(s, bool) and s >= 0 for s in target)
        if not fits or any(old not in (1, new) for old, new in zip(x.shape, target[extra:], strict=True)):
            raise ValueError(f"expand: cannot expand shape {x.shape} to {tuple(shape)} (only size-1 axes and new "
                             "leading axes can grow; -1 keeps an existing size)")
        return get_array_module(x).broadcast_to(x, target).copy()  # a copy: a broadcast view is read-only

    @staticmethod
    def backward(ctx, grad):
        return (unbroadcast(grad, ctx.shape),)


# ---------------------------------------------------------------- selecting and joining (where, cat)


class Where(Function):
    """y = a where cond else b (all three broadcast together);  dL/da = dL/dy where cond, dL/db = dL/dy elsewhere,
    each summed back to its input's shape. cond gets no gradient.
    """

    @staticmethod
    def forward(ctx, cond, a, b):
        xp = get_array_module(a)
        ctx.save_for_backward(cond)
        ctx.shapes = (xp.shape(a), xp.shape(b))
        return xp.where(cond, a, b)

    @staticmethod
    def backward(ctx, grad):
        (cond,) = ctx.saved_tensors
        xp, zero = get_array_module(grad), grad.dtype.type(0)
        grad_a = unbroadcast(xp.where(cond, grad, zero), ctx.shapes[0]) if ctx.needs_input_grad[1] else None
        grad_b = unbroadcast(xp.where(cond, zero, grad), ctx.shapes[1]) if ctx.needs_input_grad[2] else None
        return None, grad_a, grad_b


class Cat(Function):
    """y = the inputs joined along `axis`;  dL/dx_i = the slice of dL/dy where x_i sits."""

    @staticmethod
    def forward(ctx, *arrays, axis=0):
        ctx.axis = axis
        ctx.ends = list(itertools.accumulate(a.shape[axis] for a in arrays))
        return get_array_module(arrays[0]).concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        pieces = get_array_module(grad).split(grad, ctx.ends[:-1], axis=ctx.axis)
        return tuple(p if needs else None for p, needs in zip(pieces, ctx.needs_input_grad, strict=True))
