"""Softmax and log-softmax along an axis: values, gradients and stability at large logits."""

import warnings

import numpy as np
import pytest

import tinygrad_drop as td
from tests.helpers import host, leaf, randn


def np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


AXES = [-1, 0, 1, 2, -2]


@pytest.mark.parametrize("axis", AXES)
def test_softmax_forward(axis, device):
    x_np = randn((2, 3, 4))
    y = td.Tensor(x_np, dtype=td.float64, device=device).softmax(axis=axis)
    expected = np_softmax(x_np, axis)
    np.testing.assert_allclose(host(y), expected, rtol=1e-12)
    np.testing.assert_allclose(host(y).sum(axis=axis), 1.0, rtol=1e-12)


@pytest.mark.parametrize("axis", AXES)
def test_log_softmax_forward(axis, device):
    x_np = randn((2, 3, 4))
    y = td.Tensor(x_np, dtype=td.float64, device=device).log_softmax(axis=axis)
    np.testing.assert_allclose(host(y), np.log(np_softmax(x_np, axis)), rtol=1e-12)


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_gradcheck(name, axis, device):
    x = leaf(randn((2, 3, 4), seed=1), device)
    assert td.gradcheck(lambda t: getattr(t, name)(axis=axis), [x])


def test_default_axis_is_last(device):
    x_np = randn((3, 5))
    x = td.Tensor(x_np, dtype=td.float64, device=device)
    np.testing.assert_allclose(host(x.softmax()), np_softmax(x_np, -1), rtol=1e-12)
    np.testing.assert_allclose(host(x.log_softmax()), np.log(np_softmax(x_np, -1)), rtol=1e-12)


def test_softmax_closed_form_gradient(device):
    x_np, u = randn((4, 3), seed=2), randn((4, 3), seed=3)
    x = leaf(x_np, device)
    x.softmax(axis=1).backward(u)
    s = np_softmax(x_np, 1)
    expected = s * (u - (u * s).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(host(x.grad), expected, rtol=1e-10, atol=1e-14)


def test_log_softmax_closed_form_gradient(device):
    x_np, u = randn((4, 3), seed=4), randn((4, 3), seed=5)
    x = leaf(x_np, device)
    x.log_softmax(axis=1).backward(u)
    expected = u - np_softmax(x_np, 1) * u.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(host(x.grad), expected, rtol=1e-10, atol=1e-14)


def test_softmax_gradient_of_sum_is_zero(device):
    x = leaf(randn((3, 4)), device)
    x.softmax(axis=1).sum().backward()
    np.testing.assert_allclose(host(x.grad), 0.0, atol=1e-15)


@pytest.mark.parametrize("dtype", [td.float32, td.float64])
def test_stable_at_large_logits(dtype, device):
    x = td.Tensor([[1e3, 0.0, -1e3], [1e3, 1e3, 1e3]], dtype=dtype, requires_grad=True, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = x.softmax(axis=1)
        ls = x.log_softmax(axis=1)
        (s.sum() + ls.sum()).backward()
    assert s.dtype == dtype and ls.dtype == dtype
    s_np, ls_np = host(s), host(ls)
    assert np.all(np.isfinite(s_np)) and np.all(np.isfinite(ls_np))
    np.testing.assert_allclose(s_np, [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-6)
    np.testing.assert_allclose(ls_np, [[0.0, -1e3, -2e3], [-np.log(3)] * 3], rtol=1e-6)
    assert np.all(np.isfinite(host(x.grad)))


def test_shift_invariance(device):
    x_np = randn((2, 5))
    a = td.Tensor(x_np, dtype=td.float64, device=device).softmax()
    b = td.Tensor(x_np + 500.0, dtype=td.float64, device=device).softmax()
    np.testing.assert_allclose(host(a), host(b), rtol=1e-10)


def test_float32_gradients_stay_float32():
    x = td.Tensor(randn((2, 3)), dtype=td.float32, requires_grad=True)
    for y in (x.softmax(), x.log_softmax(axis=0)):
        assert y.dtype == td.float32
        x.grad = None
        (y * y).sum().backward()
        assert x.grad.dtype == td.float32


# ---------------------------------------------------------------- attention's fused scale, mask and softmax

KEEP = np.tril(np.ones((4, 5), dtype=bool))  # query i sees keys 0..i: every row keeps at least one key


def masked_softmax(x, keep, scale):
    from tinygrad_drop.ops.softmax import MaskedSoftmax

    return MaskedSoftmax.apply(x, keep, scale)


@pytest.mark.parametrize("keep", [KEEP, None], ids=["causal", "no mask"])
@pytest.mark.parametrize("scale", [0.3, -1.5])
def test_masked_softmax_gradcheck(keep, scale, device):
    x = leaf(randn((2, 4, 5), seed=7), device)
    keep = None if keep is None else td.backend.to_device(keep, device)
    assert td.gradcheck(lambda t: masked_softmax(t, keep, scale), [x])


@pytest.mark.parametrize("dtype", [td.float32, td.float64])
def test_masked_softmax_matches_torch(dtype):
    torch = pytest.importorskip("torch")
    from tests.torch_check import matches_torch

    matches_torch(lambda x: masked_softmax(x, KEEP, 0.3),
                  lambda x: (x * 0.3).masked_fill(~torch.from_numpy(KEEP), float("-inf")).softmax(-1),
                  [randn((3, 4, 5), seed=8)], dtype)


def test_masked_softmax_gives_masked_entries_zero_weight_and_zero_gradient():
    x = td.Tensor(randn((4, 5), seed=9), requires_grad=True)
    y = masked_softmax(x, KEEP, 1.0)
    y.backward(td.Tensor(randn((4, 5), seed=10)))
    assert (host(y)[~KEEP] == 0).all() and (host(x.grad)[~KEEP] == 0).all()
    np.testing.assert_allclose(host(y).sum(axis=-1), 1.0, rtol=1e-6)


def test_masked_softmax_needs_a_floating_input():
    with pytest.raises(TypeError, match="softmax needs a floating-point input, got dtype int64"):
        masked_softmax(td.Tensor(np.arange(5)), None, 1.0)


@pytest.mark.parametrize(("name", "fn"), [("softmax", lambda t: t.softmax()),
                                        ("log_softmax", lambda t: t.log_softmax())])
def test_integer_input_error_names_the_op_and_the_dtype(name, fn):
    expected = f"{name} needs a floating-point input, got dtype int64: convert it first, e.g. x.float()"
    with pytest.raises(TypeError) as info:
        fn(td.Tensor(np.arange(3)))
    assert str(info.value) == expected


def test_masked_softmax_shifts_each_row_by_its_own_max():
    """Rows far apart ([0, 0] and [1000, 1000]) each give 1/2, 1/2: a shift by the global max would underflow."""
    x = td.Tensor(np.array([[0.0, 0.0], [1000.0, 1000.0], [-1000.0, -999.0]]), requires_grad=True)
    y = masked_softmax(x, None, 1.0)
    y.backward(td.Tensor(np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])))
    np.testing.assert_allclose(host(y), [[0.5, 0.5], [0.5, 0.5], [1 / (1 + np.e), np.e / (1 + np.e)]], rtol=1e-15)
    np.testing.assert_allclose(host(x.grad)[:2], [[0.25, -0.25], [0.25, -0.25]], rtol=1e-15)
