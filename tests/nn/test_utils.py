"""clip_grad_norm_ and clip_grad_value_ against torch.nn.utils."""

import numpy as np
import pytest

import tinygrad_drop as td
from tests.helpers import randn
from tinygrad_drop.nn.utils import clip_grad_norm_, clip_grad_value_

GRADS = [randn((3, 4), seed=1) * 3, randn((5,), seed=2), randn((2, 2), seed=3) * 0.1]


def _pairs(dtype):
    torch = pytest.importorskip("torch")
    ours, theirs = [], []
    for g in GRADS:
        p = td.nn.Parameter(np.zeros(g.shape, dtype))
        p.grad = g.astype(dtype)
        t = torch.zeros(g.shape, dtype=getattr(torch, np.dtype(dtype).name), requires_grad=True)
        t.grad = torch.from_numpy(g.astype(dtype))
        ours.append(p)
        theirs.append(t)
    return ours, theirs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("max_norm, norm_type", [(1.0, 2.0), (100.0, 2.0), (0.5, 1.0), (2.0, float("inf")),
                                                 (1.0, 3.0)])
def test_clip_grad_norm_matches_torch(max_norm, norm_type, dtype):
    torch = pytest.importorskip("torch")
    ours, theirs = _pairs(dtype)
    total = clip_grad_norm_(ours, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(total.item(), expected.item(), rtol=rtol)
    for p, t in zip(ours, theirs, strict=True):
        assert p.grad.dtype == dtype
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=rtol, atol=1e-7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_grad_value_matches_torch(dtype):
    torch = pytest.importorskip("torch")
    ours, theirs = _pairs(dtype)
    clip_grad_value_(ours, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, t in zip(ours, theirs, strict=True):
        assert p.grad.dtype == dtype
        np.testing.assert_array_equal(p.grad, t.grad.numpy())


def test_clipping_skips_missing_gradients_and_accepts_one_tensor():
    p, q = td.nn.Parameter(np.zeros(2, np.float32)), td.nn.Parameter(np.zeros(2, np.float32))
    p.grad = np.array([3.0, 4.0], np.float32)
    assert clip_grad_norm_([p, q], 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad, [0.6, 0.8], rtol=1e-5)
    assert q.grad is None
    assert clip_grad_norm_(q, 1.0).item() == 0.0
    clip_grad_value_(p, 0.1)
    np.testing.assert_allclose(p.grad, [0.1, 0.1])


def test_clip_grad_norm_refuses_non_finite_norms_when_asked():
    p = td.nn.Parameter(np.zeros(2, np.float32))
    p.grad = np.array([np.inf, 1.0], np.float32)
    with pytest.raises(RuntimeError, match="total norm of order 2.0 of the gradients is inf"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
