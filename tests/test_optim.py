"""Tests for tinygrad_drop.optim: trajectories against hand-written float64 references (and PyTorch)."""

import numpy as np
import pytest

import tinygrad_drop as td
from tinygrad_drop.optim import SGD, Adam, AdamW

RNG = np.random.default_rng(0)
P0 = RNG.uniform(0.5, 1.5, size=(3, 4)) * RNG.choice([-1.0, 1.0], size=(3, 4))
# Gradient sizes go up and down so that AMSGrad's running max matters.
GRADS = [RNG.normal(size=(3, 4)) * scale for scale in (1.0, 3.0, 0.2, 0.1, 2.0)]

TOLERANCE = {np.float32: dict(rtol=1e-6, atol=1e-7), np.float64: dict(rtol=1e-12, atol=1e-14)}


# ---------------------------------------------------------------- references (float64, from PyTorch's docs)


def sgd_reference(
    grads, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False
):
    p, buf, trajectory = P0.astype(np.float64), None, []
    for grad in grads:
        g = -grad if maximize else grad
        g = g + weight_decay * p
        if momentum != 0:
            buf = g if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
        trajectory.append(p)
    return trajectory


def adam_reference(
    grads,
    lr=1e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0.0,
    amsgrad=False,
    maximize=False,
    decoupled=False,
):
    beta1, beta2 = betas
    p, trajectory = P0.astype(np.float64), []
    m, v, v_max = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    for t, grad in enumerate(grads, start=1):
        g = -grad if maximize else grad
        if decoupled:
            p = p - lr * weight_decay * p
        else:
            g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
        if amsgrad:
            v_max = np.maximum(v_max, v)
            v_hat = v_max / (1 - beta2**t)
        else:
            v_hat = v / (1 - beta2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        trajectory.append(p)
    return trajectory


def run(optimizer_class, kwargs, dtype, grads=GRADS):
    """Step an optimizer over `grads` on one parameter; return the trajectory of its data."""
    p = td.Tensor(P0.astype(dtype), requires_grad=True)
    data = p.data
    optimizer = optimizer_class([p], **kwargs)
    trajectory = []
    for grad in grads:
        p.grad = grad.astype(dtype)
        optimizer.step()
        assert p.data is data, "the update must be in place"
        assert p.data.dtype == dtype
        trajectory.append(p.data.copy())
    return trajectory


SGD_CASES = [
    dict(lr=0.1),
    dict(lr=0.1, weight_decay=0.1),
    dict(lr=0.1, maximize=True),
    dict(lr=0.1, maximize=True, weight_decay=0.1),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.05, maximize=True),
    dict(lr=0.05, momentum=0.5, dampening=0.5, weight_decay=0.2),
]
ADAM_CASES = [
    dict(lr=0.1),
    dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6),
    dict(lr=0.1, weight_decay=0.1),
    dict(lr=0.1, amsgrad=True),
    dict(lr=0.1, maximize=True),
    dict(lr=0.1, weight_decay=0.3, amsgrad=True, maximize=True),
    dict(lr=0.1, betas=(0.0, 0.5)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs", SGD_CASES)
def test_sgd_matches_reference(kwargs, dtype):
    grads = [g.astype(dtype) for g in GRADS]  # the reference sees exactly the gradients the optimizer sees
    expected = sgd_reference([g.astype(np.float64) for g in grads], **kwargs)
    np.testing.assert_allclose(run(SGD, kwargs, dtype, grads), expected, **TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs", ADAM_CASES)
@pytest.mark.parametrize("optimizer_class", [Adam, AdamW])
def test_adam_and_adamw_match_reference(optimizer_class, kwargs, dtype):
    grads = [g.astype(dtype) for g in GRADS]
    reference_kwargs = dict(kwargs, decoupled=optimizer_class is AdamW)
    if optimizer_class is AdamW:
        reference_kwargs.setdefault("weight_decay", 1e-2)  # AdamW's default
    expected = adam_reference([g.astype(np.float64) for g in grads], **reference_kwargs)
    np.testing.assert_allclose(run(optimizer_class, kwargs, dtype, grads), expected, **TOLERANCE[dtype])


def test_options_change_the_trajectory():
    """Guard against a reference and an optimizer that both ignore an option."""
    base = run(Adam, dict(lr=0.1), np.float64)
    assert not np.allclose(run(Adam, dict(lr=0.1, amsgrad=True), np.float64), base)
    coupled = run(Adam, dict(lr=0.1, weight_decay=0.3), np.float64)
    assert not np.allclose(run(AdamW, dict(lr=0.1, weight_decay=0.3), np.float64), coupled)
    plain = run(SGD, dict(lr=0.1, momentum=0.9), np.float64)
    assert not np.allclose(run(SGD, dict(lr=0.1, momentum=0.9, dampening=0.5), np.float64), plain)
    assert not np.allclose(run(SGD, dict(lr=0.1, momentum=0.9, nesterov=True), np.float64), plain)


def test_defaults_match_pytorch():
    p = td.Tensor(P0, requires_grad=True)
    assert SGD([p]).defaults == dict(
        lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False
    )
    adam_defaults = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, maximize=False)
    assert Adam([p]).defaults == adam_defaults
    assert AdamW([p]).defaults == dict(adam_defaults, weight_decay=1e-2)


# ---------------------------------------------------------------- gradients, dtypes, skipping


@pytest.mark.parametrize(
    "optimizer",
    [
        lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
        lambda ps: SGD(ps, lr=0.1, momentum=0.9, dampening=0.2, maximize=True),
        lambda ps: SGD(ps, lr=0.1),
        lambda ps: Adam(ps, lr=0.1, weight_decay=0.1, amsgrad=True, maximize=True),
        lambda ps: AdamW(ps, lr=0.1),
    ],
)
def test_grad_arrays_are_never_written(optimizer):
    a = td.Tensor(P0, requires_grad=True)
    b = td.Tensor(P0 * 2, requires_grad=True)
    opt = optimizer([a, b])
    for grad in GRADS:
        shared = grad.copy()
        shared.flags.writeable = False  # any write into it raises
        a.grad = b.grad = shared  # one gradient array shared by two parameters
        opt.step()
        np.testing.assert_array_equal(shared, grad)
    broadcast = np.broadcast_to(np.arange(4.0), (3, 4))  # a read-only view with zero strides
    a.grad = b.grad = broadcast
    opt.step()
    opt.step()
    np.testing.assert_array_equal(broadcast, np.broadcast_to(np.arange(4.0), (3, 4)))


def test_shared_gradient_updates_each_parameter_once():
    a = td.Tensor(P0, requires_grad=True)
    b = td.Tensor(P0, requires_grad=True)
    opt = SGD([a, b], lr=0.1, momentum=0.9)
    for grad in GRADS:
        a.grad = b.grad = grad
        opt.step()
    expected = sgd_reference(GRADS, lr=0.1, momentum=0.9)[-1]
    np.testing.assert_allclose(a.data, expected, rtol=1e-12)
    np.testing.assert_allclose(b.data, expected, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize(
    "optimizer_class, kwargs",
    [(SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.1)), (Adam, dict(amsgrad=True)), (AdamW, dict())],
)
def test_dtype_is_kept_for_data_and_state(optimizer_class, kwargs, dtype):
    p = td.Tensor(P0.astype(dtype), requires_grad=True)
    opt = optimizer_class([p], **kwargs)
    for grad in GRADS[:2]:
        p.grad = grad.astype(dtype)
        opt.step()
    assert p.data.dtype == dtype
    arrays = [value for value in opt.state[p].values() if isinstance(value, np.ndarray)]
    assert arrays and all(array.dtype == dtype for array in arrays)


@pytest.mark.parametrize("optimizer_class", [SGD, Adam, AdamW])
def test_parameters_without_grad_are_skipped(optimizer_class):
    has_grad = td.Tensor(P0, requires_grad=True)
    no_grad = td.Tensor(P0, requires_grad=True)
    frozen = td.Tensor(P0)  # requires_grad=False is allowed, as in PyTorch
    opt = optimizer_class([has_grad, no_grad, frozen], lr=0.1, weight_decay=0.1)
    has_grad.grad = GRADS[0]
    opt.step()
    assert not np.array_equal(has_grad.data, P0)
    np.testing.assert_array_equal(no_grad.data, P0)
    np.testing.assert_array_equal(frozen.data, P0)
    assert no_grad not in opt.state and frozen not in opt.state


def test_step_after_autograd_backward_reduces_the_loss():
    target = np.array([0.5, -1.0, 2.0])
    w = td.Tensor(np.zeros(3), requires_grad=True)
    opt = Adam([w], lr=0.1)
    losses = []
    for _ in range(100):
        opt.zero_grad()
        loss = ((w - target) * (w - target)).sum()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 1e-2 * losses[0]


# ---------------------------------------------------------------- param groups and zero_grad


def test_param_groups_use_their_own_hyperparameters_and_defaults():
    a = td.Tensor(P0, requires_grad=True)
    b = td.Tensor(P0, requires_grad=True)
    opt = SGD([{"params": [a]}, {"params": b, "lr": 0.01}], lr=0.1, momentum=0.9)
    assert [group["lr"] for group in opt.param_groups] == [0.1, 0.01]
    assert opt.param_groups[1]["momentum"] == 0.9
    assert opt.param_groups[1]["params"][0] is b
    for grad in GRADS:
        a.grad = b.grad = grad
        opt.step()
    np.testing.assert_allclose(a.data, sgd_reference(GRADS, lr=0.1, momentum=0.9)[-1], rtol=1e-12)
    np.testing.assert_allclose(b.data, sgd_reference(GRADS, lr=0.01, momentum=0.9)[-1], rtol=1e-12)


def test_add_param_group():
    a = td.Tensor(P0, requires_grad=True)
    b = td.Tensor(P0, requires_grad=True)
    opt = Adam([a], lr=0.1)
    opt.add_param_group({"params": [b], "betas": (0.5, 0.9)})
    assert opt.param_groups[1]["lr"] == 0.1
    assert opt.param_groups[1]["betas"] == (0.5, 0.9)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})


