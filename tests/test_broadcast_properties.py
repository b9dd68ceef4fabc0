"""Property tests: broadcasting gradients of + - * / against NumPy closed forms, for random shape pairs."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import tinygrad_drop as td

SETTINGS = settings(
    max_examples=50,
    deadline=None,
    database=None,  # leave no example database behind
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # `device` is a plain string
)

shape_pairs = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=3)
seeds = st.integers(min_value=0, max_value=2**32 - 1)

OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}


def closed_form(name, a, b, u):
    """dL/da and dL/db for L = sum(u * op(a, b)), before summing back to the operands' shapes."""
    return {
        "add": (u, u),
        "sub": (u, -u),
        "mul": (u * b, u * a),
        "div": (u / b, -u * a / (b * b)),
    }[name]


def reduce_to(grad, shape):
    """Sum a broadcast gradient back to `shape`: over extra leading axes and stretched size-1 axes."""
    grad = np.asarray(grad)
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


def sample(shape_pair, seed):
    (shape_a, shape_b), out_shape = shape_pair
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape_a)
    b = rng.choice([-1.0, 1.0], size=shape_b) * rng.uniform(0.5, 2.0, size=shape_b)  # safe divisor
    u = rng.standard_normal(out_shape)
    return a, b, u


@pytest.mark.parametrize("name", list(OPS))
@SETTINGS
@given(shape_pair=shape_pairs, seed=seeds)
def test_broadcast_gradients_match_closed_form(name, device, shape_pair, seed):
    a_np, b_np, u = sample(shape_pair, seed)
    a = td.Tensor(a_np, dtype=td.float64, requires_grad=True, device=device)
    b = td.Tensor(b_np, dtype=td.float64, requires_grad=True, device=device)
    y = OPS[name](a, b)
    assert y.shape == shape_pair.result_shape
    np.testing.assert_allclose(td.backend.to_numpy(y.data), OPS[name](a_np, b_np), rtol=1e-12, atol=1e-12)
    (y * td.Tensor(u, device=device)).sum().backward()
    da, db = closed_form(name, a_np, b_np, u)
    grad_a, grad_b = td.backend.to_numpy(a.grad), td.backend.to_numpy(b.grad)
    assert grad_a.shape == a_np.shape
    assert grad_b.shape == b_np.shape
    np.testing.assert_allclose(grad_a, reduce_to(da, a_np.shape), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grad_b, reduce_to(db, b_np.shape), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", list(OPS))
@SETTINGS
@given(shape_pair=shape_pairs, seed=seeds)
def test_broadcast_gradients_float32_shape_and_dtype(name, shape_pair, seed):
    a_np, b_np, u = sample(shape_pair, seed)
    a = td.Tensor(a_np, dtype=td.float32, requires_grad=True)
    b = td.Tensor(b_np, dtype=td.float32, requires_grad=True)
    y = OPS[name](a, b)
    assert y.dtype == td.float32
    y.backward(u)
    assert a.grad.shape == a.shape and a.grad.dtype == td.float32
    assert b.grad.shape == b.shape and b.grad.dtype == td.float32
    da, db = closed_form(name, a_np, b_np, u)
    np.testing.assert_allclose(a.grad, reduce_to(da, a_np.shape), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(b.grad, reduce_to(db, b_np.shape), rtol=1e-4, atol=1e-5)


@SETTINGS
@given(shape_pair=shape_pairs, seed=seeds)
def test_operand_order_does_not_change_gradients(shape_pair, seed):
    """a * b and b * a (and a + b, b + a) give the same gradients to each operand."""
    a_np, b_np, u = sample(shape_pair, seed)
    grads = []
    for swap in (False, True):
        a = td.Tensor(a_np, dtype=td.float64, requires_grad=True)
        b = td.Tensor(b_np, dtype=td.float64, requires_grad=True)
        y = (b * a + b + a) if swap else (a * b + a + b)
        y.backward(u)
        grads.append((a.grad, b.grad))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-12)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-12)
