"""Reverse-mode autodiff: the Function base class (an op and its graph node), the backward engine and no_grad.

Data flow: a Tensor operator calls `SomeOp.apply(*tensors)`. `apply` runs the op's `forward` on the
raw arrays and, when a gradient is needed, makes the op's context the output's `_ctx`: the graph
node. `backward` later walks the nodes from the output back to the leaves.

The engine reads tensors only through their attributes (`data`, `grad`, `requires_grad`, `_ctx`,
`_version`, `_hooks`) and wraps an op's output in the class of its inputs, so it never imports
`tensor.py` (which imports the ops, which import this module).
"""

import contextlib
import itertools
import threading

from . import backend


class _ThreadState(threading.local):
    """Per-thread switches: is a graph recorded (no_grad), and who watches the engine (observe)."""

    grad_enabled = True
    observers = ()  # replaced, never changed in place, by observe()

    def __init__(self):
        self.saved_modes = []  # the modes that the enclosing no_grad/enable_grad blocks replaced


_state = _ThreadState()


def is_grad_enabled():
    """True unless inside `no_grad` (per thread)."""
    return _state.grad_enabled


class _GradMode(contextlib.ContextDecorator):
    """Set gradient recording on or off inside a `with` block or a decorated function (per thread)."""

    enabled = True

    def __enter__(self):
        _state.saved_modes.append(_state.grad_enabled)
        _state.grad_enabled = self.enabled

    def __exit__(self, *exc):
        _state.grad_enabled = _state.saved_modes.pop()
        return False


class no_grad(_GradMode):  # noqa: N801 - PyTorch's name
    """Disable graph building: `with td.no_grad():` or `@td.no_grad()`. Thread-local."""

    enabled = False


class enable_grad(_GradMode):  # noqa: N801 - PyTorch's name
    """Re-enable graph building inside a `no_grad` block."""

    enabled = True


class BackwardContractError(RuntimeError):
    """An op's backward broke the backward contract (see Function): wrong count or shape of gradients."""


def is_tensor(value):
    """True for a Tensor: the one kind of input that has a place in the graph (`_ctx`)."""
    return hasattr(value, "_ctx")


class Function:
    """One differentiable op. Subclasses define `forward(ctx, *inputs, **params)` and
    `backward(ctx, grad)` as staticmethods working on raw NumPy/CuPy arrays.

    `ctx` is the instance itself, which becomes the graph node: it holds `parents` (the positional
    inputs given to `apply`), `needs_input_grad` (one bool per input) and whatever forward keeps
    with `ctx.save_for_backward(*arrays)` or as attributes.

    The backward contract, which the engine checks:
    - `backward` returns one entry per positional input given to `apply`, Tensors and other values
      (masks, None) alike; a one-input op may return the bare array;
    - the entry is None where `needs_input_grad` is False (or no gradient flows to that input);
    - every other entry has its input's shape and dtype (one of another dtype is cast, as in PyTorch);
    - backward returns new arrays (or views of `grad`) and never writes into `grad`.
    A wrong count or shape raises a BackwardContractError (a RuntimeError) naming the op and input.
    """

    saved_tensors = ()  # what forward saved; None once backward has freed it
    saved_versions = ()  # (input index, version) of each input tensor whose array is saved
    freed = False

    def save_for_backward(self, *arrays):
        """Keep arrays for backward, and the version of each input tensor whose array is among them."""
        self.saved_tensors = arrays
        self.saved_versions = [(i, x._version) for i, x in enumerate(self.parents)
                               if is_tensor(x) and any(x.data is a for a in arrays)]

    @classmethod
    def apply(cls, *inputs, **params):
        """Run forward on the inputs' arrays; make this op the output's graph node when a gradient is needed."""
        ctx = cls()
        ctx.parents = inputs
        ctx.needs_input_grad = tuple(is_tensor(x) and x.requires_grad for x in inputs)
        arrays = [x.data if is_tensor(x) else x for x in inputs]
        backend.check_same_device(arrays, cls.__name__)
        out = cls.forward(ctx, *arrays, **params)
        for observer in _state.observers:
            observer.forward(ctx, inputs, out)
        tensor_class = next(type(x) for x in inputs if is_tensor(x))  # the output is of its inputs' class
        if any(ctx.needs_input_grad) and _state.grad_enabled:
            return tensor_class._wrap(out, requires_grad=True, ctx=ctx)
        return tensor_class._wrap(out)

    def __repr__(self):
        return f"<{type(self).__name__}>"


