"""td.viz: DOT text of a graph (ops, shapes, dtypes, saved bytes, gradient norms), rendering, the example."""

import importlib.util
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tinygrad_drop import nn

ROOT = Path(__file__).resolve().parents[1]
HAS_DOT = shutil.which("dot") is not None


def _labels(dot):
    """node id -> its label lines."""
    return {m[1]: m[2].split("\\n") for m in re.finditer(r'^  (n\d+) \[label="(.*?)", fillcolor', dot, re.M)}


def _edges(dot):
    return re.findall(r"^  (n\d+) -> (n\d+);", dot, re.M)


def _mlp_loss(p=0.5):
    td.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Dropout(p), nn.Linear(4, 2))
    x, y = td.randn(5, 3), td.Tensor([0, 1, 1, 0, 1])
    return model, F.cross_entropy(model(x), y)


def test_nodes_show_op_shape_dtype_and_saved_bytes_before_backward():
    model, loss = _mlp_loss()
    labels = _labels(td.viz.to_dot(loss, params=model))
    by_first_line = {}
    for lines in labels.values():
        by_first_line.setdefault(lines[0], []).append(lines)
    assert by_first_line["Dropout"] == [["Dropout", "(5, 4) float32", "saved 20 B: bool (5, 4)"]]  # 1 B per element
    assert by_first_line["ReLU"] == [["ReLU", "(5, 4) float32", "saved 80 B: float32 (5, 4)"]]
    assert by_first_line["0.weight"] == [["0.weight", "(4, 3) float32"]]
    assert by_first_line["input (no grad)"] == [["input (no grad)", "(5, 3) float32"],
                                                ["input (no grad)", "(5,) int64"]]
    assert [lines[0] for lines in labels.values()].count("Linear") == 2


def test_edges_follow_the_data_from_inputs_to_the_output():
    model, loss = _mlp_loss()
    dot = td.viz.to_dot(loss, params=model)
    labels = _labels(dot)
    names = {node: lines[0] for node, lines in labels.items()}
    edges = {(names[a], names[b]) for a, b in _edges(dot)}
    assert {("0.weight", "Linear"), ("Linear", "ReLU"), ("ReLU", "Dropout"), ("Dropout", "Linear"),
            ("Linear", "CrossEntropy")} <= edges
    assert dot.startswith("digraph tinygrad_drop {") and dot.rstrip().endswith("}")


def test_trace_records_saved_bytes_and_gradient_norms_through_backward():
    td.manual_seed(0)
    x = td.randn(4, 3, requires_grad=True)
    with td.viz.trace():
        h = x * 2.0
        y = F.dropout(h, p=0.5)
        loss = (y**2).sum()
        loss.backward()
    labels = {lines[0]: lines for lines in _labels(td.viz.to_dot(loss)).values()}
    grad_y = 2 * y.data  # d(sum y^2)/dy
    grad_h = grad_y * (y.data != 0) * 2.0
    assert labels["Dropout"][2] == "saved 12 B: bool (4, 3)"  # remembered although backward freed it
    assert labels["Dropout"][3] == f"grad norm {np.linalg.norm(grad_y):.4g}"
    assert labels["Mul"][3] == f"grad norm {np.linalg.norm(grad_h):.4g}"
    assert labels["leaf"][-1] == f"grad norm {np.linalg.norm(x.grad):.4g}"


def test_without_trace_backward_frees_what_was_saved():
    _, loss = _mlp_loss()
    loss.backward()
    labels = _labels(td.viz.to_dot(loss))
    dropout = next(lines for lines in labels.values() if lines[0] == "Dropout")
    assert dropout[2] == "saved arrays freed by backward"


def test_a_recomputed_dropout_mask_saves_no_bytes():
    x = td.randn(4, 8, requires_grad=True)
    y = F.dropout(x, 0.5, mask_storage="recompute")
    labels = _labels(td.viz.to_dot(y))
    assert next(lines for lines in labels.values() if lines[0] == "DropoutRecompute")[2] == "saved 0 B: Draw"


def test_retain_grad_shows_an_intermediate_gradient_norm():
    x = td.Tensor([3.0, 4.0], requires_grad=True)
    h = x * 1.0
    h.retain_grad()
    h.sum().backward()
    labels = {lines[0]: lines for lines in _labels(td.viz.to_dot(h.sum())).values()}
    assert labels["Mul"][-1] == "grad norm 1.414"


