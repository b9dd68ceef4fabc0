"""Module and Parameter: PyTorch's way of grouping parameters, sub-modules and train/eval mode."""

import threading
from collections import OrderedDict, namedtuple

import numpy as np

from .. import backend
from ..tensor import Tensor


class Parameter(Tensor):
    """A tensor that a Module registers as a trainable parameter (requires_grad=True by default)."""

    def __init__(self, data, requires_grad=True):
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class _RunningModules(threading.local):
    """This thread's stack of modules whose forward is running, innermost last (Module.__call__ pushes and pops)."""

    def __init__(self):
        self.stack = []


_running = _RunningModules()


def current_module():
    """The module whose forward is running in this thread (the innermost one), or None."""
    stack = _running.stack
    return stack[-1] if stack else None


def _indent(text, spaces):
    """Indent every line of `text` but the first."""
    return text.replace("\n", "\n" + " " * spaces)


class Module:
    """Base class of layers and models: override `forward`, assign Parameters and Modules as attributes.

    Attributes that are Parameters or Modules are registered in assignment order, which is the
    order of `parameters()`, `named_parameters()` and `state_dict()`.
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() is called: call super().__init__() first"
            )
        if name in self._buffers:  # assigning to a buffer keeps it a buffer, as in PyTorch
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer {name!r} (Tensor or None expected)")
            self._buffers[name] = value
            object.__setattr__(self, name, value)
            return
        if name in self._parameters and value is not None and not isinstance(value, Parameter):
            raise TypeError(f"cannot assign {type(value).__name__!r} as parameter {name!r} (Parameter or None "
                            f"expected): wrap it, self.{name} = nn.Parameter(tensor)")
        if not isinstance(value, Parameter):
            self._parameters.pop(name, None)
        if not isinstance(value, Module):
            self._modules.pop(name, None)
        if isinstance(value, Parameter):  # a replaced parameter or module keeps its place in the order
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        self._buffers.pop(name, None)
        self._non_persistent_buffers.discard(name)
        object.__delattr__(self, name)

    def register_buffer(self, name, tensor, persistent=True):
        """Keep `tensor` as state that is not trained: it moves with `.to()` and, if persistent, is in `state_dict`."""
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"buffer name must be a non-empty string without '.', got {name!r}")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot register {type(tensor).__name__} as buffer {name!r} (Tensor or None expected)")
        if name in self._parameters or name in self._modules:
            raise KeyError(f"attribute {name!r} already exists as a parameter or module")
        if tensor is not None and tensor.requires_grad:
            tensor = tensor.detach()
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)
        object.__setattr__(self, name, tensor)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        running = _running.stack
        running.append(self)
        try:
            return self.forward(*args, **kwargs)
        finally:
            running.pop()

    # ------------------------------------------------------------ traversal

    def named_children(self):
        """(name, module) for each direct sub-module, in assignment order."""
        return iter(self._modules.items())

    def children(self):
        return (m for _, m in self.named_children())

    def named_modules(self, prefix=""):
        """(dotted name, module) for this module and every sub-module, depth first."""
        stack, seen = [(prefix, self)], set()
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{n}" if name else n, m) for n, m in module._modules.items()]
            stack.extend(reversed(children))

    def modules(self):
        return (m for _, m in self.named_modules())

    def named_parameters(self, prefix=""):
        """(dotted name, parameter) for every parameter, each shared parameter once, in definition order."""
        seen = set()
        for module_name, module in self.named_modules(prefix):
            for name, param in module._parameters.items():
                if param is not None and id(param) not in seen:
                    seen.add(id(param))
                    yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self):
        return (p for _, p in self.named_parameters())

    def named_buffers(self, prefix=""):
        """(dotted name, buffer) for every buffer that is not None, each shared buffer once."""
        seen = set()
        for module_name, module in self.named_modules(prefix):
            for name, buf in module._buffers.items():
                if buf is not None and id(buf) not in seen:
                    seen.add(id(buf))
                    yield (f"{module_name}.{name}" if module_name else name), buf

    def buffers(self):
        return (b for _, b in self.named_buffers())

    def apply(self, fn):
        """Call fn(module) on every sub-module (children first) and then on self; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------ modes and gradients

    def train(self, mode=True):
        """Set training mode (dropout active) on this module and every sub-module; returns self."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self):
        """Set evaluation mode (dropout off) everywhere below; same as train(False)."""
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's gradient (to None, or to zeros with set_to_none=False)."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = backend.get_array_module(p.data).zeros_like(p.data)

    def requires_grad_(self, requires_grad=True):
        """Set requires_grad on every parameter (False freezes the module); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def num_parameters(self, only_trainable=False):
        """The number of parameter elements (each shared parameter once); only those that require grad if asked."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not only_trainable)

    # ------------------------------------------------------------ state

    def _named_state(self):
        """(dotted name, tensor) for each parameter and persistent buffer, module by module as torch orders them."""
        seen = set()
        for module_name, module in self.named_modules():
            own = list(module._parameters.items()) + [
                (n, b) for n, b in module._buffers.items() if n not in module._non_persistent_buffers]
            for name, tensor in own:
                if tensor is not None and id(tensor) not in seen:
                    seen.add(id(tensor))
                    yield (f"{module_name}.{name}" if module_name else name), tensor

    def state_dict(self):
        """An ordered dict of name -> detached tensor sharing the data of each parameter and persistent buffer."""
        return OrderedDict((name, t.detach()) for name, t in self._named_state())

    def load_state_dict(self, state_dict, strict=True):
        """Copy values into the parameters (keeping their dtype and device).

        A wrongly shaped value is always an error; missing or unexpected keys are errors when
        strict, and are returned as (missing_keys, unexpected_keys) otherwise.
        """
        own = OrderedDict(self._named_state())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        for name, value in state_dict.items():
            if name in own:
                shape = tuple(value.shape)
                if shape != own[name].shape:
                    raise RuntimeError(f"size mismatch for {name}: the state_dict has shape {shape}, "
                                       f"the tensor in this model has shape {own[name].shape}")
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing keys: {', '.join(missing)}")
            if unexpected:
                parts.append(f"unexpected keys: {', '.join(unexpected)}")
            raise RuntimeError(f"error loading state_dict into {type(self).__name__}: {'; '.join(parts)}")
        for name, value in state_dict.items():
            if name in own:
                param = own[name]
                array = value.data if isinstance(value, Tensor) else np.asarray(value)
                param.data[...] = backend.to_device(array, param.device).astype(param.dtype, copy=False)
                param._version += 1  # an in-place write, seen by backward's version check
        return IncompatibleKeys(missing, unexpected)

    def to(self, device=None, dtype=None):
        """Move every parameter (and its gradient) and buffer to a device and/or float dtype, in place; returns self."""
        device = None if device is None else backend.parse_device(device)
        for p in (*self.parameters(), *self.buffers()):
            for attr in ("data", "grad"):
                array = getattr(p, attr)
                if array is None:
                    continue
                if dtype is not None and array.dtype.kind == "f":
                    array = array.astype(dtype)
                if device is not None:
                    array = backend.to_device(array, device)
                setattr(p, attr, array)
        return self

    def double(self):
        return self.to(dtype=np.float64)

    def float(self):
        return self.to(dtype=np.float32)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, index=0):
        return self.to(f"cuda:{index}")

    # ------------------------------------------------------------ printing

    def extra_repr(self):
        """The settings shown between the parentheses of repr (override in layers)."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        children = [f"({name}): {_indent(repr(m), 2)}" for name, m in self._modules.items()]
        if not children:
            return f"{type(self).__name__}({extra})"
        lines = ([extra] if extra else []) + children
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"
