"""Tests for abs, clamp, maximum/minimum, tensor powers, log1p, expm1, sin, cos, expand, flatten, numel, argmax.

Each is compared with torch (values and gradients, float32 and float64) and checked by finite differences.
"""

import warnings

import numpy as np
import pytest

import tinygrad_drop as td
from tests.helpers import host, leaf, randn

A = np.array([[-2.0, -0.5, 0.0, 0.25], [0.5, 1.0, 1.5, 3.0]])
B = np.array([[1.0, -0.5, 0.5, 0.25], [-1.0, 2.0, 1.5, 1.0]])  # ties with A at three places
POS = np.array([[0.3, 0.7, 1.2, 2.5], [0.1, 1.9, 0.8, 3.3]])

# (name, our function, torch's function, inputs)
CASES = [
    ("abs", lambda a: a.abs(), lambda a: a.abs(), [A]),
    ("clamp", lambda a: a.clamp(-0.5, 1.0), lambda a: a.clamp(-0.5, 1.0), [A]),  # values at both bounds
    ("clamp_min", lambda a: a.clamp(min=0.25), lambda a: a.clamp(min=0.25), [A]),
    ("clip_max", lambda a: a.clip(max=0.0), lambda a: a.clip(max=0.0), [A]),
    ("maximum", td.maximum, lambda a, b: a.maximum(b), [A, B]),
    ("minimum", td.minimum, lambda a, b: a.minimum(b), [A, B]),
    ("maximum_broadcast", lambda a, b: a.maximum(b), lambda a, b: a.maximum(b), [A, B[:1]]),
    ("pow_tensor", lambda a, b: a**b, lambda a, b: a**b, [POS, B]),
    ("pow_tensor_zero_base", lambda a, b: a**b, lambda a, b: a**b, [A * (A > 0), np.abs(B) + 0.5]),
    ("rpow", lambda a: 2.0**a, lambda a: 2.0**a, [A]),
    ("rpow_zero_base", lambda a: 0.0**a, lambda a: 0.0**a, [np.abs(A)]),
    ("log1p", lambda a: a.log1p(), lambda a: a.log1p(), [POS - 0.05]),
    ("expm1", lambda a: a.expm1(), lambda a: a.expm1(), [A]),
    ("sin", lambda a: a.sin(), lambda a: a.sin(), [A]),
    ("cos", lambda a: a.cos(), lambda a: a.cos(), [A]),
    ("expand", lambda a: a[:, :1].expand(3, 2, -1, 5), lambda a: a[:, :1].expand(3, 2, -1, 5), [A]),
    ("broadcast_to", lambda a: a[0].broadcast_to((3, 4)), lambda a: a[0].broadcast_to((3, 4)), [A]),
    ("flatten", lambda a: a.reshape(2, 2, 2).flatten(0, 1), lambda a: a.reshape(2, 2, 2).flatten(0, 1), [A]),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("dtype", [td.float32, td.float64])
@pytest.mark.parametrize(("name", "fn", "torch_fn", "inputs"), CASES, ids=IDS)
def test_values_and_gradients_match_torch(name, fn, torch_fn, inputs, dtype):
    torch = pytest.importorskip("torch")
    tdtype = {td.float32: torch.float32, td.float64: torch.float64}[dtype]
    ours = [td.tensor(v, dtype=dtype, requires_grad=True) for v in inputs]
    theirs = [torch.tensor(v, dtype=tdtype, requires_grad=True) for v in inputs]
    y, yt = fn(*ours), torch_fn(*theirs)
    g = randn(yt.shape, seed=3)
    y.backward(g)
    yt.backward(torch.tensor(g, dtype=tdtype))
    tol = {"rtol": 1e-6, "atol": 1e-6} if dtype == td.float32 else {"rtol": 1e-13, "atol": 1e-14}
    assert y.dtype == dtype and y.shape == tuple(yt.shape)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), **tol)
    for x, xt in zip(ours, theirs, strict=True):
        assert x.grad.dtype == dtype
        np.testing.assert_allclose(x.grad, xt.grad.numpy(), **tol)


