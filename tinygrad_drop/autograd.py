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

    `apply` notes each input tensor's version, so backward raises if an array that forward saved
    was changed in place in between (see check_versions). Plain arrays carry no version: copy one
    that the caller hands in before saving it, as indexing and F.dropout's `mask=` do.
    """

    saved_tensors = ()  # what forward saved; None once backward has freed it
    freed = False

    def save_for_backward(self, *arrays):
        """Keep arrays for backward; the engine frees them once backward has used them."""
        self.saved_tensors = arrays

    @classmethod
    def apply(cls, *inputs, **params):
        """Run forward on the inputs' arrays; make this op the output's graph node when a gradient is needed."""
        ctx = cls()
        ctx.parents = inputs
        arrays, needs, ctx.versions = [], [], []
        for x in inputs:  # a Tensor gives its array; masks, numbers and None pass through as they are
            if is_tensor(x):
                tensor_class = type(x)  # the output is of its inputs' class
                arrays.append(x.data)
                needs.append(x.requires_grad)
                ctx.versions.append((x, x._version))  # checked by backward (check_versions)
            else:
                arrays.append(x)
                needs.append(False)
        ctx.needs_input_grad = tuple(needs)
        backend.check_same_device(arrays, cls.__name__)
        out = cls.forward(ctx, *arrays, **params)
        for observer in _state.observers:
            observer.forward(ctx, inputs, out)
        if True in needs and _state.grad_enabled:
            return tensor_class._wrap(out, requires_grad=True, ctx=ctx)
        return tensor_class._wrap(out)

    def __repr__(self):
        return f"<{type(self).__name__}>"


def graph_order(root):
    """The op outputs in the graph of `root`, each before the ones it was computed from (root first).

    Depth-first search with an explicit stack of (tensor, iterator over its inputs), so deep graphs
    do not hit Python's recursion limit: a tensor is finished once all of its inputs are, and the
    reversed finishing order puts every tensor before its inputs. Inputs are visited in order, so
    the order is the same on every run. Leaves are not listed: they are the op outputs' inputs.
    """
    if root._ctx is None:
        return []
    order, visited = [], set()  # the root is no one's input: only its ancestors need marking
    stack = [(root, iter(root._ctx.parents))]
    while stack:
        tensor, inputs = stack[-1]
        for parent in inputs:
            ctx = getattr(parent, "_ctx", None)  # None for a leaf, and for a mask or number
            if ctx is not None and id(parent) not in visited:
                visited.add(id(parent))
                stack.append((parent, iter(ctx.parents)))
                break
        else:  # every input is finished
            stack.pop()
            order.append(tensor)
    order.reverse()
    return order


def backward(root, grad, retain_graph=False):
    """Add d(root)/d(leaf) * grad into `.grad` of every leaf that requires grad.

    Op outputs are visited in `graph_order`, so when a tensor's turn comes every consumer has
    added its part to its gradient. Its hooks run, then its op's backward runs once and hands the
    results to the op's inputs. Last, each leaf's hooks see the sum of its gradients, which goes
    into `.grad` once (PyTorch's AccumulateGrad). Hooks and observers only add calls: the
    arithmetic is the same without them. Saved arrays are freed unless `retain_graph` is True.
    """
    grads = {id(root): grad}  # id(tensor) -> the sum of what its consumers have sent it so far
    leaves = {id(root): root} if root._ctx is None else {}  # the leaves that get a gradient
    shared = {id(grad)}  # ids of arrays that something else may hold (the caller: grad): a leaf's .grad copies these
    observers = _state.observers
    for tensor in graph_order(root):
        ctx = tensor._ctx
        if ctx.freed:
            raise RuntimeError(
                f"trying to run backward through the graph a second time: {type(ctx).__name__}'s saved "
                "arrays were freed by the first backward. Pass retain_graph=True to the first call "
                "if you need to backward twice, or recompute the forward pass."
            )
        grad = grads.pop(id(tensor), None)
        if grad is None:  # nothing flows here: every consumer returned None for it
            continue
        if tensor._hooks is not None or observers:
            grad = _received(tensor, grad, shared)
        check_versions(ctx)
        in_grads = ctx.backward(ctx, grad)
        in_grads = in_grads if isinstance(in_grads, tuple) else (in_grads,)
        if len(in_grads) != len(ctx.parents):
            raise _contract_error(ctx, in_grads)
        for observer in observers:
            observer.backward(ctx, in_grads)
        if not retain_graph and ctx.saved_tensors:
            ctx.saved_tensors, ctx.freed = None, True
        for i, (parent, needs, g) in enumerate(zip(ctx.parents, ctx.needs_input_grad, in_grads, strict=True)):
            if needs and g is not None:
                data = parent.data
                if g.shape != data.shape:
                    raise _contract_error(ctx, in_grads, i)
                if g.dtype != data.dtype:  # cast, as PyTorch's engine does
                    g = g.astype(data.dtype)
                key = id(parent)
                if key in grads:
                    grads[key] = grads[key] + g
                else:
                    grads[key] = g
                    if parent._ctx is None:
                        leaves[key] = parent
    for key, leaf in leaves.items():
        grad = grads[key]
        if leaf._hooks is not None or observers:
            grad = _received(leaf, grad, shared)
        accumulate_grad(leaf, grad, shared)


def _received(tensor, grad, shared):
    """The tensor's complete gradient after its hooks, shown to the observers (and kept if it retains grad)."""
    hooks = tensor._hooks
    if hooks is not None:
        grad = _run_hooks(tensor, grad, shared)
        if hooks.retain:
            accumulate_grad(tensor, grad, shared)
    for observer in _state.observers:
        observer.gradient(tensor, grad)
    return grad


def accumulate_grad(tensor, grad, shared):
    """`tensor.grad += grad`, as a new array: gradients accumulate over backward calls, as in PyTorch.

    A tensor's first gradient becomes its `.grad` as it is, unless another array's memory may be
    behind it (it is a view) or another tensor may hold it (`shared`): then it is copied, so every
    `.grad` is its own array and changing one in place changes no other.
    """
    if tensor.grad is None:
        grad = _as_array(grad)
        if grad.base is None and id(grad) not in shared:
            shared.add(id(grad))
        else:
            grad = grad.copy()
        tensor.grad = grad
        return
    if tensor.grad.shape != tensor.shape:
        raise RuntimeError(f"cannot accumulate a gradient into .grad of shape {tensor.grad.shape} for a tensor "
                           f"of shape {tensor.shape}: set .grad to None or to an array of shape {tensor.shape}")
    tensor.grad = _as_array(tensor.grad + grad)


def _as_array(grad):
    """grad as an array: NumPy's arithmetic on 0-d arrays gives scalars (numpy.float32), but a .grad is an array."""
    return grad if grad.ndim else backend.get_array_module(grad).asarray(grad)


def check_versions(ctx):
    """Raise if an input tensor whose array the op saved was changed in place since forward.

    Every in-place write through the framework (an optimizer step, load_state_dict) adds 1 to the
    tensor's `_version`, and `apply` noted each input tensor's version in `ctx.versions`.
    """
    for x, version in ctx.versions:
        if x._version != version and any(x.data is a for a in ctx.saved_tensors):
            i = next(i for i, p in enumerate(ctx.parents) if p is x)
            raise RuntimeError(
                f"{type(ctx).__name__}'s input {i}, a tensor of shape {x.shape} saved for backward, was modified "
                f"by an in-place operation: version {x._version}, expected {version}. Call backward before "
                "changing it (an optimizer step, load_state_dict), or run the forward pass again."
            )


def _contract_error(ctx, grads, i=None):
    """The error for a backward that broke the contract: the wrong count, or input i's gradient shape."""
    name = type(ctx).__name__
    if i is None:
        return BackwardContractError(
            f"{name}.backward returned {len(grads)} gradient(s) for {len(ctx.parents)} input(s): return one "
            "entry per positional input given to apply, None where no gradient is needed")
    return BackwardContractError(
        f"{name}.backward returned shape {grads[i].shape} for input {i} of shape {ctx.parents[i].shape}: each "
        "gradient has its input's shape (sum a broadcast gradient back with unbroadcast(grad, shape))")


def unbroadcast(grad, shape):
    """Sum `grad` down to `shape`, undoing NumPy broadcasting (extra leading axes and size-1 axes)."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, size in enumerate(shape) if size == 1 and grad.shape[i + extra] != 1
    )
    if axes:
        grad = grad.sum(axis=axes)  # the reshape below puts the size-1 axes back
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
