"""examples/tiny_gpt.py and examples/llm_dropout.py run end to end in their quick modes."""

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_tiny_gpt_quick(load, tmp_path, capsys):
    pytest.importorskip("tqdm")
    result = load("tiny_gpt").main(["--quick", "--no-progress", "--plot", str(tmp_path / "attention.png")])
    out = capsys.readouterr().out
    assert "gradcheck of one block (float64, dropout p=0.1 at all three sites): passed" in out
    assert 2.5 < result["val_loss"] < 4.2  # 30 steps: below log(65) = 4.17, far from trained
    assert len(result["sample"]) == 40 and "validation loss" in out
    if importlib.util.find_spec("matplotlib") is not None:
        assert (tmp_path / "attention.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_llm_dropout_quick(load, tmp_path, capsys):
    pytest.importorskip("tqdm")
    result = load("llm_dropout").main(["--quick", "--plot", str(tmp_path / "curves.png")])
    out = capsys.readouterr().out
    assert set(result["best"]) == {(name, p) for name in ("slice", "whole") for p in (0.0, 0.1, 0.2)}
    assert set(result["final"]) == set(result["best"])
    assert all(2.5 < loss < 4.2 for losses in result["best"].values() for loss in losses)
    best, final = result["best"], result["final"]
    assert all(b <= f for key in best for b, f in zip(best[key], final[key], strict=True))
    assert "the best of each run and the one at its last step" in out and "0.2 |" in out
    if importlib.util.find_spec("matplotlib") is not None:
        assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_docs_show_the_transformer_pictures():
    docs = EXAMPLES.parent / "docs"
    for name in ("tiny_gpt_attention", "llm_dropout"):
        path = docs / "images" / f"{name}.png"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size < 200_000, path
        assert f"images/{name}.png" in (docs / "dropout.md").read_text()
