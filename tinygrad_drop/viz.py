"""See the graph behind a tensor: Graphviz DOT text with no dependency, and a picture when `dot` is installed.

    with td.viz.trace():                  # remember saved bytes and gradient norms
        loss = F.cross_entropy(model(x), y)
        loss.backward()
    td.viz.render(loss, "graph.svg", params=model)

Each op node shows the op, the shape and dtype of its output, the bytes it saved for backward
(a dropout mask: one byte per element) and the norm of the gradient that flowed through it. Leaf
nodes show a parameter's name (when `params` is given) and the norm of its `.grad`.
"""

import shutil
import subprocess
from pathlib import Path

import numpy as np

from . import autograd, backend
from .gradcheck import named_params

GRAPHVIZ_HINT = (
    "Graphviz's `dot` program is not installed, so {path} cannot be drawn. Install Graphviz "
    "(Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz; conda: conda install graphviz; "
    "Windows: winget install graphviz), or write the DOT text instead with td.viz.render(tensor, 'graph.dot') "
    "and open it in any Graphviz viewer."
)
_FILL = {"op": "white", "param": "#dbeafe", "constant": "#eeeeee", "output": "#fde68a"}


def trace():
    """Inside the block, remember what each op saves and each gradient's norm, for to_dot after backward."""
    return autograd.observe(_Tracer())


class _Tracer(autograd.Observer):
    """Writes `saved_summary` (what the op keeps for backward) and `grad_norm` onto each graph node."""

    def forward(self, ctx, inputs, out):
        ctx.saved_summary = _describe_saved(ctx.saved_tensors) if hasattr(ctx, "saved_tensors") else ()

    def gradient(self, tensor, grad):
        if tensor._ctx is not None:
            tensor._ctx.grad_norm = _norm(grad)


def trace_backward(names=None):
    """Record a backward pass: `with td.trace_backward() as trace: loss.backward()`, then `print(trace)`.

    `print(trace)` shows one line per node in the order the engine runs them: the op, the gradient
    it receives and the gradient it returns to each input (values for tensors of up to
    `BackwardTrace.MAX_VALUES` elements, dtype, shape and norm for larger ones), then each leaf and
    the gradient it adds to `.grad`. `names` (a dict name -> tensor, or a Module) names the leaves;
    others are called leaf 1, leaf 2, ... (constant 1, ... when they need no gradient) in the order
    they first appear. Like no_grad, it applies to the current thread.
    """
    return autograd.observe(BackwardTrace(names))


class BackwardTrace(autograd.Observer):
    """The steps of one backward pass, as text: `steps` holds (node, receives, returns) per node."""

    MAX_VALUES = 8

    def __init__(self, names=None):
        self.steps = []
        self._labels = {id(t): name for name, t in named_params(names)}
        self._counts = {}

    def _label(self, tensor):
        """'Mul' for an op's output ('Mul 2' for the second), the given name, 'leaf N' or 'constant N'."""
        if not autograd.is_tensor(tensor):
            return type(tensor).__name__
        key = id(tensor)
        if key not in self._labels:
            kind = type(tensor._ctx).__name__ if tensor._ctx else "leaf" if tensor.requires_grad else "constant"
            self._counts[kind] = count = self._counts.get(kind, 0) + 1
            self._labels[key] = f"{kind} {count}" if count > 1 or kind in ("leaf", "constant") else kind
        return self._labels[key]

    def gradient(self, tensor, grad):
        returns = "adds it to .grad" if tensor._ctx is None else ""
        self.steps.append((self._label(tensor), _show(grad), returns))

    def backward(self, ctx, grads):
        parts = [f"{_show(g)} to {self._label(x)}" if g is not None else f"None to {self._label(x)}"
                 for x, g in zip(ctx.parents, grads, strict=True)]
        node, receives, _ = self.steps[-1]
        self.steps[-1] = (node, receives, "returns " + ", ".join(parts))

    def __str__(self):
        if not self.steps:
            return "(no backward pass was traced)"
        width = max(len(node) for node, _, _ in self.steps)
        received = max(len(receives) for _, receives, _ in self.steps)
        return "\n".join(f"{node:<{width}}  receives {receives:<{received}}  {returns}"
                         for node, receives, returns in self.steps)

    __repr__ = __str__


