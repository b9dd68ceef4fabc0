"""td.nn.summary: a table of a model's layers with their output shapes, parameter counts and the bytes
each keeps for backward, from one forward pass on a random input."""

import contextlib

from .. import random as _random
from ..autograd import Observer, observe
from ..creation import randn
from .module import current_module


class _SavedBytes(Observer):
    """Adds the bytes of the arrays each op saves for backward to the module whose forward runs the op.

    A parameter's own array is left out: keeping it for backward costs no memory beyond the parameter.
    """

    def __init__(self, model):
        self.bytes = {}  # id(module) -> bytes
        self.parameter_arrays = {id(p.data) for p in model.parameters()}

    def forward(self, ctx, inputs, out):
        saved = getattr(ctx, "saved_tensors", None) or ()
        extra = sum(getattr(a, "nbytes", 0) for a in saved if id(a) not in self.parameter_arrays)
        key = id(current_module())
        self.bytes[key] = self.bytes.get(key, 0) + extra


@contextlib.contextmanager
def _output_shapes(modules, shapes):
    """Inside the block, each module's forward notes the shape of its output in shapes[id(module)]."""
    for module in modules:
        def forward(*args, _module=module, _forward=module.forward, **kwargs):
            out = _forward(*args, **kwargs)
            shapes[id(_module)] = tuple(out.shape) if hasattr(out, "shape") else type(out).__name__
            return out
        module.__dict__["forward"] = forward  # an instance attribute: Module.__call__ finds it first
    try:
        yield
    finally:
        for module in modules:
            del module.__dict__["forward"]


def summary(model, input_shape, dtype=None, device=None):
    """Print and return a table of model's layers: name (type), output shape, parameters, bytes saved for backward.

    Runs model on one N(0, 1) input of `input_shape` (the batch axis included) in its current mode, so a
    model in training mode shows its dropout masks; the framework's generator is left as it was. An op's
    saved bytes count for the innermost module whose forward ran it; parameters themselves are not counted.
    """
    named = list(model.named_modules())
    shapes, saved = {}, _SavedBytes(model)
    with _random.fork_rng(), _output_shapes([m for _, m in named], shapes), observe(saved):
        x = randn(*input_shape, dtype=dtype, device=device)
        model(x)
    rows = [("Layer (type)", "Output shape", "Params", "Saved for backward")]
    for depth_name, module in named:
        own_params = sum(p.size for p in module._parameters.values() if p is not None)
        name = depth_name or "(model)"
        indent = "  " * depth_name.count(".") + ("  " if depth_name else "")
        shape = shapes.get(id(module), "-")
        rows.append((f"{indent}{name} ({type(module).__name__})", str(shape), f"{own_params:,}",
                     f"{saved.bytes.get(id(module), 0):,} B"))
    total = sum(p.size for p in model.parameters())
    trainable = sum(p.size for p in model.parameters() if p.requires_grad)
    param_bytes = sum(p.data.nbytes for p in model.parameters())
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    line = "-" * (sum(widths) + 6)

    def fmt(row):
        return "  ".join([row[0].ljust(widths[0])] + [cell.rjust(w) for cell, w in zip(row[1:], widths[1:],
                                                                                       strict=True)])

    text = "\n".join([line, fmt(rows[0]), line, *map(fmt, rows[1:]), line,
                      f"Total params: {total:,} ({param_bytes:,} B)",
                      f"Trainable params: {trainable:,}",
                      f"Saved for backward by one forward pass of {tuple(input_shape)}: "
                      f"{sum(saved.bytes.values()):,} B", line])
    print(text)
    return text
