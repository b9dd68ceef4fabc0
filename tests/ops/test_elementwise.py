"""Elementwise ops: + - * / ** neg exp log sqrt relu sigmoid tanh, broadcasting, reflected forms, dtypes."""

import warnings

import numpy as np
import pytest

import tinygrad_drop as td
from tests.helpers import host, leaf, randn


def away_from_zero(shape, seed=1):
    """Values with |v| in [0.5, 1.5) and random signs: safe denominators and kink-free for relu."""
    rng = np.random.default_rng(seed)
    return rng.choice([-1.0, 1.0], size=shape) * (0.5 + rng.random(shape))


def positive(shape, seed=2):
    return 0.5 + np.random.default_rng(seed).random(shape)


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}

BROADCAST_SHAPES = [
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((4,), (3, 4)),
    ((3, 1), (1, 4)),
    ((1, 4), (3, 1)),
    ((3, 4), (3, 1)),
    ((3, 1), (3, 4)),
    ((), (3, 4)),
    ((3, 4), ()),
    ((), ()),
    ((2, 3, 4), (3, 1)),
    ((1,), (2, 3, 1)),
]


# ---------------------------------------------------------------- binary ops: finite differences


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize(("shape_a", "shape_b"), BROADCAST_SHAPES, ids=str)
def test_binary_gradcheck_with_broadcasting(name, shape_a, shape_b, device):
    a = leaf(randn(shape_a, seed=3), device)
    b = leaf(away_from_zero(shape_b, seed=4), device)
    assert td.gradcheck(BINARY[name], [a, b])


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_gradients_have_operand_shapes_and_closed_form(name, device):
    a_np, b_np = randn((3, 4), seed=5), away_from_zero((4,), seed=6)
    u = randn((3, 4), seed=7)
    a, b = leaf(a_np, device), leaf(b_np, device)
    (BINARY[name](a, b) * td.Tensor(u, device=device)).sum().backward()
    da, db = {
        "add": (u, u),
        "sub": (u, -u),
        "mul": (u * b_np, u * a_np),
        "div": (u / b_np, -u * a_np / b_np**2),
    }[name]
    assert a.grad.shape == (3, 4) and b.grad.shape == (4,)
    np.testing.assert_allclose(host(a.grad), da, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(host(b.grad), db.sum(axis=0), rtol=1e-12, atol=1e-12)


def test_binary_only_one_operand_requires_grad(device):
    a = leaf(randn((2, 3)), device)
    c = td.Tensor(away_from_zero((2, 3)), dtype=td.float64, device=device)
    for fn in BINARY.values():
        a.grad = None
        fn(a, c).sum().backward()
        assert a.grad.shape == (2, 3)
        assert c.grad is None
        fn(c, a).sum().backward()
        assert c.grad is None


@pytest.mark.parametrize(
    "fn",
    [
        lambda t: 2 * t,
        lambda t: 2.5 + t,
        lambda t: 1 - t,
        lambda t: 2 / t,
        lambda t: t * 3,
        lambda t: t - 0.5,
        lambda t: t / 3,
        lambda t: t + 1,
        lambda t: -t,
        lambda t: np.full((3,), 2.0) * t,
        lambda t: np.full((2, 3), 2.0) - t,
        lambda t: np.linspace(1.0, 2.0, 3) / t,
        lambda t: np.linspace(1.0, 2.0, 3) + t,
    ],
    ids=["2*t", "2.5+t", "1-t", "2/t", "t*3", "t-0.5", "t/3", "t+1", "-t",
         "nd*t", "nd-t", "nd/t", "nd+t"],
)
def test_reflected_and_scalar_forms_gradcheck(fn, device):
    t = leaf(away_from_zero((2, 3)), device)
    out = fn(t)
    assert isinstance(out, td.Tensor)
    assert out.requires_grad
    assert td.gradcheck(fn, [t])


def test_reflected_values(device):
    t = td.Tensor([1.0, 2.0, 4.0], device=device)
    np.testing.assert_allclose(host(2 * t), [2.0, 4.0, 8.0])
    np.testing.assert_allclose(host(1 - t), [0.0, -1.0, -3.0])
    np.testing.assert_allclose(host(2 / t), [2.0, 1.0, 0.5])
    np.testing.assert_allclose(host(10 + t), [11.0, 12.0, 14.0])
    if device == "cpu":
        out = np.array([1.0, 1.0, 2.0]) * t
        assert isinstance(out, td.Tensor)
        np.testing.assert_allclose(out.numpy(), [1.0, 2.0, 8.0])
        out = np.array([4.0, 4.0, 4.0]) / t
        assert isinstance(out, td.Tensor)
        np.testing.assert_allclose(out.numpy(), [4.0, 2.0, 1.0])


def test_reflected_closed_form_gradients():
    x_np = np.array([0.5, 2.0, -4.0])
    x = leaf(x_np, "cpu")
    (2 / x).sum().backward()
    np.testing.assert_allclose(x.grad, -2 / x_np**2)
    x.grad = None
    (1 - x).sum().backward()
    np.testing.assert_allclose(x.grad, -np.ones(3))
    x.grad = None
    (np.array([1.0, 2.0, 3.0]) * x).sum().backward()
    np.testing.assert_allclose(x.grad, [1.0, 2.0, 3.0])


def test_unsupported_operand_type_raises():
    with pytest.raises(TypeError, match="unsupported operand type str"):
        td.Tensor([1.0]) + "a"


@pytest.mark.parametrize("op", ["add", "mul", "sub", "div"])
def test_non_broadcastable_shapes_error_names_both_shapes(op, device):
    a, b = td.ones(2, 3, device=device), td.ones(4, device=device)
    with pytest.raises(ValueError, match=rf"{op}: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        BINARY[op](a, b)
    with pytest.raises(ValueError, match=r"\(3, 2\) and \(3,\)"):
        BINARY[op](td.ones(3, 2, device=device), td.ones(3, device=device))


def test_operands_on_different_devices_raise():
    if not td.backend.cuda_is_available():
        pytest.skip("needs a GPU")
    with pytest.raises(RuntimeError, match="different devices"):
        td.ones(2) + td.ones(2, device="cuda")


# ---------------------------------------------------------------- pow


@pytest.mark.parametrize("exponent", [2, 3, 0.5, -1, 1.5, -2.0, 1])
def test_pow_gradcheck(exponent, device):
    x = leaf(positive((3, 4)), device)
    assert td.gradcheck(lambda t: t**exponent, [x])


@pytest.mark.parametrize("exponent", [2, 3, -1])
def test_pow_integer_exponent_negative_base_gradcheck(exponent, device):
    x = leaf(away_from_zero((5,)), device)
    assert td.gradcheck(lambda t: t**exponent, [x])


@pytest.mark.parametrize("exponent", [2, 3, 0.5, -1])
def test_pow_closed_form(exponent):
    x_np = positive((4,))
    x = leaf(x_np, "cpu")
    y = x**exponent
    np.testing.assert_allclose(y.numpy(), x_np**exponent, rtol=1e-12)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, exponent * x_np ** (exponent - 1), rtol=1e-12)


def test_pow_refuses_a_bool_exponent():
    with pytest.raises(TypeError, match="bool exponent"):
        td.Tensor([1.0]) ** True


def test_rpow(device):
    x = leaf([0.0, 1.0, 2.0], device)
    np.testing.assert_allclose(host(2**x), [1.0, 2.0, 4.0])
    assert td.gradcheck(lambda t: 3.0**t, [x])
    np.testing.assert_allclose(host((-2.0) ** x), [1.0, -2.0, 4.0])  # integer-valued exponents, as torch


# ---------------------------------------------------------------- unary ops


UNARY = {
    "neg": (lambda t: -t, lambda x: -np.ones_like(x), randn),
    "exp": (lambda t: t.exp(), np.exp, randn),
    "log": (lambda t: t.log(), lambda x: 1 / x, positive),
    "sqrt": (lambda t: t.sqrt(), lambda x: 0.5 / np.sqrt(x), positive),
    "relu": (lambda t: t.relu(), lambda x: (x > 0).astype(x.dtype), away_from_zero),
    "sigmoid": (lambda t: t.sigmoid(), lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2, randn),
    "tanh": (lambda t: t.tanh(), lambda x: 1 / np.cosh(x) ** 2, randn),
}

FORWARD = {
    "neg": np.negative,
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "relu": lambda x: np.maximum(x, 0),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "tanh": np.tanh,
}


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_gradcheck(name, device):
    fn, _, sample = UNARY[name]
    x = leaf(sample((3, 4)), device)
    assert td.gradcheck(fn, [x])


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_forward_and_closed_form_gradient(name, device):
    fn, derivative, sample = UNARY[name]
    x_np = sample((2, 5))
    u = randn((2, 5), seed=11)
    x = leaf(x_np, device)
    y = fn(x)
    np.testing.assert_allclose(host(y), FORWARD[name](x_np), rtol=1e-12)
    y.backward(u)
    np.testing.assert_allclose(host(x.grad), u * derivative(x_np), rtol=1e-10, atol=1e-12)


def test_relu_values_and_gradient_at_zero():
    x = td.Tensor([-2.0, 0.0, 3.0], requires_grad=True)
    y = x.relu()
    assert y.tolist() == [0.0, 0.0, 3.0]
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0]


