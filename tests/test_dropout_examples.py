"""The dropout examples run end to end in their quick modes, return their numbers, and plot when asked."""

import importlib.util
import sys
from pathlib import Path

import pytest

import tinygrad_drop.nn.functional as F

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_dropout_overfitting(load, capsys):
    results = load("dropout_overfitting").main(["--quick"])
    out = capsys.readouterr().out
    assert set(results) == {0.0, 0.5} and "accuracy gap" in out and "narrow" in out
    for row in results.values():
        assert 0.5 < row["test_acc"] <= row["train_acc"] + 0.05
        assert row["acc_gap"] == pytest.approx(row["train_acc"] - row["test_acc"])


def test_ensemble_view(load, capsys):
    results = load("ensemble_view").main(["--quick"])
    assert "weight scaling vs exact arithmetic mean" in capsys.readouterr().out
    net_a, net_b = (results[name, 0.5] for name in load("ensemble_view").NETS)
    assert net_a["ws_vs_gm"] < 1e-12  # one dropout layer before the softmax: weight scaling IS the geometric mean
    assert net_b["ws_vs_gm"] > 1e-6  # a nonlinearity after the dropout breaks the identity
    for r in (net_a, net_b):
        assert r["mc_vs_am"][64] < r["mc_vs_am"][1]  # MC converges to the exact arithmetic mean


def test_mc_dropout_uncertainty(load, capsys):
    result = load("mc_dropout_uncertainty").main(["--quick"])
    out = capsys.readouterr().out
    assert "far outside" in out and "AUROC" in out
    assert all(s > 0 for s in result["std_inside"] + result["std_outside"])
    assert result["entropy_noise_mc"] > result["entropy_digits_mc"]
    assert 0.5 < result["auroc_mc"] <= 1.0


def test_regularisers(load, capsys):
    table = load("regularisers").main(["--quick"])
    assert list(table) == list(load("regularisers").SETTINGS)
    assert "early stopping" in capsys.readouterr().out
    for row in table.values():
        assert 0.3 < row["test_acc"] <= 1.0 and row["gap"] == pytest.approx(row["train_acc"] - row["test_acc"])


@pytest.mark.mutation_unsafe  # counts warnings per call site, which mutmut's wrappers merge
def test_train_eval_bug(load, capsys):
    F._warned_call_sites.clear()  # the functional part warns once per call site, so start fresh
    result = load("train_eval_bug").main(["--quick"])
    out = capsys.readouterr().out
    assert "dropout left on" in out
    assert result["eval_acc"] > 0.7 and result["flipped"] > 0
    assert len(result["warnings"]) == 2 and all("training=self.training" in w for w in result["warnings"])


ARGS = {
    "dropout_overfitting": ["--quick", "--epochs", "2"],
    "ensemble_view": ["--quick", "--epochs", "1", "--max-samples", "4"],
    "mc_dropout_uncertainty": ["--quick", "--epochs", "5", "--samples", "3"],
    "regularisers": ["--quick", "--epochs", "2"],
    "train_eval_bug": ["--quick", "--epochs", "1", "--repeats", "2"],
}


@pytest.mark.parametrize("name", list(ARGS))
def test_plot_is_saved_or_explained(name, load, tmp_path, monkeypatch, capsys):
    path = tmp_path / f"{name}.png"
    if importlib.util.find_spec("matplotlib") is not None:
        load(name).main(ARGS[name] + ["--plot", str(path)])
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    load(name).main(ARGS[name] + ["--plot", str(tmp_path / "none.png")])
    assert 'pip install "tinygrad_drop[examples]"' in capsys.readouterr().out
    assert not (tmp_path / "none.png").exists()


def test_docs_show_each_examples_picture_as_a_small_png():
    for name in ARGS:
        path = EXAMPLES.parent / "docs" / "images" / f"{name}.png"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size < 200_000, path
        assert f"images/{name}.png" in (EXAMPLES.parent / "docs" / "dropout.md").read_text()


@pytest.mark.mutation_unsafe  # reads source line numbers, which mutmut's rewritten files change
def test_dropout_page_line_references_match_the_source():
    spec = importlib.util.spec_from_file_location("core_size", EXAMPLES.parent / "scripts" / "core_size.py")
    core_size = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(core_size)
    text = (EXAMPLES.parent / "docs" / "dropout.md").read_text()
    refs = list(core_size.REFERENCE.finditer(text))
    assert len(refs) >= 20
    stale = []
    for ref in refs:
        start, end = core_size.line_range(ref["path"], ref["name"])
        if (int(ref["start"]), int(ref["end"])) != (start, end):
            stale.append(f"| `{ref['name']}` | `{ref['path']}` | {start}-{end} |  (not {ref['start']}-{ref['end']})")
    assert not stale, "docs/dropout.md points at old lines; change these rows to:\n" + "\n".join(stale)