def test_zero_grad_set_to_none():
    a = td.Tensor(P0, requires_grad=True)
    b = td.Tensor(P0, requires_grad=True)
    opt = SGD([a, b])
    a.grad = GRADS[0]
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_zero_grad_to_zeros_allocates_a_new_array():
    a = td.Tensor(P0, requires_grad=True)
    b = td.Tensor(P0, requires_grad=True)
    opt = SGD([a, b])
    old = GRADS[0].copy()
    a.grad = old
    opt.zero_grad(set_to_none=False)
    assert a.grad is not old
    np.testing.assert_array_equal(a.grad, np.zeros_like(P0))
    assert a.grad.dtype == old.dtype
    np.testing.assert_array_equal(old, GRADS[0])  # the old array may be shared: left untouched
    assert b.grad is None


# ---------------------------------------------------------------- state_dict


def make(optimizer_class, kwargs, dtype=np.float64):
    a = td.Tensor(P0.astype(dtype), requires_grad=True)
    b = td.Tensor((2 * P0[:2]).astype(dtype), requires_grad=True)
    return a, b, optimizer_class([{"params": [a]}, {"params": [b], "lr": 0.02}], **kwargs)


def steps(opt, a, b, grads):
    for grad in grads:
        a.grad, b.grad = grad, 2 * grad[:2]
        opt.step()