@pytest.mark.parametrize("dtype", [td.float32, td.float64])
def test_sigmoid_extremes_do_not_overflow(dtype):
    x = td.Tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=dtype, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = x.sigmoid()
        y.sum().backward()
    assert y.dtype == dtype
    values = y.numpy()
    assert np.all(np.isfinite(values))
    assert values[0] == 0.0 and values[-1] == 1.0 and values[2] == 0.5
    assert np.all(np.isfinite(x.grad))
    assert x.grad[0] == 0.0 and x.grad[2] == 0.25


def test_tanh_extremes_saturate():
    x = td.Tensor([-1000.0, 1000.0], requires_grad=True)
    y = x.tanh()
    assert y.tolist() == [-1.0, 1.0]
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_log_of_negative_gives_nan_with_warning():
    with pytest.warns(RuntimeWarning):
        y = td.Tensor([-1.0]).log()
    assert np.isnan(y.numpy()).all()


def test_log_of_zero_gives_minus_inf():
    with pytest.warns(RuntimeWarning):
        y = td.Tensor([0.0, 1.0]).log()
    assert y.numpy()[0] == -np.inf
    assert y.numpy()[1] == 0.0


def test_sqrt_of_negative_gives_nan_with_warning():
    with pytest.warns(RuntimeWarning):
        y = td.Tensor([-4.0, 4.0]).sqrt()
    assert np.isnan(y.numpy()[0])
    assert y.numpy()[1] == 2.0