# away from the kinks and ties, where finite differences are meaningful
SMOOTH = [
    ("abs", lambda a: a.abs(), [A + 0.1]),
    ("clamp", lambda a: a.clamp(-0.7, 1.2), [A + 0.1]),
    ("maximum", lambda a, b: td.maximum(a, b), [A + 0.1, B]),
    ("minimum", lambda a, b: td.minimum(a, b[0]), [A + 0.1, B]),
    ("pow_tensor", lambda a, b: a**b, [POS, B]),
    ("rpow", lambda a: 3.0**a, [A]),
    ("log1p", lambda a: a.log1p(), [POS]),
    ("expm1", lambda a: a.expm1(), [A]),
    ("sin", lambda a: a.sin(), [A]),
    ("cos", lambda a: a.cos(), [A]),
    ("expand", lambda a: a[:, 1:2].expand(3, -1, 4) * a, [A]),
    ("flatten", lambda a: a.reshape(1, 2, 4).flatten(1), [A]),
]


@pytest.mark.parametrize(("name", "fn", "inputs"), SMOOTH, ids=[c[0] for c in SMOOTH])
def test_gradcheck(name, fn, inputs, device):
    assert td.gradcheck(fn, [leaf(v, device) for v in inputs])


def test_ties_split_the_gradient_in_half():
    a = td.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = td.tensor([1.0, 5.0, 3.0], requires_grad=True)
    td.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.5, 0.0, 0.5])
    np.testing.assert_array_equal(b.grad, [0.5, 1.0, 0.5])


def test_maximum_needs_tensors():
    with pytest.raises(TypeError, match="two Tensors"):
        td.maximum(td.tensor([1.0]), 0.0)


def test_clamp_errors():
    x = td.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match="at least one of min and max"):
        x.clamp()
    with pytest.raises(TypeError, match="td.maximum"):
        x.clamp(td.tensor([0.0, 0.0]))


def test_clamp_dtypes_follow_torch():
    ints = td.tensor([1, 5, 9])
    assert ints.clamp(2, 6).dtype == td.int64
    np.testing.assert_array_equal(ints.clamp(2, 6).numpy(), [2, 5, 6])
    assert ints.clamp(2.5).dtype == td.float32  # a float bound makes it float, as torch
    assert td.tensor([1.0, 2.0], dtype=td.float64).clamp(0, 1).dtype == td.float64


def test_pow_dtypes_follow_torch():
    ints = td.tensor([1, 2, 3])
    assert (2**ints).dtype == td.int64 and (2.5**ints).dtype == td.float32
    np.testing.assert_array_equal((2**ints).numpy(), [2, 4, 8])
    assert (ints ** td.tensor([2.0, 2.0, 2.0])).dtype == td.float32
    np.testing.assert_array_equal((ints**ints).numpy(), [1, 4, 27])


def test_pow_tensor_exponent_shape_error():
    with pytest.raises(ValueError, match=r"\(2,\) and \(3,\) cannot be broadcast"):
        td.tensor([1.0, 2.0]) ** td.tensor([1.0, 2.0, 3.0])


@pytest.mark.parametrize("method", ["log1p", "expm1", "sin", "cos"])
def test_integer_input_gives_float32(method):
    y = getattr(td.tensor([0, 1, 2]), method)()
    assert y.dtype == td.float32
    np.testing.assert_allclose(y.numpy(), getattr(np, method)([0.0, 1.0, 2.0]), rtol=1e-6)


def test_abs_keeps_integers():
    y = td.tensor([-3, 4]).abs()
    assert y.dtype == td.int64
    np.testing.assert_array_equal(y.numpy(), [3, 4])


@pytest.mark.parametrize(("target", "shape"), [((2,), (3, 1)), ((3, 2), (3, 1, 1)), ((-1, -1, 1), (3, 1)),
                                               ((3, 2.0), (3, 1)), ((-2, 1), (3, 1))])
def test_expand_errors(target, shape):
    with pytest.raises(ValueError, match="cannot expand shape"):
        td.zeros(shape).expand(*target)


def test_expand_result_is_writable_and_its_own():
    x = td.tensor([[1.0], [2.0]])
    y = x.expand(2, 3)
    y.data[0, 0] = 9.0
    assert x.data[0, 0] == 1.0


@pytest.mark.parametrize(("start", "end", "shape"), [(0, -1, (24,)), (1, -1, (2, 12)), (0, 1, (6, 4)),
                                                     (1, 1, (2, 3, 4)), (-2, -1, (2, 12)), (2, 2, (2, 3, 4))])
def test_flatten_shapes_match_torch(start, end, shape):
    torch = pytest.importorskip("torch")
    assert tuple(torch.zeros(2, 3, 4).flatten(start, end).shape) == shape
    assert td.zeros(2, 3, 4).flatten(start, end).shape == shape


