"""Tests for the Linear op (F.linear): y = x W^T + b, its gradients and its shape checks."""

import types

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tinygrad_drop.ops.linear import Linear as LinearOp


def _host(array):
    return td.backend.to_numpy(array)


def _data(rng, *shape):
    return rng.standard_normal(shape)


@pytest.mark.parametrize("x_shape", [(2, 3, 5), (7, 5), (5,)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_forward_and_gradients_match_numpy(x_shape, with_bias, device):
    rng = np.random.default_rng(0)
    xv, wv, bv = _data(rng, *x_shape), _data(rng, 4, 5), _data(rng, 4)
    x = td.tensor(xv, requires_grad=True, device=device)
    w = td.tensor(wv, requires_grad=True, device=device)
    b = td.tensor(bv, requires_grad=True, device=device) if with_bias else None

    y = F.linear(x, w, b)
    expected = xv @ wv.T + (bv if with_bias else 0.0)
    assert y.shape == x_shape[:-1] + (4,)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)

    g = _data(rng, *y.shape)
    y.backward(g)
    g2, x2 = g.reshape(-1, 4), xv.reshape(-1, 5)
    np.testing.assert_allclose(_host(x.grad), g @ wv, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_host(w.grad), g2.T @ x2, rtol=1e-12, atol=1e-12)
    if with_bias:
        np.testing.assert_allclose(_host(b.grad), g2.sum(axis=0), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("with_bias", [True, False])
def test_gradcheck(with_bias, device):
    x = td.randn(2, 3, 5, dtype=td.float64, requires_grad=True, device=device)
    w = td.randn(4, 5, dtype=td.float64, requires_grad=True, device=device)
    b = td.randn(4, dtype=td.float64, requires_grad=True, device=device)
    if with_bias:
        assert td.gradcheck(lambda x, w, b: F.linear(x, w, b), [x, w, b])
    else:
        assert td.gradcheck(lambda x, w: F.linear(x, w), [x, w])


def test_float32_stays_float32(device):
    x = td.randn(3, 5, device=device, requires_grad=True)
    w = td.randn(4, 5, device=device, requires_grad=True)
    b = td.randn(4, device=device, requires_grad=True)
    y = F.linear(x, w, b)
    assert y.dtype == td.float32
    y.sum().backward()
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32


def test_input_gradient_is_skipped_when_not_needed(device):
    x = td.randn(6, 5, device=device)  # the data: no gradient wanted
    w = td.randn(4, 5, device=device, requires_grad=True)
    b = td.randn(4, device=device, requires_grad=True)
    y = F.linear(x, w, b)
    assert y._ctx.needs_input_grad == (False, True, True)
    y.sum().backward()
    assert x.grad is None
    assert w.grad is not None and b.grad is not None


class _CountingArray(np.ndarray):
    """An ndarray that counts the matrix products it takes part in."""

    matmuls = 0

    def __matmul__(self, other):
        _CountingArray.matmuls += 1
        return np.matmul(np.asarray(self), np.asarray(other))

    def __rmatmul__(self, other):
        _CountingArray.matmuls += 1
        return np.matmul(np.asarray(other), np.asarray(self))


@pytest.mark.parametrize("needs_x, expected_products", [(False, 1), (True, 2)])
def test_skipped_input_gradient_is_not_computed(needs_x, expected_products):
    rng = np.random.default_rng(1)
    x, w, g = (_data(rng, *s).view(_CountingArray) for s in [(6, 5), (4, 5), (6, 4)])
    ctx = types.SimpleNamespace(saved_tensors=(x, w), has_bias=True, needs_input_grad=(needs_x, True, True))
    _CountingArray.matmuls = 0
    grad_x, grad_w, grad_b = LinearOp.backward(ctx, g)
    assert _CountingArray.matmuls == expected_products
    assert (grad_x is None) == (not needs_x)
    np.testing.assert_allclose(np.asarray(grad_w), np.asarray(g).T @ np.asarray(x))
    np.testing.assert_allclose(np.asarray(grad_b), np.asarray(g).sum(axis=0))


def test_only_bias_or_only_weight_gradient():
    x = td.randn(3, 5)
    w = td.randn(4, 5)
    b = td.randn(4, requires_grad=True)
    F.linear(x, w, b).sum().backward()
    np.testing.assert_allclose(b.grad, np.full(4, 3.0))
    assert w.grad is None and x.grad is None


@pytest.mark.parametrize(
    "x_shape, w_shape",
    [((2, 3), (4, 5)), ((3,), (4, 5)), ((2, 5), (5,)), ((), (4, 5))],
)
def test_shape_mismatch_names_the_shapes(x_shape, w_shape):
    x, w = td.zeros(*x_shape), td.zeros(*w_shape)
    with pytest.raises(ValueError) as info:
        F.linear(x, w)
    message = str(info.value)
    assert str(tuple(x_shape)) in message and str(tuple(w_shape)) in message


def test_bias_shape_mismatch_names_the_shapes():
    with pytest.raises(ValueError) as info:
        F.linear(td.zeros(2, 5), td.zeros(4, 5), td.zeros(3))
    assert "(3,)" in str(info.value) and "(4, 5)" in str(info.value)


def test_linear_module_gradients_match_torch():
    torch = pytest.importorskip("torch")
    from tinygrad_drop import nn

    layer = nn.Linear(5, 4).double()
    ref = torch.nn.Linear(5, 4).double()
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(layer.weight.numpy()))
        ref.bias.copy_(torch.from_numpy(layer.bias.numpy()))
    xv = np.random.default_rng(2).standard_normal((2, 3, 5))
    x = td.tensor(xv, requires_grad=True)
    xt = torch.tensor(xv, requires_grad=True)
    y, yt = layer(x), ref(xt)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    (y * y).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.weight.grad, ref.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.bias.grad, ref.bias.grad.numpy(), rtol=1e-10, atol=1e-12)
