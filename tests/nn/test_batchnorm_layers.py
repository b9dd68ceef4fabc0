"""Tests for BatchNorm1d/2d: torch's behaviour over training steps, buffers, state_dict and modes."""

import numpy as np
import pytest
from helpers import host

import tinygrad_drop as td
from tinygrad_drop import nn

CASES = [(nn.BatchNorm1d, "BatchNorm1d", (6, 4)), (nn.BatchNorm1d, "BatchNorm1d", (5, 4, 3)),
         (nn.BatchNorm2d, "BatchNorm2d", (3, 4, 2, 5))]


@pytest.mark.parametrize("dtype", [td.float32, td.float64])
@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("layer, name, shape", CASES)
def test_training_steps_then_eval_match_torch(layer, name, shape, momentum, dtype, device):
    torch = pytest.importorskip("torch")
    tol = 1e-4 if dtype == td.float32 else 1e-10
    rng = np.random.default_rng(0)
    theirs = getattr(torch.nn, name)(4, momentum=momentum).to(getattr(torch, np.dtype(dtype).name))
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(rng.standard_normal(4)))
        theirs.bias.copy_(torch.tensor(rng.standard_normal(4)))
    ours = layer(4, momentum=momentum, dtype=dtype, device=device)
    ours.load_state_dict(theirs.state_dict())
    for mode in ("train", "train", "train", "eval"):
        getattr(ours, mode)(), getattr(theirs, mode)()
        x = (rng.standard_normal(shape) * 3 + 2).astype(dtype)
        g = rng.standard_normal(shape).astype(dtype)
        ours.zero_grad(), theirs.zero_grad()
        tx = torch.tensor(x, requires_grad=True)
        ox = td.Tensor(x, requires_grad=True, device=device)
        y, ty = ours(ox), theirs(tx)
        y.backward(td.Tensor(g, device=device)), ty.backward(torch.tensor(g))
        np.testing.assert_allclose(host(y), ty.detach().numpy(), rtol=tol, atol=tol)
        np.testing.assert_allclose(host(ox.grad), tx.grad.numpy(), rtol=tol, atol=tol)
        for key, value in theirs.state_dict().items():
            np.testing.assert_allclose(host(ours.state_dict()[key]), value.numpy(), rtol=tol, atol=tol, err_msg=key)
        np.testing.assert_allclose(host(ours.weight.grad), theirs.weight.grad.numpy(), rtol=tol, atol=tol)
        np.testing.assert_allclose(host(ours.bias.grad), theirs.bias.grad.numpy(), rtol=tol, atol=tol)


def test_state_dict_keys_and_types_are_torchs():
    layer = nn.BatchNorm2d(3)
    assert list(layer.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    assert layer.num_batches_tracked.dtype == np.int64 and layer.num_batches_tracked.shape == ()
    layer.double()
    assert layer.running_var.dtype == td.float64 and layer.num_batches_tracked.dtype == np.int64


def test_a_torch_state_dict_loads_inside_a_model():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU())
    for _ in range(3):  # move the running statistics away from their start
        theirs(torch.randn(8, 1, 6, 6))
    theirs.eval()
    ours = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU()).eval()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict())
    assert int(ours[1].num_batches_tracked.numpy()) == 3
    x = np.random.default_rng(0).standard_normal((2, 1, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(ours(td.Tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), atol=1e-5)


def test_momentum_none_is_a_cumulative_average():
    layer = nn.BatchNorm1d(2, momentum=None)
    batches = [np.random.default_rng(i).standard_normal((10, 2)) for i in range(4)]
    for b in batches:
        layer(td.Tensor(b, dtype=td.float32))
    np.testing.assert_allclose(layer.running_mean.numpy(), np.mean([b.mean(axis=0) for b in batches], axis=0),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.running_var.numpy(), np.mean([b.var(axis=0, ddof=1) for b in batches], axis=0),
                               rtol=1e-5)
    assert int(layer.num_batches_tracked.numpy()) == 4


def test_eval_mode_does_not_touch_the_running_statistics():
    layer = nn.BatchNorm1d(3).eval()
    x = td.randn(5, 3) + 2
    y = layer(x)
    np.testing.assert_array_equal(layer.running_mean.numpy(), 0.0)
    assert int(layer.num_batches_tracked.numpy()) == 0
    np.testing.assert_allclose(y.numpy(), x.numpy() / np.sqrt(1 + 1e-5), rtol=1e-6)  # running mean 0, var 1


def test_without_running_stats_the_batch_statistics_are_used_in_eval_too():
    layer = nn.BatchNorm1d(3, track_running_stats=False, affine=False).eval()
    assert list(layer.state_dict()) == [] and layer.running_mean is None
    y = layer(td.randn(50, 3) * 4 + 3).numpy()
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.std(axis=0), 1.0, rtol=1e-3)


def test_reset_running_stats_and_repr():
    layer = nn.BatchNorm2d(2)
    layer(td.randn(4, 2, 3, 3) + 5)
    layer.reset_running_stats()
    np.testing.assert_array_equal(layer.running_mean.numpy(), 0.0)
    np.testing.assert_array_equal(layer.running_var.numpy(), 1.0)
    assert int(layer.num_batches_tracked.numpy()) == 0
    assert repr(layer) == "BatchNorm2d(2, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"


def test_batchnorm_errors():
    with pytest.raises(ValueError, match="expects a 4-D input"):
        nn.BatchNorm2d(3)(td.zeros(4, 3))
    with pytest.raises(ValueError, match="got an input with 2 channels"):
        nn.BatchNorm1d(3)(td.zeros(4, 2))
    with pytest.raises(ValueError, match="momentum must be between 0 and 1"):
        nn.BatchNorm1d(3, momentum=1.5)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(td.zeros(1, 3))
