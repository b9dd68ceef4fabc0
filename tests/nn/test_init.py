"""nn.init: torch's fan and gain rules, the distributions' bounds and moments, the framework's generator."""

import math

import numpy as np
import pytest

import tinygrad_drop as td
from tinygrad_drop.nn import init

SHAPES = [(300, 200), (64, 16, 3, 3)]  # a Linear weight and a conv-like weight (receptive field 9)


@pytest.mark.parametrize("shape", SHAPES + [(5, 4, 2)])
def test_fans_match_torch(shape):
    torch = pytest.importorskip("torch")
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init.calculate_fan_in_and_fan_out(td.zeros(*shape)) == expected


@pytest.mark.parametrize("nonlinearity, param", [("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None),
                                                 ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None),
                                                 ("conv2d", None)])
def test_gains_match_torch(nonlinearity, param):
    torch = pytest.importorskip("torch")
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(torch.nn.init.calculate_gain(nonlinearity, param))


def _torch_reference(name, shape, **kwargs):
    """torch's samples for the same call (a large tensor, so its bounds and moments are accurate)."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    return getattr(torch.nn.init, name)(torch.empty(shape), **kwargs).numpy()


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name, kwargs", [
    ("uniform_", dict(a=-2.0, b=3.0)), ("normal_", dict(mean=1.0, std=0.5)),
    ("xavier_uniform_", dict(gain=2.0)), ("xavier_normal_", dict()),
    ("kaiming_uniform_", dict(a=math.sqrt(5))), ("kaiming_normal_", dict(mode="fan_out", nonlinearity="relu")),
])
def test_distributions_match_torch(name, kwargs, shape):
    ours = getattr(init, name)(td.zeros(*shape), **kwargs).numpy()
    theirs = _torch_reference(name, shape, **kwargs)
    n = ours.size
    assert ours.dtype == np.float32 and ours.shape == shape
    # means and standard deviations agree within 5 standard errors of the sample statistics
    std = theirs.std()
    assert abs(ours.mean() - theirs.mean()) < 5 * std * math.sqrt(2 / n)
    assert abs(ours.std() - std) < 5 * std * math.sqrt(1 / n)
    if "uniform" in name:  # the same support: both reach within 0.1% of the bound and never past it
        low, high = theirs.min(), theirs.max()
        width = high - low
        assert low - 1e-3 * width <= ours.min() < low + 1e-3 * width
        assert high - 1e-3 * width < ours.max() <= high + 1e-3 * width


def test_init_uses_the_framework_generator_and_keeps_dtype():
    td.manual_seed(3)
    a = init.normal_(td.zeros(4, 5, dtype=td.float64)).numpy()
    td.manual_seed(3)
    b = init.normal_(td.zeros(4, 5, dtype=td.float64)).numpy()
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float64


def test_zeros_and_ones_return_their_tensor():
    t = td.full((2, 3), float("nan"))
    assert init.zeros_(t) is t and not t.numpy().any()
    assert (init.ones_(t).numpy() == 1).all()


def test_init_errors():
    with pytest.raises(ValueError, match=r"at least 2 dimensions, got shape \(3,\)"):
        init.xavier_uniform_(td.zeros(3))
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out', got 'fan'"):
        init.kaiming_normal_(td.zeros(3, 3), mode="fan")
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="negative_slope 'a' is not a number"):
        init.calculate_gain("leaky_relu", "a")
