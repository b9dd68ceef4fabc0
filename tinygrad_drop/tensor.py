"""Tensor: an array (`.data`), its gradient (`.grad`) and its place in the graph (`._ctx`).

Operators do no maths themselves: each one checks its inputs and hands off to an op in `ops/`
through `Function.apply`, which records the graph node.
"""

import math

import numpy as np

from . import autograd, backend, shapes
from .autograd import backward as run_backward
from .ops.elementwise import Add, Cast, Div, Exp, Log, Mul, Neg, Pow, Sigmoid, Sqrt, Sub, Tanh
from .ops.matmul import MatMul
from .ops.movement import GetItem, Reshape, ToDevice, Transpose, Where
from .ops.reduce import Max, Mean, Sum, Var
from .ops.relu import ReLU
from .ops.softmax import LogSoftmax, Softmax

float16, float32, float64 = np.dtype("float16"), np.dtype("float32"), np.dtype("float64")
int8, int16, int32, int64 = np.dtype("int8"), np.dtype("int16"), np.dtype("int32"), np.dtype("int64")
uint8, bool_ = np.dtype("uint8"), np.dtype("bool")
default_float = float32

_PY_SCALARS = (bool, int, float)


def _array_from(data, dtype):
    """Build a host or device array from user data, with PyTorch's dtype inference.

    Python floats (and lists holding any float) give float32, Python ints give int64, bools give
    bool; NumPy/CuPy arrays and NumPy scalars keep their dtype unless `dtype` is given. Always copies.
    """
    if isinstance(data, Tensor):
        data = data.data
    xp = backend.get_array_module(data)
    if xp is not np or isinstance(data, (np.ndarray, np.generic)):
        return xp.array(data, dtype=dtype)
    try:
        array = np.array(data)
    except ValueError as err:
        raise ValueError(f"cannot build a tensor from ragged nested sequences: {err}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"cannot build a tensor from data of type {type(data).__name__} (NumPy dtype {array.dtype})")
    if dtype is None:
        dtype = {"f": default_float, "i": int64, "u": int64, "b": bool_}[array.dtype.kind]
    return array.astype(dtype, copy=False)


def resolve_axis(axis, dim, default=None):
    """The axis from NumPy's `axis=` or torch's `dim=` (either may be used, not both)."""
    if dim is not None and axis is not None:
        raise TypeError(f"pass axis= or dim=, not both (got axis={axis!r} and dim={dim!r})")
    if dim is not None:
        return dim
    return default if axis is None else axis


def _is_float(dtype):
    return np.dtype(dtype).kind == "f"


def _promote(a, b, op):
    """PyTorch's rules where they differ from NumPy's: an integer or bool operand takes the other
    operand's float dtype, and int / int gives float32 (NumPy gives float64 in both cases).
    """
    a_float, b_float = _is_float(a.dtype), _is_float(b.dtype)
    if a_float and not b_float:
        return a, b.to(dtype=a.dtype)
    if b_float and not a_float:
        return a.to(dtype=b.dtype), b
    if op is Div and not a_float:
        return a.to(dtype=default_float), b.to(dtype=default_float)
    return a, b


def _check_requires_grad(dtype):
    if not _is_float(dtype):
        raise TypeError(
            f"only floating-point tensors can require gradients, got dtype {np.dtype(dtype)}: "
            "create the tensor with dtype=td.float32 (or td.float64)"
        )


class Tensor:
    """An n-dimensional array that can record the ops applied to it and compute gradients."""

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "__weakref__")
    __array_ufunc__ = None  # so that `ndarray * Tensor` calls Tensor.__rmul__ instead of NumPy
    __hash__ = object.__hash__  # == compares elementwise, so hash by identity

    def __init__(self, data, requires_grad=False, dtype=None, device=None):
        array = _array_from(data, None if dtype is None else np.dtype(dtype))
        if device is not None:
            array = backend.to_device(array, backend.parse_device(device))
        if requires_grad:
            _check_requires_grad(array.dtype)
        self.data, self.grad, self.requires_grad, self._ctx = array, None, bool(requires_grad), None

    @classmethod
    def _wrap(cls, array, requires_grad=False, ctx=None):
        """Wrap a backend array without copying (ops use this; users call Tensor(...))."""
        t = cls.__new__(cls)
        if type(array) is not np.ndarray and backend.get_array_module(array) is np:
            array = np.asarray(array)  # NumPy reductions return scalars: .data is always an ndarray
        t.data, t.grad, t.requires_grad, t._ctx = array, None, requires_grad, ctx
        return t

    # ------------------------------------------------------------ properties

    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return self.data.size

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def device(self):
        return backend.device_of(self.data)

    @property
    def is_leaf(self):
        return self._ctx is None

    @property
    def grad_fn(self):
        return self._ctx

    @property
    def T(self):  # noqa: N802 - NumPy's name
        return self.transpose()

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self):
        if self.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self.size} elements is ambiguous; use .any() or .all()"
            )
        return bool(self.data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __repr__(self):
        body = np.array2string(backend.to_numpy(self.data), separator=", ", prefix="Tensor(")
        extras = []
        if self.dtype not in (float32, int64, bool_):
            extras.append(f"dtype={self.dtype}")
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self._ctx is not None:
            extras.append(f"grad_fn=<{type(self._ctx).__name__}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return f"Tensor({body}{''.join(', ' + e for e in extras)})"

    # ------------------------------------------------------------ conversion

    def numpy(self):
        """The data as a NumPy array. On the CPU it shares memory with the tensor (as in PyTorch)."""
        return backend.to_numpy(self.data)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self.data.item()

    def tolist(self):
        """The data as (nested) Python lists."""
        return backend.to_numpy(self.data).tolist()

    def __dlpack__(self, **kwargs):
        """Export the data through DLPack without a copy, for torch.from_dlpack, jax.dlpack or np.from_dlpack."""
        if self.requires_grad:
            raise RuntimeError("cannot export a tensor that requires grad through DLPack: use tensor.detach()")
        return self.data.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        """DLPack's (device type, device index) of the data: (1, 0) on the CPU, (2, N) on cuda:N."""
        return self.data.__dlpack_device__()

    def detach(self):
        """A new leaf that shares this tensor's data and records no graph."""
        return Tensor._wrap(self.data)

    def requires_grad_(self, requires_grad=True):
        """Set requires_grad in place (floating-point tensors only) and return self."""
        if requires_grad:
            _check_requires_grad(self.dtype)
        self.requires_grad = bool(requires_grad)
        return self

    def to(self, device=None, dtype=None):
        """This tensor on another device and/or dtype (differentiable); self when nothing changes."""
        out = self
        if dtype is not None and np.dtype(dtype) != self.dtype:
            out = Cast.apply(out, dtype=np.dtype(dtype))
        if device is not None and backend.parse_device(device) != self.device:
            out = ToDevice.apply(out, device=backend.parse_device(device))
        return out

    def cpu(self):
        return self.to("cpu")

    def cuda(self, index=0):
        return self.to(f"cuda:{index}")

    def float(self):
        return self.to(dtype=float32)

    def double(self):
        return self.to(dtype=float64)

    # ------------------------------------------------------------ autograd

    def backward(self, grad=None, retain_graph=False):
        """Accumulate the gradient of this tensor w.r.t. every leaf that requires grad into `.grad`.

        `grad` (an array or Tensor of this tensor's shape) is dL/d(self); it may be omitted only
        for a one-element tensor, where it is 1.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: no input of the computation had "
                "requires_grad=True (or it ran under td.no_grad())"
            )
        xp = backend.get_array_module(self.data)
        if grad is None:
            if self.size != 1:
                raise RuntimeError(
                    f"backward() without grad needs a one-element output, got shape {self.shape}: "
                    "reduce it first (for example .sum() or .mean()) or pass grad= of the same shape"
                )
            grad = xp.ones(self.shape, dtype=self.dtype)
        else:
            grad = xp.array(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)
            if grad.shape != self.shape:
                raise ValueError(
                    f"backward(grad=...) got grad of shape {grad.shape} for a tensor of shape {self.shape}"
                )
        run_backward(self, grad, retain_graph=retain_graph)

    def _accumulate(self, grad):
        """Add a gradient into .grad (a leaf's gradients sum over backward calls, as in PyTorch)."""
        if grad.dtype != self.dtype:
            grad = grad.astype(self.dtype)
        self.grad = grad if self.grad is None else self.grad + grad

    def zero_grad(self):
        """Forget the accumulated gradient (.grad becomes None)."""
        self.grad = None

    def register_hook(self, hook):
        """Call hook(grad) with this tensor's gradient array in every backward; a non-None result replaces it.

        Returns a handle whose .remove() takes the hook off again.
        """
        return autograd.register_hook(self, hook)

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in .grad after backward (leaves keep theirs anyway)."""
        autograd.retain_grad(self)

    @property
    def retains_grad(self):
        """True for a non-leaf tensor after retain_grad()."""
        return autograd.retains_grad(self)

    # ------------------------------------------------------------ binary operators

    def _operand(self, other, op):
        """Turn the other operand into a Tensor on this tensor's device, with PyTorch's scalar rules.

        A Python scalar takes this tensor's dtype, so `x * 0.5` stays float32; a float scalar with
        an integer tensor gives float32, as in PyTorch. Two tensors on different devices are
        caught by Function.apply, which names the op and both devices.
        """
        if isinstance(other, Tensor):
            return self, other
        xp = backend.get_array_module(self.data)
        if isinstance(other, _PY_SCALARS):
            me = self
            if isinstance(other, float) and not _is_float(self.dtype):
                me = self.to(dtype=default_float)
            elif self.dtype == bool_ and not isinstance(other, bool):
                me = self.to(dtype=int64)
            return me, Tensor._wrap(xp.asarray(other, dtype=me.dtype))
        if isinstance(other, (np.ndarray, np.generic)) or backend.get_array_module(other) is not np:
            return self, Tensor._wrap(backend.to_device(xp.asarray(other), self.device))
        raise TypeError(f"{op.__name__.lower()}: unsupported operand type {type(other).__name__}")

    def _binary(self, op, other, reverse=False):
        a, b = self._operand(other, op)
        if reverse:
            a, b = b, a
        a, b = _promote(a, b, op)
        try:
            return op.apply(a, b)
        except ValueError:
            if op is MatMul:  # its own message names both shapes, which need not broadcast as a whole
                raise
            try:
                np.broadcast_shapes(a.shape, b.shape)
            except ValueError:
                raise ValueError(
                    f"{op.__name__.lower()}: shapes {a.shape} and {b.shape} cannot be broadcast together "
                    "(trailing dimensions must match or be 1)"
                ) from None
            raise

    def __add__(self, other):
        return self._binary(Add, other)

    def __radd__(self, other):
        return self._binary(Add, other, reverse=True)

    def __sub__(self, other):
        return self._binary(Sub, other)

    def __rsub__(self, other):
        return self._binary(Sub, other, reverse=True)

    def __mul__(self, other):
        return self._binary(Mul, other)

    def __rmul__(self, other):
        return self._binary(Mul, other, reverse=True)

    def __truediv__(self, other):
        return self._binary(Div, other)

    def __rtruediv__(self, other):
        return self._binary(Div, other, reverse=True)

    def __matmul__(self, other):
        return self._binary(MatMul, other)

    def __rmatmul__(self, other):
        return self._binary(MatMul, other, reverse=True)

    def __neg__(self):
        return Neg.apply(self)

    def __pow__(self, exponent):
        if not isinstance(exponent, (int, float)) or isinstance(exponent, bool):
            raise TypeError(
                f"** needs a Python number as exponent, got {type(exponent).__name__}; "
                "for a tensor exponent b use (b * a.log()).exp()"
            )
        x = self if _is_float(self.dtype) or isinstance(exponent, int) else self.to(dtype=default_float)
        return Pow.apply(x, exponent=exponent)

    def __rpow__(self, base):
        """base ** x = e^(x ln base), for a positive Python number base."""
        if not isinstance(base, (int, float)) or base <= 0:
            raise ValueError(f"number ** tensor needs a positive base, got {base!r}")
        return (self * math.log(base)).exp()

    # comparisons: elementwise, return bool tensors, record no graph
    def _compare(self, other, ufunc):
        other = other.data if isinstance(other, Tensor) else other
        return Tensor._wrap(ufunc(self.data, other))

    def __eq__(self, other):
        return self._compare(other, backend.get_array_module(self.data).equal)

    def __ne__(self, other):
        return self._compare(other, backend.get_array_module(self.data).not_equal)

    def __lt__(self, other):
        return self._compare(other, backend.get_array_module(self.data).less)

    def __le__(self, other):
        return self._compare(other, backend.get_array_module(self.data).less_equal)

    def __gt__(self, other):
        return self._compare(other, backend.get_array_module(self.data).greater)

    def __ge__(self, other):
        return self._compare(other, backend.get_array_module(self.data).greater_equal)

    # ------------------------------------------------------------ unary and reductions

    def exp(self):
        return Exp.apply(self)

    def log(self):
        return Log.apply(self)

    def sqrt(self):
        return Sqrt.apply(self)

    def relu(self):
        return ReLU.apply(self)

    def sigmoid(self):
        return Sigmoid.apply(self)

    def tanh(self):
        return Tanh.apply(self)

    def softmax(self, axis=None, *, dim=None):
        return Softmax.apply(self, axis=resolve_axis(axis, dim, default=-1))

    def log_softmax(self, axis=None, *, dim=None):
        return LogSoftmax.apply(self, axis=resolve_axis(axis, dim, default=-1))

    def sum(self, axis=None, keepdims=False, *, dim=None):
        return Sum.apply(self, axis=resolve_axis(axis, dim), keepdims=keepdims)

    def mean(self, axis=None, keepdims=False, *, dim=None):
        x = self if _is_float(self.dtype) else self.to(dtype=default_float)
        return Mean.apply(x, axis=resolve_axis(axis, dim), keepdims=keepdims)

    def max(self, axis=None, keepdims=False, *, dim=None):
        """Largest value over `axis`; tied maxima share the gradient equally (as torch.amax)."""
        return Max.apply(self, axis=resolve_axis(axis, dim), keepdims=keepdims)

    def min(self, axis=None, keepdims=False, *, dim=None):
        """Smallest value over `axis`, as -max(-x)."""
        return -(-self).max(axis=resolve_axis(axis, dim), keepdims=keepdims)

    def argmax(self, axis=None):
        """Index of the largest value (no gradient)."""
        return Tensor._wrap(self.data.argmax(axis=axis))

    def argmin(self, axis=None):
        """Index of the smallest value (no gradient)."""
        return Tensor._wrap(self.data.argmin(axis=axis))

    def any(self):
        return Tensor._wrap(self.data.any())

    def all(self):
        return Tensor._wrap(self.data.all())

    # ------------------------------------------------------------ movement

    def reshape(self, *shape):
        """The same elements in a new shape (a tuple or separate ints; one -1 is inferred)."""
        shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        try:
            return Reshape.apply(self, shape=tuple(int(s) for s in shape))
        except ValueError:
            raise ValueError(
                f"cannot reshape a tensor of shape {self.shape} ({self.size} elements) to {shape}"
            ) from None

    def flatten(self, start_axis=0):
        """Merge the axes from `start_axis` on into one."""
        return self.reshape(*self.shape[:start_axis], -1)

    def transpose(self, *axes):
        """Permute the axes (NumPy's meaning): reversed when no axes are given."""
        axes = tuple(axes[0]) if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        n = self.ndim
        axes = axes or tuple(reversed(range(n)))
        if any(not -n <= a < n for a in axes) or sorted(a % n for a in axes) != list(range(n)):
            raise ValueError(f"transpose axes {axes} are not a permutation of the {n} axes of {self.shape}")
        return Transpose.apply(self, axes=tuple(a % n for a in axes))

    def __getitem__(self, index):
        """Basic slicing and integer/bool array indexing; repeated indices accumulate gradients."""
        if isinstance(index, tuple):
            index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
        elif isinstance(index, Tensor):
            index = index.data
        return GetItem.apply(self, index=index)

    # ------------------------------------------------------------ shape helpers, masking and spread (transformers)

    def unsqueeze(self, axis=None, *, dim=None):
        """A new size-1 axis at `axis` (negative counts from the end of the result), as torch.unsqueeze."""
        return Reshape.apply(self, shape=shapes.unsqueezed(self.shape, resolve_axis(axis, dim)))

    def squeeze(self, axis=None, *, dim=None):
        """Drop size-1 axes: all of them, or those of `axis` (an int or tuple) that have size 1, as torch.squeeze."""
        return Reshape.apply(self, shape=shapes.squeezed(self.shape, resolve_axis(axis, dim)))

    def permute(self, *axes):
        """Reorder the axes: y.shape[i] = x.shape[axes[i]] (torch.permute; the same as transpose(*axes))."""
        return self.transpose(*axes)

    def split(self, split_size_or_sections, axis=None, *, dim=None):
        """Pieces of split_size along `axis` (default 0), the last one shorter, or of the listed sizes (torch.split)."""
        axis = resolve_axis(axis, dim, default=0)
        return tuple(self[index] for index in shapes.split_slices(self.shape, split_size_or_sections, axis))

    def masked_fill(self, mask, value):
        """A copy with `value` where `mask` (bool, broadcasting to this shape) is True; no gradient flows there."""
        return Where.apply(shapes.bool_mask(mask, self, "masked_fill"), self.data.dtype.type(value), self)

    def var(self, axis=None, keepdims=False, correction=1, *, dim=None):
        """Variance over `axis`, dividing by n - correction (1: unbiased, as torch.var)."""
        return Var.apply(self, axis=resolve_axis(axis, dim), keepdims=keepdims, correction=correction)

    def std(self, axis=None, keepdims=False, correction=1, *, dim=None):
        """Standard deviation: sqrt of var(axis, keepdims, correction)."""
        return self.var(axis, keepdims, correction, dim=dim).sqrt()
