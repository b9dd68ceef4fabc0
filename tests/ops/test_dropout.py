"""Tests for dropout: the op, F.dropout's checks, masks and their replay, statistics and nn.Dropout."""

import copy
import math
import warnings

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tinygrad_drop import nn
from tinygrad_drop.ops.dropout import Dropout, DropoutRecompute


def _host(array):
    return td.backend.to_numpy(array)


def _generator_state():
    return copy.deepcopy(td.random.default_generator.get_state())


def _same_state(a, b):
    """Compare two bit-generator state dicts (nested dicts holding ints, strings and arrays)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same_state(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    return a == b


# ---------------------------------------------------------------- forward and backward


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_forward_and_backward_follow_the_formula(p, device):
    rng = np.random.default_rng(0)
    xv, g = rng.standard_normal((8, 16)), rng.standard_normal((8, 16))
    x = td.tensor(xv, requires_grad=True, device=device)
    y, mask = F.dropout(x, p=p, return_mask=True)
    m = _host(mask)
    assert m.shape == xv.shape and 0 < m.sum() < m.size
    np.testing.assert_allclose(y.numpy(), m * xv / (1 - p), rtol=1e-15)
    y.backward(g)
    grad = _host(x.grad)
    np.testing.assert_allclose(grad, m / (1 - p) * g, rtol=1e-15)
    assert np.all(grad[~m] == 0.0)  # dropped units get exactly zero gradient
    assert np.all(y.numpy()[~m] == 0.0)


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan"), -1, 2])
def test_p_outside_unit_interval_is_a_value_error_naming_p(p):
    x = td.ones(3)
    for training in (True, False):
        with pytest.raises(ValueError, match=f"p={p!r}".replace("(", r"\(")):
            F.dropout(x, p=p, training=training)
    with pytest.raises(ValueError, match="p="):
        nn.Dropout(p)


@pytest.mark.parametrize("kwargs", [{"p": 0.0}, {"p": 0}, {"p": 0.5, "training": False}])
def test_identity_cases_return_the_input_without_node_or_draw(kwargs, device):
    x = td.randn(4, 5, requires_grad=True, device=device)
    before = _generator_state()
    y = F.dropout(x, **kwargs)
    assert y is x and y._ctx is None
    y2, mask = F.dropout(x, return_mask=True, **kwargs)
    assert y2 is x and mask is None
    assert _same_state(before, _generator_state())


def test_a_real_draw_does_advance_the_generator():  # so the state comparison above can fail
    before = _generator_state()
    F.dropout(td.ones(10), p=0.5)
    assert not _same_state(before, _generator_state())


def test_p_one_gives_zeros_and_zero_gradients_without_warnings(device):
    x = td.randn(4, 5, dtype=td.float64, requires_grad=True, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = F.dropout(x, p=1.0)
        y.backward(np.ones((4, 5)))
    out, grad = y.numpy(), _host(x.grad)
    assert not np.isnan(out).any() and not np.isnan(grad).any()
    np.testing.assert_array_equal(out, np.zeros((4, 5)))
    np.testing.assert_array_equal(grad, np.zeros((4, 5)))


def test_non_float_input_is_a_type_error():
    with pytest.raises(TypeError):
        F.dropout(td.tensor([1, 2, 3]), p=0.5)


# ---------------------------------------------------------------- the mask


def test_mask_comes_from_the_framework_generator():
    x = td.ones(1000)
    td.manual_seed(5)
    _, first = F.dropout(x, return_mask=True)
    td.manual_seed(5)
    _, again = F.dropout(x, return_mask=True)
    td.manual_seed(6)
    _, other = F.dropout(x, return_mask=True)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_global_numpy_random_state_is_not_used():
    x = td.ones(1000)
    td.manual_seed(5)
    np.random.seed(1)
    _, first = F.dropout(x, return_mask=True)
    td.manual_seed(5)
    np.random.seed(2)
    _, again = F.dropout(x, return_mask=True)
    np.testing.assert_array_equal(first, again)


def test_mask_is_bool_one_byte_per_element(device):
    x = td.randn(6, 7, requires_grad=True, device=device)
    y, mask = F.dropout(x, p=0.3, return_mask=True)
    assert mask.dtype == bool and mask.itemsize == 1
    (saved,) = y._ctx.saved_tensors
    assert saved.dtype == bool and saved.itemsize == 1


@pytest.mark.parametrize("dtype", [td.float32, td.float64])
def test_output_and_gradient_keep_the_input_dtype(dtype, device):
    x = td.randn(5, 6, dtype=dtype, requires_grad=True, device=device)
    y = F.dropout(x, p=0.3)
    assert y.dtype == dtype
    y.sum().backward()
    assert x.grad.dtype == dtype


@pytest.mark.parametrize("as_tensor", [False, True])
def test_given_mask_replays_bitwise_without_drawing(as_tensor, device):
    x = td.randn(5, 6, device=device)
    y, mask = F.dropout(x, p=0.3, return_mask=True)
    given = td.Tensor(_host(mask), device=device) if as_tensor else mask
    before = _generator_state()
    y2, mask2 = F.dropout(x, p=0.3, mask=given, return_mask=True)
    assert _same_state(before, _generator_state())
    assert y.numpy().tobytes() == y2.numpy().tobytes()
    np.testing.assert_array_equal(_host(mask2), _host(mask))


def test_given_mask_is_used_exactly():
    x = td.tensor(np.arange(1.0, 7.0), requires_grad=True)
    mask = np.array([True, False, False, True, True, False])
    y = F.dropout(x, p=0.25, mask=mask)
    np.testing.assert_allclose(y.numpy(), np.arange(1.0, 7.0) * mask / 0.75)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, mask / 0.75)


@pytest.mark.parametrize("mask", [np.ones((2, 3), dtype=np.float32), np.ones((2, 3), dtype=np.int64),
                                  np.ones((2, 3), dtype=np.uint8)])
def test_mask_of_wrong_dtype_is_a_type_error(mask):
    with pytest.raises(TypeError):
        F.dropout(td.ones(2, 3), p=0.5, mask=mask)


@pytest.mark.parametrize("shape", [(2,), (3, 2), (2, 3, 1), (1, 4)])
def test_mask_of_wrong_shape_is_a_value_error(shape):
    with pytest.raises(ValueError) as info:
        F.dropout(td.ones(2, 3), p=0.5, mask=np.ones(shape, dtype=bool))
    assert str(shape) in str(info.value)


def test_broadcast_mask_is_shared_along_the_batch_axis(device):
    rng = np.random.default_rng(3)
    xv = rng.standard_normal((5, 8)) + 10.0  # no zeros of its own
    mask = rng.random((1, 8)) < 0.5
    x = td.tensor(xv, requires_grad=True, device=device)
    y = F.dropout(x, p=0.5, mask=mask)
    out = y.numpy()
    assert np.all((out == 0) == ~mask)  # every row zeroes the same columns
    np.testing.assert_allclose(out, xv * mask * 2.0)
    y.sum().backward()
    np.testing.assert_allclose(_host(x.grad), np.broadcast_to(mask * 2.0, (5, 8)))


def test_four_dimensional_attention_weights(device):
    x = td.randn(2, 3, 4, 4, dtype=td.float64, requires_grad=True, device=device).softmax(axis=-1)
    y, mask = F.dropout(x, p=0.1, return_mask=True)
    m = _host(mask)
    assert y.shape == m.shape == (2, 3, 4, 4)
    np.testing.assert_allclose(y.numpy(), m * x.numpy() / 0.9)


# ---------------------------------------------------------------- statistics


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_drop_fraction_and_mean_match_p(p, device):
    n = 10**6
    x = td.ones(n, device=device)
    y, mask = F.dropout(x, p=p, return_mask=True)
    dropped = 1.0 - _host(mask).mean()
    assert abs(dropped - p) <= 5 * math.sqrt(p * (1 - p) / n)
    std_y = math.sqrt(p / (1 - p))
    assert abs(y.numpy().astype(np.float64).mean() - 1.0) <= 5 * std_y / math.sqrt(n)


# ---------------------------------------------------------------- eval, gradcheck, module


def test_eval_is_identity():
    x = td.randn(3, 4)
    assert F.dropout(x, p=0.9, training=False) is x
    layer = nn.Dropout(0.9).eval()
    assert layer(x) is x
    assert not np.array_equal(layer.train()(x).numpy(), x.numpy())


@pytest.mark.parametrize("shape", [(4, 5), (10, 10)])  # full Jacobian and random cotangents
def test_gradcheck_passes(shape, device):
    x = td.randn(*shape, dtype=td.float64, requires_grad=True, device=device)
    assert td.gradcheck(lambda x: F.dropout(x, p=0.4), [x])
    assert td.gradcheck(lambda x: (F.dropout(x, p=0.5) * x).sum(), [x])


def test_module_repr_and_p():
    layer = nn.Dropout(0.25)
    assert layer.p == 0.25 and repr(layer) == "Dropout(p=0.25)"
    assert list(layer.parameters()) == []


def test_gradients_with_given_mask_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    xv, g = rng.standard_normal((6, 5)), rng.standard_normal((6, 5))
    mask = rng.random((6, 5)) >= 0.3
    x = td.tensor(xv, requires_grad=True)
    y = F.dropout(x, p=0.3, mask=mask)
    y.backward(g)
    xt = torch.tensor(xv, requires_grad=True)
    yt = xt * torch.from_numpy(mask) / (1 - 0.3)  # what torch's dropout computes for this mask
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-15)
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-15)


def test_broadcast_dims_share_one_mask_value_along_those_axes():
    x = td.ones(8, 3, 5)
    y, mask = F.dropout(x, p=0.5, broadcast_dims=(0, -1), return_mask=True)
    assert mask.shape == (1, 3, 1)
    out = y.numpy()
    for c in range(3):
        channel = out[:, c, :]
        assert np.all(channel == channel.flat[0]) and channel.flat[0] in (0.0, 2.0)


def test_broadcast_dims_gradcheck_and_bad_axis():
    x = td.randn(4, 6, dtype=td.float64, requires_grad=True)
    assert td.gradcheck(lambda x: F.dropout(x, p=0.3, broadcast_dims=1) * x, [x])
    with pytest.raises(ValueError, match="broadcast_dims"):
        F.dropout(x, p=0.3, broadcast_dims=2)


# ---------------------------------------------------------------- one path: training, gradcheck and Tensor.dropout


def _count_dropout_calls(monkeypatch):
    """Wrap ops.dropout.Dropout's forward and backward to count calls and keep each mask it was given."""
    calls = {"forward": 0, "backward": 0, "keeps": []}
    forward, backward = Dropout.forward, Dropout.backward

    def counting_forward(ctx, x, keep, scale):
        calls["forward"] += 1
        calls["keeps"].append(keep)
        return forward(ctx, x, keep, scale)

    def counting_backward(ctx, grad):
        calls["backward"] += 1
        return backward(ctx, grad)

    def refused(*args):
        raise AssertionError("only ops.dropout.Dropout may run")

    monkeypatch.setattr(Dropout, "forward", staticmethod(counting_forward))
    monkeypatch.setattr(Dropout, "backward", staticmethod(counting_backward))
    monkeypatch.setattr(DropoutRecompute, "forward", staticmethod(refused))
    return calls


