"""Matrix product: 2-D, batched with broadcasting batch axes, and 1-D operands, as NumPy defines them."""

import numpy as np
import pytest

import tinygrad_drop as td
from tests.helpers import host, leaf, randn

SHAPES = [
    ((3, 4), (4, 5)),
    ((1, 4), (4, 1)),
    ((2, 3, 4), (2, 4, 5)),
    ((2, 3, 4), (4, 5)),
    ((3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((1, 3, 4), (2, 4, 2)),
    ((4,), (4, 5)),
    ((3, 4), (4,)),
    ((4,), (4,)),
    ((4,), (2, 4, 3)),
    ((2, 3, 4), (4,)),
]


@pytest.mark.parametrize(("shape_a", "shape_b"), SHAPES, ids=str)
def test_matmul_forward_matches_numpy(shape_a, shape_b, device):
    a_np, b_np = randn(shape_a, seed=1), randn(shape_b, seed=2)
    y = td.Tensor(a_np, device=device, dtype=td.float64) @ td.Tensor(b_np, device=device, dtype=td.float64)
    expected = a_np @ b_np
    assert y.shape == np.shape(expected)
    np.testing.assert_allclose(host(y), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("shape_a", "shape_b"), SHAPES, ids=str)
def test_matmul_gradcheck(shape_a, shape_b, device):
    a, b = leaf(randn(shape_a, seed=3), device), leaf(randn(shape_b, seed=4), device)
    assert td.gradcheck(lambda x, y: x @ y, [a, b])


def test_matmul_closed_form_2d(device):
    a_np, b_np, u = randn((3, 4), seed=5), randn((4, 2), seed=6), randn((3, 2), seed=7)
    a, b = leaf(a_np, device), leaf(b_np, device)
    (a @ b).backward(u)
    np.testing.assert_allclose(host(a.grad), u @ b_np.T, rtol=1e-12)
    np.testing.assert_allclose(host(b.grad), a_np.T @ u, rtol=1e-12)


def test_matmul_closed_form_broadcast_batch(device):
    a_np, b_np = randn((5, 3, 4), seed=8), randn((4, 2), seed=9)
    u = randn((5, 3, 2), seed=10)
    a, b = leaf(a_np, device), leaf(b_np, device)
    (a @ b).backward(u)
    assert a.grad.shape == (5, 3, 4) and b.grad.shape == (4, 2)
    np.testing.assert_allclose(host(a.grad), u @ b_np.T, rtol=1e-12)
    np.testing.assert_allclose(host(b.grad), np.einsum("bik,bij->kj", a_np, u), rtol=1e-12)


def test_matmul_vector_dot_closed_form(device):
    a_np, b_np = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])
    a, b = leaf(a_np, device), leaf(b_np, device)
    y = a @ b
    assert y.shape == () and host(y).item() == 32.0
    y.backward()
    np.testing.assert_array_equal(host(a.grad), b_np)
    np.testing.assert_array_equal(host(b.grad), a_np)


def test_matmul_gradients_have_operand_shapes(device):
    for shape_a, shape_b in SHAPES:
        a, b = leaf(randn(shape_a), device), leaf(randn(shape_b), device)
        (a @ b).sum().backward()
        assert a.grad.shape == shape_a
        assert b.grad.shape == shape_b


def test_rmatmul_with_ndarray(device):
    w = leaf(randn((4, 2)), device)
    x = randn((3, 4), seed=1)
    y = x @ w
    assert isinstance(y, td.Tensor)
    assert y.device == w.device
    np.testing.assert_allclose(host(y), x @ host(w))
    y.sum().backward()
    np.testing.assert_allclose(host(w.grad), x.T @ np.ones((3, 2)))


def test_matmul_dtypes():
    a32 = td.Tensor(randn((2, 3)), dtype=td.float32, requires_grad=True)
    b32 = td.Tensor(randn((3, 2)), dtype=td.float32)
    b64 = td.Tensor(randn((3, 2)), dtype=td.float64)
    assert (a32 @ b32).dtype == td.float32
    y = a32 @ b64
    assert y.dtype == td.float64
    y.sum().backward()
    assert a32.grad.dtype == td.float32


@pytest.mark.parametrize(
    ("shape_a", "shape_b", "pattern"),
    [
        ((2, 3), (4, 5), r"\(2, 3\) @ \(4, 5\)"),
        ((2, 3), (2, 3), r"\(2, 3\) @ \(2, 3\)"),
        ((3,), (4,), r"\(3,\) @ \(4,\)"),
        ((3, 4), (5,), r"\(3, 4\) @ \(5,\)"),
        ((2, 3, 4), (3, 4, 5), r"\(2, 3, 4\) @ \(3, 4, 5\)"),
    ],
    ids=str,
)
def test_matmul_shape_mismatch_names_both_shapes(shape_a, shape_b, pattern, device):
    with pytest.raises(ValueError, match=r"matmul shape mismatch: " + pattern):
        td.ones(shape_a, device=device) @ td.ones(shape_b, device=device)


def test_matmul_mismatch_reports_inner_and_batch_sizes():
    with pytest.raises(ValueError, match="inner sizes 3 and 4 differ"):
        td.ones(2, 3) @ td.ones(4, 5)
    with pytest.raises(ValueError, match=r"batch shapes \(2,\) and \(3,\)"):
        td.ones(2, 3, 4) @ td.ones(3, 4, 5)


def test_matmul_with_scalar_raises():
    with pytest.raises(ValueError, match="at least 1 dimension"):
        td.ones(3) @ td.Tensor(2.0)


def test_matmul_returns_no_gradient_to_an_operand_that_needs_none():
    """x @ W with a constant W sends None to W, and W @ x sends None to W likewise."""
    x = td.tensor([[1.0, 2.0]], requires_grad=True)
    w = td.tensor([[1.0], [3.0]])
    for y, expected in ((x @ w, "returns [[1. 3.]] to x, None to w"), (w @ x, "returns None to w, [[4. 4.]] to x")):
        x.grad = None
        with td.trace_backward({"x": x, "w": w}) as trace:
            y.sum().backward()
        assert trace.steps[1][2] == expected
        assert x.grad is not None and w.grad is None
