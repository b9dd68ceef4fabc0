"""RMSprop and Adagrad against torch.optim: 20-step trajectories for every option, defaults, state dicts."""

import inspect

import numpy as np
import pytest

import tinygrad_drop as td
from tinygrad_drop.optim import Adagrad, RMSprop

RNG = np.random.default_rng(1)
P0 = RNG.uniform(0.5, 1.5, size=(3, 4)) * RNG.choice([-1.0, 1.0], size=(3, 4))
GRADS = [RNG.normal(size=(3, 4)) * scale for scale in np.geomspace(0.05, 5.0, 20)[RNG.permutation(20)]]

CASES = [
    ("RMSprop", RMSprop, {}),
    ("RMSprop", RMSprop, {"lr": 0.05, "alpha": 0.9}),
    ("RMSprop", RMSprop, {"lr": 0.01, "eps": 1e-3}),
    ("RMSprop", RMSprop, {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", RMSprop, {"lr": 0.01, "centered": True}),
    ("RMSprop", RMSprop, {"lr": 0.01, "weight_decay": 0.1}),
    ("RMSprop", RMSprop, {"lr": 0.01, "maximize": True}),
    ("RMSprop", RMSprop, {"lr": 0.02, "alpha": 0.8, "eps": 1e-6, "weight_decay": 0.05, "momentum": 0.5,
                          "centered": True, "maximize": True}),
    ("Adagrad", Adagrad, {}),
    ("Adagrad", Adagrad, {"lr": 0.1, "lr_decay": 0.05}),
    ("Adagrad", Adagrad, {"lr": 0.1, "weight_decay": 0.1}),
    ("Adagrad", Adagrad, {"lr": 0.1, "initial_accumulator_value": 0.5}),
    ("Adagrad", Adagrad, {"lr": 0.1, "eps": 1e-3}),
    ("Adagrad", Adagrad, {"lr": 0.1, "maximize": True}),
    ("Adagrad", Adagrad, {"lr": 0.2, "lr_decay": 0.1, "weight_decay": 0.05, "initial_accumulator_value": 0.1,
                          "eps": 1e-6, "maximize": True}),
]
IDS = [f"{name}-{kwargs}" for name, _, kwargs in CASES]


def trajectory(optimizer_class, kwargs, dtype):
    p = td.Tensor(P0.astype(dtype), requires_grad=True)
    data, optimizer, points = p.data, optimizer_class([p], **kwargs), []
    for grad in GRADS:
        p.grad = grad.astype(dtype)
        optimizer.step()
        assert p.data is data and p.data.dtype == dtype  # in place, dtype kept
        points.append(p.data.copy())
    return points


def torch_trajectory(torch_name, kwargs, dtype):
    torch = pytest.importorskip("torch")
    p = torch.tensor(P0.astype(dtype), requires_grad=True)
    optimizer, points = getattr(torch.optim, torch_name)([p], **kwargs), []
    for grad in GRADS:
        p.grad = torch.from_numpy(grad.astype(dtype))
        optimizer.step()
        points.append(p.detach().numpy().copy())
    return points


@pytest.mark.parametrize(("dtype", "tol"), [(np.float64, 1e-10), (np.float32, 2e-5)])
@pytest.mark.parametrize(("torch_name", "optimizer_class", "kwargs"), CASES, ids=IDS)
def test_20_steps_match_torch(torch_name, optimizer_class, kwargs, dtype, tol):
    expected = torch_trajectory(torch_name, kwargs, dtype)
    np.testing.assert_allclose(trajectory(optimizer_class, kwargs, dtype), expected, rtol=tol, atol=tol)


@pytest.mark.parametrize(("torch_name", "optimizer_class"), [("RMSprop", RMSprop), ("Adagrad", Adagrad)])
def test_defaults_match_torch(torch_name, optimizer_class):
    torch = pytest.importorskip("torch")
    theirs = inspect.signature(getattr(torch.optim, torch_name)).parameters
    for name, param in inspect.signature(optimizer_class).parameters.items():
        if name != "params":
            assert param.default == theirs[name].default, name


@pytest.mark.parametrize(("torch_name", "optimizer_class", "kwargs"), CASES, ids=IDS)
def test_state_dict_layout_matches_torch_and_round_trips(torch_name, optimizer_class, kwargs):
    torch = pytest.importorskip("torch")
    pt = torch.tensor(P0, requires_grad=True)
    torch_optimizer = getattr(torch.optim, torch_name)([pt], **kwargs)
    pt.grad = torch.from_numpy(GRADS[0])
    torch_optimizer.step()
    p = td.Tensor(P0, requires_grad=True)
    optimizer = optimizer_class([p], **kwargs)
    p.grad = GRADS[0]
    optimizer.step()
    state, torch_state = optimizer.state_dict(), torch_optimizer.state_dict()
    assert sorted(state["state"][0]) == sorted(torch_state["state"][0])
    for key, value in state["param_groups"][0].items():
        assert value == torch_state["param_groups"][0][key], key
    # a fresh optimizer loaded from the state dict continues the same trajectory
    q = td.Tensor(p.data.copy(), requires_grad=True)
    resumed = optimizer_class([q], **kwargs)
    resumed.load_state_dict(state)
    for opt, t in ((optimizer, p), (resumed, q)):
        t.grad = GRADS[1]
        opt.step()
    np.testing.assert_array_equal(p.data, q.data)


@pytest.mark.parametrize(("optimizer_class", "name"), [
    (RMSprop, "lr"), (RMSprop, "alpha"), (RMSprop, "eps"), (RMSprop, "momentum"), (RMSprop, "weight_decay"),
    (Adagrad, "lr"), (Adagrad, "lr_decay"), (Adagrad, "weight_decay"), (Adagrad, "initial_accumulator_value"),
    (Adagrad, "eps"),
])
def test_negative_hyperparameters_are_refused(optimizer_class, name):
    with pytest.raises(ValueError, match="must be >= 0"):
        optimizer_class([td.Tensor(P0, requires_grad=True)], **{name: -0.1})


@pytest.mark.parametrize(("optimizer_class", "lr"), [(RMSprop, 0.05), (Adagrad, 0.5)])
def test_trains_a_model(optimizer_class, lr):
    x = td.randn(64, 3)
    y = x @ td.tensor([[1.0], [-2.0], [0.5]])
    model = td.nn.Linear(3, 1)
    optimizer = optimizer_class(model.parameters(), lr=lr)
    losses = []
    for _ in range(100):
        loss = td.nn.functional.mse_loss(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.05 * losses[0]
