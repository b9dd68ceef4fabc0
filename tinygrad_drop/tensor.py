"""Tensor: an array (`.data`), its gradient (`.grad`) and its place in the graph (`._ctx`).

Operators do no maths themselves: each one checks its inputs and hands off to an op in `ops/`
through `Function.apply`, which records the graph node.
"""

import copy

import numpy as np

from . import autograd, backend, shapes
from .autograd import backward as run_backward
from .ops.elementwise import (
    Abs,
    Add,
    Cast,
    Clamp,
    Cos,
    Div,
    Exp,
    Expm1,
    Log,
    Log1p,
    Maximum,
    Minimum,
    Mul,
    Neg,
    Pow,
    PowTensor,
    Sigmoid,
    Sin,
    Sqrt,
    Sub,
    Tanh,
)
from .ops.matmul import MatMul
from .ops.movement import Expand, GetItem, Reshape, ToDevice, Transpose, Where
from .ops.reduce import Max, Mean, Min, Sum, Var
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
    bool; NumPy/CuPy arrays, NumPy scalars and a list of Tensors (stacked) keep their dtype unless
    `dtype` is given. Only bool, integer and float data is accepted. Always copies.
    """
    if isinstance(data, Tensor):
        data = data.data
    elif isinstance(data, (list, tuple)) and data and all(isinstance(t, Tensor) for t in data):
        data = _stack_tensors(data)
    xp = backend.get_array_module(data)
    if xp is not np or isinstance(data, (np.ndarray, np.generic)):
        array = xp.array(data)
        target = array.dtype if dtype is None else dtype
    else:
        array = _array_from_python(data)
        kind = "i" if _holds_python_ints(array) else array.dtype.kind
        target = dtype or {"f": default_float, "i": int64, "u": int64, "b": bool_}.get(kind)
    if array.dtype.kind not in "biuf" and not _holds_python_ints(array):
        raise TypeError(f"cannot build a tensor from data of type {type(data).__name__} (NumPy dtype {array.dtype}): "
                        "tensors hold bool, integer and floating-point numbers only")
    _check_fits(array, target)
    return array.astype(target, copy=False)


def _stack_tensors(tensors):
    """The arrays of a list of Tensors of one shape, stacked along a new first axis (torch.tensor([t1, t2]))."""
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"cannot build one tensor from a list of tensors of shapes {sorted(shapes)}: "
                         "they need one shape (or make it from their .tolist())")
    backend.check_same_device([t.data for t in tensors], "tensor")
    return backend.get_array_module(tensors[0].data).stack([t.data for t in tensors])


def _array_from_python(data):
    """np.array(data), but Python ints beyond int64 stay Python ints (an object array) for _check_fits to refuse.

    NumPy gives uint64 for [2**63], float64 for [1, 2**63] and an object array for [2**64].
    """
    try:
        array = np.array(data)
    except ValueError as err:
        raise ValueError(f"cannot build a tensor from ragged nested sequences: {err}") from None
    if array.dtype.kind in "uf" and array.size and np.abs(array).max() >= 2**63:
        as_objects = np.array(data, dtype=object)
        if _holds_python_ints(as_objects):
            return as_objects
    return array


def _holds_python_ints(array):
    """True for an object array of Python ints: NumPy's form of ints too large for int64 and uint64."""
    return array.dtype.kind == "O" and all(isinstance(v, int) and not isinstance(v, bool) for v in array.flat)


def _check_fits(array, dtype):
    """Refuse integers that the integer `dtype` cannot hold: NumPy would wrap 2**63 round to -2**63."""
    dtype = np.dtype(dtype)
    if dtype.kind not in "iu" or array.size == 0 or array.dtype.kind not in "iuO" or np.can_cast(array.dtype, dtype):
        return
    info = np.iinfo(dtype)
    for value in (int(array.min()), int(array.max())):
        if not info.min <= value <= info.max:
            raise OverflowError(f"value {value} overflows {dtype}, whose range is [{info.min}, {info.max}]; "
                                "use a wider dtype (td.float64 holds it approximately)")


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