def test_labels_are_escaped():
    dot = td.viz.to_dot(td.Tensor([1.0], requires_grad=True) * 2.0, params={'a "quoted" \\name': None})
    assert '"' not in dot.split("label=")[1].split(", fillcolor")[0][1:-1].replace('\\"', "")


def test_render_dot_text_needs_no_graphviz(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    _, loss = _mlp_loss()
    path = td.viz.render(loss, tmp_path / "graph.dot")
    assert path.read_text() == td.viz.to_dot(loss)


def test_render_without_graphviz_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    _, loss = _mlp_loss()
    with pytest.raises(RuntimeError, match="apt-get install graphviz.*brew install graphviz") as info:
        td.viz.render(loss, tmp_path / "graph.svg")
    assert "graph.svg cannot be drawn" in str(info.value) and "graph.dot" in str(info.value)
    assert not (tmp_path / "graph.svg").exists()


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed")
def test_render_svg_with_graphviz(tmp_path):
    model, loss = _mlp_loss()
    path = td.viz.render(loss, tmp_path / "graph.svg", params=model)
    svg = path.read_text()
    assert svg.lstrip().startswith("<?xml") and "Dropout" in svg and "0.weight" in svg


def _load_example(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_digits_graph_example_writes_the_graph(tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    path = _load_example("graph_digits").main(["--out", str(tmp_path / "digits.dot"), "--hidden", "16"])
    dot = path.read_text()
    assert dot.count("Dropout") == 1 and "saved 512 B: bool (32, 16)" in dot and "grad norm" in dot
    assert "the graph is in" in capsys.readouterr().out


def test_digits_graph_example_writes_to_the_current_folder_and_falls_back_to_dot(tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("shutil.which", lambda name: None)  # as on a machine without Graphviz
    path = _load_example("graph_digits").main(["--hidden", "16"])
    assert path == Path("digits_graph.dot") and (tmp_path / "digits_graph.dot").read_text().startswith("digraph")
    out = capsys.readouterr().out
    assert "Graphviz's `dot` program is not installed, so digits_graph.svg cannot be drawn" in out
    assert "Install Graphviz" in out


def test_the_docs_show_the_digits_graph():
    svg = (ROOT / "docs" / "images" / "digits_graph.svg").read_text()
    assert "<svg" in svg and svg.count("Dropout") == 2 and "bool (32, 256)" in svg and "grad norm" in svg
    assert "images/digits_graph.svg" in (ROOT / "docs" / "visualising.md").read_text()


# ---------------------------------------------------------------- td.trace_backward


def _traced(**kwargs):
    a = td.tensor([1.0, 2.0], requires_grad=True)
    b = td.tensor([3.0, 4.0], requires_grad=True)
    L = (a * b + a).sum()
    names = {"a": a, "b": b} if kwargs.get("named") else None
    with td.trace_backward(names) as trace:
        L.backward()
    return trace


def test_trace_backward_prints_each_node_in_backward_order():
    assert str(_traced()).splitlines() == [
        "Sum     receives 1.       returns [1. 1.] to Add",
        "Add     receives [1. 1.]  returns [1. 1.] to Mul, [1. 1.] to leaf 1",
        "Mul     receives [1. 1.]  returns [3. 4.] to leaf 1, [1. 2.] to leaf 2",
        "leaf 1  receives [4. 5.]  adds it to .grad",
        "leaf 2  receives [1. 2.]  adds it to .grad",
    ]


def test_trace_backward_uses_the_given_names():
    steps = _traced(named=True).steps
    assert [node for node, _, _ in steps] == ["Sum", "Add", "Mul", "a", "b"]
    assert steps[2][2] == "returns [3. 4.] to a, [1. 2.] to b"


def test_trace_backward_shows_none_and_summarises_large_gradients():
    x = td.ones(3, 4, requires_grad=True)
    c = td.ones(3, 4)
    with td.trace_backward() as trace:
        (x * c).sum().backward()
    mul = trace.steps[1]
    assert mul[0] == "Mul" and mul[1] == "float32 (3, 4) (norm 3.464)"
    assert mul[2] == "returns float32 (3, 4) (norm 3.464) to leaf 1, None to constant 1"


def test_trace_backward_numbers_repeated_ops_and_stops_afterwards():
    x = td.tensor([1.0], requires_grad=True)
    with td.trace_backward() as trace:
        (x * 2.0 * 3.0).sum().backward()
    assert [node for node, _, _ in trace.steps] == ["Sum", "Mul", "Mul 2", "leaf 1"]
    (x * 2.0).sum().backward()
    assert len(trace.steps) == 4
    assert str(td.viz.BackwardTrace()) == "(no backward pass was traced)"
