"""Tests for Hardtanh, the op written in docs/first-op.md (examples/hardtanh.py), modelled on test_relu.py."""

import numpy as np
import pytest
from hardtanh import hardtanh

import tinygrad_drop as td


def test_forward_and_backward_match_numpy(device):
    rng = np.random.default_rng(0)
    xv = 2 * rng.standard_normal((4, 6))
    g = rng.standard_normal((4, 6))
    x = td.tensor(xv, requires_grad=True, device=device)
    y = hardtanh(x)
    np.testing.assert_array_equal(td.backend.to_numpy(y.data), np.clip(xv, -1, 1))
    y.backward(g)
    np.testing.assert_array_equal(td.backend.to_numpy(x.grad), g * (np.abs(xv) < 1))


def test_gradient_at_the_corners_is_zero(device):
    x = td.tensor([-2.0, -1.0, -0.5, 0.0, 1.0, 3.0], requires_grad=True, device=device)
    hardtanh(x).sum().backward()
    np.testing.assert_array_equal(td.backend.to_numpy(x.grad), [0.0, 0.0, 1.0, 1.0, 0.0, 0.0])


def test_other_bounds():
    x = td.tensor([-5.0, 0.5, 5.0], requires_grad=True)
    y = hardtanh(x, min_val=0.0, max_val=6.0)  # ReLU6
    np.testing.assert_array_equal(y.numpy(), [0.0, 0.5, 5.0])


def test_min_above_max_is_an_error():
    with pytest.raises(ValueError, match=r"min_val \(2.0\) cannot be greater than max_val \(1.0\)"):
        hardtanh(td.zeros(3), min_val=2.0, max_val=1.0)


@pytest.mark.parametrize("dtype", [td.float32, td.float64])
def test_dtype_is_kept(dtype, device):
    x = td.randn(3, 5, dtype=dtype, requires_grad=True, device=device)
    y = hardtanh(x)
    assert y.dtype == dtype
    y.sum().backward()
    assert x.grad.dtype == dtype


def test_gradcheck_away_from_the_corners(device):
    x = td.tensor([[-1.5, 0.3, 2.0], [0.7, -0.2, -3.0]], dtype=td.float64, requires_grad=True, device=device)
    assert td.gradcheck(lambda x: hardtanh(x), [x])
    assert td.gradcheck(lambda x: (hardtanh(x, -0.5, 0.5) * x).sum(), [x])


def test_no_graph_without_grad():
    y = hardtanh(td.randn(4))
    assert y._ctx is None and not y.requires_grad


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_values_and_gradients_match_torch(dtype):
    torch = pytest.importorskip("torch")
    xv = np.array([[-2.0, -1.0, -0.5], [0.0, 1.0, 3.0]], dtype=dtype)
    g = np.arange(6.0, dtype=dtype).reshape(2, 3) + 1
    x = td.tensor(xv, requires_grad=True)
    xt = torch.tensor(xv, requires_grad=True)
    y, yt = hardtanh(x, -1.0, 1.0), torch.nn.functional.hardtanh(xt, -1.0, 1.0)
    np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
    y.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_array_equal(x.grad, xt.grad.numpy())
