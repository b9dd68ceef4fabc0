"""Reverse-mode autodiff: the Function base class, the backward engine and no_grad.

Data flow: a Tensor operator calls `SomeOp.apply(*tensors)`. `apply` runs the op's `forward` on the
raw arrays and, when a gradient is needed, wraps the result in a Tensor whose `_ctx` is the op's
context: the graph node. `backward` later walks the nodes from the output back to the leaves.
"""

import contextlib
import threading

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
        from .tensor import Tensor

        ctx = cls()
        ctx.needs_input_grad = tuple(isinstance(t, Tensor) and t.requires_grad for t in inputs)
        arrays = [t.data if isinstance(t, Tensor) else t for t in inputs]
        out = cls.forward(ctx, *arrays, **params)
        requires_grad = any(ctx.needs_input_grad) and is_grad_enabled()
        if requires_grad:
            ctx.parents = inputs
            ctx.freed = False
            return Tensor._wrap(out, requires_grad=True, ctx=ctx)
        return Tensor._wrap(out)

    def __repr__(self):
        return f"<{type(self).__name__}>"


def _topological_order(root):
    """Nodes reachable from `root` (tensors with a _ctx), each after every tensor that consumes it.

    Iterative depth-first search with an explicit stack, so deep graphs do not hit Python's
    recursion limit; children are visited in input order, so the order is the same on every run.
    """
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        tensor, expanded = stack.pop()
        if expanded:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        for parent in reversed(tensor._ctx.parents):
            if hasattr(parent, "_ctx") and parent._ctx is not None and id(parent) not in visited:
                stack.append((parent, False))
    order.reverse()  # root first, leaves' consumers last
    return order


def backward(root, grad, retain_graph=False):
    """Accumulate d(root)/d(leaf) * grad into `.grad` of every leaf that requires grad.

    Each node's backward runs once, after all of its consumers have added their gradients to it.
    Intermediate gradients are dropped as soon as they are used, and saved arrays are freed unless
    `retain_graph` is True.
    """
    if root._ctx is None:  # a leaf: the gradient goes straight into .grad
        root._accumulate(grad)
        return
    grads = {id(root): grad}
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
        in_grads = ctx.backward(ctx, out_grad)
        if not isinstance(in_grads, tuple):
            in_grads = (in_grads,)
        if not retain_graph:
            ctx.saved_tensors = None
            ctx.freed = True
        for parent, needs, g in zip(ctx.parents, ctx.needs_input_grad, in_grads, strict=False):
            if not needs or g is None:
                continue
            if parent._ctx is None:
                parent._accumulate(g)
            else:
                key = id(parent)
                grads[key] = g if key not in grads else grads[key] + g


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