# ---------------------------------------------------------------- dtypes


FLOAT32_OPS = {
    "x*0.5": lambda x: x * 0.5,
    "0.5*x": lambda x: 0.5 * x,
    "x+1": lambda x: x + 1,
    "1-x": lambda x: 1 - x,
    "x-2.5": lambda x: x - 2.5,
    "x/3": lambda x: x / 3,
    "3/x": lambda x: 3 / x,
    "x**2": lambda x: x**2,
    "x**0.5": lambda x: x**0.5,
    "x**-1": lambda x: x**-1,
    "2**x": lambda x: 2**x,
    "-x": lambda x: -x,
    "x*x": lambda x: x * x,
    "x/x": lambda x: x / x,
    "x+x": lambda x: x + x,
    "x-x": lambda x: x - x,
    "exp": lambda x: x.exp(),
    "log": lambda x: x.log(),
    "sqrt": lambda x: x.sqrt(),
    "relu": lambda x: x.relu(),
    "sigmoid": lambda x: x.sigmoid(),
    "tanh": lambda x: x.tanh(),
    "x*int_array": lambda x: x * np.arange(3),
    "x*int_tensor": lambda x: x * td.arange(3, device=x.device),
    "x*bool_tensor": lambda x: x * (x > 1.5),
}


@pytest.mark.parametrize("name", list(FLOAT32_OPS))
def test_float32_stays_float32_forward_and_backward(name, device):
    x = td.Tensor([0.5, 1.5, 2.5], requires_grad=True, device=device)
    y = FLOAT32_OPS[name](x)
    assert y.dtype == td.float32, name
    y.sum().backward()
    assert x.grad.dtype == td.float32


@pytest.mark.parametrize("name", list(BINARY))
def test_mixed_float32_float64_promotes_to_float64(name, device):
    a = td.Tensor([1.0, 2.0], requires_grad=True, device=device)
    b = td.Tensor([3.0, 4.0], dtype=td.float64, requires_grad=True, device=device)
    for y in (BINARY[name](a, b), BINARY[name](b, a)):
        assert y.dtype == td.float64
        y.sum().backward()
    assert a.grad.dtype == td.float32
    assert b.grad.dtype == td.float64


