"""Tests for nn.Module and nn.Parameter: registration, traversal, modes, state dicts, dtypes and repr."""

import numpy as np
import pytest

import tinygrad_drop as td
from tinygrad_drop import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Outer(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(np.ones(2, dtype=np.float32))
        self.body = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), Net())
        self.head = nn.Linear(2, 1, bias=False)

    def forward(self, x):
        return self.head(self.body(x * self.scale))


# ---------------------------------------------------------------- parameters and registration


def test_named_parameters_in_definition_order_with_dotted_names():
    assert [n for n, _ in Net().named_parameters()] == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert [n for n, _ in Outer().named_parameters()] == [
        "scale",
        "body.0.weight", "body.0.bias",
        "body.2.fc1.weight", "body.2.fc1.bias", "body.2.fc2.weight", "body.2.fc2.bias",
        "head.weight",
    ]


def test_parameters_match_named_parameters():
    model = Outer()
    assert [id(p) for p in model.parameters()] == [id(p) for _, p in model.named_parameters()]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in model.parameters())


def test_shared_parameters_and_modules_are_listed_once():
    model = nn.Module()
    shared = nn.Linear(2, 2)
    model.a = shared
    model.b = shared
    model.w = nn.Parameter(np.zeros(3, dtype=np.float32))
    model.c = nn.Module()
    model.c.w = model.w
    names = [n for n, _ in model.named_parameters()]
    assert names == ["w", "a.weight", "a.bias"]
    assert len(list(model.parameters())) == 3


def test_registration_on_attribute_assignment():
    model = nn.Module()
    model.w = nn.Parameter(np.zeros(2, dtype=np.float32))
    model.plain = td.zeros(2)  # a plain Tensor is not a parameter
    model.number = 3
    model.sub = nn.Linear(1, 1)
    assert [n for n, _ in model.named_parameters()] == ["w", "sub.weight", "sub.bias"]
    assert [n for n, _ in model.named_children()] == ["sub"]
    model.w = None  # replacing a parameter unregisters it
    model.sub = 5
    assert list(model.named_parameters()) == [] and list(model.children()) == []
    model.w = nn.Parameter(np.zeros(2, dtype=np.float32))
    del model.w
    assert list(model.parameters()) == []


def test_parameter_marks_trainable_tensors():
    p = nn.Parameter(np.array([1.0, 2.0], dtype=np.float32))
    assert isinstance(p, td.Tensor) and p.requires_grad and p.is_leaf
    assert not nn.Parameter(np.zeros(2, dtype=np.float32), requires_grad=False).requires_grad
    assert repr(p).startswith("Parameter containing:\n")


def test_assigning_before_init_is_an_error():
    class Bad(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)
            super().__init__()

    with pytest.raises(AttributeError, match="__init__"):
        Bad()


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError):
        nn.Module()(td.zeros(1))


# ---------------------------------------------------------------- modes


def test_train_and_eval_recurse_into_nested_children():
    model = Outer()
    modules = list(model.modules())
    assert [n for n, _ in model.named_modules()] == [
        "", "body", "body.0", "body.1", "body.2", "body.2.fc1", "body.2.act", "body.2.fc2", "head",
    ]
    assert all(m.training for m in modules)
    assert model.eval() is model
    assert not any(m.training for m in modules)
    assert model.train() is model
    assert all(m.training for m in modules)
    model.train(False)
    assert not model.body[2].fc1.training


class DropoutOnly(nn.Module):
    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(0.5)
        self.inner = nn.Sequential(nn.Dropout(0.3), nn.Sequential(nn.Identity(), nn.Dropout(0.7)))

    def forward(self, x):
        return self.inner(self.drop(x))


def test_eval_turns_off_every_nested_dropout():
    model = DropoutOnly()
    x = td.randn(1000)
    assert (model(x).numpy() == 0).any()  # training: something is dropped
    model.eval()
    np.testing.assert_array_equal(model(x).numpy(), x.numpy())
    assert model(x) is x
    model.inner[1][1].train()  # only the innermost dropout back on
    assert (model(x).numpy() == 0).any()


# ---------------------------------------------------------------- gradients


def test_zero_grad():
    model = Net()
    model(td.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=False)
    for p in model.parameters():
        assert p.grad.shape == p.shape and p.grad.dtype == p.dtype
        np.testing.assert_array_equal(p.grad, np.zeros(p.shape))
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


# ---------------------------------------------------------------- state dicts


def test_state_dict_keys_and_values():
    model = Net()
    state = model.state_dict()
    assert list(state) == [n for n, _ in model.named_parameters()]
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(state[name].numpy(), p.numpy())
        assert not state[name].requires_grad


