"""The benchmark's hand-written NumPy baseline trains the same model as tinygrad_drop (so the race is fair)."""

import numpy as np

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from benchmarks import numpy_baseline as base
from tinygrad_drop import nn


def test_numpy_baseline_step_matches_tinygrad_drop_without_dropout():
    sizes = [6, 5, 4, 3]
    baseline = base.NumpyMLP(sizes, p_input=0.0, p_hidden=0.0, dtype=np.float64)
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3)).double()
    linears = [m for m in model if isinstance(m, nn.Linear)]
    for i, layer in enumerate(linears):
        layer.weight.data[...] = baseline.params[2 * i]
        layer.bias.data[...] = baseline.params[2 * i + 1]
    optimizer = td.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((8, 6)), rng.integers(0, 3, 8)
    for _ in range(3):
        expected = baseline.step(x, y)
        loss = F.cross_entropy(model(td.Tensor(x)), td.Tensor(y))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        np.testing.assert_allclose(loss.item(), expected, rtol=1e-12)
    for i, layer in enumerate(linears):
        np.testing.assert_allclose(layer.weight.data, baseline.params[2 * i], rtol=1e-10, atol=1e-12)


def test_numpy_baseline_dropout_variants_agree_on_the_maths():
    rng = np.random.default_rng(0)
    x, grad = rng.standard_normal((64, 32)).astype(np.float32), rng.standard_normal((64, 32)).astype(np.float32)
    y, grad_x = base.best_dropout_fwd_bwd(x, grad, 0.5, np.random.Philox(0))
    kept = y != 0
    np.testing.assert_allclose(y[kept], 2 * x[kept], rtol=1e-6)
    np.testing.assert_allclose(grad_x[kept], 2 * grad[kept], rtol=1e-6)
    assert np.all(grad_x[~kept] == 0)
    assert abs(kept.mean() - 0.5) < 5 * np.sqrt(0.25 / kept.size)  # 5 binomial standard errors
