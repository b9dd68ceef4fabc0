"""Tests for nn.functional and the loss modules: cross_entropy, nll_loss, mse_loss and activations."""

import warnings

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tinygrad_drop import nn


def _log_softmax(z):
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _reduce(loss, reduction):
    return {"mean": loss.mean(), "sum": loss.sum(), "none": loss}[reduction]


def _data(seed=0, n=6, c=4):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, c)) * 3, rng.integers(0, c, n)


# ---------------------------------------------------------------- cross_entropy


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1, 1.0])
def test_cross_entropy_matches_closed_form(reduction, smoothing, device):
    z, t = _data()
    logp = _log_softmax(z)
    nll = -logp[np.arange(len(t)), t]
    expected = _reduce((1 - smoothing) * nll + smoothing * (-logp).mean(axis=-1), reduction)
    logits = td.tensor(z, requires_grad=True, device=device)
    target = td.tensor(t, device=device)
    loss = F.cross_entropy(logits, target, reduction=reduction, label_smoothing=smoothing)
    assert loss.shape == np.shape(expected)
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_gradient_matches_closed_form(smoothing):
    z, t = _data(1)
    n, c = z.shape
    q = np.full((n, c), smoothing / c)
    q[np.arange(n), t] += 1 - smoothing
    logits = td.tensor(z, requires_grad=True)
    F.cross_entropy(logits, t, label_smoothing=smoothing).backward()
    np.testing.assert_allclose(logits.grad, (np.exp(_log_softmax(z)) - q) / n, rtol=1e-10, atol=1e-14)


def test_cross_entropy_accepts_plain_targets_and_single_rows():
    z, t = _data()
    ref = F.cross_entropy(td.tensor(z), td.tensor(t)).item()
    assert F.cross_entropy(td.tensor(z), t).item() == ref
    assert F.cross_entropy(td.tensor(z), list(t)).item() == pytest.approx(ref, rel=1e-15)
    row = F.cross_entropy(td.tensor(z[0]), td.tensor(t[0]))
    assert row.item() == pytest.approx(-_log_softmax(z[0])[t[0]], rel=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_with_probability_targets(reduction, smoothing):
    z, _ = _data(2)
    rng = np.random.default_rng(3)
    q = rng.random(z.shape)
    q /= q.sum(axis=-1, keepdims=True)
    q_smoothed = (1 - smoothing) * q + smoothing / z.shape[1]
    expected = _reduce(-(q_smoothed * _log_softmax(z)).sum(axis=-1), reduction)
    loss = F.cross_entropy(td.tensor(z), td.tensor(q), reduction=reduction, label_smoothing=smoothing)
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-12)


def test_probability_targets_equal_one_hot_index_targets():
    z, t = _data(4)
    one_hot = np.eye(z.shape[1])[t]
    a = F.cross_entropy(td.tensor(z), td.tensor(t), label_smoothing=0.1).item()
    b = F.cross_entropy(td.tensor(z), td.tensor(one_hot), label_smoothing=0.1).item()
    assert a == pytest.approx(b, rel=1e-12)


def test_cross_entropy_is_stable_for_large_logits():
    z = np.array([[1000.0, 0.0, -1000.0]])
    loss = F.cross_entropy(td.tensor(z, requires_grad=True), td.tensor([1]))
    assert loss.item() == pytest.approx(1000.0)


@pytest.mark.parametrize("bad", [3, -1, 10])
def test_out_of_range_target_is_an_index_error_naming_it(bad):
    with pytest.raises(IndexError, match=str(bad)):
        F.cross_entropy(td.zeros(2, 3), td.tensor([0, bad]))
    with pytest.raises(IndexError, match=str(bad)):
        F.nll_loss(td.zeros(2, 3), td.tensor([bad, 0]))