def test_load_state_dict_round_trip():
    td.manual_seed(0)
    source = Net()
    td.manual_seed(1)
    target = Net()
    x = td.randn(4, 3)
    assert not np.array_equal(source(x).numpy(), target(x).numpy())
    result = target.load_state_dict(source.state_dict())
    assert list(result.missing_keys) == [] and list(result.unexpected_keys) == []
    np.testing.assert_array_equal(source(x).numpy(), target(x).numpy())
    # values were copied, not shared
    source.fc1.weight.data[...] = 0.0
    assert not np.array_equal(target.fc1.weight.numpy(), source.fc1.weight.numpy())


def test_load_state_dict_accepts_numpy_arrays_and_keeps_dtype():
    model = Net()
    state = {name: np.full(p.shape, 0.5) for name, p in model.named_parameters()}  # float64
    model.load_state_dict(state)
    for p in model.parameters():
        assert p.dtype == td.float32
        np.testing.assert_array_equal(p.numpy(), np.full(p.shape, 0.5))


def test_strict_load_reports_missing_keys():
    model = Net()
    before = model.fc1.weight.numpy().copy()
    state = {k: v.numpy() + 1 for k, v in model.state_dict().items()}
    del state["fc2.bias"]
    with pytest.raises(RuntimeError, match="fc2.bias"):
        model.load_state_dict(state)
    np.testing.assert_array_equal(model.fc1.weight.numpy(), before)  # nothing loaded


def test_strict_load_reports_unexpected_keys():
    model = Net()
    state = dict(model.state_dict())
    state["fc3.weight"] = td.zeros(2, 2)
    with pytest.raises(RuntimeError, match="fc3.weight"):
        model.load_state_dict(state)


@pytest.mark.parametrize("strict", [True, False])
def test_wrong_shape_is_an_error_naming_the_key(strict):
    model = Net()
    state = dict(model.state_dict())
    state["fc2.weight"] = td.zeros(4, 2)
    with pytest.raises(RuntimeError, match="fc2.weight"):
        model.load_state_dict(state, strict=strict)


def test_non_strict_load_returns_missing_and_unexpected():
    model = Net()
    state = {"fc1.weight": np.ones((4, 3)), "extra": np.zeros(1)}
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert missing == ["fc1.bias", "fc2.weight", "fc2.bias"] and unexpected == ["extra"]
    np.testing.assert_array_equal(model.fc1.weight.numpy(), np.ones((4, 3)))


# ---------------------------------------------------------------- dtype conversion


def test_to_double_and_float():
    model = Net()
    model(td.randn(2, 3)).sum().backward()
    values = {n: p.numpy().copy() for n, p in model.named_parameters()}
    assert model.to(dtype=td.float64) is model
    for name, p in model.named_parameters():
        assert p.dtype == td.float64 and p.grad.dtype == np.float64
        np.testing.assert_array_equal(p.numpy(), values[name])
    assert model.float() is model
    assert all(p.dtype == td.float32 and p.grad.dtype == np.float32 for p in model.parameters())
    assert model.double() is model
    assert all(p.dtype == td.float64 for p in model.parameters())
    assert model(td.randn(2, 3, dtype=td.float64)).dtype == td.float64


def test_to_device(device):
    model = Net().to(device)
    assert all(p.device.startswith(device) for p in model.parameters())
    assert model(td.randn(2, 3, device=device)).shape == (2, 2)


# ---------------------------------------------------------------- repr


def test_repr_matches_pytorch_format():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Dropout(0.5))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=4, out_features=3, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Dropout(p=0.5)\n"
        ")"
    )


def test_nested_repr_is_indented():
    model = nn.Sequential(nn.Sequential(nn.Linear(2, 2, bias=False)), nn.Tanh())
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Sequential(\n"
        "    (0): Linear(in_features=2, out_features=2, bias=False)\n"
        "  )\n"
        "  (1): Tanh()\n"
        ")"
    )


def test_assigning_a_plain_tensor_over_a_parameter_is_refused_as_in_torch():
    torch = pytest.importorskip("torch")
    lin = nn.Linear(2, 1)
    with pytest.raises(TypeError, match=r"cannot assign 'Tensor' as parameter 'weight' \(Parameter or None expected\)"):
        lin.weight = td.Tensor(np.ones((1, 2)), requires_grad=True)
    with pytest.raises(TypeError, match="cannot assign 'ndarray' as parameter 'bias'"):
        lin.bias = np.zeros(1)
    with pytest.raises(TypeError, match=r"cannot assign '.*' as parameter 'weight'"):  # torch's error
        torch.nn.Linear(2, 1).weight = torch.ones(1, 2)
    assert [name for name, _ in lin.named_parameters()] == ["weight", "bias"]  # still registered
    new = nn.Parameter(np.ones((1, 2), dtype=np.float32))
    lin.weight = new  # a Parameter replaces it, in its place (as in torch)
    assert next(lin.parameters()) is new and list(lin.state_dict()) == ["weight", "bias"]
    lin.bias = None
    assert [name for name, _ in lin.named_parameters()] == ["weight"]
    lin.bias = td.zeros(1)  # once the parameter is gone, the name is free for any value
    assert [name for name, _ in lin.named_parameters()] == ["weight"]
