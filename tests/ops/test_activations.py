"""Tests for the activations (ops/activations.py, F.*, nn.*): values and gradients against torch, gradcheck."""

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tests.helpers import host, leaf, randn
from tinygrad_drop import nn

# (name, our function, module, torch's function name and its arguments)
ACTIVATIONS = [
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.2), nn.LeakyReLU(0.2), "leaky_relu", (0.2,)),
    ("leaky_relu_default", F.leaky_relu, nn.LeakyReLU(), "leaky_relu", ()),
    ("elu", lambda x: F.elu(x, 1.5), nn.ELU(1.5), "elu", (1.5,)),
    ("selu", F.selu, nn.SELU(), "selu", ()),
    ("softplus", lambda x: F.softplus(x, 2.0, 3.0), nn.Softplus(2.0, 3.0), "softplus", (2.0, 3.0)),
    ("softplus_default", F.softplus, nn.Softplus(), "softplus", ()),
    ("silu", F.silu, nn.SiLU(), "silu", ()),
    ("sigmoid", F.sigmoid, nn.Sigmoid(), "sigmoid", ()),
    ("tanh", F.tanh, nn.Tanh(), "tanh", ()),
    ("softmax", lambda x: F.softmax(x, dim=0), nn.Softmax(dim=0), "softmax", (0,)),
    ("log_softmax", lambda x: F.log_softmax(x, dim=1), nn.LogSoftmax(dim=1), "log_softmax", (1,)),
]
IDS = [a[0] for a in ACTIVATIONS]

# inputs around the kinks (0), in the saturated tails and past softplus' threshold
POINTS = np.array([[-30.0, -2.5, -1.0, -0.3, 0.0, 0.2],
                   [0.9, 1.6, 2.0, 4.0, 12.0, 40.0]])


@pytest.mark.parametrize("dtype", [td.float32, td.float64])
@pytest.mark.parametrize(("name", "fn", "module", "torch_name", "args"), ACTIVATIONS, ids=IDS)
def test_values_and_gradients_match_torch(name, fn, module, torch_name, args, dtype):
    torch = pytest.importorskip("torch")
    g = randn(POINTS.shape, seed=1)
    x = td.tensor(POINTS, dtype=dtype, requires_grad=True)
    y = fn(x)
    y.backward(g)
    tdtype = {td.float32: torch.float32, td.float64: torch.float64}[dtype]
    xt = torch.tensor(POINTS, dtype=tdtype, requires_grad=True)
    yt = getattr(torch.nn.functional, torch_name)(xt, *args)
    yt.backward(torch.tensor(g, dtype=tdtype))
    tol = {"rtol": 1e-6, "atol": 1e-6} if dtype == td.float32 else {"rtol": 1e-13, "atol": 1e-15}
    assert y.dtype == dtype and x.grad.dtype == dtype
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), **tol)
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), **tol)
    np.testing.assert_array_equal(module(x).numpy(), y.numpy())


@pytest.mark.parametrize(("name", "fn", "module", "torch_name", "args"), ACTIVATIONS, ids=IDS)
def test_gradcheck(name, fn, module, torch_name, args, device):
    x = leaf(np.array([[-2.1, -0.7, -0.05, 0.3, 1.1], [2.2, -1.3, 0.6, 1.9, -3.0]]), device)
    assert td.gradcheck(fn, [x])


def test_selu_uses_torchs_constants():
    y = F.selu(td.tensor([1.0, -1e4], dtype=td.float64)).numpy()
    np.testing.assert_allclose(y, [1.0507009873554804934193349852946,
                                   -1.0507009873554804934193349852946 * 1.6732632423543772848170429916717],
                               rtol=1e-15)


def test_gradients_at_the_kinks():
    x = td.tensor([0.0, 0.0, 0.0], dtype=td.float64, requires_grad=True)
    F.leaky_relu(x, 0.3).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.3] * 3)  # torch takes the negative side at 0
    x.grad = None
    F.elu(x, 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0] * 3)


def test_no_overflow_far_out():
    x = td.tensor([-1e4, 1e4], requires_grad=True)
    for fn in (F.elu, F.selu, F.silu, F.softplus, lambda t: F.softplus(t, threshold=1e5)):
        y = fn(x)
        y.sum().backward()
        assert np.isfinite(y.numpy()).all() and np.isfinite(x.grad).all()
        x.grad = None
    np.testing.assert_array_equal(F.softplus(x, threshold=1e5).numpy(), [0.0, 1e4])


