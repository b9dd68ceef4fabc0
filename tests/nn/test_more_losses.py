"""BCE (on probabilities and on logits, with weight and pos_weight), L1, smooth L1, Huber and one_hot against torch."""

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tests.helpers import leaf, randn
from tinygrad_drop import nn

X = np.array([[-3.0, -0.5, 0.0, 0.4], [0.9, 1.5, 2.0, 40.0], [-40.0, 0.2, -1.2, 5.0]])
Y = np.array([[0.0, 1.0, 0.5, 1.0], [0.2, 0.0, 1.0, 0.0], [1.0, 0.7, 0.0, 1.0]])
P = np.array([[0.0, 0.1, 0.5, 0.9], [1.0, 0.3, 0.999, 0.02], [0.6, 0.4, 0.25, 1e-5]])
WEIGHT = np.array([0.5, 1.0, 2.0, 0.1])
POS_WEIGHT = np.array([3.0, 0.5, 1.0, 2.0])

CASES = [  # (name, ours, torch's, input values, module)
    ("bce", F.binary_cross_entropy, "binary_cross_entropy", P, {}, nn.BCELoss),
    ("bce_weight", F.binary_cross_entropy, "binary_cross_entropy", P, {"weight": WEIGHT}, nn.BCELoss),
    ("bce_logits", F.binary_cross_entropy_with_logits, "binary_cross_entropy_with_logits", X, {},
     nn.BCEWithLogitsLoss),
    ("bce_logits_pos_weight", F.binary_cross_entropy_with_logits, "binary_cross_entropy_with_logits", X,
     {"pos_weight": POS_WEIGHT}, nn.BCEWithLogitsLoss),
    ("bce_logits_both", F.binary_cross_entropy_with_logits, "binary_cross_entropy_with_logits", X,
     {"pos_weight": POS_WEIGHT, "weight": WEIGHT[:, None][:3]}, nn.BCEWithLogitsLoss),
    ("l1", F.l1_loss, "l1_loss", X, {}, nn.L1Loss),
    ("smooth_l1", F.smooth_l1_loss, "smooth_l1_loss", X, {}, nn.SmoothL1Loss),
    ("smooth_l1_beta", F.smooth_l1_loss, "smooth_l1_loss", X, {"beta": 0.5}, nn.SmoothL1Loss),
    ("smooth_l1_beta0", F.smooth_l1_loss, "smooth_l1_loss", X, {"beta": 0.0}, nn.SmoothL1Loss),
    ("huber", F.huber_loss, "huber_loss", X, {}, nn.HuberLoss),
    ("huber_delta", F.huber_loss, "huber_loss", X, {"delta": 2.5}, nn.HuberLoss),
]


