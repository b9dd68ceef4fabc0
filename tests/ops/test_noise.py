"""Tests for alpha dropout and Gaussian dropout: the ops, their functional forms, statistics and gradcheck."""

import math

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tinygrad_drop.ops.noise import ALPHA_PRIME, AlphaDropout, GaussianDropout, alpha_dropout_affine


def _host(array):
    return td.backend.to_numpy(array)


# ---------------------------------------------------------------- alpha dropout


def test_alpha_constants_are_selus_negative_saturation_and_keep_mean_and_variance():
    assert ALPHA_PRIME == pytest.approx(-1.7580993408473766, rel=1e-15)
    for p in (0.05, 0.2, 0.5, 0.9):
        a, b = alpha_dropout_affine(p)
        # for x with mean 0 and variance 1: E[y] = a p alpha' + b, Var[y] = a^2 ((1 - p) + p (1 - p) alpha'^2)
        assert a * p * ALPHA_PRIME + b == pytest.approx(0.0, abs=1e-15)
        assert a * a * ((1 - p) + p * (1 - p) * ALPHA_PRIME**2) == pytest.approx(1.0, rel=1e-14)
    assert alpha_dropout_affine(1.0) == (0.0, 0.0)


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_alpha_dropout_op_follows_the_formula(p, device):
    rng = np.random.default_rng(0)
    xv, g = rng.standard_normal((6, 7)), rng.standard_normal((6, 7))
    mask = rng.random((6, 7)) >= p
    a, b = alpha_dropout_affine(p)
    x = td.tensor(xv, requires_grad=True, device=device)
    y = AlphaDropout.apply(x, td.backend.to_device(mask, device), a, b)
    np.testing.assert_allclose(y.numpy(), a * (mask * xv + ~mask * ALPHA_PRIME) + b, rtol=1e-14)
    y.backward(g)
    np.testing.assert_allclose(_host(x.grad), a * mask * g, rtol=1e-14)


def test_alpha_dropout_matches_torch_for_the_mask_torch_drew():
    torch = pytest.importorskip("torch")
    p = 0.3
    xv = np.random.default_rng(1).standard_normal((50, 40))
    torch.manual_seed(0)
    expected = torch.nn.functional.alpha_dropout(torch.tensor(xv), p, training=True).numpy()
    a, b = alpha_dropout_affine(p)
    mask = ~np.isclose(expected, a * ALPHA_PRIME + b, rtol=0, atol=1e-12)  # the dropped units sit at one value
    assert 0.2 < 1 - mask.mean() < 0.4
    ours = AlphaDropout.apply(td.tensor(xv), mask, a, b).numpy()
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_alpha_dropout_keeps_zero_mean_and_unit_variance(p):
    # 10^6 standard normal inputs; bounds are 5 standard errors of the sample mean and variance
    n = 10**6
    x = td.tensor(np.random.default_rng(2).standard_normal(n))
    y = F.alpha_dropout(x, p, training=True).numpy()
    assert abs(y.mean()) <= 5 / math.sqrt(n)
    var_se = math.sqrt(np.mean((y - y.mean()) ** 4) - y.var() ** 2) / math.sqrt(n)
    assert abs(y.var() - 1.0) <= 5 * var_se


def test_alpha_dropout_defaults_to_eval_as_in_pytorch_and_p_edges():
    x = td.randn(3, 4)
    assert F.alpha_dropout(x, 0.5) is x  # PyTorch's default is training=False
    assert F.alpha_dropout(x, 0.0, training=True) is x
    np.testing.assert_array_equal(F.alpha_dropout(x, 1.0, training=True).numpy(), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="p=1.5"):
        F.alpha_dropout(x, 1.5, training=True)
    with pytest.raises(TypeError, match="floating-point"):
        F.alpha_dropout(td.tensor([1, 2]), 0.5, training=True)


def test_feature_alpha_dropout_shares_one_value_per_channel():
    y = F.feature_alpha_dropout(td.ones(6, 5, 4, 3), 0.5, training=True).numpy()
    for n in range(6):
        for c in range(5):
            assert np.all(y[n, c] == y[n, c].flat[0])
    assert len(np.unique(y)) == 2  # kept channels at a + b, dropped ones at a alpha' + b
    with pytest.raises(ValueError, match=r"\(4,\)"):
        F.feature_alpha_dropout(td.ones(4), 0.5, training=True)


def test_alpha_dropout_gradcheck(device):
    x = td.randn(5, 6, dtype=td.float64, requires_grad=True, device=device)
    assert td.gradcheck(lambda x: F.alpha_dropout(x, 0.3, training=True) * x, [x])
    assert td.gradcheck(lambda x: F.feature_alpha_dropout(x.reshape(5, 3, 2), 0.3, training=True), [x])


# ---------------------------------------------------------------- Gaussian dropout


def test_gaussian_dropout_op_follows_the_formula(device):
    rng = np.random.default_rng(3)
    xv, noise, g = rng.standard_normal((3, 8)), rng.standard_normal((3, 8)), rng.standard_normal((3, 8))
    x = td.tensor(xv, requires_grad=True, device=device)
    y = GaussianDropout.apply(x, td.backend.to_device(noise, device))
    np.testing.assert_allclose(y.numpy(), xv * noise, rtol=1e-15)
    y.backward(g)
    np.testing.assert_allclose(_host(x.grad), noise * g, rtol=1e-15)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_gaussian_noise_has_dropouts_mean_and_variance(p):
    # the factor multiplying x has mean 1 and variance p / (1 - p), as m / (1 - p) in dropout;
    # 10^6 draws, bounds of 5 standard errors (the variance's from the Gaussian fourth moment 3 sigma^4)
    n = 10**6
    factor = F.gaussian_dropout(td.ones(n, dtype=td.float64), p).numpy()
    variance = p / (1 - p)
    assert abs(factor.mean() - 1.0) <= 5 * math.sqrt(variance / n)
    assert abs(factor.var() - variance) <= 5 * variance * math.sqrt(2 / n)


def test_gaussian_dropout_edges_and_dtype():
    x = td.randn(4, 3)
    assert F.gaussian_dropout(x, 0.5, training=False) is x
    assert F.gaussian_dropout(x, 0.0) is x
    assert F.gaussian_dropout(x, 0.5).dtype == td.float32
    with pytest.raises(ValueError, match="p=1.*use p < 1"):
        F.gaussian_dropout(x, 1.0)
    with pytest.raises(TypeError, match="gaussian_dropout needs a floating-point input"):
        F.gaussian_dropout(td.tensor([1, 2]), 0.5)


def test_gaussian_dropout_gradcheck(device):
    x = td.randn(4, 5, dtype=td.float64, requires_grad=True, device=device)
    assert td.gradcheck(lambda x: F.gaussian_dropout(x, 0.4) * x, [x])


def test_gaussian_dropout_on_float16_draws_in_float32_and_rounds():
    # the generator draws float32 or float64 only: float16 noise is the float32 draw, rounded
    td.manual_seed(5)
    y = F.gaussian_dropout(td.ones(1000, dtype=td.float16), 0.5)
    td.manual_seed(5)
    reference = F.gaussian_dropout(td.ones(1000, dtype=td.float32), 0.5)
    assert y.dtype == td.float16
    np.testing.assert_array_equal(y.numpy(), reference.numpy().astype(np.float16))
    x = td.ones(3, dtype=td.float16, requires_grad=True)
    F.gaussian_dropout(x, 0.5).sum().backward()
    assert x.grad.dtype == td.float16