@pytest.mark.parametrize(
    "optimizer_class, kwargs",
    [
        (SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
        (Adam, dict(lr=0.1, amsgrad=True)),
        (AdamW, dict(lr=0.1, weight_decay=0.1)),
    ],
)
def test_state_dict_round_trip_continues_the_same_trajectory(optimizer_class, kwargs):
    a, b, opt = make(optimizer_class, kwargs)
    steps(opt, a, b, GRADS[:2])
    saved = opt.state_dict()
    a2, b2 = td.Tensor(a.data, requires_grad=True), td.Tensor(b.data, requires_grad=True)

    steps(opt, a, b, GRADS[2:])  # the original continues: must not change `saved`

    other = optimizer_class([{"params": [a2]}, {"params": [b2]}], lr=123.0)
    other.load_state_dict(saved)
    assert [group["lr"] for group in other.param_groups] == [0.1, 0.02]  # hyperparameters come from the dict
    assert other.param_groups[0]["params"][0] is a2
    steps(other, a2, b2, GRADS[2:])
    np.testing.assert_array_equal(a2.data, a.data)
    np.testing.assert_array_equal(b2.data, b.data)


def test_state_dict_format_and_copies():
    a, b, opt = make(Adam, dict(lr=0.1, amsgrad=True))
    steps(opt, a, b, GRADS[:1])
    saved = opt.state_dict()
    assert sorted(saved["state"]) == [0, 1]
    assert sorted(saved["state"][0]) == ["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"]
    assert saved["state"][0]["step"] == 1
    assert [group["params"] for group in saved["param_groups"]] == [[0], [1]]
    assert saved["param_groups"][1]["lr"] == 0.02
    assert saved["state"][0]["exp_avg"] is not opt.state[a]["exp_avg"]

    other_a, other_b, other = make(Adam, dict(lr=0.1, amsgrad=True))
    other.load_state_dict(saved)
    saved["state"][0]["exp_avg"] += 100.0  # the loaded optimizer must not alias the dict
    saved["param_groups"][0]["lr"] = 5.0
    np.testing.assert_array_equal(other.state[other_a]["exp_avg"], opt.state[a]["exp_avg"])
    assert other.param_groups[0]["lr"] == 0.1


def test_load_state_dict_casts_arrays_to_the_parameter_dtype():
    a, b, opt = make(SGD, dict(momentum=0.9))
    steps(opt, a, b, GRADS[:1])
    a32, b32, opt32 = make(SGD, dict(momentum=0.9), dtype=np.float32)
    opt32.load_state_dict(opt.state_dict())
    assert opt32.state[a32]["momentum_buffer"].dtype == np.float32


def test_load_state_dict_mismatches():
    a, b, opt = make(SGD, dict(momentum=0.9))
    steps(opt, a, b, GRADS[:1])
    saved = opt.state_dict()

    one_group = SGD([td.Tensor(P0, requires_grad=True)], momentum=0.9)
    with pytest.raises(ValueError, match="has 2 parameter groups, but the optimizer has 1"):
        one_group.load_state_dict(saved)

    x, y, z = (td.Tensor(P0, requires_grad=True) for _ in range(3))
    sizes_differ = SGD([{"params": [x]}, {"params": [y, z]}], momentum=0.9)
    with pytest.raises(ValueError, match="group 1 has 1 parameters, but the optimizer's group 1 has 2"):
        sizes_differ.load_state_dict(saved)

    shapes_differ = SGD([{"params": [x]}, {"params": [y]}], momentum=0.9)  # y's shape is (3, 4), not (2, 4)
    with pytest.raises(ValueError, match=r"'momentum_buffer' of parameter 1 has shape \(2, 4\)"):
        shapes_differ.load_state_dict(saved)

    _, _, adam = make(Adam, dict())
    with pytest.raises(ValueError, match="lacks the hyperparameters"):
        adam.load_state_dict(saved)

    bad_index = {"state": {7: {"momentum_buffer": P0}}, "param_groups": saved["param_groups"]}
    with pytest.raises(ValueError, match="parameter 7"):
        make(SGD, dict(momentum=0.9))[2].load_state_dict(bad_index)

    bad_lr = {"state": {}, "param_groups": [dict(group, lr=-1.0) for group in saved["param_groups"]]}
    target_a, _, target = make(SGD, dict(momentum=0.9))
    target_state = target.state_dict()
    with pytest.raises(ValueError, match="learning rate -1.0"):
        target.load_state_dict(bad_lr)
    assert (
        target.state_dict()["param_groups"] == target_state["param_groups"]
    )  # a failed load changes nothing


# ---------------------------------------------------------------- validation


def param():
    return td.Tensor(P0, requires_grad=True)


@pytest.mark.parametrize(
    "make_optimizer, message",
    [
        (lambda: SGD([param()], lr=-0.1), "learning rate -0.1"),
        (lambda: SGD([param()], lr=float("nan")), "learning rate nan"),
        (lambda: SGD([param()], momentum=-0.5), "momentum -0.5"),
        (lambda: SGD([param()], weight_decay=-1e-4), "weight_decay -0.0001"),
        (lambda: SGD([param()], nesterov=True), "Nesterov momentum requires a momentum > 0"),
        (lambda: SGD([param()], momentum=0.9, dampening=0.1, nesterov=True), "dampening=0.1"),
        (lambda: SGD([{"params": [param()], "lr": -2.0}], lr=0.1), "learning rate -2.0"),
        (lambda: Adam([param()], lr=-1.0), "learning rate -1.0"),
        (lambda: Adam([param()], eps=-1e-8), "epsilon value -1e-08"),
        (lambda: Adam([param()], betas=(-0.1, 0.999)), "beta parameter at index 0: -0.1"),
        (lambda: Adam([param()], betas=(0.9, 1.0)), "beta parameter at index 1: 1.0"),
        (lambda: Adam([param()], betas=(0.9,)), "betas must be a pair"),
        (lambda: Adam([param()], weight_decay=-0.1), "weight_decay -0.1"),
        (lambda: AdamW([param()], weight_decay=-0.1), "weight_decay -0.1"),
        (lambda: AdamW([param()], betas=(1.0, 0.999)), "beta parameter at index 0: 1.0"),
        (lambda: AdamW([{"params": [param()], "eps": -1.0}]), "epsilon value -1.0"),
    ],
)
def test_invalid_hyperparameters(make_optimizer, message):
    with pytest.raises(ValueError, match=message):
        make_optimizer()


def test_invalid_params():
    p = param()
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([])
    with pytest.raises(TypeError, match="single Tensor"):
        SGD(p)
    with pytest.raises(TypeError, match="not a set"):
        SGD({p})
    with pytest.raises(TypeError, match="not a set"):
        SGD([{"params": {p}}])
    with pytest.raises(TypeError, match="can only optimize Tensors, but one of the params is a ndarray"):
        SGD([P0])
    with pytest.raises(ValueError, match="non-leaf"):
        SGD([p * 2])
    with pytest.raises(ValueError, match="same parameter more than once"):
        SGD([p, p])
    with pytest.raises(ValueError, match="more than one parameter group"):
        SGD([{"params": [p]}, {"params": [param(), p]}])
    with pytest.raises(ValueError, match="needs a 'params' entry"):
        SGD([{"lr": 0.1}])
    with pytest.raises(TypeError, match="must be a dict"):
        SGD([{"params": [p]}, param()])


def test_equal_valued_parameters_are_not_duplicates():
    a, b = td.Tensor([1.0], requires_grad=True), td.Tensor([1.0], requires_grad=True)
    opt = SGD([{"params": [a]}, {"params": [b]}])
    assert len(opt.param_groups) == 2


def test_repr_lists_each_group():
    opt = SGD([{"params": [param()]}, {"params": [param()], "lr": 0.5}], lr=0.1, momentum=0.9)
    assert repr(opt) == (
        "SGD (\n"
        "Parameter Group 0\n    dampening: 0\n    lr: 0.1\n    maximize: False\n    momentum: 0.9\n"
        "    nesterov: False\n    weight_decay: 0\n"
        "Parameter Group 1\n    dampening: 0\n    lr: 0.5\n    maximize: False\n    momentum: 0.9\n"
        "    nesterov: False\n    weight_decay: 0\n"
        ")"
    )


# ---------------------------------------------------------------- PyTorch, when installed

TORCH_CASES = [
    ("SGD", SGD, dict(lr=0.1, momentum=0.9, dampening=0.2, weight_decay=0.1)),
    ("SGD", SGD, dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True, weight_decay=0.05)),
    ("SGD", SGD, dict(lr=0.1, maximize=True, weight_decay=0.1)),
    ("Adam", Adam, dict(lr=0.1, weight_decay=0.1, amsgrad=True)),
    ("Adam", Adam, dict(lr=0.05, betas=(0.8, 0.95), eps=1e-6, maximize=True)),
    ("AdamW", AdamW, dict(lr=0.1)),
    ("AdamW", AdamW, dict(lr=0.1, weight_decay=0.3, amsgrad=True, maximize=True)),
]


