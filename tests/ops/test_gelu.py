"""GELU (erf and tanh forms) and the SciPy-free erf: values, gradients, agreement with torch."""

import math

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tests.helpers import host, leaf, randn
from tests.torch_check import matches_torch
from tinygrad_drop.ops.gelu import erf, normal_cdf


def test_erf_matches_math_erf_to_float64_rounding():
    x = np.concatenate([np.linspace(-7, 7, 20001), [0.0, 1e-300, -1e-12, 50.0, -50.0]])
    expected = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(erf(x), expected, rtol=0, atol=1e-14)


def test_normal_cdf_keeps_its_relative_accuracy_in_the_left_tail():
    x = np.array([-1.0, -5.0, -10.0, -14.0])
    expected = np.array([math.erfc(-v / math.sqrt(2)) / 2 for v in x])
    np.testing.assert_allclose(normal_cdf(x), expected, rtol=5e-14)
    assert 0 < normal_cdf(np.array([-30.0]))[0] < 1e-190 and normal_cdf(np.array([-40.0]))[0] == 0.0


def test_erf_in_float32_is_correctly_rounded_or_one_ulp_off():
    x = np.linspace(-6, 6, 30001, dtype=np.float32)
    expected = np.array([math.erf(v) for v in x.astype(np.float64)])
    got = erf(x)
    assert got.dtype == np.float32
    ulp = np.spacing(np.abs(expected).astype(np.float32))
    assert np.all(np.abs(got - expected) <= ulp)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_gradcheck(approximate, device):
    x = leaf(randn((3, 7)) * 2, device)
    assert td.gradcheck(lambda t: F.gelu(t, approximate), [x])


@pytest.mark.parametrize("dtype", [td.float32, td.float64])
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_torch(approximate, dtype):
    torch = pytest.importorskip("torch")
    x = np.concatenate([randn(200) * 3, [0.0, -8.0, 8.0, -30.0, 30.0]])
    matches_torch(lambda t: F.gelu(t, approximate), lambda t: torch.nn.functional.gelu(t, approximate=approximate),
                  [x], dtype)


def test_gelu_float32_is_within_two_roundings_of_the_exact_value():
    x = np.linspace(-9, 9, 20001).astype(np.float32)
    exact = np.array([v * math.erfc(-v / math.sqrt(2)) / 2 for v in x.astype(np.float64)])
    got = host(F.gelu(td.Tensor(x)))
    assert np.all(np.abs(got - exact) <= 2 * np.spacing(np.abs(exact).astype(np.float32)))


def test_gelu_module_and_errors():
    x = td.Tensor([-1.0, 0.0, 2.0])
    np.testing.assert_allclose(host(td.nn.GELU()(x)), [-0.15865526, 0.0, 1.9544997], rtol=1e-6)
    assert "tanh" in repr(td.nn.GELU("tanh"))
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh', got 'fast'"):
        F.gelu(x, "fast")
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        td.nn.GELU("fast")
    with pytest.raises(TypeError, match="floating-point input, got dtype int64"):
        F.gelu(td.Tensor([1, 2]))