def as_floating(tensor):
    """The tensor itself if floating point, else converted to float32: torch's rule for float-valued ops on ints."""
    return tensor if _is_float(tensor.dtype) else tensor.to(dtype=default_float)


def _check_dim(dim, ndim, op_name):
    """dim as a non-negative axis of an ndim-dimensional tensor; an IndexError naming the op when out of range."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not -ndim <= dim < ndim:
        raise IndexError(f"{op_name}: dimension {dim!r} is out of range for a tensor with {ndim} dimensions "
                         f"(expected an int in [{-ndim}, {ndim - 1}])")
    return int(dim) % ndim


def _check_matmul_dtypes(a, b):
    """torch's rule: no integer @ float matmul (NumPy would silently give float64)."""
    a_dtype, b_dtype = (v.dtype if hasattr(v, "dtype") else np.asarray(v).dtype for v in (a, b))
    if _is_float(a_dtype) != _is_float(b_dtype):
        raise TypeError(f"matmul: operands have dtypes {a_dtype} and {b_dtype}; an integer or bool tensor cannot be "
                        "multiplied with a float one: convert it first, e.g. x.float() @ w")


def _clamp_args(x, low, high):
    """(x, {"low": ..., "high": ...}) for Clamp: number bounds, at least one; a float bound makes an int x float32."""
    if low is None and high is None:
        raise ValueError("clamp: at least one of min and max must be given")
    for bound in (low, high):
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, (int, float, np.number))):
            raise TypeError(f"clamp: bounds must be numbers or None, got {type(bound).__name__}; "
                            "for tensor bounds use td.maximum(x, low) and td.minimum(x, high)")
    if isinstance(low, float) or isinstance(high, float):
        x = as_floating(x)
    cast = x.dtype.type
    return x, {"low": None if low is None else cast(low), "high": None if high is None else cast(high)}


def check_requires_grad(dtype):
    """Raise a TypeError unless `dtype` is floating-point: only those tensors can require gradients."""
    if not _is_float(dtype):
        raise TypeError(
            f"only floating-point tensors can require gradients, got dtype {np.dtype(dtype)}: "
            "create the tensor with dtype=td.float32 (or td.float64)"
        )


def _copied_index(index):
    """A copy of an index array, list or Tensor (a Tensor's array); ints, slices and None as they are."""
    if isinstance(index, Tensor):
        return index.data.copy()
    if isinstance(index, list):
        return copy.deepcopy(index)
    return index.copy() if hasattr(index, "shape") else index


