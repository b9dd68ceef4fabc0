"""cross_entropy's weight=, ignore_index= and (N, C, d1, ...) inputs against torch, with its mean-reduction divisors."""

import warnings

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tests.helpers import leaf, randn
from tinygrad_drop import nn

C = 4
WEIGHT = np.array([0.5, 2.0, 1.0, 0.25])


def _index_case(shape, ignore):
    """Logits of `shape` (class axis 1, or 0 for 1-D) and int targets, some set to ignore_index=-100."""
    logits = randn(shape, seed=4)
    target_shape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    target = np.random.default_rng(5).integers(0, C, size=target_shape)
    if ignore and target.ndim:
        target.ravel()[::3] = -100
    return logits, target


SHAPES = [(C,), (6, C), (2, C, 3), (2, C, 2, 3)]


@pytest.mark.parametrize("dtype", [td.float32, td.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_index_targets_match_torch(dtype, shape, weighted, ignore, reduction, smoothing):
    torch = pytest.importorskip("torch")
    tdtype = {td.float32: torch.float32, td.float64: torch.float64}[dtype]
    logits, target = _index_case(shape, ignore)
    x = td.tensor(logits, dtype=dtype, requires_grad=True)
    xt = torch.tensor(logits, dtype=tdtype, requires_grad=True)
    weight = WEIGHT if weighted else None
    y = F.cross_entropy(x, target, weight, reduction=reduction, label_smoothing=smoothing)
    yt = torch.nn.functional.cross_entropy(xt, torch.tensor(target), None if weight is None else
                                           torch.tensor(weight, dtype=tdtype), reduction=reduction,
                                           label_smoothing=smoothing)
    g = randn(yt.shape, seed=6)
    y.backward(g)
    yt.backward(torch.tensor(g, dtype=tdtype))
    tol = {"rtol": 2e-6, "atol": 1e-6} if dtype == td.float32 else {"rtol": 1e-12, "atol": 1e-14}
    assert y.shape == tuple(yt.shape) and y.dtype == dtype
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), **tol)
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), **tol)
    module = nn.CrossEntropyLoss(weight, reduction=reduction, label_smoothing=smoothing)
    np.testing.assert_array_equal(module(x, target).numpy(), y.numpy())


@pytest.mark.parametrize("dtype", [td.float32, td.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_probability_targets_match_torch(dtype, shape, weighted, reduction):
    torch = pytest.importorskip("torch")
    tdtype = {td.float32: torch.float32, td.float64: torch.float64}[dtype]
    rows = () if len(shape) == 1 else shape[:1] + shape[2:]
    logits, probs = randn(shape, seed=7), np.random.default_rng(8).dirichlet(np.ones(C), size=rows)
    probs = np.moveaxis(probs, -1, 0 if len(shape) == 1 else 1)
    x = td.tensor(logits, dtype=dtype, requires_grad=True)
    xt = torch.tensor(logits, dtype=tdtype, requires_grad=True)
    weight = WEIGHT if weighted else None
    y = F.cross_entropy(x, td.tensor(probs, dtype=dtype), weight, reduction=reduction, label_smoothing=0.1)
    yt = torch.nn.functional.cross_entropy(xt, torch.tensor(probs, dtype=tdtype), None if weight is None else
                                           torch.tensor(weight, dtype=tdtype), reduction=reduction,
                                           label_smoothing=0.1)
    g = randn(yt.shape, seed=9)
    y.backward(g)
    yt.backward(torch.tensor(g, dtype=tdtype))
    tol = {"rtol": 2e-6, "atol": 1e-6} if dtype == td.float32 else {"rtol": 1e-12, "atol": 1e-14}
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), **tol)
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), **tol)


def test_mean_divides_by_the_counted_weights():
    logits = np.log(np.array([[0.5, 0.5], [0.25, 0.75], [0.9, 0.1]]))
    loss = F.cross_entropy(td.tensor(logits, dtype=td.float64), [0, 1, -100], [2.0, 1.0])
    expected = (2.0 * -np.log(0.5) + 1.0 * -np.log(0.75)) / (2.0 + 1.0)
    assert loss.item() == pytest.approx(expected, rel=1e-14)