def torch_trajectory(torch_name, kwargs, dtype):
    torch = pytest.importorskip("torch")
    p = torch.tensor(P0.astype(dtype), requires_grad=True)
    optimizer = getattr(torch.optim, torch_name)([p], **kwargs)
    trajectory = []
    for grad in GRADS:
        p.grad = torch.from_numpy(grad.astype(dtype))
        optimizer.step()
        trajectory.append(p.detach().numpy().copy())
    return trajectory


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-6)])
@pytest.mark.parametrize("torch_name, optimizer_class, kwargs", TORCH_CASES)
def test_matches_torch(torch_name, optimizer_class, kwargs, dtype, rtol):
    expected = torch_trajectory(torch_name, kwargs, dtype)
    np.testing.assert_allclose(run(optimizer_class, kwargs, dtype), expected, rtol=rtol, atol=rtol / 10)


@pytest.mark.parametrize("torch_name, optimizer_class, kwargs", TORCH_CASES)
def test_state_dict_layout_matches_torch(torch_name, optimizer_class, kwargs):
    torch = pytest.importorskip("torch")
    p = torch.tensor(P0, requires_grad=True)
    torch_optimizer = getattr(torch.optim, torch_name)([p], **kwargs)
    p.grad = torch.from_numpy(GRADS[0])
    torch_optimizer.step()
    torch_state = torch_optimizer.state_dict()

    ours = td.Tensor(P0, requires_grad=True)
    optimizer = optimizer_class([ours], **kwargs)
    ours.grad = GRADS[0]
    optimizer.step()
    state = optimizer.state_dict()

    assert {i: sorted(s) for i, s in state["state"].items()} == {
        i: sorted(s) for i, s in torch_state["state"].items()
    }
    assert set(state["param_groups"][0]) <= set(torch_state["param_groups"][0])
    for key, value in state["param_groups"][0].items():
        assert value == torch_state["param_groups"][0][key], key


