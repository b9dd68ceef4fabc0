"""Tests for the layers: Linear's shapes and initialisation, Sequential, and the simple activations."""

import math
from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_drop as td
from tinygrad_drop import nn

# ---------------------------------------------------------------- Linear


def test_linear_shapes_and_forward(device):
    layer = nn.Linear(5, 3, device=device)
    assert layer.weight.shape == (3, 5) and layer.bias.shape == (3,)
    assert layer.weight.dtype == layer.bias.dtype == td.float32
    assert layer.weight.requires_grad and layer.bias.requires_grad
    x = td.randn(2, 4, 5, device=device)
    y = layer(x)
    assert y.shape == (2, 4, 3)
    expected = x.numpy() @ layer.weight.numpy().T + layer.bias.numpy()
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_linear_without_bias():
    layer = nn.Linear(4, 2, bias=False)
    assert layer.bias is None
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    x = td.randn(3, 4)
    np.testing.assert_allclose(layer(x).numpy(), x.numpy() @ layer.weight.numpy().T, rtol=1e-6)
    assert repr(layer) == "Linear(in_features=4, out_features=2, bias=False)"


@pytest.mark.parametrize("fan_in", [1, 7, 100])
def test_linear_init_within_bound(fan_in):
    layer = nn.Linear(fan_in, 400)
    bound = 1 / math.sqrt(fan_in)
    for p in (layer.weight, layer.bias):
        values = p.numpy()
        assert np.all(np.abs(values) <= bound)
        assert values.max() > 0.95 * bound and values.min() < -0.95 * bound  # fills the whole range


def test_linear_init_is_roughly_uniform():
    weights = nn.Linear(256, 256).weight.numpy().astype(np.float64).ravel()
    bound = 1 / 16
    assert abs(weights.mean()) < 0.02 * bound
    assert weights.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)
    counts, _ = np.histogram(weights, bins=8, range=(-bound, bound))
    np.testing.assert_allclose(counts / weights.size, np.full(8, 1 / 8), atol=0.01)


def test_linear_init_is_reproducible():
    td.manual_seed(42)
    a = nn.Linear(6, 4)
    td.manual_seed(42)
    b = nn.Linear(6, 4)
    td.manual_seed(43)
    c = nn.Linear(6, 4)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    np.testing.assert_array_equal(a.bias.numpy(), b.bias.numpy())
    assert not np.array_equal(a.weight.numpy(), c.weight.numpy())


def test_linear_dtype_argument():
    layer = nn.Linear(3, 2, dtype=td.float64)
    assert layer.weight.dtype == layer.bias.dtype == td.float64


def test_linear_gradcheck_over_parameters():
    layer = nn.Linear(4, 3).double()
    x = td.randn(5, 4, dtype=td.float64, requires_grad=True)
    assert td.gradcheck(lambda x: layer(x).tanh().sum(), [x], params=layer)


# ---------------------------------------------------------------- Sequential


def test_sequential_indexing_iteration_and_len():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    model = nn.Sequential(a, b, c)
    assert len(model) == 3
    assert model[0] is a and model[1] is b and model[-1] is c and model[-3] is a
    assert list(model) == [a, b, c]
    tail = model[1:]
    assert isinstance(tail, nn.Sequential) and len(tail) == 2 and list(tail) == [b, c]
    assert list(model[::-1]) == [c, b, a]
    with pytest.raises(IndexError):
        model[3]


def test_sequential_applies_modules_in_order():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    x = td.randn(4, 2)
    expected = model[2](model[1](model[0](x)))
    np.testing.assert_array_equal(model(x).numpy(), expected.numpy())
    assert model[:2](x).shape == (4, 3)


def test_sequential_with_ordered_dict_and_append():
    model = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert [n for n, _ in model.named_parameters()] == ["fc.weight", "fc.bias"]
    assert model.append(nn.Identity()) is model
    assert len(model) == 3 and isinstance(model[-1], nn.Identity)


def test_empty_sequential_is_identity():
    x = td.randn(3)
    assert nn.Sequential()(x) is x


# ---------------------------------------------------------------- activations and shape layers


def test_tanh_and_sigmoid_match_numpy(device):
    xv = np.linspace(-4, 4, 17)
    x = td.tensor(xv, requires_grad=True, device=device)
    np.testing.assert_allclose(nn.Tanh()(x).numpy(), np.tanh(xv), rtol=1e-12)
    np.testing.assert_allclose(nn.Sigmoid()(x).numpy(), 1 / (1 + np.exp(-xv)), rtol=1e-12)
    assert td.gradcheck(lambda x: nn.Tanh()(x) + nn.Sigmoid()(x), [x])


def test_relu_module():
    x = td.tensor([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(nn.ReLU()(x).numpy(), [0.0, 0.0, 3.0])
    assert repr(nn.ReLU()) == "ReLU()"


def test_identity_accepts_any_arguments():
    x = td.randn(2, 2)
    assert nn.Identity(54, unused="argument")(x) is x


def test_flatten():
    x = td.randn(2, 3, 4, requires_grad=True)
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(start_dim=0)(x).shape == (24,)
    assert nn.Flatten(start_dim=2)(x).shape == (2, 3, 4)
    np.testing.assert_array_equal(nn.Flatten()(x).numpy(), x.numpy().reshape(2, 12))
    nn.Flatten()(x).sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones((2, 3, 4)))
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


def test_layers_without_parameters_have_none():
    for layer in (nn.ReLU(), nn.Tanh(), nn.Sigmoid(), nn.Identity(), nn.Flatten(), nn.Dropout()):
        assert list(layer.parameters()) == []