def graph_order(root):
    """Every tensor in the graph of `root`, each before the tensors it was computed from (root first).

    Depth-first search with an explicit stack of (tensor, iterator over its inputs), so deep graphs
    do not hit Python's recursion limit: a tensor is finished once all of its inputs are, and the
    reversed finishing order puts every tensor before its inputs. Inputs are visited in order, so
    the order is the same on every run.
    """
    order, visited = [], {id(root)}
    stack = [(root, iter(_inputs(root)))]
    while stack:
        tensor, inputs = stack[-1]
        for parent in inputs:
            if id(parent) not in visited:
                visited.add(id(parent))
                stack.append((parent, iter(_inputs(parent))))
                break
        else:  # every input is finished
            stack.pop()
            order.append(tensor)
    order.reverse()
    return order


def _inputs(tensor):
    """The tensors that `tensor` was computed from (none for a leaf)."""
    return () if tensor._ctx is None else [x for x in tensor._ctx.parents if is_tensor(x)]


def backward(root, grad, retain_graph=False):
    """Add d(root)/d(leaf) * grad into `.grad` of every leaf that requires grad.

    Tensors are visited in `graph_order`, so when a tensor's turn comes every consumer has added
    its part to the tensor's gradient. Then the tensor's hooks run; a leaf adds the gradient to
    `.grad` (PyTorch's AccumulateGrad) and an op's node calls backward once and hands the results
    to its inputs. Hooks and observers only add calls: the arithmetic is the same without them.
    Saved arrays are freed as the walk goes, unless `retain_graph` is True.
    """
    grads = {id(root): grad}  # id(tensor) -> the sum of what its consumers have sent it so far
    shared = set()  # ids of arrays that something else may hold: a leaf's .grad gets a copy of these
    for tensor in graph_order(root):
        ctx = tensor._ctx
        if ctx is not None and ctx.freed:
            raise RuntimeError(
                f"trying to run backward through the graph a second time: {type(ctx).__name__}'s saved "
                "arrays were freed by the first backward. Pass retain_graph=True to the first call "
                "if you need to backward twice, or recompute the forward pass."
            )
        grad = grads.pop(id(tensor), None)
        if grad is None:  # nothing flows here: a constant, or an input whose op returned None
            continue
        if tensor._hooks is not None:
            grad = _run_hooks(tensor, grad, shared)
        for observer in _state.observers:
            observer.gradient(tensor, grad)
        if ctx is None or (tensor._hooks is not None and tensor._hooks.retain):
            accumulate_grad(tensor, grad, shared)
        if ctx is None:
            continue
        check_versions(ctx)
        in_grads = _checked_gradients(ctx, ctx.backward(ctx, grad))
        for observer in _state.observers:
            observer.backward(ctx, in_grads)
        if not retain_graph and ctx.saved_tensors:
            ctx.saved_tensors, ctx.freed = None, True
        for parent, g in zip(ctx.parents, in_grads, strict=True):
            if g is not None:
                key = id(parent)
                grads[key] = grads[key] + g if key in grads else g


def accumulate_grad(tensor, grad, shared):
    """`tensor.grad += grad`, as a new array: gradients accumulate over backward calls, as in PyTorch.

    A tensor's first gradient becomes its `.grad` as it is, unless another array's memory may be
    behind it (it is a view) or another tensor may hold it (`shared`): then it is copied, so every
    `.grad` is its own array and changing one in place changes no other.
    """
    if tensor.grad is None:
        if grad.base is None and id(grad) not in shared:
            shared.add(id(grad))
        else:
            grad = grad.copy()
        tensor.grad = grad
        return
    if tensor.grad.shape != tensor.shape:
        raise RuntimeError(f"cannot accumulate a gradient into .grad of shape {tensor.grad.shape} for a tensor "
                           f"of shape {tensor.shape}: set .grad to None or to an array of shape {tensor.shape}")
    tensor.grad = tensor.grad + grad


def check_versions(ctx):
    """Raise if an input tensor whose array the op saved was changed in place after forward.

    Every in-place write through the framework (an optimizer step, load_state_dict) adds 1 to the
    tensor's `_version`; `save_for_backward` noted the version it saw.
    """
    for i, version in ctx.saved_versions:
        tensor = ctx.parents[i]
        if tensor._version != version:
            raise RuntimeError(
                f"{type(ctx).__name__}'s input {i}, a tensor of shape {tensor.shape} saved for backward, was "
                f"modified by an in-place operation: version {tensor._version}, expected {version}. Call "
                "backward before changing it (an optimizer step, load_state_dict), or run the forward again."
            )