@pytest.mark.parametrize(("convert", "start", "new"), [
    (lambda m: m.double(), td.float32, td.float64),
    (lambda m: m.float(), td.float64, td.float32),
    (lambda m: m.to(dtype=td.float64), td.float32, td.float64),
], ids=["double", "float", "to"])
@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_state_follows_the_parameters_dtype(convert, start, new, amsgrad):
    # the moment estimates are converted with their parameter on the next step: the same update as
    # an optimizer that had run in the new dtype all along, from the same (converted) state
    from tinygrad_drop import nn

    model = nn.Linear(3, 2, dtype=start)
    optimizer = Adam(model.parameters(), lr=0.1, amsgrad=amsgrad)
    x = td.randn(4, 3, dtype=start)
    model(x).sum().backward()
    optimizer.step()
    convert(model)
    reference = Adam(model.parameters(), lr=0.1, amsgrad=amsgrad)
    reference.load_state_dict(optimizer.state_dict())  # load_state_dict converts to the parameters' dtype
    before = [p.data.copy() for p in model.parameters()]
    model.zero_grad()
    model(x.to(dtype=new)).sum().backward()
    optimizer.step()
    for state in optimizer.state.values():
        for key in ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if amsgrad else ()):
            assert state[key].dtype == new
    after = [p.data.copy() for p in model.parameters()]
    for p, b in zip(model.parameters(), before, strict=True):
        p.data[...] = b
    reference.step()
    for p, a in zip(model.parameters(), after, strict=True):
        assert p.data.dtype == new
        np.testing.assert_array_equal(p.data, a)


def test_sgd_momentum_follows_the_parameters_dtype():
    from tinygrad_drop import nn

    model = nn.Linear(3, 2)
    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(td.randn(4, 3)).sum().backward()
    optimizer.step()
    model.double()
    model(td.randn(4, 3, dtype=td.float64)).sum().backward()
    optimizer.step()
    assert all(state["momentum_buffer"].dtype == td.float64 for state in optimizer.state.values())
