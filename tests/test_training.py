"""End to end: a short, deterministic training run on the bundled digits, and the examples' entry points."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tinygrad_drop import nn
from tinygrad_drop.data import DataLoader, load_digits, train_test_split

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _train_digits(seed, epochs=3):
    """Train a small dropout MLP for a few epochs; return its test accuracy and final weights."""
    td.manual_seed(seed)
    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X / np.float32(16), y, seed=seed)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 10))
    optimizer = td.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(epochs):
        model.train()
        for xb, yb in DataLoader(X_train, y_train, batch_size=32, shuffle=True, seed=seed):
            loss = F.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    with td.no_grad():
        accuracy = (model(td.Tensor(X_test)).argmax(axis=1) == td.Tensor(y_test)).numpy().mean()
    return accuracy, model[0].weight.numpy().copy()


def test_a_few_epochs_on_digits_reach_well_above_chance():
    accuracy, _ = _train_digits(seed=0)
    assert accuracy > 0.85  # chance is 0.10


def test_training_is_deterministic_for_a_seed():
    first_acc, first_w = _train_digits(seed=3, epochs=1)
    second_acc, second_w = _train_digits(seed=3, epochs=1)
    assert first_acc == second_acc
    np.testing.assert_array_equal(first_w, second_w)


def _load_example(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_train_mlp_example_runs_and_learns(capsys):
    history = _load_example("train_mlp").main(["--epochs", "2", "--no-progress"])
    out = capsys.readouterr().out
    assert "gradcheck" in out and "FAIL" not in out
    assert out.count(" pass") == 7  # the input and six parameter tensors
    assert history["test_acc"][-1] > 0.8


def test_gradcheck_tour_runs(capsys):
    _load_example("gradcheck_tour").main()
    out = capsys.readouterr().out
    assert "gradcheck failed" in out and "kink" in out and "passed (unexpected!)" not in out


def test_progress_bar_stays_off_when_the_output_is_not_a_terminal(capsys):
    pytest.importorskip("tqdm", reason="tqdm is in the examples extra")
    progress = _load_example("train_mlp").progress
    assert list(progress(range(5), True, "epoch 1/1")) == list(range(5))
    assert capsys.readouterr().err == ""  # captured output is not a terminal: no bar, no stale "0%" line
