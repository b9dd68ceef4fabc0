"""The benchmark's hand-written NumPy baseline trains the same model as tinygrad_drop (so the race is fair)."""

import pathlib
import subprocess
import sys

import numpy as np

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from benchmarks import numpy_baseline as base
from benchmarks import workloads
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


def test_the_best_numpy_dropout_draws_the_frameworks_bits():
    td.manual_seed(31)
    y, mask = F.dropout(td.ones(40, 9), p=0.3, return_mask=True)
    np.testing.assert_array_equal(base.keep_mask(np.random.Philox(key=31, counter=2**256 - 1), (40, 9), 0.3), mask)


def test_the_naive_tutorial_dropout_computes_inverted_dropout():
    rng = np.random.default_rng(0)
    x, grad = rng.standard_normal((16, 8)), rng.standard_normal((16, 8))
    y, grad_x = base.naive_dropout_fwd_bwd(x, grad, 0.25, np.random.default_rng(1))
    mask = np.random.default_rng(1).random((16, 8)) >= 0.25
    np.testing.assert_allclose(y, x * mask / 0.75)
    np.testing.assert_allclose(grad_x, grad * mask / 0.75)
    assert base.dropout_forward(x, 0.5, training=False) == (x, None)


def test_every_workload_has_a_unique_name_and_its_baseline_among_its_implementations():
    names = [w.name for w in workloads.WORKLOADS + workloads.GPU_WORKLOADS]
    assert len(set(names)) == len(names)
    for w in workloads.workloads(quick=True):
        assert w.baseline in w.make()
    assert {t[0] for t in workloads.TARGETS} <= set(names)


def test_the_workloads_module_needs_neither_run_nor_memory():
    root = pathlib.Path(__file__).resolve().parents[1]
    code = ("import sys, benchmarks.memory, benchmarks.workloads; "
            "assert 'benchmarks.run' not in sys.modules, sorted(m for m in sys.modules if 'bench' in m)")
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)


def test_target_lines_give_the_ratio_and_numpys_own_ratio_to_a_naive_reference():
    from benchmarks.run import target_lines

    results = [{"workload": "dropout fwd+bwd 128x4096 p=0.5",
                "median_s": {"numpy": 2.0, "naive": 4.0, "tinygrad_drop": 2.5}},
               {"workload": "MLP 2-64-64-2 b32 dropout 0.2/0.5", "median_s": {"numpy": 1.0, "tinygrad_drop": 2.0}}]
    lines = target_lines({"results": results})
    assert lines == [
        "  MISSED dropout fwd+bwd 128x4096 p=0.5: tinygrad_drop / naive = 0.62x (target <= 0.5x, 1.60x faster); "
        "numpy / naive = 0.50x",
        "  met    MLP 2-64-64-2 b32 dropout 0.2/0.5: tinygrad_drop / numpy = 2.00x (target <= 2.1x)",
    ]