def test_everything_ignored_gives_nan_for_mean_and_zero_for_sum():
    x = td.zeros(3, C, requires_grad=True)
    assert np.isnan(F.cross_entropy(x, [-100] * 3).item())
    loss = F.cross_entropy(x, [-100] * 3, reduction="sum")
    loss.backward()
    assert loss.item() == 0.0 and not x.grad.any()


def test_custom_ignore_index():
    x = td.tensor(randn((3, C)), dtype=td.float64)
    a = F.cross_entropy(x, [1, 2, 3], ignore_index=3).item()
    b = F.cross_entropy(x[:2], [1, 2]).item()
    assert a == pytest.approx(b, rel=1e-14)


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_gradcheck_with_weight_ignore_and_spatial_axes(smoothing, device):
    target = np.array([[0, 3, -100], [2, -100, 1]])
    x = leaf(randn((2, C, 3)), device)
    assert td.gradcheck(lambda x: F.cross_entropy(x, target, WEIGHT, reduction="none", label_smoothing=smoothing),
                        [x])
    assert td.gradcheck(lambda x: F.cross_entropy(x, target, WEIGHT, label_smoothing=smoothing), [x])


def test_option_errors():
    x = td.zeros(2, C)
    with pytest.raises(ValueError, match=r"one entry per class, shape \(4,\), got \(3,\)"):
        F.cross_entropy(x, [0, 1], [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="ignore_index=1 is not supported for probability targets"):
        F.cross_entropy(x, td.ones(2, C) / C, ignore_index=1)
    with pytest.raises(IndexError, match="target -1 is out of range"):
        F.cross_entropy(x, [-1, 0])
    with pytest.raises(ValueError, match=r"expected class indices of shape \(2, 3\)"):
        F.cross_entropy(td.zeros(2, C, 3), [0, 1])
    with pytest.raises(ValueError, match="0-d"):
        F.cross_entropy(td.tensor(1.0), [0])
    with pytest.raises(ValueError, match="use cross_entropy"):
        F.nll_loss(td.zeros(2, C, 3), np.zeros((2, 3), dtype=np.int64))


def test_loss_module_keeps_weight_as_a_buffer():
    module = nn.CrossEntropyLoss(weight=WEIGHT, ignore_index=2)
    assert list(module.state_dict()) == ["weight"] and list(module.parameters()) == []
    assert module.double().weight.dtype == td.float64
    assert module.ignore_index == 2


def test_a_0d_logit_is_refused_with_the_shapes_it_could_have():
    with pytest.raises(ValueError) as info:
        F.cross_entropy(td.tensor(1.0), np.array(0))
    assert str(info.value) == ("cross_entropy expects logits of shape (N, C), (N, C, d1, ...) or (C,), "
                               "got a 0-d tensor")


@pytest.mark.parametrize("ignore_index", [0, 1])
def test_ignore_index_is_refused_for_probability_targets(ignore_index):
    logits, probabilities = td.zeros(2, 3), td.full((2, 3), 1 / 3)
    with pytest.raises(ValueError, match=f"ignore_index={ignore_index} is not supported for probability targets"):
        F.cross_entropy(logits, probabilities, ignore_index=ignore_index)


def test_one_class_with_ignored_targets_matches_torch():
    torch = pytest.importorskip("torch")
    logits, target = np.array([[0.5], [2.0], [-1.0]]), np.array([0, -100, 0])
    ours = F.cross_entropy(td.tensor(logits), target)
    theirs = torch.nn.functional.cross_entropy(torch.from_numpy(logits), torch.from_numpy(target))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-12)


def test_every_target_ignored_gives_nan_without_a_numpy_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.cross_entropy(td.zeros(2, 3), np.array([-100, -100]))
    assert np.isnan(loss.numpy())  # 0 / 0, as torch