@pytest.mark.parametrize(
    "logits_shape, target",
    [
        ((2, 3, 4), np.zeros((2, 3), dtype=np.int64)),  # 3-D logits
        ((2, 3), np.zeros(3, dtype=np.int64)),  # wrong number of targets
        ((2, 3), np.zeros((2, 1), dtype=np.int64)),
        ((2, 3), np.zeros((2, 4))),  # probability targets of the wrong shape
    ],
)
def test_bad_shapes_are_value_errors(logits_shape, target):
    with pytest.raises(ValueError):
        F.cross_entropy(td.zeros(*logits_shape), target)


def test_bad_reduction_and_smoothing_are_value_errors():
    z, t = _data()
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(td.tensor(z), t, reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(td.tensor(z), t, label_smoothing=1.5)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_gradcheck(smoothing, device):
    logits = td.randn(5, 4, dtype=td.float64, requires_grad=True, device=device)
    target = td.tensor([0, 3, 1, 1, 2], device=device)
    assert td.gradcheck(lambda z, t: F.cross_entropy(z, t, label_smoothing=smoothing), [logits, target])
    probs = td.rand(5, 4, dtype=td.float64, device=device)
    assert td.gradcheck(lambda z, q: F.cross_entropy(z, q, reduction="sum", label_smoothing=smoothing),
                        [logits, probs])


@pytest.mark.parametrize("reduction", ["sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_fused_cross_entropy_gradcheck_for_every_reduction_and_one_sample(reduction, smoothing, device):
    logits = td.randn(5, 4, dtype=td.float64, requires_grad=True, device=device)
    target = td.tensor([0, 3, 1, 1, 2], device=device)
    loss = lambda z, t: F.cross_entropy(z, t, reduction=reduction, label_smoothing=smoothing)  # noqa: E731
    assert td.gradcheck(loss, [logits, target])
    one = td.randn(4, dtype=td.float64, requires_grad=True, device=device)
    assert td.gradcheck(loss, [one, td.tensor(2, device=device)])


# ---------------------------------------------------------------- nll_loss


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_matches_numpy(reduction):
    z, t = _data(5)
    logp = _log_softmax(z)
    loss = F.nll_loss(td.tensor(logp), td.tensor(t), reduction=reduction)
    np.testing.assert_allclose(loss.numpy(), _reduce(-logp[np.arange(len(t)), t], reduction), rtol=1e-15)


def test_nll_loss_rejects_float_targets():
    with pytest.raises(TypeError):
        F.nll_loss(td.zeros(2, 3), td.zeros(2))


# ---------------------------------------------------------------- mse_loss


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_matches_numpy(reduction, device):
    rng = np.random.default_rng(6)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    loss = F.mse_loss(td.tensor(a, device=device), td.tensor(b, device=device), reduction=reduction)
    np.testing.assert_allclose(loss.numpy(), _reduce((a - b) ** 2, reduction), rtol=1e-12)


def test_mse_loss_gradient_and_gradcheck():
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    x = td.tensor(a, requires_grad=True)
    F.mse_loss(x, b).backward()
    np.testing.assert_allclose(x.grad, 2 * (a - b) / a.size, rtol=1e-12)
    target = td.tensor(b, requires_grad=True)
    assert td.gradcheck(lambda x, y: F.mse_loss(x, y), [x, target])
    assert td.gradcheck(lambda x, y: F.mse_loss(x, y, reduction="none"), [x, target])


def test_mse_loss_warns_on_broadcasting_shapes():
    with pytest.warns(UserWarning, match="broadcast"):
        F.mse_loss(td.zeros(3, 1), td.zeros(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.mse_loss(td.zeros(3), td.zeros(3))


def test_mse_loss_with_array_target_keeps_input_dtype():
    loss = F.mse_loss(td.zeros(2, 2), np.ones((2, 2)))
    assert loss.dtype == td.float32 and loss.item() == 1.0


# ---------------------------------------------------------------- loss modules


def test_loss_modules_match_functions():
    z, t = _data(8)
    logits = td.tensor(z)
    assert nn.CrossEntropyLoss()(logits, t).item() == F.cross_entropy(logits, t).item()
    np.testing.assert_array_equal(
        nn.CrossEntropyLoss(reduction="none", label_smoothing=0.2)(logits, t).numpy(),
        F.cross_entropy(logits, t, reduction="none", label_smoothing=0.2).numpy(),
    )
    logp = logits.log_softmax()
    assert nn.NLLLoss(reduction="sum")(logp, t).item() == F.nll_loss(logp, t, reduction="sum").item()
    assert nn.MSELoss()(logits, td.zeros(*z.shape, dtype=td.float64)).item() == pytest.approx((z**2).mean())
    assert list(nn.CrossEntropyLoss().parameters()) == []


# ---------------------------------------------------------------- activations


def test_activation_functions_match_numpy():
    z = np.random.default_rng(9).standard_normal((3, 5))
    x = td.tensor(z)
    np.testing.assert_allclose(F.sigmoid(x).numpy(), 1 / (1 + np.exp(-z)), rtol=1e-12)
    np.testing.assert_allclose(F.tanh(x).numpy(), np.tanh(z), rtol=1e-12)
    np.testing.assert_allclose(F.log_softmax(x).numpy(), _log_softmax(z), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(F.softmax(x, axis=0).numpy(), np.exp(_log_softmax(z.T)).T, rtol=1e-12)
    np.testing.assert_array_equal(F.relu(x).numpy(), np.maximum(z, 0))


# ---------------------------------------------------------------- against PyTorch


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.15])
def test_cross_entropy_matches_torch(reduction, smoothing):
    torch = pytest.importorskip("torch")
    z, t = _data(10, n=7, c=5)
    g = np.random.default_rng(11).standard_normal(7) if reduction == "none" else 1.0

    logits = td.tensor(z, requires_grad=True)
    loss = F.cross_entropy(logits, t, reduction=reduction, label_smoothing=smoothing)
    loss.backward(np.asarray(g) * np.ones(loss.shape))

    zt = torch.tensor(z, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(zt, torch.tensor(t), reduction=reduction,
                                            label_smoothing=smoothing)
    ref.backward(torch.tensor(g, dtype=torch.float64) * torch.ones_like(ref))

    np.testing.assert_allclose(loss.numpy(), ref.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(logits.grad, zt.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("smoothing", [0.0, 0.25])
def test_cross_entropy_with_probability_targets_matches_torch(smoothing):
    torch = pytest.importorskip("torch")
    z, _ = _data(12, n=4, c=3)
    q = np.random.default_rng(13).random(z.shape)
    q /= q.sum(axis=-1, keepdims=True)
    logits = td.tensor(z, requires_grad=True)
    loss = F.cross_entropy(logits, q, label_smoothing=smoothing)
    loss.backward()
    zt = torch.tensor(z, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(zt, torch.tensor(q), label_smoothing=smoothing)
    ref.backward()
    assert loss.item() == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(logits.grad, zt.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_linear_on_a_list_asks_for_a_tensor():
    with pytest.raises(TypeError, match=r"linear: input must be a Tensor, got list; wrap it with td.tensor"):
        nn.Linear(3, 2)([[1.0, 2.0, 3.0]])
    with pytest.raises(TypeError, match=r"linear: weight must be a Tensor, got ndarray"):
        F.linear(td.ones(1, 3), np.ones((2, 3)))
    with pytest.raises(TypeError, match=r"dropconnect_linear: bias must be a Tensor, got list"):
        F.dropconnect_linear(td.ones(1, 3), td.ones(2, 3), [0.0, 0.0], p=0.5)


# ---------------------------------------------------------------- argument handling of the smaller ops


def test_softplus_is_exactly_x_just_above_the_default_threshold():
    """softplus(20.5) is 20.5 itself (threshold 20, as torch), not log1p(e^20.5) = 20.5 + 1.3e-9."""
    torch = pytest.importorskip("torch")
    x = np.array([19.5, 20.5, 21.5])
    out = F.softplus(td.tensor(x)).numpy()
    np.testing.assert_array_equal(out, torch.nn.functional.softplus(torch.tensor(x)).numpy())
    assert out[1] == 20.5


def test_nll_loss_on_a_3d_input_points_to_cross_entropy():
    with pytest.raises(ValueError, match=r"^nll_loss takes \(N, C\) or \(C,\) log-probabilities, got shape "
                                         r"\(2, 3, 4\); for \(N, C, d1, \.\.\.\) inputs use cross_entropy$"):
        F.nll_loss(td.zeros(2, 3, 4), np.zeros((2, 4), dtype=np.int64))


def test_a_float32_input_with_a_float64_target_gives_a_float64_loss_as_torch():
    torch = pytest.importorskip("torch")
    x, y = np.array([1.0, 2.0, 3.0], np.float32), np.array([0.5, 2.0, 1.0])
    loss = F.mse_loss(td.tensor(x), td.tensor(y))
    ref = torch.nn.functional.mse_loss(torch.tensor(x), torch.tensor(y))
    assert loss.dtype == np.float64 and ref.dtype == torch.float64
    assert loss.item() == pytest.approx(ref.item(), rel=1e-15)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"])
def test_regression_losses_name_themselves_when_shapes_differ(name):
    with pytest.warns(UserWarning, match=rf"^{name}: input shape \(3,\) and target shape \(3, 1\) differ and will "
                                         r"broadcast, which is rarely intended$"):
        getattr(F, name)(td.zeros(3), td.zeros(3, 1))


@pytest.mark.parametrize("name", ["binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_binary_losses_refuse_a_target_of_another_shape(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=rf"^{name}: target shape \(3, 1\) differs from input shape \(3,\); "
                                             r"they must be the same$"):
            getattr(F, name)(td.full((3,), 0.5), td.zeros(3, 1))


def test_smooth_l1_loss_defaults_to_the_mean():
    torch = pytest.importorskip("torch")
    x, y = np.array([0.2, -3.0, 1.5, 0.0]), np.array([0.0, 0.0, 1.0, 2.5])
    loss = F.smooth_l1_loss(td.tensor(x), td.tensor(y))
    assert loss.item() == pytest.approx(torch.nn.functional.smooth_l1_loss(torch.tensor(x), torch.tensor(y)).item(),
                                        rel=1e-15)
    assert loss.item() == pytest.approx(F.smooth_l1_loss(td.tensor(x), td.tensor(y), reduction="sum").item() / 4)


@pytest.mark.parametrize("name", ["binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_changing_a_loss_weight_after_forward_does_not_change_the_gradient(name):
    """The weight array is copied when the loss is built, like a dropout mask."""
    def grad_of_loss(weight, change_after_forward):
        x = td.tensor(np.array([0.2, 0.7, 0.4]), requires_grad=True)
        loss = getattr(F, name)(x, np.array([0.0, 1.0, 1.0]), weight=weight, reduction="sum")
        if change_after_forward:
            weight[:] = 100.0
        loss.backward()
        return x.grad

    np.testing.assert_array_equal(grad_of_loss(np.array([1.0, 2.0, 3.0]), True),
                                  grad_of_loss(np.array([1.0, 2.0, 3.0]), False))


def test_one_hot_of_a_list_matches_torch():
    torch = pytest.importorskip("torch")
    out = F.one_hot([0, 2, 1])
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.numpy(), torch.nn.functional.one_hot(torch.tensor([0, 2, 1])).numpy())


def test_one_hot_of_no_labels_has_no_classes():
    """torch refuses to infer a class count from an empty tensor; here it is 0, and the result is empty."""
    out = F.one_hot(np.zeros(0, dtype=np.int64))
    assert out.shape == (0, 0)
    assert F.one_hot(np.zeros((2, 0), dtype=np.int64), num_classes=3).shape == (2, 0, 3)


def test_embedding_names_the_index_that_is_out_of_range():
    weight = td.zeros(5, 3)
    with pytest.raises(IndexError, match=r"^embedding: index -1 is out of range for 5 embeddings "
                                         r"\(indices must be in \[0, 4\]\)$"):
        F.embedding(np.array([4, -1]), weight)
    with pytest.raises(IndexError, match=r"^embedding: index 5 is out of range for 5 embeddings "
                                         r"\(indices must be in \[0, 4\]\)$"):
        F.embedding(td.tensor(np.array([[0, 5]])), weight)


def test_avg_pool2d_pads_nothing_by_default():
    torch = pytest.importorskip("torch")
    x = np.arange(32.0).reshape(1, 2, 4, 4)
    out = F.avg_pool2d(td.tensor(x), 2)
    np.testing.assert_allclose(out.numpy(), torch.nn.functional.avg_pool2d(torch.tensor(x), 2).numpy(), rtol=1e-15)


@pytest.mark.parametrize("size", [1, (1, 1), [1, 1]])
def test_adaptive_avg_pool2d_takes_1_as_an_int_tuple_or_list(size):
    x = np.arange(24.0).reshape(1, 2, 3, 4)
    out = F.adaptive_avg_pool2d(td.tensor(x), size)
    np.testing.assert_allclose(out.numpy(), x.mean(axis=(2, 3), keepdims=True), rtol=1e-15)


def test_layer_norm_default_eps_matches_torch_on_a_small_variance():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal((2, 5)) * 1e-2
    out = F.layer_norm(td.tensor(x), 5)
    np.testing.assert_allclose(out.numpy(), torch.nn.functional.layer_norm(torch.tensor(x), (5,)).numpy(),
                               rtol=1e-10, atol=1e-12)


def test_layer_norm_names_a_bias_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"^layer_norm: bias of shape \(4,\) must have normalized_shape \(5,\)$"):
        F.layer_norm(td.zeros(2, 5), 5, weight=td.ones(5), bias=td.zeros(4))


def test_one_hot_refuses_a_class_equal_to_num_classes():
    with pytest.raises(ValueError, match=r"^one_hot: class value 3 is not smaller than num_classes=3$"):
        F.one_hot(np.array([0, 3]), num_classes=3)
    np.testing.assert_array_equal(F.one_hot(np.array([0, 2]), num_classes=3).numpy(), [[1, 0, 0], [0, 0, 1]])


def test_batch_norm_defaults_match_torch():
    """training=False, momentum=0.1 and eps=1e-5 by default, as torch's F.batch_norm."""
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).standard_normal((4, 3, 2)) * 1e-2
    mean, var = np.array([0.1, -0.2, 0.0]), np.array([1e-4, 2e-4, 5e-5])
    out = F.batch_norm(td.tensor(x), td.tensor(mean.copy()), td.tensor(var.copy()))
    ref = torch.nn.functional.batch_norm(torch.tensor(x), torch.tensor(mean), torch.tensor(var))
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-10)
    rm, rv, rm_t, rv_t = td.tensor(mean.copy()), td.tensor(var.copy()), torch.tensor(mean), torch.tensor(var)
    F.batch_norm(td.tensor(x), rm, rv, training=True)
    torch.nn.functional.batch_norm(torch.tensor(x), rm_t, rv_t, training=True)
    np.testing.assert_allclose(rm.numpy(), rm_t.numpy(), rtol=1e-12)
    np.testing.assert_allclose(rv.numpy(), rv_t.numpy(), rtol=1e-12)


def test_pooling_names_a_bad_padding():
    with pytest.raises(ValueError, match=r"^padding must be a non-negative int or a pair of them, got -1$"):
        F.max_pool2d(td.zeros(1, 1, 4, 4), 2, padding=-1)