def _show(array):
    """The values of a small array ('[3. 4.]'), else its dtype, shape and norm."""
    array = backend.to_numpy(array)
    if array.size <= BackwardTrace.MAX_VALUES:
        return np.array2string(array, precision=4, separator=" ")
    return f"{array.dtype} {array.shape} (norm {np.linalg.norm(array.ravel()):.4g})"


def _norm(array):
    """The 2-norm of all elements, as a Python float."""
    return float(backend.get_array_module(array).linalg.norm(array.ravel()))


def _describe_saved(saved):
    """(text, bytes) per saved value: 'bool (32, 64)' for an array, the type's name for anything else."""
    return tuple((f"{v.dtype} {tuple(v.shape)}", v.nbytes) if hasattr(v, "nbytes") else (type(v).__name__, 0)
                 for v in saved)


def _saved_line(ctx):
    """What the op keeps for backward, while it is alive or as recorded by trace()."""
    saved = getattr(ctx, "saved_tensors", None)
    if saved is not None:
        saved = _describe_saved(saved)
    elif hasattr(ctx, "saved_summary"):
        saved = ctx.saved_summary
    elif ctx.freed:
        return "saved arrays freed by backward"
    else:
        return "saves nothing"
    if not saved:
        return "saves nothing"
    return f"saved {sum(n for _, n in saved):,} B: " + ", ".join(text for text, _ in saved)


def _node(tensor, name, is_output):
    """The label lines and fill colour of one tensor's node."""
    lines, ctx = [], tensor._ctx
    if ctx is not None:
        lines.append(type(ctx).__name__)
        kind = "op"
    else:
        lines.append(name or ("leaf" if tensor.requires_grad else "input (no grad)"))
        kind = "param" if tensor.requires_grad else "constant"
    lines.append(f"{tuple(tensor.shape)} {tensor.dtype}")
    if ctx is not None:
        lines.append(_saved_line(ctx))
    if tensor.grad is not None:
        lines.append(f"grad norm {_norm(tensor.grad):.4g}")
    elif ctx is not None and hasattr(ctx, "grad_norm"):
        lines.append(f"grad norm {ctx.grad_norm:.4g}")
    return lines, _FILL["output" if is_output else kind]


def _label(lines):
    """A DOT string literal with one line per item."""
    escaped = (line.replace("\\", "\\\\").replace('"', '\\"') for line in lines)
    return '"' + "\\n".join(escaped) + '"'


def to_dot(tensor, params=None):
    """The graph that produced `tensor` as Graphviz DOT text; `params` (a Module or dict) names the leaves."""
    names = {id(p): name for name, p in named_params(params)}
    order = autograd.graph_order(tensor)[::-1]  # inputs first
    ids = {id(t): f"n{i}" for i, t in enumerate(order)}
    out = ["digraph tinygrad_drop {",
           '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];']
    for t in order:
        lines, fill = _node(t, names.get(id(t)), t is tensor)
        out.append(f'  {ids[id(t)]} [label={_label(lines)}, fillcolor="{fill}"];')
    for t in order:
        if t._ctx is not None:
            out += [f"  {ids[id(p)]} -> {ids[id(t)]};" for p in t._ctx.parents if autograd.is_tensor(p)]
    out.append("}")
    return "\n".join(out) + "\n"


def render(tensor, path, params=None):
    """Draw the graph of `tensor` to `path` (.svg, .png, .pdf ... with Graphviz; .dot or .gv as text)."""
    path = Path(path)
    text = to_dot(tensor, params)
    fmt = path.suffix.lstrip(".").lower()
    if fmt in ("dot", "gv"):
        path.write_text(text)
        return path
    if shutil.which("dot") is None:
        raise RuntimeError(GRAPHVIZ_HINT.format(path=path))
    result = subprocess.run(["dot", f"-T{fmt}", "-o", str(path)], input=text, text=True, capture_output=True)
    if result.returncode != 0:
        raise RuntimeError(f"Graphviz's dot could not draw {path}: {result.stderr.strip()}")
    return path