def test_flatten_errors_and_0d():
    assert td.tensor(3.0).flatten().shape == (1,)
    with pytest.raises(IndexError, match="dimension 3 is out of range"):
        td.zeros(2, 3).flatten(3)
    with pytest.raises(ValueError, match="start_dim 1 comes after end_dim 0"):
        td.zeros(2, 3).flatten(1, 0)
    assert td.nn.Flatten(0, 1)(td.zeros(2, 3, 4)).shape == (6, 4)


def test_numel():
    assert td.zeros(2, 3, 4).numel() == 24 and td.tensor(1.0).numel() == 1
    model = td.nn.Linear(3, 2)
    assert sum(p.numel() for p in model.parameters()) == 8


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("method", ["argmax", "argmin"])
def test_argmax_argmin_match_torch(method, axis, keepdims):
    torch = pytest.importorskip("torch")
    values = np.array([[3.0, 1.0, 3.0], [0.0, 5.0, -2.0]])
    ours = getattr(td.tensor(values), method)(dim=axis, keepdims=keepdims)
    theirs = getattr(torch.tensor(values), method)(dim=axis, keepdim=keepdims)
    assert ours.dtype == td.int64 and ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    np.testing.assert_array_equal(getattr(td.tensor(values), method)(axis, keepdims).numpy(), theirs.numpy())


@pytest.mark.parametrize("method", ["sum", "mean", "max", "min", "softmax", "log_softmax", "argmax", "argmin"])
def test_axis_and_dim_together_is_an_error(method):
    x = td.zeros(2, 3)
    with pytest.raises(TypeError, match="not both"):
        getattr(x, method)(0, dim=0)
    np.testing.assert_array_equal(getattr(x, method)(dim=1).numpy(), getattr(x, method)(1).numpy())


def test_ops_on_the_gpu_stay_there(device):
    x = leaf(A, device)
    for y in (x.abs(), x.clamp(0, 1), td.maximum(x, x), x**x.abs(), 2.0**x, x.sin(), x[:, :1].expand(2, 3)):
        assert y.device == x.device
        assert host(y).dtype == np.float64


def test_tensor_power_gradients_at_zero_base_and_zero_exponent_match_torch_without_warnings():
    """d(a^b)/da is 0 where b = 0 and d(a^b)/db is 0 where a = 0, b >= 0, as torch, and NumPy stays quiet."""
    torch = pytest.importorskip("torch")
    base, exponent = [0.0, 0.0, 0.0, 2.0, 3.0, 0.0], [0.0, 1.0, 0.5, 0.0, 2.0, 2.0]
    a = td.tensor(base, dtype=td.float64, requires_grad=True)
    b = td.tensor(exponent, dtype=td.float64, requires_grad=True)
    at = torch.tensor(base, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(exponent, dtype=torch.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (a**b).sum().backward()
    (at**bt).sum().backward()
    assert a.grad.dtype == np.float64 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad, at.grad.numpy())  # [0, 1, inf, 0, 6, 0]
    np.testing.assert_array_equal(b.grad, bt.grad.numpy())  # [0, 0, 0, ln 2, 9 ln 3, 0]


def _returned(op, **names):
    """What op's backward returns to each named input, as td.trace_backward prints it."""
    y = op(*names.values())
    with td.trace_backward(names) as trace:
        y.sum().backward()
    return trace.steps[1][2]


@pytest.mark.parametrize("op", [td.maximum, td.minimum, lambda a, b: a**b], ids=["maximum", "minimum", "pow"])
def test_binary_ops_return_no_gradient_to_an_input_that_needs_none(op):
    """Only the inputs that require grad get a gradient; the other gets None and keeps .grad None."""
    x = td.tensor([1.0, 2.0, 3.0], requires_grad=True)
    c = td.tensor([2.0, 2.0, 2.0])
    assert _returned(op, x=x, c=c).endswith(", None to c")
    assert x.grad is not None and c.grad is None
    x.grad = None
    assert _returned(op, c=c, x=x).startswith("returns None to c, ")
    assert x.grad is not None and c.grad is None


def test_cast_returns_its_gradient_in_the_input_dtype():
    """Casting float32 to float64 sends a float32 gradient back, as the trace shows."""
    x = td.ones(3, 4, dtype=td.float32, requires_grad=True)
    y = x.to(dtype=td.float64)
    with td.trace_backward({"x": x}) as trace:
        y.sum().backward()
    assert trace.steps[1][0] == "Cast"
    assert trace.steps[1][2] == "returns float32 (3, 4) (norm 3.464) to x"
    assert x.grad.dtype == np.float32
