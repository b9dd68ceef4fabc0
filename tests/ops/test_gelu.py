"""GELU (erf and tanh forms) and the SciPy-free erf: values, gradients, agreement with torch."""

import math

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tests.helpers import host, leaf, randn
from tests.torch_check import matches_torch
from tinygrad_drop.ops.gelu import _ERFC_EXPONENT, _T_LOW, ERF_Z_MAX, _fit_erfc_exponent, erf, normal_cdf


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


def test_the_erfc_series_fitted_afresh_is_the_table_in_use_and_matches_math_erfc():
    """Refitting P(t) = log(erfc(z) / t) + z^2 gives the table erf uses, and t e^(P - z^2) is erfc(z) on [0, 10]."""
    coefficients = _fit_erfc_exponent()
    np.testing.assert_array_equal(coefficients, _ERFC_EXPONENT)  # a table written out by hand must stay this fit
    z = np.linspace(0, ERF_Z_MAX, 5001)
    t = 2 / (2 + z)
    series = t * np.exp(np.polynomial.chebyshev.chebval((2 * t - (1 + _T_LOW)) / (1 - _T_LOW), coefficients) - z * z)
    # 4e-14: the fit is good to about 1e-15; rounding z^2 (up to 100) in float64 costs up to 1.1e-14 more
    np.testing.assert_allclose(series, [math.erfc(v) for v in z], rtol=4e-14, atol=0)


def test_normal_cdf_stays_accurate_beyond_the_fitted_range_until_it_underflows():
    """Below x = -10 sqrt 2 (erfc's z > 10) Phi(x) keeps about 1e-9 relative error down to x = -37 (1e-299)."""
    x = np.linspace(-37.0, -14.0, 2301)
    expected = np.array([math.erfc(-v / math.sqrt(2)) / 2 for v in x])
    np.testing.assert_allclose(normal_cdf(x), expected, rtol=1e-9, atol=0)
    np.testing.assert_allclose(erf(np.array([-10.5, 11.0])), [-1.0, 1.0], rtol=0, atol=0)
    assert normal_cdf(np.array([-np.inf]))[0] == 0.0 and normal_cdf(np.array([np.inf]))[0] == 1.0


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_normal_cdf_and_gelu_keep_the_input_dtype(dtype):
    """Phi and GELU of a float16/float32 input are float16/float32 (computed in float64, rounded once)."""
    x = np.array([-3.0, -0.5, 0.0, 1.25, 4.0], dtype=dtype)
    cdf = normal_cdf(x)
    assert cdf.dtype == dtype
    expected = np.array([math.erfc(-v / math.sqrt(2)) / 2 for v in x.astype(np.float64)]).astype(dtype)
    np.testing.assert_array_equal(cdf, expected)
    t = td.Tensor(x, requires_grad=True)
    y = F.gelu(t)
    y.sum().backward()
    assert y.dtype == dtype and t.grad.dtype == dtype
