"""Tests for the ReLU op: forward, backward, the gradient at 0, what it saves and its dtype."""

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tinygrad_drop import nn


def test_forward_and_backward_match_numpy(device):
    rng = np.random.default_rng(0)
    xv = rng.standard_normal((4, 6))
    g = rng.standard_normal((4, 6))
    x = td.tensor(xv, requires_grad=True, device=device)
    y = F.relu(x)
    np.testing.assert_array_equal(y.numpy(), np.maximum(xv, 0))
    y.backward(g)
    np.testing.assert_array_equal(td.backend.to_numpy(x.grad), g * (xv > 0))


def test_gradient_at_exactly_zero_is_zero(device):
    x = td.tensor([-1.0, 0.0, 2.0, -0.0], requires_grad=True, device=device)
    F.relu(x).sum().backward()
    np.testing.assert_array_equal(td.backend.to_numpy(x.grad), [0.0, 0.0, 1.0, 0.0])


def test_method_and_module_agree_with_function():
    x = td.randn(3, 5)
    expected = F.relu(x).numpy()
    np.testing.assert_array_equal(x.relu().numpy(), expected)
    np.testing.assert_array_equal(nn.ReLU()(x).numpy(), expected)


def test_saves_the_output_not_the_input():
    x = td.randn(3, 5, requires_grad=True)
    y = F.relu(x)
    (saved,) = y._ctx.saved_tensors
    assert saved is y.data
    assert not np.shares_memory(saved, x.data)


@pytest.mark.parametrize("dtype", [td.float32, td.float64])
def test_dtype_is_kept(dtype, device):
    x = td.randn(3, 5, dtype=dtype, requires_grad=True, device=device)
    y = F.relu(x)
    assert y.dtype == dtype
    y.sum().backward()
    assert x.grad.dtype == dtype


def test_gradcheck_away_from_the_kink(device):
    x = td.tensor([[-1.5, 0.3, 2.0], [0.7, -0.2, -3.0]], dtype=td.float64, requires_grad=True, device=device)
    assert td.gradcheck(lambda x: F.relu(x), [x])
    assert td.gradcheck(lambda x: (F.relu(x) * x).sum(), [x])


def test_no_graph_without_grad():
    y = F.relu(td.randn(4))
    assert y._ctx is None and not y.requires_grad


def test_gradients_match_torch():
    torch = pytest.importorskip("torch")
    xv = np.array([[-1.0, 0.0, 0.5], [2.0, -0.0, -3.0]])
    g = np.arange(6.0).reshape(2, 3) + 1
    x = td.tensor(xv, requires_grad=True)
    xt = torch.tensor(xv, requires_grad=True)
    y, yt = F.relu(x), torch.relu(xt)
    np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
    y.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_array_equal(x.grad, xt.grad.numpy())
