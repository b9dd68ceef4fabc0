"""Tests for variational dropout: the local reparameterisation's moments, the KL term, gradcheck,
eval mode, and learning to drop the inputs that carry no signal."""

import math

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tinygrad_drop import nn
from tinygrad_drop.nn.variational import K1, K2, K3


def _layer(per, log_alpha=None, dtype=td.float64):
    layer = nn.VariationalLinear(4, 3, per=per, dtype=dtype)
    if log_alpha is not None:
        layer.log_alpha.data[...] = log_alpha
    return layer


@pytest.mark.parametrize("per", ["weight", "unit"])
def test_training_output_has_the_local_reparameterisation_moments(per):
    # n = 20,000 draws of one input: each output is N(x theta^T + b, x^2 (alpha theta^2)^T);
    # bounds are 5 standard errors of the sample mean and variance of a Gaussian
    n = 20_000
    layer = _layer(per, np.random.default_rng(0).uniform(-1, 0.5, (3, 4) if per == "weight" else (4,)))
    x = np.array([[0.5, -1.0, 2.0, 0.0]])
    y = layer(td.tensor(np.repeat(x, n, axis=0))).numpy()
    theta, b = layer.weight.numpy(), layer.bias.numpy()
    alpha = np.exp(layer.log_alpha.numpy())
    mean, var = (x @ theta.T + b)[0], ((x * x) @ (alpha * theta * theta).T)[0]
    assert np.all(np.abs(y.mean(axis=0) - mean) <= 5 * np.sqrt(var / n))
    assert np.all(np.abs(y.var(axis=0) - var) <= 5 * var * math.sqrt(2 / n))


def test_eval_mode_returns_the_posterior_mean():
    layer = _layer("weight").eval()
    x = td.randn(5, 4, dtype=td.float64)
    np.testing.assert_array_equal(layer(x).numpy(), F.linear(x, layer.weight, layer.bias).numpy())


def _true_kl_up_to_a_constant(log_alpha):
    """-0.5 log alpha + E[log |1 + sqrt(alpha) z|], z ~ N(0, 1) (Kingma et al. 2015, eq. for the log-uniform prior)."""
    z = np.linspace(-12, 12, 2_000_001)[:-1] + 6e-6  # a midpoint grid that misses the log's singularity
    weights = np.exp(-z * z / 2) / math.sqrt(2 * math.pi) * (z[1] - z[0])
    return -0.5 * log_alpha + (weights * np.log(np.abs(1 + math.sqrt(math.exp(log_alpha)) * z))).sum()


def test_kl_follows_the_true_kl_and_vanishes_for_large_alpha():
    log_alphas = np.linspace(-4, 4, 9)
    layer = _layer("weight")
    approx = []
    for la in log_alphas:
        layer.log_alpha.data[...] = la
        approx.append(layer.kl().item() / layer.weight.size)
    true = np.array([_true_kl_up_to_a_constant(la) for la in log_alphas])
    # the true KL is known up to a constant: after removing the best one, the fit is within 0.01 nats
    difference = np.array(approx) - true
    np.testing.assert_allclose(difference - difference.mean(), 0.0, atol=0.01)
    assert np.all(np.diff(approx) < 0)  # more noise always costs less KL: the prior pulls towards dropping
    layer.log_alpha.data[...] = 30.0
    assert abs(layer.kl().item()) < 1e-6 * layer.weight.size


def test_kl_formula_and_per_unit_counting():
    unit = _layer("unit", np.array([-2.0, 0.0, 1.0, 3.0]))
    la = np.array([-2.0, 0.0, 1.0, 3.0])
    per_weight = -(K1 / (1 + np.exp(-(K2 + K3 * la))) - 0.5 * np.log1p(np.exp(-la)) - K1)
    assert unit.kl().item() == pytest.approx(3 * per_weight.sum(), rel=1e-12)  # each of 3 rows shares the rate
    model = nn.Sequential(unit, nn.ReLU(), nn.VariationalLinear(3, 2, dtype=td.float64))
    assert nn.variational_kl(model).item() == pytest.approx(unit.kl().item() + model[2].kl().item(), rel=1e-12)
    with pytest.raises(ValueError, match="no VariationalLinear"):
        nn.variational_kl(nn.Linear(2, 2))


@pytest.mark.parametrize("per", ["weight", "unit"])
def test_gradcheck_of_the_elbo_with_the_noise_held_fixed(per):
    layer = _layer(per, -1.0)
    x = td.randn(5, 4, dtype=td.float64, requires_grad=True)
    target = np.array([0, 2, 1, 1, 0])
    assert td.gradcheck(lambda x: F.cross_entropy(layer(x), target) + layer.kl() / 100, [x], params=layer)


def test_learns_to_drop_the_inputs_without_signal():
    # 3 informative inputs and 5 of pure noise: the learned dropout rates separate them
    td.manual_seed(0)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((256, 8)).astype(np.float32)
    y = (X[:, :3].sum(axis=1) > 0).astype(np.int64)
    layer = nn.VariationalLinear(8, 2, per="unit")
    optimizer = td.optim.Adam(layer.parameters(), lr=0.05)
    for _ in range(300):
        loss = F.cross_entropy(layer(td.Tensor(X)), y) + nn.variational_kl(layer) / len(X)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    rates = layer.dropout_rates()
    assert rates[:3].max() < 0.1 and rates[3:].min() > 0.5
    assert layer.p == pytest.approx(rates.mean())


def test_constructor_checks_and_repr():
    with pytest.raises(ValueError, match="'neuron'"):
        nn.VariationalLinear(3, 2, per="neuron")
    with pytest.raises(ValueError, match="init_p.*1.0"):
        nn.VariationalLinear(3, 2, init_p=1.0)
    layer = nn.VariationalLinear(3, 2, per="unit", init_p=0.2)
    assert layer.log_alpha.shape == (3,) and layer.dropout_rates() == pytest.approx(np.full(3, 0.2), rel=1e-6)
    assert repr(layer) == "VariationalLinear(in_features=3, out_features=2, bias=True, per='unit')"
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias", "log_alpha"]