def test_gradcheck_runs_the_same_dropout_op_as_a_training_step(monkeypatch):
    calls = _count_dropout_calls(monkeypatch)
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5)).double()
    x = td.randn(2, 3, dtype=td.float64, requires_grad=True)
    model(x).sum().backward()  # a training step's forward and backward
    assert (calls["forward"], calls["backward"]) == (1, 1)
    calls.update(forward=0, backward=0, keeps=[])
    assert td.gradcheck(lambda x: model(x).sum(), [x], params=model)
    n_elements = x.size + sum(p.size for p in model.parameters())
    assert calls["forward"] == 1 + 1 + 2 * n_elements  # the recorded call, the base point, two per element
    assert calls["backward"] == 1
    first = calls["keeps"][0]
    assert isinstance(first, np.ndarray) and first.dtype == bool and first.shape == (2, 4)
    assert all(np.array_equal(keep, first) for keep in calls["keeps"])  # every evaluation saw one mask


def test_return_mask_gives_the_very_array_the_op_used(monkeypatch):
    calls = _count_dropout_calls(monkeypatch)
    _, mask = F.dropout(td.ones(3, 4), p=0.5, return_mask=True)
    assert calls["keeps"] == [mask] and calls["keeps"][0] is mask


@pytest.mark.parametrize("p", [0.3, 0.5])
def test_tensor_dropout_is_f_dropout(p, device):
    x = td.randn(6, 7, requires_grad=True, device=device)
    td.manual_seed(4)
    y = x.dropout(p)
    y.sum().backward()
    grad = _host(x.grad)
    x.grad = None
    td.manual_seed(4)
    expected = F.dropout(x, p)
    expected.sum().backward()
    assert y.numpy().tobytes() == expected.numpy().tobytes()
    assert grad.tobytes() == _host(x.grad).tobytes()
    assert type(y._ctx).__name__ == "Dropout"


def test_tensor_dropout_in_eval_and_its_errors():
    x = td.randn(3)
    assert x.dropout(0.5, training=False) is x and x.dropout(0.0) is x
    with pytest.raises(ValueError, match="p=1.5"):
        x.dropout(1.5)
