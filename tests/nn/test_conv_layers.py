"""Tests for the Conv2d and pooling layers: torch's layout, init and values; reprs; errors."""

import math

import numpy as np
import pytest

import tinygrad_drop as td
from tinygrad_drop import nn


def test_conv2d_layout_and_init():
    layer = nn.Conv2d(16, 32, 3, padding=1)
    assert layer.weight.shape == (32, 16, 3, 3) and layer.bias.shape == (32,)
    assert layer.weight.dtype == td.float32
    bound = 1 / math.sqrt(16 * 9)
    for p in (layer.weight, layer.bias):
        values = p.numpy()
        assert np.all(np.abs(values) <= bound) and values.max() > 0.9 * bound and values.min() < -0.9 * bound
    weights = layer.weight.numpy().astype(np.float64).ravel()
    assert weights.std() == pytest.approx(bound / math.sqrt(3), rel=0.05)  # uniform on [-bound, bound]
    assert layer(td.randn(2, 16, 28, 28)).shape == (2, 32, 28, 28)


def test_conv2d_init_spread_matches_torch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = torch.nn.Conv2d(8, 64, (3, 2)).weight.detach().numpy().ravel()
    ours = nn.Conv2d(8, 64, (3, 2)).weight.numpy().ravel()
    assert np.abs(ours).max() == pytest.approx(np.abs(theirs).max(), rel=0.02)
    assert ours.std() == pytest.approx(theirs.std(), rel=0.05)


def test_conv2d_loads_a_torch_state_dict_and_agrees(device):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Conv2d(3, 5, 3, stride=2, padding=1, dilation=1)
    ours = nn.Conv2d(3, 5, 3, stride=2, padding=1, device=device)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 9)).astype(np.float32)
    np.testing.assert_allclose(ours(td.Tensor(x, device=device)).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)


def test_conv2d_without_bias_and_repr():
    layer = nn.Conv2d(1, 2, (3, 5), stride=(1, 2), bias=False)
    assert layer.bias is None and [n for n, _ in layer.named_parameters()] == ["weight"]
    assert repr(layer) == ("Conv2d(1, 2, kernel_size=(3, 5), stride=(1, 2), padding=(0, 0), dilation=(1, 1), "
                           "bias=False)")


def test_conv2d_float64_and_device(device):
    layer = nn.Conv2d(2, 3, 3, dtype=td.float64, device=device)
    assert layer.weight.dtype == td.float64 and layer.weight.device == td.backend.parse_device(device)


@pytest.mark.parametrize("layer, expected", [
    (nn.MaxPool2d(2), (2, 3, 4, 3)),
    (nn.MaxPool2d(3, stride=2, padding=1), (2, 3, 4, 4)),
    (nn.AvgPool2d(2, stride=1), (2, 3, 7, 6)),
    (nn.AdaptiveAvgPool2d(1), (2, 3, 1, 1)),
    (nn.AdaptiveAvgPool2d((1, 1)), (2, 3, 1, 1)),
])
def test_pool_layers_shapes_and_values_match_torch(layer, expected):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((2, 3, 8, 7))
    name = type(layer).__name__
    kwargs = ({"output_size": layer.output_size} if name == "AdaptiveAvgPool2d"
              else {"kernel_size": layer.kernel_size, "stride": layer.stride, "padding": layer.padding})
    y = layer(td.tensor(x))
    assert y.shape == expected
    np.testing.assert_allclose(y.numpy(), getattr(torch.nn, name)(**kwargs)(torch.tensor(x)).numpy(), atol=1e-12)


def test_pool_reprs_and_defaults():
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0)"
    assert repr(nn.AvgPool2d(3, 1, 1)) == "AvgPool2d(kernel_size=3, stride=1, padding=1)"
    assert repr(nn.AdaptiveAvgPool2d(1)) == "AdaptiveAvgPool2d(output_size=1)"


def test_layer_argument_errors():
    with pytest.raises(ValueError, match="kernel_size must be positive"):
        nn.Conv2d(1, 1, 0)
    with pytest.raises(ValueError, match="stride must be a non-negative int or a pair"):
        nn.MaxPool2d(2, stride=(1, 2, 3))
    with pytest.raises(ValueError, match="only output_size=1"):
        nn.AdaptiveAvgPool2d(2)
