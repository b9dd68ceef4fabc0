"""Tests for the Conv2d, MaxPool2d and AvgPool2d ops: finite differences, torch's values and gradients, errors."""

import re

import numpy as np
import pytest
from helpers import host, leaf, randn

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tinygrad_drop.ops.conv import output_size

CONV_CASES = [  # (input shape, weight shape, stride, padding, dilation)
    ((2, 3, 6, 5), (4, 3, 3, 3), 1, 0, 1),
    ((2, 2, 7, 6), (3, 2, 3, 2), 2, 1, 1),
    ((1, 2, 9, 8), (2, 2, 2, 3), (1, 2), (2, 1), (2, 1)),
    ((3, 1, 4, 4), (2, 1, 1, 1), 1, 0, 1),
]
POOL_CASES = [  # (kernel_size, stride, padding)
    (2, None, 0),
    (3, 2, 1),
    ((3, 2), 1, (1, 1)),
    (2, 1, 0),  # overlapping windows
]


@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilation", CONV_CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_gradcheck(x_shape, w_shape, stride, padding, dilation, bias, device):
    x, w = leaf(randn(x_shape, 1), device), leaf(randn(w_shape, 2), device)
    b = leaf(randn(w_shape[:1], 3), device) if bias else None
    assert td.gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation), (x, w, b))


@pytest.mark.parametrize("kernel_size, stride, padding", POOL_CASES)
@pytest.mark.parametrize("pool", [F.max_pool2d, F.avg_pool2d])
def test_pool_gradcheck(pool, kernel_size, stride, padding, device):
    x = leaf(randn((2, 3, 7, 6), 4), device)  # distinct values: no ties, so max is differentiable
    assert td.gradcheck(lambda x: pool(x, kernel_size, stride, padding), (x,))


def test_adaptive_avg_pool_gradcheck(device):
    assert td.gradcheck(lambda x: F.adaptive_avg_pool2d(x, 1), (leaf(randn((2, 3, 4, 5)), device),))


def _compare_with_torch(fn, torch_fn, arrays, dtype, device, tol):
    """fn and torch_fn on the same arrays: the same values and the same gradients of a random cotangent."""
    torch = pytest.importorskip("torch")
    ours = [None if a is None else td.Tensor(a, dtype=dtype, requires_grad=True, device=device) for a in arrays]
    theirs = [None if a is None else torch.tensor(a, dtype=getattr(torch, np.dtype(dtype).name), requires_grad=True)
              for a in arrays]
    y, ty = fn(*ours), torch_fn(*theirs)
    assert y.shape == tuple(ty.shape) and y.dtype == dtype
    np.testing.assert_allclose(host(y), ty.detach().numpy(), rtol=tol, atol=tol)
    g = randn(y.shape, 9).astype(dtype)
    y.backward(td.Tensor(g, device=device))
    ty.backward(torch.tensor(g))
    for a, t in zip(ours, theirs, strict=True):
        if a is not None:
            assert a.grad.dtype == dtype
            np.testing.assert_allclose(host(a.grad), t.grad.numpy(), rtol=tol, atol=tol)


TOL = {td.float32: 1e-4, td.float64: 1e-10}


@pytest.mark.parametrize("dtype", [td.float32, td.float64])
@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilation", CONV_CASES)
def test_conv2d_matches_torch(x_shape, w_shape, stride, padding, dilation, dtype, device):
    torch = pytest.importorskip("torch")
    arrays = [randn(x_shape, 1), randn(w_shape, 2), randn(w_shape[:1], 3)]
    _compare_with_torch(lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation),
                        lambda x, w, b: torch.nn.functional.conv2d(x, w, b, stride, padding, dilation),
                        arrays, dtype, device, TOL[dtype])