@pytest.mark.parametrize("fn", [F.leaky_relu, F.elu, F.selu, F.softplus, F.silu, F.sigmoid, F.tanh])
def test_integer_input_computes_in_float32(fn):
    torch = pytest.importorskip("torch")
    y = fn(td.tensor([-2, 0, 3]))
    assert y.dtype == td.float32
    name = fn.__name__
    expected = getattr(torch.nn.functional, name)(torch.tensor([-2.0, 0.0, 3.0]))
    np.testing.assert_allclose(y.numpy(), expected.numpy(), rtol=1e-6)


def test_modules_repr_and_nn_names():
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.ELU()) == "ELU(alpha=1.0)"
    assert repr(nn.Softplus()) == "Softplus(beta=1.0, threshold=20.0)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"
    assert repr(nn.SELU()) == "SELU()"
    assert nn.Sigmoid is nn.layers.Sigmoid and nn.Tanh is nn.layers.Tanh  # still importable from layers


@pytest.mark.parametrize("cls", [nn.Softmax, nn.LogSoftmax])
def test_softmax_module_without_dim_warns_and_uses_last_axis(cls):
    x = td.randn(2, 3, 4)
    with pytest.warns(UserWarning, match="pass dim="):
        y = cls()(x)
    np.testing.assert_array_equal(y.numpy(), cls(dim=-1)(x).numpy())


def test_saves_no_graph_without_grad():
    y = F.selu(td.randn(3))
    assert y._ctx is None


def test_activations_train_a_model(device):
    model = nn.Sequential(nn.Linear(3, 4), nn.SELU(), nn.Linear(4, 4), nn.SiLU(), nn.Linear(4, 1), nn.Softplus())
    model.to(device)
    assert td.gradcheck(lambda x: model(x), [leaf(randn((2, 3)), device)], params=model)
    assert host(model(td.randn(2, 3, device=device))).shape == (2, 1)


@pytest.mark.parametrize("dtype", [td.float32, td.float64])
def test_elu_and_selu_just_below_zero_match_torch_to_the_last_digits(dtype):
    """e^x - 1 for tiny negative x is computed without cancellation, as torch's expm1."""
    torch = pytest.importorskip("torch")
    points = np.array([-1e-12, -1e-9, -1e-7, -1e-5, -3e-3])
    tdtype = {td.float32: torch.float32, td.float64: torch.float64}[dtype]
    rtol = 1e-6 if dtype == td.float32 else 1e-15
    for ours, theirs in ((F.elu, torch.nn.functional.elu), (F.selu, torch.nn.functional.selu)):
        expected = theirs(torch.tensor(points, dtype=tdtype)).numpy()
        np.testing.assert_allclose(ours(td.tensor(points, dtype=dtype)).numpy(), expected, rtol=rtol, atol=0)


def test_softplus_exactly_at_the_threshold_is_still_the_smooth_curve():
    """torch switches to y = x only strictly past the threshold: at beta * x == threshold it is log1p(e^x)."""
    torch = pytest.importorskip("torch")
    for x_value, beta, threshold in ((20.0, 1.0, 20.0), (1.5, 2.0, 3.0)):
        x = td.tensor([x_value], dtype=td.float64, requires_grad=True)
        y = F.softplus(x, beta, threshold)
        y.backward()
        xt = torch.tensor([x_value], dtype=torch.float64, requires_grad=True)
        yt = torch.nn.functional.softplus(xt, beta, threshold)
        yt.backward(torch.ones(1, dtype=torch.float64))
        assert y.numpy()[0] != x_value  # the smooth curve lies above the line
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-15, atol=0)
        np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-15, atol=0)


def test_activation_ops_default_to_torchs_parameters():
    """LeakyReLU, ELU and Softplus without arguments use torch's defaults: 0.01; alpha 1; beta 1, threshold 20."""
    torch = pytest.importorskip("torch")
    from tinygrad_drop.ops.activations import ELU, LeakyReLU, Softplus

    points = np.array([-3.0, -0.5, 0.7, 19.0, 20.5, 25.0])
    for op, theirs in ((LeakyReLU, torch.nn.functional.leaky_relu), (ELU, torch.nn.functional.elu),
                       (Softplus, torch.nn.functional.softplus)):
        y = op.apply(td.tensor(points, dtype=td.float64))
        np.testing.assert_allclose(y.numpy(), theirs(torch.tensor(points, dtype=torch.float64)).numpy(),
                                   rtol=1e-15, atol=0)
