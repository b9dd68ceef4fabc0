"""Reductions: sum, mean, max, min over None / int / negative / tuple axes, keepdims both ways."""

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tests.helpers import host, leaf, randn


def distinct(shape, seed=0):
    """Random values without ties, so max/min are differentiable everywhere."""
    n = int(np.prod(shape))
    return np.random.default_rng(seed).permutation(n).reshape(shape) * 0.37 - 3.0


AXES = [None, 0, 1, 2, -1, -2, (0, 2), (1, -1), (0, 1, 2)]
KEEPDIMS = [False, True]
REDUCTIONS = {
    "sum": (lambda t, **kw: t.sum(**kw), np.sum),
    "mean": (lambda t, **kw: t.mean(**kw), np.mean),
    "max": (lambda t, **kw: t.max(**kw), np.max),
    "min": (lambda t, **kw: t.min(**kw), np.min),
}


@pytest.mark.parametrize("name", list(REDUCTIONS))
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("keepdims", KEEPDIMS)
def test_reduction_forward_matches_numpy(name, axis, keepdims, device):
    x_np = distinct((2, 3, 4))
    ours, ref = REDUCTIONS[name]
    y = ours(td.Tensor(x_np, dtype=td.float64, device=device), axis=axis, keepdims=keepdims)
    expected = ref(x_np, axis=axis, keepdims=keepdims)
    assert y.shape == np.shape(expected)
    np.testing.assert_allclose(host(y), expected, rtol=1e-12)


@pytest.mark.parametrize("name", list(REDUCTIONS))
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("keepdims", KEEPDIMS)
def test_reduction_gradcheck(name, axis, keepdims, device):
    ours, _ = REDUCTIONS[name]
    x = leaf(distinct((2, 3, 4), seed=1), device)
    assert td.gradcheck(lambda t: ours(t, axis=axis, keepdims=keepdims), [x])


@pytest.mark.parametrize("keepdims", KEEPDIMS)
def test_sum_and_mean_closed_form(keepdims, device):
    x_np = distinct((3, 4))
    u = np.random.default_rng(2).standard_normal((3, 1) if keepdims else (3,))
    x = leaf(x_np, device)
    x.sum(axis=1, keepdims=keepdims).backward(u)
    np.testing.assert_allclose(host(x.grad), np.broadcast_to(u.reshape(3, 1), (3, 4)))
    x.grad = None
    x.mean(axis=-1, keepdims=keepdims).backward(u)
    np.testing.assert_allclose(host(x.grad), np.broadcast_to(u.reshape(3, 1), (3, 4)) / 4)


def test_full_sum_and_mean_gradients(device):
    x = leaf(np.ones((2, 5)), device)
    x.sum().backward()
    np.testing.assert_array_equal(host(x.grad), np.ones((2, 5)))
    x.grad = None
    x.mean().backward()
    np.testing.assert_allclose(host(x.grad), np.full((2, 5), 0.1))


def test_max_closed_form_picks_argmax(device):
    x_np = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, -1.0]])
    x = leaf(x_np, device)
    x.max(axis=1).backward(np.array([10.0, 20.0]))
    np.testing.assert_array_equal(host(x.grad), [[0.0, 10.0, 0.0], [20.0, 0.0, 0.0]])
    x.grad = None
    x.min(axis=0).backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(host(x.grad), [[1.0, 0.0, 0.0], [0.0, 2.0, 3.0]])


def test_max_ties_share_gradient_equally(device):
    x = leaf([1.0, 3.0, 3.0], device)
    y = x.max()
    assert y.item() == 3.0
    y.backward()
    np.testing.assert_allclose(host(x.grad), [0.0, 0.5, 0.5])


def test_max_ties_along_axis_and_all_equal(device):
    x = leaf([[2.0, 2.0, 2.0], [1.0, 4.0, 4.0]], device)
    x.max(axis=1, keepdims=True).backward(np.array([[3.0], [1.0]]))
    np.testing.assert_allclose(host(x.grad), [[1.0, 1.0, 1.0], [0.0, 0.5, 0.5]])


def test_min_ties_share_gradient_equally(device):
    x = leaf([0.0, 0.0, 5.0, 0.0], device)
    x.min().backward()
    np.testing.assert_allclose(host(x.grad), [1 / 3, 1 / 3, 0.0, 1 / 3])


def test_max_of_empty_raises():
    with pytest.raises(ValueError, match="empty"):
        td.zeros(0).max()


@pytest.mark.parametrize("axis", [2, -3, (0, 5)])
def test_axis_out_of_range_raises(axis):
    with pytest.raises(ValueError, match="out of range"):
        td.ones(2, 3).sum(axis=axis)


def test_reduction_dtypes():
    x = td.Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    for y in (x.sum(), x.mean(axis=0), x.max(axis=1), x.min(), x.sum(axis=(0, 1), keepdims=True)):
        assert y.dtype == td.float32
        x.grad = None
        y.sum().backward()
        assert x.grad.dtype == td.float32
    i = td.Tensor([[1, 2], [3, 4]])
    assert i.sum().dtype == td.int64 and i.sum().item() == 10
    assert i.mean().dtype == td.float32 and i.mean().item() == 2.5
    assert i.max().item() == 4 and i.min(axis=0).tolist() == [1, 2]


def test_scalar_tensor_reductions(device):
    x = leaf(3.0, device)
    y = x.sum() + x.mean() + x.max()
    assert y.shape == ()
    y.backward()
    assert host(x.grad).item() == 3.0


def test_argmax_argmin_have_no_gradient():
    x = td.Tensor([[1.0, 9.0, 3.0], [8.0, 0.0, 2.0]], requires_grad=True)
    assert x.argmax(axis=1).tolist() == [1, 0]
    assert x.argmin(axis=0).tolist() == [0, 1, 1]
    assert x.argmax().item() == 1
    assert not x.argmax().requires_grad


def test_float16_mean_over_more_than_65504_elements_has_a_gradient():
    # float16(196608) is inf, so dividing by it gave an all-zero gradient; 1/196608 is a float16 subnormal
    x = td.Tensor(np.ones((64, 3, 32, 32)), dtype=td.float16, requires_grad=True)
    F.mse_loss(x, td.zeros(64, 3, 32, 32, dtype=td.float16)).backward()
    assert x.grad.dtype == td.float16
    # d/dx mean((x - 0)^2) = 2x / n; 1/n is a subnormal with a few significant bits, hence rtol
    np.testing.assert_allclose(x.grad.astype(np.float64), 2 / x.size, rtol=0.02)


def test_mean_gradient_is_rounded_once_as_torch_does():
    torch = pytest.importorskip("torch")
    for dtype, torch_dtype in ((td.float32, torch.float32), (td.float64, torch.float64)):
        values = randn((3, 7))
        x = td.Tensor(values, dtype=dtype, requires_grad=True)
        t = torch.tensor(values, dtype=torch_dtype, requires_grad=True)
        x.mean(axis=1).backward(np.arange(3.0))
        t.mean(dim=1).backward(torch.arange(3.0, dtype=torch_dtype))
        np.testing.assert_array_equal(x.grad, t.grad.numpy())


def test_min_op_defaults_to_the_minimum_of_all_elements():
    from tinygrad_drop.ops.reduce import Min

    y = Min.apply(td.tensor([[3.0, -1.0], [2.0, 5.0]]))
    assert y.shape == () and y.item() == -1.0