@pytest.mark.parametrize("dtype", [td.float32, td.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(("name", "fn", "torch_name", "values", "kwargs", "module"), CASES, ids=[c[0] for c in CASES])
def test_values_and_gradients_match_torch(name, fn, torch_name, values, kwargs, module, reduction, dtype):
    torch = pytest.importorskip("torch")
    tdtype = {td.float32: torch.float32, td.float64: torch.float64}[dtype]
    x, y = (td.tensor(v, dtype=dtype, requires_grad=True) for v in (values, Y))
    xt, yt = (torch.tensor(v, dtype=tdtype, requires_grad=True) for v in (values, Y))
    torch_kwargs = {k: torch.tensor(v, dtype=tdtype) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    loss = fn(x, y, reduction=reduction, **kwargs)
    loss_t = getattr(torch.nn.functional, torch_name)(xt, yt, reduction=reduction, **torch_kwargs)
    g = randn(loss_t.shape, seed=2)
    loss.backward(g)
    loss_t.backward(torch.tensor(g, dtype=tdtype))
    tol = {"rtol": 2e-6, "atol": 1e-5} if dtype == td.float32 else {"rtol": 1e-12, "atol": 1e-12}
    assert loss.dtype == dtype and loss.shape == tuple(loss_t.shape)
    np.testing.assert_allclose(loss.numpy(), loss_t.detach().numpy(), **tol)
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), **tol)
    if name != "bce":  # torch's target gradient of BCE is +-inf at x = 0 or 1, where ours is too
        np.testing.assert_allclose(y.grad, yt.grad.numpy(), **tol)
    np.testing.assert_array_equal(module(reduction=reduction, **kwargs)(x, y).numpy(), loss.numpy())


SMOOTH = [
    ("bce", lambda x, y: F.binary_cross_entropy(x.sigmoid(), y, WEIGHT)),
    ("bce_logits", lambda x, y: F.binary_cross_entropy_with_logits(x, y, WEIGHT, pos_weight=POS_WEIGHT)),
    ("l1", lambda x, y: F.l1_loss(x, y * 0.9, reduction="sum")),
    ("smooth_l1", lambda x, y: F.smooth_l1_loss(x, y, reduction="none", beta=0.7)),
    ("huber", lambda x, y: F.huber_loss(x, y, delta=0.8)),
]


@pytest.mark.parametrize(("name", "fn"), SMOOTH, ids=[c[0] for c in SMOOTH])
def test_gradcheck(name, fn, device):
    x = leaf(randn((3, 4), seed=11) * 2 + 0.05, device)
    y = leaf(np.random.default_rng(12).uniform(size=(3, 4)), device)
    assert td.gradcheck(fn, [x, y])


def test_bce_with_logits_is_stable_at_large_logits():
    x = td.tensor([-1000.0, 1000.0, -80.0, 80.0], requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, td.tensor([1.0, 0.0, 0.0, 1.0]), reduction="none",
                                              pos_weight=td.tensor([2.0, 2.0, 2.0, 2.0]))
    loss.sum().backward()
    np.testing.assert_allclose(loss.numpy(), [2000.0, 1000.0, 0.0, 0.0], atol=1e-30)
    np.testing.assert_allclose(x.grad, [-2.0, 1.0, 0.0, 0.0], atol=1e-30)


def test_bce_clamps_its_logs_at_minus_100():
    loss = F.binary_cross_entropy(td.tensor([0.0, 1.0]), td.tensor([1.0, 0.0]), reduction="none")
    np.testing.assert_array_equal(loss.numpy(), [100.0, 100.0])


def test_bce_errors():
    with pytest.raises(ValueError, match="probabilities in \\[0, 1\\]"):
        F.binary_cross_entropy(td.tensor([1.5]), td.tensor([1.0]))
    with pytest.raises(ValueError, match=r"target shape \(1,\) differs from input shape \(2,\)"):
        F.binary_cross_entropy_with_logits(td.tensor([1.0, 2.0]), td.tensor([1.0]))


def test_regression_losses_warn_on_broadcasting_and_check_parameters():
    with pytest.warns(UserWarning, match="l1_loss: input shape"):
        F.l1_loss(td.zeros(3, 1), td.zeros(3))
    with pytest.raises(ValueError, match="delta must be positive"):
        F.huber_loss(td.zeros(2), td.zeros(2), delta=0.0)
    with pytest.raises(ValueError, match="beta must be >= 0"):
        F.smooth_l1_loss(td.zeros(2), td.zeros(2), beta=-1.0)
    with pytest.raises(ValueError, match="reduction must be"):
        F.l1_loss(td.zeros(2), td.zeros(2), reduction="avg")


def test_integer_targets_are_read_as_floats():
    loss = F.binary_cross_entropy_with_logits(td.tensor([0.0, 0.0]), td.tensor([0, 1]))
    assert loss.dtype == td.float32 and loss.item() == pytest.approx(np.log(2), rel=1e-6)


def test_loss_modules_keep_weights_as_buffers():
    module = nn.BCEWithLogitsLoss(pos_weight=POS_WEIGHT)
    assert list(module.state_dict()) == ["pos_weight"]
    assert module.float().pos_weight.dtype == td.float32
    assert repr(nn.HuberLoss()) == "HuberLoss()"


@pytest.mark.parametrize(("labels", "num_classes"), [([0, 2, 1], -1), ([[1], [3]], 5), ([], 3), (2, 4)])
def test_one_hot_matches_torch(labels, num_classes):
    torch = pytest.importorskip("torch")
    ours = F.one_hot(td.tensor(labels, dtype=td.int64), num_classes)
    theirs = torch.nn.functional.one_hot(torch.tensor(labels, dtype=torch.int64), num_classes)
    assert ours.dtype == td.int64 and ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_one_hot_errors():
    with pytest.raises(TypeError, match="integer class indices, got dtype float32"):
        F.one_hot(td.tensor([1.0]))
    with pytest.raises(ValueError, match="non-negative"):
        F.one_hot(td.tensor([-1, 0]))
    with pytest.raises(ValueError, match="class value 3 is not smaller than num_classes=2"):
        F.one_hot(td.tensor([3]), 2)
