"""Reverse-mode autodiff: the Function base class, the backward engine and no_grad.

Data flow: a Tensor operator calls `SomeOp.apply(*tensors)`. `apply` runs the op's `forward` on the
raw arrays and, when a gradient is needed, wraps the result in a Tensor whose `_ctx` is the op's
context: the graph node. `backward` later walks the nodes from the output back to the leaves.
"""

import contextlib
import itertools
import threading
import weakref

from . import backend
from . import tensor as _tensor

_grad_mode = threading.local()


def is_grad_enabled():
    """True unless inside `no_grad` (per thread)."""
    return getattr(_grad_mode, "enabled", True)


def _saved_modes():
    """This thread's stack of the grad modes that the enclosing no_grad/enable_grad blocks replaced."""
    if not hasattr(_grad_mode, "saved"):
        _grad_mode.saved = []
    return _grad_mode.saved


class _GradMode(contextlib.ContextDecorator):
    """Set gradient recording on or off inside a `with` block or a decorated function.

    The mode to restore is kept per thread, not on the instance, so one instance (a decorator)
    can be entered by several threads at once.
    """

    enabled = True

    def __enter__(self):
        _saved_modes().append(is_grad_enabled())
        _grad_mode.enabled = self.enabled

    def __exit__(self, *exc):
        _grad_mode.enabled = _saved_modes().pop()
        return False


class no_grad(_GradMode):  # noqa: N801 - PyTorch's name
    """Disable graph building: `with td.no_grad():` or `@td.no_grad()`. Thread-local."""

    enabled = False


class enable_grad(_GradMode):  # noqa: N801 - PyTorch's name
    """Re-enable graph building inside a `no_grad` block."""

    enabled = True


class Function:
    """One differentiable op. Subclasses define `forward(ctx, *arrays, **params)` and
    `backward(ctx, grad)` as staticmethods working on raw NumPy/CuPy arrays.

    `ctx` is the instance itself, which becomes the graph node: it holds `parents` (the input
    Tensors), `needs_input_grad` (one bool per input) and whatever forward saves with
    `ctx.save_for_backward(...)`. `backward` returns one gradient per input (None where
    `needs_input_grad` is False).
    """

    __slots__ = ("parents", "needs_input_grad", "saved_tensors", "freed", "__dict__")

    def save_for_backward(self, *arrays):
        """Keep arrays for backward; the engine frees them once backward has used them."""
        self.saved_tensors = arrays

    @classmethod
    def apply(cls, *inputs, **params):
        """Run forward on the inputs' arrays and record a graph node when a gradient is needed."""
        Tensor = _tensor.Tensor  # noqa: N806 - tensor.py imports this module, so look it up at call time
        ctx = cls()
        arrays, needs = [], []
        for t in inputs:  # a plain loop: this runs for every op, and generator expressions cost more
            if isinstance(t, Tensor):
                arrays.append(t.data)
                needs.append(t.requires_grad)
            else:
                arrays.append(t)
                needs.append(False)
        ctx.needs_input_grad = needs = tuple(needs)
        backend.check_same_device(arrays, cls.__name__)
        out = cls.forward(ctx, *arrays, **params)
        if _observers:  # detect_anomaly or viz.trace is on: the only cost when they are off
            for observer in _observers:
                observer.forward(ctx, inputs, out)
        if True in needs and is_grad_enabled():
            ctx.parents = inputs
            ctx.freed = False
            return Tensor._wrap(out, requires_grad=True, ctx=ctx)
        return Tensor._wrap(out)

    def __repr__(self):
        return f"<{type(self).__name__}>"


def _topological_order(root):
    """Nodes reachable from `root` (tensors with a _ctx), each after every tensor that consumes it.

    Depth-first search with an explicit stack of (tensor, iterator over its inputs), so deep graphs
    do not hit Python's recursion limit: a tensor is finished once all of its inputs are, and the
    reversed finishing order puts every tensor before its inputs. Inputs are visited in order, so
    the order is the same on every run.
    """
    order, visited = [], {id(root)}
    stack = [(root, iter(root._ctx.parents))]
    while stack:
        tensor, inputs = stack[-1]
        for parent in inputs:
            ctx = getattr(parent, "_ctx", None)
            if ctx is not None and id(parent) not in visited:
                visited.add(id(parent))
                stack.append((parent, iter(ctx.parents)))
                break
        else:  # every input is finished
            stack.pop()
            order.append(tensor)
    order.reverse()  # root first, leaves' consumers last
    return order


def backward(root, grad, retain_graph=False):
    """Accumulate d(root)/d(leaf) * grad into `.grad` of every leaf that requires grad.

    Each node's backward runs once, after all of its consumers have added their gradients to it.
    Intermediate gradients are dropped as soon as they are used, and saved arrays are freed unless
    `retain_graph` is True. Hooks and observers are looked at only when there are any; then each
    leaf gets the sum of its gradients once, at the end (as PyTorch's AccumulateGrad).
    """
    watched = bool(_observers or _tensor_hooks)  # checked once per call
    if root._ctx is None:  # a leaf: the gradient goes straight into .grad
        root._accumulate(_watched_gradient(root, grad) if watched else grad)
        return
    grads, leaves = {id(root): grad}, {}
    for tensor in _topological_order(root):
        ctx = tensor._ctx
        if ctx.freed:
            raise RuntimeError(
                f"trying to run backward through the graph a second time: {type(ctx).__name__}'s saved "
                "arrays were freed by the first backward. Pass retain_graph=True to the first call "
                "if you need to backward twice, or recompute the forward pass."
            )
        out_grad = grads.pop(id(tensor), None)
        if out_grad is None:
            continue
        in_grads = _watched_backward(tensor, out_grad) if watched else ctx.backward(ctx, out_grad)
        if not isinstance(in_grads, tuple):
            in_grads = (in_grads,)
        if not retain_graph:
            ctx.saved_tensors = None
            ctx.freed = True
        for parent, needs, g in zip(ctx.parents, ctx.needs_input_grad, in_grads, strict=False):
            if not needs or g is None:
                continue
            if parent._ctx is None and not watched:
                parent._accumulate(g)
                continue
            key = id(parent)
            if parent._ctx is None:  # watched: the leaf's hooks see the sum of its gradients, at the end
                leaves[key] = parent
            grads[key] = g if key not in grads else grads[key] + g
    for key, leaf in leaves.items():
        leaf._accumulate(_watched_gradient(leaf, grads[key]))


