"""Tests for the BatchNorm op (F.batch_norm): finite differences, torch's values and gradients, running statistics."""

import numpy as np
import pytest
from helpers import host, leaf, randn

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F

SHAPES = [(6, 3), (4, 3, 5), (3, 3, 2, 4)]


def _stats(device, channels=3):
    """Running mean and variance buffers (float64) that are not all zeros and ones."""
    mean = td.Tensor(randn((channels,), 7), dtype=td.float64, device=device)
    var = td.Tensor(np.abs(randn((channels,), 8)) + 0.5, dtype=td.float64, device=device)
    return mean, var


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_gradcheck(shape, training, affine, device):
    x = leaf(randn(shape, 1) * 2 + 1, device)
    w, b = (leaf(randn((3,), 2), device), leaf(randn((3,), 3), device)) if affine else (None, None)
    mean, var = _stats(device)
    # momentum 0: the running statistics stay put while the check evaluates the function many times
    assert td.gradcheck(lambda x, w, b: F.batch_norm(x, mean, var, w, b, training, momentum=0.0), (x, w, b))


@pytest.mark.parametrize("dtype", [td.float32, td.float64])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_matches_torch(shape, training, dtype, device):
    torch = pytest.importorskip("torch")
    tol = 1e-4 if dtype == td.float32 else 1e-10
    tdtype = getattr(torch, np.dtype(dtype).name)
    arrays = [randn(shape, 1) * 2 + 1, randn((3,), 2), randn((3,), 3)]
    mean0, var0 = randn((3,), 7), np.abs(randn((3,), 8)) + 0.5
    ours = [td.Tensor(a, dtype=dtype, requires_grad=True, device=device) for a in arrays]
    theirs = [torch.tensor(a, dtype=tdtype, requires_grad=True) for a in arrays]
    mean, var = td.Tensor(mean0, dtype=dtype, device=device), td.Tensor(var0, dtype=dtype, device=device)
    tmean, tvar = torch.tensor(mean0, dtype=tdtype), torch.tensor(var0, dtype=tdtype)
    y = F.batch_norm(ours[0], mean, var, ours[1], ours[2], training, 0.3, 1e-5)
    ty = torch.nn.functional.batch_norm(theirs[0], tmean, tvar, theirs[1], theirs[2], training, 0.3, 1e-5)
    np.testing.assert_allclose(host(y), ty.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(host(mean), tmean.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(host(var), tvar.numpy(), rtol=tol, atol=tol)
    g = randn(shape, 9)
    y.backward(td.Tensor(g, dtype=dtype, device=device))
    ty.backward(torch.tensor(g, dtype=tdtype))
    for a, t in zip(ours, theirs, strict=True):
        assert a.grad.dtype == dtype
        np.testing.assert_allclose(host(a.grad), t.grad.numpy(), rtol=tol, atol=tol)


def test_running_variance_is_unbiased_and_normalisation_biased():
    x = randn((8, 2), 1)
    mean, var = td.zeros(2, dtype=td.float64), td.ones(2, dtype=td.float64)
    y = F.batch_norm(td.tensor(x), mean, var, training=True, momentum=1.0, eps=0.0)
    np.testing.assert_allclose(var.numpy(), x.var(axis=0, ddof=1))
    np.testing.assert_allclose(mean.numpy(), x.mean(axis=0))
    np.testing.assert_allclose(y.numpy(), (x - x.mean(axis=0)) / x.std(axis=0), atol=1e-12)


def test_eval_uses_the_running_statistics_and_leaves_them():
    mean, var = td.tensor([1.0, -1.0]), td.tensor([4.0, 0.25])
    y = F.batch_norm(td.tensor([[3.0, 0.0]]), mean, var, training=False, eps=0.0)
    np.testing.assert_allclose(y.numpy(), [[1.0, 2.0]])
    np.testing.assert_array_equal(mean.numpy(), [1.0, -1.0])


def test_batch_statistics_without_running_buffers():
    x = randn((5, 3, 2))
    y = F.batch_norm(td.tensor(x), None, None, training=True, eps=0.0)
    np.testing.assert_allclose(y.numpy().mean(axis=(0, 2)), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.numpy().var(axis=(0, 2)), 1.0)


def test_batch_norm_errors():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(td.zeros(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match="needed when training=False"):
        F.batch_norm(td.zeros(4, 3), None, None, training=False)
    with pytest.raises(ValueError, match=r"weight of shape \(2,\) does not fit"):
        F.batch_norm(td.zeros(4, 3), None, None, td.ones(2), training=True)
    with pytest.raises(ValueError, match=r"expects an \(N, C, ...\) input"):
        F.batch_norm(td.zeros(4), None, None, training=True)


@pytest.mark.parametrize("position", ["weight", "bias", "running_mean", "running_var"])
def test_a_per_channel_argument_of_the_wrong_shape_is_named(position):
    arguments = {"running_mean": None, "running_var": None, position: td.ones(2)}
    with pytest.raises(ValueError) as info:
        F.batch_norm(td.zeros(4, 3), training=True, **arguments)
    assert str(info.value) == (f"batch_norm: {position} of shape (2,) does not fit an input of shape (4, 3): "
                               "expected (3,), one value per channel (axis 1)")


def test_two_values_per_channel_are_enough_to_train_on():
    torch = pytest.importorskip("torch")
    x = randn((2, 3))
    y = F.batch_norm(td.tensor(x), None, None, training=True)
    expected = torch.nn.functional.batch_norm(torch.from_numpy(x), None, None, training=True)
    np.testing.assert_allclose(y.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("missing", ["running_mean", "running_var"])
def test_eval_needs_both_running_statistics(missing):
    mean, var = _stats("cpu")
    arguments = {"running_mean": mean, "running_var": var, missing: None}
    with pytest.raises(ValueError) as info:
        F.batch_norm(td.zeros(4, 3, dtype=td.float64), training=False, **arguments)
    assert str(info.value) == "batch_norm: running_mean and running_var are needed when training=False"


@pytest.mark.parametrize("trained", ["weight", "bias"])
def test_only_the_affine_parameter_that_requires_grad_gets_one(trained):
    torch = pytest.importorskip("torch")
    x, w, b = randn((5, 3, 2), 1), randn((3,), 2), randn((3,), 3)
    weight = td.Tensor(w, requires_grad=trained == "weight")
    bias = td.Tensor(b, requires_grad=trained == "bias")
    (F.batch_norm(td.tensor(x), None, None, weight, bias, training=True) ** 2).sum().backward()
    t_w = torch.tensor(w, requires_grad=trained == "weight")
    t_b = torch.tensor(b, requires_grad=trained == "bias")
    (torch.nn.functional.batch_norm(torch.from_numpy(x), None, None, t_w, t_b, training=True) ** 2).sum().backward()
    trained_pair = (weight, t_w) if trained == "weight" else (bias, t_b)
    np.testing.assert_allclose(trained_pair[0].grad, trained_pair[1].grad.numpy(), rtol=1e-10)
    frozen = bias if trained == "weight" else weight
    assert frozen.grad is None