@pytest.mark.parametrize("dtype", [td.float32, td.float64])
@pytest.mark.parametrize("kernel_size, stride, padding", POOL_CASES)
@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize("ties", [False, True])
def test_pools_match_torch(name, kernel_size, stride, padding, ties, dtype, device):
    torch = pytest.importorskip("torch")
    x = randn((2, 3, 7, 6), 5)
    if ties:  # few distinct values: many windows hold their maximum more than once
        x = np.round(x)
    _compare_with_torch(lambda x: getattr(F, name)(x, kernel_size, stride, padding),
                        lambda x: getattr(torch.nn.functional, name)(x, kernel_size, stride, padding),
                        [x], dtype, device, TOL[dtype])


@pytest.mark.parametrize("dtype", [td.float32, td.float64])
def test_adaptive_avg_pool_matches_torch(dtype, device):
    torch = pytest.importorskip("torch")
    _compare_with_torch(lambda x: F.adaptive_avg_pool2d(x, 1), lambda x: torch.nn.functional.adaptive_avg_pool2d(x, 1),
                        [randn((2, 3, 4, 5))], dtype, device, TOL[dtype])


def test_max_pool_sends_a_tied_maximum_gradient_to_one_element():
    x = td.tensor(np.ones((1, 1, 2, 2)), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad, [[[[1.0, 0.0], [0.0, 0.0]]]])


def test_avg_pool_counts_padding_in_the_divisor():
    x = td.tensor(np.ones((1, 1, 2, 2)))
    y = F.avg_pool2d(x, 3, stride=1, padding=1)
    np.testing.assert_allclose(y.numpy()[0, 0], np.full((2, 2), 4 / 9))


def test_conv2d_is_a_cross_correlation():
    x = td.tensor(np.arange(9.0).reshape(1, 1, 3, 3))
    w = td.tensor(np.array([[[[1.0, 0.0], [0.0, 0.0]]]]))  # picks each window's top-left pixel, unflipped
    np.testing.assert_array_equal(F.conv2d(x, w).numpy()[0, 0], [[0.0, 1.0], [3.0, 4.0]])


def test_conv2d_skips_the_input_gradient_when_not_needed():
    x = td.tensor(randn((1, 2, 4, 4)))
    w = td.tensor(randn((3, 2, 3, 3)), requires_grad=True)
    F.conv2d(x, w).sum().backward()
    assert x.grad is None and w.grad.shape == (3, 2, 3, 3)


def test_backward_returns_one_gradient_per_positional_input():
    x = td.tensor(randn((1, 1, 4, 4)), requires_grad=True)
    conv = F.conv2d(x, td.tensor(randn((1, 1, 3, 3)), requires_grad=True), None)
    assert len(type(conv._ctx).backward(conv._ctx, np.ones(conv.shape))) == 3
    for pool in (F.max_pool2d, F.avg_pool2d):
        y = pool(x, 2)
        assert len(type(y._ctx).backward(y._ctx, np.ones(y.shape))) == 1


def test_output_size_is_torchs_formula():
    assert output_size(28, 3, 1, 1) == 28 and output_size(7, 3, 2, 1) == 4 and output_size(9, 2, 1, 2, 2) == 11


@pytest.mark.parametrize("x_shape, w_shape, match", [
    ((2, 3, 5), (4, 3, 3, 3), "does not fit weight"),
    ((2, 3, 5, 5), (4, 2, 3, 3), "same C"),
    ((2, 3, 2, 2), (4, 3, 3, 3), "does not fit an input"),
])
def test_conv2d_shape_errors(x_shape, w_shape, match):
    with pytest.raises(ValueError, match=match):
        F.conv2d(td.zeros(*x_shape), td.zeros(*w_shape))


def test_conv2d_argument_errors():
    x, w = td.zeros(1, 1, 4, 4), td.zeros(2, 1, 3, 3)
    with pytest.raises(ValueError, match="bias of shape"):
        F.conv2d(x, w, td.zeros(3))
    with pytest.raises(ValueError, match="stride must be positive"):
        F.conv2d(x, w, stride=0)
    with pytest.raises(ValueError, match="padding must be a non-negative int"):
        F.conv2d(x, w, padding=-1)
    with pytest.raises(ValueError, match="dilation must be a non-negative int or a pair"):
        F.conv2d(x, w, dilation=(1, 2, 3))