def unbroadcast(grad, shape):
    """Sum `grad` down to `shape`, undoing NumPy broadcasting (extra leading axes and size-1 axes)."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, size in enumerate(shape) if size == 1 and grad.shape[i + extra] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


# ---------------------------------------------------------------- watching the engine: observers and hooks
#
# td.detect_anomaly (anomaly.py) and td.viz.trace (viz.py) add an Observer to `_observers` while
# they are on; Tensor.register_hook and Tensor.retain_grad put the tensor in `_tensor_hooks`.
# While both are empty the engine pays one check per op and one per backward() call.

_observers = []
_tensor_hooks = {}  # id(tensor) -> its _Hooks; the entry goes when the tensor does


class Observer:
    """Sees every op and every gradient: subclass it and override what you need."""

    def forward(self, ctx, inputs, out):
        """After an op's forward: its node, the inputs it was applied to and its output array."""

    def gradient(self, tensor, grad):
        """The complete gradient of a tensor in one backward pass, after its hooks."""

    def backward(self, ctx, grads):
        """After an op's backward: its node and the gradients it returned, one per input."""


@contextlib.contextmanager
def observe(observer):
    """Show `observer` every op and every gradient inside a `with` block (or a decorated function)."""
    _observers.append(observer)
    try:
        yield observer
    finally:
        _observers.remove(observer)


class _Hooks:
    """One tensor's gradient hooks (handle id -> fn, in registration order) and its retain_grad flag."""

    def __init__(self, tensor):
        self.key, self.fns, self.retain = id(tensor), {}, False
        self._ref = weakref.ref(tensor, lambda _: self.forget())  # the hooks go with the tensor

    def forget(self):
        """Drop this entry (if it is still the tensor's: ids are reused once a tensor is gone)."""
        if _tensor_hooks.get(self.key) is self:
            del _tensor_hooks[self.key]

    def forget_if_unused(self):
        """Drop this entry once it has no hook and no retain_grad left."""
        if not self.fns and not self.retain:
            self.forget()


class RemovableHandle:
    """Returned by Tensor.register_hook; `handle.remove()` takes the hook off again."""

    _ids = itertools.count()

    def __init__(self, hooks):
        self._hooks, self.id = hooks, next(self._ids)

    def remove(self):
        self._hooks.fns.pop(self.id, None)
        self._hooks.forget_if_unused()


def _hooks_of(tensor, what):
    """The tensor's _Hooks, made on first use; `what` names the caller in the error."""
    if not tensor.requires_grad:
        raise RuntimeError(f"cannot {what} a tensor that does not require grad: "
                           "create it with requires_grad=True (or call .requires_grad_())")
    if id(tensor) not in _tensor_hooks:
        _tensor_hooks[id(tensor)] = _Hooks(tensor)
    return _tensor_hooks[id(tensor)]


def register_hook(tensor, fn):
    """Call fn(grad) with the tensor's gradient in every backward pass; a non-None result replaces it."""
    hooks = _hooks_of(tensor, "register a hook on")
    handle = RemovableHandle(hooks)
    hooks.fns[handle.id] = fn
    return handle


def retain_grad(tensor):
    """Keep a non-leaf tensor's gradient in its .grad (leaves keep theirs anyway)."""
    hooks = _hooks_of(tensor, "retain_grad on")
    hooks.retain = tensor._ctx is not None
    hooks.forget_if_unused()


def retains_grad(tensor):
    """True when retain_grad() was called on this non-leaf tensor."""
    hooks = _tensor_hooks.get(id(tensor))
    return hooks is not None and hooks.retain


def _run_hook(fn, tensor, grad):
    """fn(grad), or grad when fn returns None; the result must keep the gradient's shape."""
    from .tensor import Tensor

    new = fn(grad)
    if new is None:
        return grad
    new = new.data if isinstance(new, Tensor) else new
    if new.shape != grad.shape:
        raise ValueError(f"hook {getattr(fn, '__name__', fn)!r} returned a gradient of shape {new.shape} for a "
                         f"tensor of shape {tensor.shape}: return an array of the same shape, or None")
    return new


def _watched_gradient(tensor, grad):
    """The tensor's gradient after its hooks, kept in .grad if it retains grad, shown to observers."""
    hooks = _tensor_hooks.get(id(tensor))
    if hooks is not None:
        for fn in list(hooks.fns.values()):
            grad = _run_hook(fn, tensor, grad)
        if hooks.retain:
            tensor._accumulate(grad)
    for observer in _observers:
        observer.gradient(tensor, grad)
    return grad


def _watched_backward(tensor, grad):
    """ctx.backward with hooks and observers: they see the incoming gradient, then the results."""
    ctx = tensor._ctx
    in_grads = ctx.backward(ctx, _watched_gradient(tensor, grad))
    in_grads = in_grads if isinstance(in_grads, tuple) else (in_grads,)
    for observer in _observers:
        observer.backward(ctx, in_grads)
    return in_grads
