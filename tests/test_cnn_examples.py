"""The convolution, DropPath and SELU examples run end to end in their --quick modes and save their pictures."""

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
DOCS = EXAMPLES.parent / "docs"
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


def _quick(load, name, tmp_path):
    """Run an example's --quick mode with a plot into tmp_path; return its result and the picture's path."""
    path = tmp_path / f"{name}.png"
    result = load(name).main(["--quick", "--plot", str(path)])
    if HAS_MATPLOTLIB:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return result


def test_cnn_digits(load, tmp_path, capsys):
    table = _quick(load, "cnn_digits", tmp_path)
    out = capsys.readouterr().out
    assert list(table) == list(load("cnn_digits").VARIANTS)
    assert "best:" in out and "replaced by batch norm and augmentation" in out
    for row in table.values():
        assert 0.3 < row["test_acc"] <= 1.0 and row["gap"] == pytest.approx(row["train_acc"] - row["test_acc"])


def test_cnn_has_each_variants_layers(load):
    cnn = load("cnn_digits")
    import tinygrad_drop.nn as nn

    plain = [type(m).__name__ for m in cnn.build_cnn().modules()]
    with_bn = [type(m).__name__ for m in cnn.build_cnn(batch_norm=True).modules()]
    assert plain.count("Conv2d") == 3 and plain.count("MaxPool2d") == 2 and "BatchNorm2d" not in plain
    assert with_bn.count("BatchNorm2d") == 3
    dropouts = [m for m in cnn.build_cnn(p_fc=0.5, p_channels=0.2).modules() if isinstance(m, nn.Dropout)]
    assert sorted((type(m).__name__, m.p) for m in dropouts) == [("Dropout", 0.5), ("Dropout2d", 0.2),
                                                                ("Dropout2d", 0.2)]


def test_drop_path_depth(load, tmp_path, capsys):
    example = load("drop_path_depth")
    table = _quick(load, "drop_path_depth", tmp_path)
    assert "DropPath - none" in capsys.readouterr().out
    assert set(table) == {(s, d) for s in example.SETTINGS for d in (2, 16)}
    assert all(0.2 < row["test_acc"] <= 1.0 for row in table.values())


def test_drop_path_rates_follow_the_linear_depth_rule(load):
    model = load("drop_path_depth").ResidualMLP(64, 8, 10, depth=16, p_drop_path=0.3)
    rates = [block.drop_path.p for block in model.blocks]
    assert len(rates) == 16 and rates[0] == pytest.approx(0.3 / 16) and rates[-1] == pytest.approx(0.3)


def test_selu_alpha_dropout(load, tmp_path, capsys):
    summary = _quick(load, "selu_alpha_dropout", tmp_path)
    assert "test accuracy with AlphaDropout" in capsys.readouterr().out
    alpha, plain = summary["AlphaDropout", "init", "train"], summary["Dropout", "init", "train"]
    # at initialisation, in train mode, alpha dropout stays near the fixed point and plain dropout inflates the variance
    assert abs(alpha["last_mean"]) < 0.1 and abs(alpha["last_var"] - 1) < 0.2
    assert plain["last_var"] > 1.3
    # in eval mode both are the same plain SELU network at initialisation
    assert summary["AlphaDropout", "init", "eval"] == summary["Dropout", "init", "eval"]


def test_the_snn_has_16_selu_layers_and_lecun_weights(load):
    import numpy as np

    model = load("selu_alpha_dropout").build_snn("AlphaDropout", 0.1)
    names = [type(m).__name__ for m in model.modules()]
    assert names.count("SELU") == 16 and names.count("AlphaDropout") == 16
    weights = model[5][0].weight.numpy()
    assert weights.std() == pytest.approx(1 / np.sqrt(128), rel=0.05) and abs(weights.mean()) < 0.005


@pytest.mark.parametrize("name", ["cnn_digits", "drop_path_depth", "selu_alpha_dropout"])
def test_docs_show_each_examples_picture_as_a_small_png(name):
    path = DOCS / "images" / f"{name}.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size < 200_000, path
    assert f"images/{name}.png" in (DOCS / "dropout.md").read_text()
