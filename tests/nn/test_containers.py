"""Buffers, ModuleList, ModuleDict and Module.apply, and torch's dim= beside axis=."""

import numpy as np
import pytest

import tinygrad_drop as td
from tinygrad_drop import nn


class WithBuffers(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2)
        self.register_buffer("running", td.zeros(2))
        self.register_buffer("scratch", td.ones(3), persistent=False)


def test_buffers_are_state_but_not_parameters():
    m = WithBuffers()
    assert [n for n, _ in m.named_parameters()] == ["lin.weight", "lin.bias"]
    assert [n for n, _ in m.named_buffers()] == ["running", "scratch"]
    assert list(m.state_dict()) == ["running", "lin.weight", "lin.bias"]


def test_buffer_loads_moves_and_stays_a_buffer_on_assignment():
    m = WithBuffers()
    state = m.state_dict()
    state["running"] = td.tensor([1.0, 2.0])
    m.load_state_dict(state)
    np.testing.assert_array_equal(m.running.numpy(), [1.0, 2.0])
    m.double()
    assert m.running.dtype == np.float64 and m.scratch.dtype == np.float64
    m.running = td.tensor([5.0, 6.0])
    assert "running" in dict(m.named_buffers())
    with pytest.raises(TypeError, match="buffer 'running'"):
        m.running = np.zeros(2)


def test_register_buffer_rejects_bad_input():
    m = nn.Module()
    with pytest.raises(TypeError, match="Tensor or None"):
        m.register_buffer("b", np.zeros(2))
    with pytest.raises(KeyError, match="'.'"):
        m.register_buffer("a.b", td.zeros(1))
    m.w = nn.Parameter(td.zeros(1).data)
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("w", td.zeros(1))


def test_module_list_registers_and_indexes():
    layers = nn.ModuleList([nn.Linear(2, 3), nn.ReLU()])
    layers.append(nn.Linear(3, 1))
    assert len(layers) == 3 and isinstance(layers[-1], nn.Linear)
    assert [n for n, _ in layers.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(layers[:2]) == 2
    with pytest.raises(TypeError, match="holds Modules"):
        layers.append(lambda x: x)


def test_module_dict_registers_by_name():
    heads = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.Linear(2, 2)})
    assert list(heads) == ["a", "b"] and "a" in heads
    assert [n for n, _ in heads.named_parameters()] == ["a.weight", "a.bias", "b.weight", "b.bias"]
    del heads["a"]
    assert list(heads.keys()) == ["b"]
    with pytest.raises(TypeError, match="key 'c'"):
        heads["c"] = 3


def test_apply_visits_children_first_then_self():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU()))
    seen = []
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "ReLU", "Sequential", "Sequential"]


def test_dim_is_an_alias_of_axis():
    x = td.tensor([[1.0, 5.0], [3.0, 2.0]])
    np.testing.assert_array_equal(x.sum(dim=0).numpy(), x.sum(axis=0).numpy())
    np.testing.assert_array_equal(x.max(dim=1).numpy(), [5.0, 3.0])
    np.testing.assert_array_equal(x.min(dim=1).numpy(), [1.0, 2.0])
    np.testing.assert_allclose(x.softmax(dim=0).numpy(), x.softmax(axis=0).numpy())
    np.testing.assert_allclose(nn.functional.log_softmax(x, dim=0).numpy(), x.log_softmax(0).numpy())
    with pytest.raises(TypeError, match="not both"):
        x.mean(axis=0, dim=0)