class Tensor:
    """An n-dimensional array that can record the ops applied to it and compute gradients."""

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "_version", "_hooks", "__weakref__")
    __array_ufunc__ = None  # so that `ndarray * Tensor` calls Tensor.__rmul__ instead of NumPy
    __hash__ = object.__hash__  # == compares elementwise, so hash by identity

    def __init__(self, data, requires_grad=False, dtype=None, device=None):
        array = _array_from(data, None if dtype is None else np.dtype(dtype))
        if device is not None:
            array = backend.to_device(array, backend.parse_device(device))
        if requires_grad:
            check_requires_grad(array.dtype)
        self.data, self.grad, self.requires_grad, self._ctx = array, None, bool(requires_grad), None
        self._version, self._hooks = 0, None  # in-place writes so far; gradient hooks (autograd.py)

    @classmethod
    def _wrap(cls, array, requires_grad=False, ctx=None):
        """Wrap a backend array without copying (ops use this; users call Tensor(...))."""
        t = cls.__new__(cls)
        if type(array) is not np.ndarray and backend.get_array_module(array) is np:
            array = np.asarray(array)  # NumPy reductions return scalars: .data is always an ndarray
        t.data, t.grad, t.requires_grad, t._ctx = array, None, requires_grad, ctx
        t._version, t._hooks = 0, None
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

    def __array__(self, dtype=None, copy=None):
        """NumPy's conversion (np.asarray(t)): .numpy(), so a CPU tensor's memory is shared."""
        if self.device != "cpu":
            raise TypeError(f"cannot convert a tensor on {self.device} to a NumPy array implicitly: "
                            "use tensor.cpu().numpy()")
        return np.array(self.numpy(), dtype=dtype, copy=copy)

    def numpy(self):
        """The data as a NumPy array. On the CPU it shares memory with the tensor (as in PyTorch).

        For a tensor that requires grad the array is a read-only view: backward may need this very
        array, so an in-place change would silently change the gradients. Writing into it raises
        NumPy's "assignment destination is read-only"; copy it first (`.numpy().copy()`).
        """
        array = backend.to_numpy(self.data)
        if self.requires_grad and array is self.data:
            array = array.view()
            array.flags.writeable = False
        return array

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
            check_requires_grad(self.dtype)
        self.requires_grad = bool(requires_grad)
        return self

    def to(self, device=None, dtype=None):
        """This tensor on another device and/or dtype (differentiable); self when nothing changes."""
        out = self
        if dtype is not None and np.dtype(dtype) != self.dtype:  # an integer result has no gradient
            out = Cast.apply(out if _is_float(dtype) else out.detach(), dtype=np.dtype(dtype))
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
            grad = xp.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)  # engine copies it
            if grad.shape != self.shape:
                raise ValueError(
                    f"backward(grad=...) got grad of shape {grad.shape} for a tensor of shape {self.shape}"
                )
        run_backward(self, grad, retain_graph=retain_graph)

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
        return self._hooks is not None and self._hooks.retain

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
        _check_matmul_dtypes(self, other)
        return self._binary(MatMul, other)

    def __rmatmul__(self, other):
        _check_matmul_dtypes(other, self)
        return self._binary(MatMul, other, reverse=True)

    def __neg__(self):
        return Neg.apply(self)

    def __pow__(self, exponent):
        """x ** c for a Python number c (the Pow op), or x ** y elementwise for a tensor or array y (PowTensor)."""
        if isinstance(exponent, bool):
            raise TypeError("** got a bool exponent; use a number or a tensor")
        if not isinstance(exponent, (int, float)):
            return self._binary(PowTensor, exponent)
        x = self if _is_float(self.dtype) or isinstance(exponent, int) else self.to(dtype=default_float)
        return Pow.apply(x, exponent=exponent)

    def __rpow__(self, base):
        """base ** x elementwise for a Python number (or array) base, with torch's dtype rules."""
        return self._binary(PowTensor, base, reverse=True)

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
        return Exp.apply(as_floating(self))

    def log(self):
        return Log.apply(as_floating(self))

    def sqrt(self):
        return Sqrt.apply(as_floating(self))

    def relu(self):
        return ReLU.apply(self)

    def dropout(self, p=0.5, training=True):
        """Inverted dropout, the same op as nn.functional.dropout(self, p, training)."""
        from .nn.functional import dropout  # nn is built on Tensor, so it is looked up when first used

        return dropout(self, p, training)

    def sigmoid(self):
        return Sigmoid.apply(as_floating(self))

    def tanh(self):
        return Tanh.apply(as_floating(self))

    def softmax(self, axis=None, *, dim=None):
        return Softmax.apply(self, axis=resolve_axis(axis, dim, default=-1))

    def log_softmax(self, axis=None, *, dim=None):
        return LogSoftmax.apply(self, axis=resolve_axis(axis, dim, default=-1))

    def sum(self, axis=None, keepdims=False, *, dim=None):
        """Sum over `axis`; bool and integer tensors sum in int64, as torch's (NumPy sums uint8 in uint64)."""
        x = self if _is_float(self.dtype) or self.dtype in (int64, np.uint64) else self.to(dtype=int64)
        return Sum.apply(x, axis=resolve_axis(axis, dim), keepdims=keepdims)

    def mean(self, axis=None, keepdims=False, *, dim=None):
        return Mean.apply(as_floating(self), axis=resolve_axis(axis, dim), keepdims=keepdims)

    def max(self, axis=None, keepdims=False, *, dim=None):
        """Largest value over `axis`; tied maxima share the gradient equally (as torch.amax)."""
        return Max.apply(self, axis=resolve_axis(axis, dim), keepdims=keepdims)

    def min(self, axis=None, keepdims=False, *, dim=None):
        """Smallest value over `axis`; tied minima share the gradient equally (as torch.amin)."""
        return Min.apply(self, axis=resolve_axis(axis, dim), keepdims=keepdims)

    def argmax(self, axis=None, keepdims=False, *, dim=None):
        """Index (int64) of the largest value over `axis`, of the flattened tensor when None (no gradient)."""
        return Tensor._wrap(self.data.argmax(axis=resolve_axis(axis, dim), keepdims=keepdims).astype(int64))

    def argmin(self, axis=None, keepdims=False, *, dim=None):
        """Index (int64) of the smallest value over `axis`, of the flattened tensor when None (no gradient)."""
        return Tensor._wrap(self.data.argmin(axis=resolve_axis(axis, dim), keepdims=keepdims).astype(int64))

    def any(self):
        return Tensor._wrap(self.data.any())

    def all(self):
        return Tensor._wrap(self.data.all())

    # ------------------------------------------------------------ movement

    def reshape(self, *shape):
        """The same elements in a new shape (a tuple or separate ints; one -1 is inferred)."""
        shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        if any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) for s in shape):
            raise TypeError(f"reshape needs ints, got {shape}")
        try:
            return Reshape.apply(self, shape=tuple(int(s) for s in shape))
        except ValueError:
            raise ValueError(
                f"cannot reshape a tensor of shape {self.shape} ({self.size} elements) to {shape}"
            ) from None

    def flatten(self, start_dim=0, end_dim=-1):
        """Merge the axes start_dim..end_dim (inclusive) into one, as torch.flatten; a 0-d tensor becomes 1-d."""
        if self.ndim == 0:
            return self.reshape(1)
        start, end = (_check_dim(d, self.ndim, "flatten") for d in (start_dim, end_dim))
        if start > end:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {self.shape}")
        return self.reshape(*self.shape[:start], -1, *self.shape[end + 1:])

    def transpose(self, *axes):
        """Permute the axes (NumPy's meaning): reversed when no axes are given."""
        axes = tuple(axes[0]) if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        n = self.ndim
        axes = axes or tuple(reversed(range(n)))
        if any(not -n <= a < n for a in axes) or sorted(a % n for a in axes) != list(range(n)):
            raise ValueError(f"transpose axes {axes} are not a permutation of the {n} axes of {self.shape}")
        return Transpose.apply(self, axes=tuple(a % n for a in axes))

    def __getitem__(self, index):
        """Basic slicing and integer/bool array indexing; repeated indices accumulate gradients.

        Index arrays are copied, so changing them after the forward pass cannot change backward.
        """
        if isinstance(index, tuple):
            index = tuple(_copied_index(i) for i in index)
        else:
            index = _copied_index(index)
        return GetItem.apply(self, index=index)

    # ------------------------------------------------------------ torch's everyday elementwise and shape ops

    def abs(self):
        return Abs.apply(self)

    def clamp(self, min=None, max=None):  # noqa: A002 - torch's names
        """min(max(x, min), max) with inclusive bounds (either may be None): gradient 1 inside, 0 outside."""
        x, bounds = _clamp_args(self, min, max)
        return Clamp.apply(x, **bounds)

    clip = clamp

    def maximum(self, other):
        """Elementwise max of two tensors; a tie sends half of the gradient to each (as torch)."""
        return self._binary(Maximum, other)

    def minimum(self, other):
        """Elementwise min of two tensors; a tie sends half of the gradient to each (as torch)."""
        return self._binary(Minimum, other)

    def log1p(self):
        return Log1p.apply(as_floating(self))

    def expm1(self):
        return Expm1.apply(as_floating(self))

    def sin(self):
        return Sin.apply(as_floating(self))

    def cos(self):
        return Cos.apply(as_floating(self))

    def expand(self, *shape):
        """This tensor repeated along size-1 and new leading axes to `shape` (-1 keeps a size), as torch.expand."""
        shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return Expand.apply(self, shape=shape)

    def broadcast_to(self, shape):
        return self.expand(shape)

    def numel(self):
        """The number of elements (torch's name for .size)."""
        return self.size

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