def _checked_gradients(ctx, grads):
    """The op's gradients as a tuple, checked against the backward contract (see Function)."""
    grads = grads if isinstance(grads, tuple) else (grads,)
    name = type(ctx).__name__
    if len(grads) != len(ctx.parents):
        raise BackwardContractError(
            f"{name}.backward returned {len(grads)} gradient(s) for {len(ctx.parents)} input(s): return "
            "one entry per positional input given to apply, None where no gradient is needed"
        )
    checked = []
    for i, (x, needs, g) in enumerate(zip(ctx.parents, ctx.needs_input_grad, grads, strict=True)):
        if not needs or g is None:
            checked.append(None)
            continue
        if g.shape != x.shape:
            raise BackwardContractError(
                f"{name}.backward returned shape {g.shape} for input {i} of shape {x.shape}: each gradient "
                "has its input's shape (sum a broadcast gradient back with unbroadcast(grad, shape))"
            )
        checked.append(g if g.dtype == x.dtype else g.astype(x.dtype))
    return checked


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
# td.detect_anomaly, td.viz.trace and td.trace_backward add an Observer to this thread's observers
# while they are on. Tensor.register_hook and Tensor.retain_grad keep a TensorHooks on the tensor
# itself (`tensor._hooks`), so hooks go when their tensor goes.


class Observer:
    """Sees every op and every gradient: subclass it and override what you need."""

    def forward(self, ctx, inputs, out):
        """After an op's forward: its node, the inputs it was applied to and its output array."""

    def gradient(self, tensor, grad):
        """The complete gradient of a tensor (an op's output or a leaf) in one backward pass, after its hooks."""

    def backward(self, ctx, grads):
        """After an op's backward: its node and the gradients it returned, one per input."""


@contextlib.contextmanager
def observe(observer):
    """Show `observer` this thread's ops and gradients inside a `with` block (or a decorated function)."""
    _state.observers = (*_state.observers, observer)
    try:
        yield observer
    finally:
        _state.observers = tuple(o for o in _state.observers if o is not observer)


class TensorHooks:
    """One tensor's gradient hooks (handle id -> fn, in registration order) and its retain_grad flag."""

    def __init__(self):
        self.fns, self.retain = {}, False


class RemovableHandle:
    """Returned by Tensor.register_hook; `handle.remove()` takes the hook off again."""

    _ids = itertools.count()

    def __init__(self, hooks):
        self._hooks, self.id = hooks, next(self._ids)

    def remove(self):
        self._hooks.fns.pop(self.id, None)


def _hooks_of(tensor, what):
    """The tensor's TensorHooks, made on first use; `what` names the caller in the error."""
    if not tensor.requires_grad:
        raise RuntimeError(f"cannot {what} a tensor that does not require grad: "
                           "create it with requires_grad=True (or call .requires_grad_())")
    if tensor._hooks is None:
        tensor._hooks = TensorHooks()
    return tensor._hooks


def register_hook(tensor, fn):
    """Call fn(grad) with the tensor's gradient in every backward pass; a non-None result replaces it."""
    hooks = _hooks_of(tensor, "register a hook on")
    handle = RemovableHandle(hooks)
    hooks.fns[handle.id] = fn
    return handle


def retain_grad(tensor):
    """Keep a non-leaf tensor's gradient in its .grad (leaves keep theirs anyway)."""
    _hooks_of(tensor, "retain_grad on").retain = tensor._ctx is not None


def _run_hooks(tensor, grad, shared):
    """The gradient after the tensor's hooks: each gets the previous result; None keeps it."""
    for fn in list(tensor._hooks.fns.values()):
        new = fn(grad)
        if new is None:
            continue
        new = new.data if is_tensor(new) else new
        if new.shape != grad.shape:
            raise ValueError(f"hook {getattr(fn, '__name__', fn)!r} returned a gradient of shape {new.shape} for a "
                             f"tensor of shape {tensor.shape}: return an array of the same shape, or None")
        grad = new if new.dtype == grad.dtype else new.astype(grad.dtype)
        shared.add(id(grad))  # the hook's caller may keep it
    return grad