def test_pool_errors():
    with pytest.raises(ValueError, match="expects an \\(N, C, H, W\\) input"):
        F.max_pool2d(td.zeros(1, 4, 4), 2)
    with pytest.raises(ValueError, match="at most half of the kernel size"):
        F.avg_pool2d(td.zeros(1, 1, 4, 4), 2, padding=2)
    with pytest.raises(ValueError, match="only output_size=1"):
        F.adaptive_avg_pool2d(td.zeros(1, 1, 4, 4), 2)
    with pytest.raises(ValueError, match="expects an \\(N, C, H, W\\) input"):
        F.adaptive_avg_pool2d(td.zeros(1, 4, 4), 1)
    with pytest.raises(ValueError, match="kernel_size must be positive"):
        F.max_pool2d(td.zeros(1, 1, 4, 4), 0)




def _raises_exactly(message):
    """pytest.raises(ValueError) that matches the whole message, character for character."""
    return pytest.raises(ValueError, match="^" + re.escape(message) + "$")


def test_conv2d_kernel_that_does_not_fit_names_conv2d_in_the_message():
    with _raises_exactly("conv2d: a 3x3 kernel (dilation (1, 1)) does not fit an input of shape (1, 1, 2, 2) "
                         "with padding (0, 0): the output would be 0x0; use a smaller kernel or more padding"):
        F.conv2d(td.zeros(1, 1, 2, 2), td.zeros(1, 1, 3, 3))


@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d"])
def test_pool_error_messages_name_the_pool(name):
    pool = getattr(F, name)
    with _raises_exactly(f"{name}: a 5x5 kernel (dilation (1, 1)) does not fit an input of shape (1, 1, 3, 3) "
                         "with padding (0, 0): the output would be 0x0; use a smaller kernel or more padding"):
        pool(td.zeros(1, 1, 3, 3), 5)
    with _raises_exactly(f"{name} expects an (N, C, H, W) input, got shape (1, 4, 4)"):
        pool(td.zeros(1, 4, 4), 2)
    with _raises_exactly(f"{name}: padding (2, 2) should be at most half of the kernel size (2, 2)"):
        pool(td.zeros(1, 1, 4, 4), 2, padding=2)


@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize("kernel_size, padding", [(2, (2, 0)), (2, (0, 2)), ((1, 5), (1, 0)), ((5, 1), (0, 1))])
def test_pool_padding_is_checked_against_the_kernel_size_on_its_own_axis(name, kernel_size, padding):
    with pytest.raises(ValueError, match="should be at most half of the kernel size"):
        getattr(F, name)(td.zeros(1, 1, 6, 6), kernel_size, 1, padding)


@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize("kernel_size, stride, padding", [(2, 1, 1), ((5, 1), 1, (2, 0)), ((1, 4), (2, 1), (0, 2))])
def test_pools_with_padding_of_half_the_kernel_match_torch(name, kernel_size, stride, padding):
    torch = pytest.importorskip("torch")
    _compare_with_torch(lambda x: getattr(F, name)(x, kernel_size, stride, padding),
                        lambda x: getattr(torch.nn.functional, name)(x, kernel_size, stride, padding),
                        [randn((2, 3, 7, 6), 6)], td.float64, "cpu", 1e-12)


