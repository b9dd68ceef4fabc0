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

from . import autograd, backend
from .gradcheck import _named_params
from .tensor import Tensor

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


def _graph(root):
    """Every tensor in the graph of `root`, each after its inputs (an iterative depth-first search)."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        tensor, expanded = stack.pop()
        if expanded:
            order.append(tensor)
            continue
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        stack.append((tensor, True))
        if tensor._ctx is not None:
            stack.extend((p, False) for p in reversed(tensor._ctx.parents) if isinstance(p, Tensor))
    return order


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
    names = {id(p): name for name, p in _named_params(params)}
    order = _graph(tensor)
    ids = {id(t): f"n{i}" for i, t in enumerate(order)}
    out = ["digraph tinygrad_drop {",
           '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];']
    for t in order:
        lines, fill = _node(t, names.get(id(t)), t is tensor)
        out.append(f'  {ids[id(t)]} [label={_label(lines)}, fillcolor="{fill}"];')
    for t in order:
        if t._ctx is not None:
            out += [f"  {ids[id(p)]} -> {ids[id(t)]};" for p in t._ctx.parents if isinstance(p, Tensor)]
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