def test_float32_tensor_with_float64_array_promotes_like_numpy():
    x = td.Tensor([1.0, 2.0])
    assert (x * np.array([1.0, 2.0])).dtype == td.float64
    assert (np.array([1.0, 2.0], dtype=np.float32) * x).dtype == td.float32


def test_float64_stays_float64_with_python_scalars():
    x = td.Tensor([1.0, 2.0], dtype=td.float64)
    for y in (x * 0.5, 1 - x, x**2, x / 3, 2 / x):
        assert y.dtype == td.float64


def test_int_tensor_dtype_rules():
    i = td.Tensor([1, 2, 3])
    assert i.dtype == td.int64
    assert (i * 0.5).dtype == td.float32
    assert (i * 0.5).tolist() == [0.5, 1.0, 1.5]
    assert (0.5 + i).dtype == td.float32
    assert (i * 2).dtype == td.int64
    assert (i + i).dtype == td.int64
    assert (i**2).dtype == td.int64 and (i**2).tolist() == [1, 4, 9]
    assert (i**0.5).dtype == td.float32
    assert (-i).dtype == td.int64


def test_int_true_division_gives_float32_like_pytorch():
    i = td.Tensor([1, 2, 3])
    assert (i / 2).dtype == td.float32
    assert (i / 2).tolist() == [0.5, 1.0, 1.5]
    assert (3 / i).dtype == td.float32
    assert (i / td.Tensor([2, 4, 6])).dtype == td.float32


def test_int_tensor_takes_float_operands_dtype_like_pytorch():
    i, f32, f64 = td.Tensor([1, 2]), td.Tensor([0.5, 0.5]), td.Tensor([0.5, 0.5], dtype=td.float64)
    assert (i * f32).dtype == td.float32
    assert (f32 + i).dtype == td.float32
    assert (i * f64).dtype == td.float64
    assert (f32 / i).tolist() == [0.5, 0.25]


def test_bool_tensor_with_int_scalar_gives_int64():
    b = td.Tensor([True, False])
    assert (b + 1).dtype == td.int64
    assert (b + 1).tolist() == [2, 1]
    assert (b * 0.5).dtype == td.float32


def test_pow_zero_exponent_has_zero_gradient_even_at_zero():
    """d(x^0)/dx = 0 everywhere, as in PyTorch (not 0 * inf = nan at x = 0)."""
    x = td.Tensor([0.0, 2.0], requires_grad=True)
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


@pytest.mark.parametrize(("dtype", "a", "b"), [(td.float16, 300.0, 300.0), (td.float32, 1e-23, 1e-23)])
def test_division_gradient_wrt_b_at_extremes_matches_torch(dtype, a, b):
    # -g a / b^2 overflowed (float16: 300^2 = inf, giving -0) or underflowed (float32: 1e-46 = 0, giving -inf)
    torch = pytest.importorskip("torch")
    x, y = td.Tensor([a], dtype=dtype, requires_grad=True), td.Tensor([b], dtype=dtype, requires_grad=True)
    (x / y).sum().backward()
    tx = torch.tensor([a], dtype=getattr(torch, str(dtype)), requires_grad=True)
    ty = torch.tensor([b], dtype=getattr(torch, str(dtype)), requires_grad=True)
    (tx / ty).sum().backward()
    expected = -a / b / b
    assert np.isfinite(y.grad).all() and y.grad[0] != 0
    np.testing.assert_allclose(y.grad.astype(np.float64), [expected], rtol=2e-3)
    np.testing.assert_allclose(y.grad, ty.grad.numpy(), rtol=2e-3)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=2e-3)


def test_casting_to_an_integer_dtype_gives_no_gradient():
    torch = pytest.importorskip("torch")
    x = td.Tensor([1.5, 2.5], requires_grad=True)
    for dtype in (td.int64, td.int8, td.bool_):
        y = x.to(dtype=dtype)
        assert not y.requires_grad and y.grad_fn is None
        assert y.requires_grad == torch.ones(2, requires_grad=True).to(getattr(torch, str(dtype))).requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        (x.to(dtype=td.int64) * 3).sum().backward()
    assert x.grad is None
    assert x.to(dtype=td.float64).requires_grad  # a float cast stays differentiable