def test_conv2d_input_gradient_with_a_frozen_weight_matches_torch():
    torch = pytest.importorskip("torch")
    x_np, w_np, b_np = randn((2, 2, 5, 4), 1), randn((3, 2, 3, 2), 2), randn((3,), 3)
    x = td.tensor(x_np, requires_grad=True)
    y = F.conv2d(x, td.tensor(w_np), td.tensor(b_np), stride=(2, 1), padding=1)
    xt = torch.tensor(x_np, requires_grad=True)
    yt = torch.nn.functional.conv2d(xt, torch.tensor(w_np), torch.tensor(b_np), stride=(2, 1), padding=1)
    g = randn(y.shape, 4)
    y.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_conv2d_backward_gives_none_for_inputs_that_need_no_gradient():
    """No bias, or a frozen weight or bias: backward's entry for it is None, not a placeholder."""
    x = td.tensor(randn((1, 1, 4, 4)), requires_grad=True)
    y = F.conv2d(x, td.tensor(randn((2, 1, 3, 3)), requires_grad=True))
    assert type(y._ctx).backward(y._ctx, np.ones(y.shape))[2] is None
    y = F.conv2d(x, td.tensor(randn((2, 1, 3, 3))), td.tensor(randn((2,))))
    grad_x, grad_w, grad_b = type(y._ctx).backward(y._ctx, np.ones(y.shape))
    assert grad_x.shape == (1, 1, 4, 4) and grad_w is None and grad_b is None


def _trace_of(y, names):
    """{op label: what its backward returned, as td.trace_backward prints it} for y.sum().backward()."""
    with td.trace_backward(names) as trace:
        y.sum().backward()
    return {node: returns for node, _, returns in trace.steps}


def test_conv2d_returns_float32_gradients_for_float32_inputs():
    """The gradients conv2d's backward hands out are in each input's dtype, as the backward trace shows."""
    x = td.tensor(np.ones((1, 1, 3, 3)), dtype=td.float32, requires_grad=True)
    w = td.tensor(np.ones((9, 1, 2, 2)), dtype=td.float32, requires_grad=True)
    b = td.tensor(np.ones(9), dtype=td.float32, requires_grad=True)
    returns = _trace_of(F.conv2d(x, w, b), {"x": x, "w": w, "b": b})["Conv2d"]
    assert returns == ("returns float32 (1, 1, 3, 3) (norm 54) to x, float32 (9, 1, 2, 2) (norm 24) to w, "
                       "float32 (9,) (norm 12) to b")


@pytest.mark.parametrize("name, op", [("max_pool2d", "MaxPool2d"), ("avg_pool2d", "AvgPool2d")])
def test_pools_return_float32_gradients_for_float32_inputs(name, op):
    x = td.tensor(randn((1, 1, 4, 4)), dtype=td.float32, requires_grad=True)
    returns = _trace_of(getattr(F, name)(x, 2, 1), {"x": x})[op]
    assert returns.startswith("returns float32 (1, 1, 4, 4) (norm ")


def test_conv2d_returns_none_to_a_frozen_weight_and_bias():
    x = td.tensor(randn((1, 1, 3, 3)), requires_grad=True)
    w, b = td.tensor(randn((1, 1, 2, 2))), td.tensor(randn(1))
    assert _trace_of(F.conv2d(x, w, b), {"x": x, "w": w, "b": b})["Conv2d"].endswith(", None to w, None to b")


@pytest.mark.parametrize(("padding", "dilation"), [((1, 0), 1), ((0, 1), 1), (0, (1, 2)), (0, (2, 1))])
def test_conv2d_with_unequal_padding_or_dilation_matches_torch(padding, dilation):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal((2, 3, 7, 8))
    w = np.random.default_rng(4).standard_normal((4, 3, 3, 2))
    ours = F.conv2d(td.tensor(x), td.tensor(w), padding=padding, dilation=dilation)
    theirs = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=padding, dilation=dilation)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", [(1, 1, 2, 5), (1, 1, 5, 2)])
def test_a_kernel_wider_than_the_input_on_one_axis_is_an_error(shape):
    with pytest.raises(ValueError, match="a 3x3 kernel .* does not fit an input of shape"):
        F.conv2d(td.zeros(*shape), td.zeros(1, 1, 3, 3))


def test_conv2d_refuses_integer_input_naming_the_dtype():
    x, w = td.tensor(np.ones((1, 1, 2, 2), dtype=np.int64)), td.tensor(np.ones((1, 1, 1, 1), dtype=np.int64))
    with pytest.raises(TypeError, match="conv2d needs a floating-point input, got dtype int64"):
        F.conv2d(x, w, td.tensor([0.7]))
