"""Module.requires_grad_, num_parameters, zero_grad, Sequential slices' names and td.nn.summary."""

import numpy as np
import pytest

import tinygrad_drop as td
from tinygrad_drop import nn


def _model():
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.5), nn.Sequential(nn.Linear(16, 4), nn.SELU()))


def test_requires_grad_freezes_and_unfreezes():
    model = _model()
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    loss = model(td.randn(2, 8)).sum()
    assert not loss.requires_grad
    model[0].requires_grad_()
    assert [p.requires_grad for p in model.parameters()] == [True, True, False, False]


def test_num_parameters_counts_shared_parameters_once():
    model = _model()
    assert model.num_parameters() == 8 * 16 + 16 + 16 * 4 + 4 == sum(p.numel() for p in model.parameters())
    model[3].requires_grad_(False)
    assert model.num_parameters(only_trainable=True) == 8 * 16 + 16
    shared = nn.Sequential(model[0], model[0])
    assert shared.num_parameters() == 8 * 16 + 16


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    model = _model()
    model(td.randn(2, 8)).sum().backward()
    model.zero_grad(set_to_none=set_to_none)
    for p in model.parameters():
        assert p.grad is None if set_to_none else not p.grad.any()


def test_sequential_slices_keep_names_and_load_into_the_whole_model():
    model = _model()
    tail = model[2:]
    assert list(tail._modules) == ["2", "3"]
    assert list(tail.state_dict()) == ["3.0.weight", "3.0.bias"]
    donor = _model()
    missing, unexpected = model.load_state_dict(donor[3:].state_dict(), strict=False)
    assert missing == ["0.weight", "0.bias"] and unexpected == []
    np.testing.assert_array_equal(model[3][0].weight.numpy(), donor[3][0].weight.numpy())
    assert model[1:3]._modules["1"] is model[1]


def test_sequential_slice_matches_torch_names():
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU(), torch.nn.Linear(2, 2))[1:]
    ours = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2))[1:]
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_summary_table(capsys):
    model = _model()
    text = nn.summary(model, (32, 8))
    assert capsys.readouterr().out.strip() == text.strip()
    line_of = {line.split()[0]: line for line in text.splitlines() if line.startswith("  ")}
    # Linear(8, 16) keeps its input (32 x 8 float32) but not its weight, which is a parameter
    assert "(32, 16)" in line_of["0"] and "144" in line_of["0"] and "1,024 B" in line_of["0"]
    assert "2,048 B" in line_of["1"]  # ReLU's output, 32 x 16 float32
    assert "512 B" in line_of["2"]  # the dropout mask, 32 x 16 bools
    assert "(32, 4)" in line_of["3.0"] and "68" in line_of["3.0"] and "2,048 B" in line_of["3.0"]
    assert "512 B" in line_of["3.1"]  # SELU keeps x only (backward recomputes e^min(x, 0))
    assert "Total params: 212 (848 B)" in text
    assert "Trainable params: 212" in text
    assert "one forward pass of (32, 8): 6,144 B" in text  # 1,024 + 2,048 + 512 + 2,048 + 512


def test_summary_in_eval_mode_has_no_dropout_mask():
    model = _model().eval()
    text = nn.summary(model, (32, 8))
    line = next(line for line in text.splitlines() if line.startswith("  2 (Dropout)"))
    assert line.endswith(" 0 B")


def test_summary_leaves_the_model_and_generator_alone():
    model = _model()
    td.manual_seed(5)
    expected = td.randn(3).numpy()
    td.manual_seed(5)
    nn.summary(model, (4, 8))
    np.testing.assert_array_equal(td.randn(3).numpy(), expected)
    assert all("forward" not in m.__dict__ for m in model.modules())
