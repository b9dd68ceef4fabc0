"""Tests for DropConnect: the op's forward and backward, one mask per call, statistics, eval mode and gradcheck."""

import math

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tinygrad_drop.ops.dropconnect import DropConnectLinear


def _host(array):
    return td.backend.to_numpy(array)


@pytest.mark.parametrize("p", [0.25, 0.6])
def test_op_follows_the_formula(p, device):
    rng = np.random.default_rng(0)
    xv, wv, bv, g = (rng.standard_normal(s) for s in ((5, 4), (3, 4), (3,), (5, 3)))
    mask = rng.random((3, 4)) >= p
    x, w, b = (td.tensor(v, requires_grad=True, device=device) for v in (xv, wv, bv))
    y = DropConnectLinear.apply(x, w, b, td.backend.to_device(mask, device), scale=1 / (1 - p))
    dropped = mask * wv / (1 - p)
    np.testing.assert_allclose(y.numpy(), xv @ dropped.T + bv, rtol=1e-13)
    y.backward(g)
    np.testing.assert_allclose(_host(x.grad), g @ dropped, rtol=1e-13)
    np.testing.assert_allclose(_host(w.grad), mask / (1 - p) * (g.T @ xv), rtol=1e-13)
    np.testing.assert_allclose(_host(b.grad), g.sum(axis=0), rtol=1e-13)
    assert np.all(_host(w.grad)[~mask] == 0.0)  # a dropped weight gets exactly zero gradient


def test_one_mask_per_call_shared_by_the_batch():
    w = td.randn(6, 5, dtype=td.float64)
    eye = np.eye(5)
    y = F.dropconnect_linear(td.tensor(np.vstack([eye, eye])), w, p=0.5).numpy()
    np.testing.assert_array_equal(y[:5], y[5:])  # both copies of the batch saw the same weights
    kept = y[:5].T != 0  # row i of eye picks column i of the masked weight
    assert 0 < kept.sum() < kept.size
    np.testing.assert_allclose(y[:5].T[kept], 2 * w.numpy()[kept])
    again = F.dropconnect_linear(td.tensor(eye), w, p=0.5).numpy()
    assert not np.array_equal(again, y[:5])  # the next call draws a new mask


def test_drop_fraction_matches_p():
    # 10^6 weights; the dropped fraction is within 5 standard errors sqrt(p (1 - p) / n) of p
    p, n = 0.3, 10**6
    w = td.ones(1000, 1000)
    y = F.dropconnect_linear(td.ones(1, 1000), w, p=p)  # each output is (kept weights in its row) / (1 - p)
    kept = y.numpy().astype(np.float64).sum() * (1 - p)
    assert abs((1 - kept / n) - p) <= 5 * math.sqrt(p * (1 - p) / n)


def test_eval_mode_and_p_zero_are_plain_linear(device):
    x, w, b = td.randn(4, 3, device=device), td.randn(2, 3, device=device), td.randn(2, device=device)
    expected = F.linear(x, w, b).numpy()
    np.testing.assert_array_equal(F.dropconnect_linear(x, w, b, p=0.5, training=False).numpy(), expected)
    np.testing.assert_array_equal(F.dropconnect_linear(x, w, b, p=0.0).numpy(), expected)


def test_p_one_leaves_the_bias_and_zero_weight_gradients():
    x, w = td.randn(4, 3, requires_grad=True), td.randn(2, 3, requires_grad=True)
    b = td.randn(2, requires_grad=True)
    y = F.dropconnect_linear(x, w, b, p=1.0)
    np.testing.assert_array_equal(y.numpy(), np.broadcast_to(b.numpy(), (4, 2)))
    y.sum().backward()
    assert np.all(w.grad == 0) and np.all(x.grad == 0)
    np.testing.assert_array_equal(b.grad, [4.0, 4.0])


def test_bad_inputs_are_errors_naming_them():
    with pytest.raises(ValueError, match="p=2"):
        F.dropconnect_linear(td.ones(1, 3), td.ones(2, 3), p=2)
    with pytest.raises(ValueError, match=r"\(1, 4\).*\(2, 3\)"):
        F.dropconnect_linear(td.ones(1, 4), td.ones(2, 3), p=0.5)
    with pytest.raises(TypeError, match="floating-point"):
        F.dropconnect_linear(td.ones(1, 3), td.tensor([[1, 2, 3]]), p=0.5)


@pytest.mark.parametrize("bias", [True, False])
def test_gradcheck_with_the_mask_held_fixed(bias, device):
    x = td.randn(4, 3, dtype=td.float64, requires_grad=True, device=device)
    w = td.randn(5, 3, dtype=td.float64, requires_grad=True, device=device)
    b = td.randn(5, dtype=td.float64, requires_grad=True, device=device) if bias else None
    inputs = [x, w] + ([b] if bias else [])
    assert td.gradcheck(lambda x, w, *b: F.dropconnect_linear(x, w, *b, p=0.4).tanh(), inputs)


def test_matches_torch_for_a_given_mask():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    xv, wv, bv, g = (rng.standard_normal(s) for s in ((5, 4), (3, 4), (3,), (5, 3)))
    mask = rng.random((3, 4)) >= 0.5
    x, w, b = (td.tensor(v, requires_grad=True) for v in (xv, wv, bv))
    DropConnectLinear.apply(x, w, b, mask, scale=2.0).backward(g)
    xt, wt, bt = (torch.tensor(v, requires_grad=True) for v in (xv, wv, bv))
    torch.nn.functional.linear(xt, wt * torch.from_numpy(mask) * 2.0, bt).backward(torch.tensor(g))
    for ours, theirs in ((x, xt), (w, wt), (b, bt)):
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-13)


def test_the_mask_is_saved_for_backward_so_viz_counts_it_and_backward_frees_it():
    x, w, b = td.randn(5, 4), td.randn(3, 4, requires_grad=True), td.randn(3, requires_grad=True)
    y = F.dropconnect_linear(x, w, b, p=0.5)
    saved = y.grad_fn.saved_tensors
    assert len(saved) == 3 and saved[2].dtype == np.bool_ and saved[2].shape == (3, 4)
    # x (80 B) and the masked weight (48 B), as Linear saves, and the mask (12 B, one byte per weight)
    assert "saved 140 B: float32 (5, 4), float32 (3, 4), bool (3, 4)" in td.viz.to_dot(y)
    y.sum().backward()
    assert y.grad_fn.saved_tensors is None  # the mask went with the other saved arrays
    assert not hasattr(y.grad_fn, "mask")


def test_a_frozen_weight_gets_no_gradient_and_the_input_still_does():
    xv, wv = np.random.default_rng(1).standard_normal((5, 4)), np.random.default_rng(2).standard_normal((3, 4))
    x, w = td.tensor(xv, requires_grad=True), td.tensor(wv)
    mask = np.random.default_rng(3).random((3, 4)) >= 0.5
    y = DropConnectLinear.apply(x, w, None, mask, scale=2.0)
    y.sum().backward()
    assert w.grad is None
    np.testing.assert_allclose(x.grad, np.ones((5, 3)) @ (2.0 * mask * wv), rtol=1e-13)
    assert td.gradcheck(lambda x: F.dropconnect_linear(x, w, p=0.5), [x])
