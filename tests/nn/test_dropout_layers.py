"""Tests for the dropout-family layers: structured masks (Dropout1d/2d/3d, LockedDropout, DropPath),
their PyTorch shape rules and warnings, train/eval behaviour, reprs and the depth schedule."""

import math
import warnings

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tinygrad_drop import nn

SHAPES = [(3,), (3, 4), (3, 4, 5), (3, 4, 5, 6), (3, 4, 5, 6, 7), (3, 4, 5, 6, 7, 8)]


def _shared_axes(y):
    """The axes along which every slice of y is the same (where one mask value is shared)."""
    return [ax for ax in range(y.ndim) if y.shape[ax] > 1 and np.all(y == np.take(y, [0], axis=ax))]


def _channel_output(fn, shape):
    """fn applied to ones of `shape` (large enough that no axis is all-kept or all-dropped by chance)."""
    big = tuple(20 if i < 2 else s for i, s in enumerate(shape))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(td.ones(*big), 0.5).numpy()


# PyTorch's rules, measured with torch 2.x on ones: the axes that share one mask value
@pytest.mark.parametrize(
    "fn, shape, shared",
    [(F.dropout1d, (3, 4), [1]), (F.dropout1d, (3, 4, 5), [2]),
     (F.dropout2d, (3, 4), []), (F.dropout2d, (3, 4, 5), [2]), (F.dropout2d, (3, 4, 5, 6), [2, 3]),
     (F.dropout2d, (3, 4, 5, 6, 7), [2, 3, 4]),
     (F.dropout3d, (3,), []), (F.dropout3d, (3, 4), [1]), (F.dropout3d, (3, 4, 5), [1, 2]),
     (F.dropout3d, (3, 4, 5, 6), [1, 2, 3]), (F.dropout3d, (3, 4, 5, 6, 7), [2, 3, 4]),
     (F.dropout3d, (3, 4, 5, 6, 7, 8), [1, 2, 3, 4, 5])],
)
def test_channel_dropout_shares_the_mask_as_pytorch_does(fn, shape, shared):
    assert _shared_axes(_channel_output(fn, shape)) == shared


def test_channel_dropout_matches_torch_sharing():
    torch = pytest.importorskip("torch")
    for ours, theirs in ((F.dropout2d, torch.nn.functional.dropout2d), (F.dropout3d, torch.nn.functional.dropout3d)):
        for shape in SHAPES[1:]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                big = tuple(20 if i < 2 else s for i, s in enumerate(shape))
                expected = _shared_axes(theirs(torch.ones(big), 0.5, True).numpy())
            assert _shared_axes(_channel_output(ours, shape)) == expected, (ours.__name__, shape)


@pytest.mark.parametrize("shape", [(3,), (3, 4, 5, 6)])
def test_dropout1d_rejects_other_ranks_naming_the_shape(shape):
    with pytest.raises(ValueError, match=str(shape).replace("(", r"\(").replace(")", r"\)")):
        F.dropout1d(td.ones(*shape))
    with pytest.raises(ValueError, match="channel axis"), pytest.warns(UserWarning, match="1-D"):
        F.dropout2d(td.ones(3))


def test_dropout2d_and_3d_warn_like_pytorch():
    with pytest.warns(UserWarning, match=r"reads it as \(N, C, L\)"):
        F.dropout2d(td.ones(2, 3, 4))
    with pytest.warns(UserWarning, match="2-D input"):
        F.dropout2d(td.ones(2, 3))
    with pytest.warns(UserWarning, match="3-D input"):
        F.dropout3d(td.ones(2, 3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.dropout2d(td.ones(2, 3, 4, 5))
        F.dropout3d(td.ones(2, 3, 4, 5))
        F.dropout3d(td.ones(2, 3, 4, 5, 6))


def test_channel_dropout_scales_kept_channels_and_gradchecks(device):
    y = F.dropout2d(td.ones(8, 6, 3, 3, device=device), 0.5).numpy()
    assert set(np.unique(y)) == {0.0, 2.0}
    x = td.randn(2, 3, 2, 2, dtype=td.float64, requires_grad=True, device=device)
    assert td.gradcheck(lambda x: F.dropout2d(x, 0.5) * x, [x])


@pytest.mark.parametrize("batch_first, time_axis", [(False, 0), (True, 1)])
def test_locked_dropout_uses_one_mask_for_every_time_step(batch_first, time_axis):
    layer = nn.LockedDropout(0.5, batch_first=batch_first)
    y = layer(td.ones(12, 10, 16)).numpy()
    assert _shared_axes(y) == [time_axis]
    assert repr(layer) == f"LockedDropout(p=0.5, batch_first={batch_first})"


@pytest.mark.parametrize("mode, shared", [("row", [1, 2]), ("batch", [0, 1, 2])])
def test_drop_path_drops_whole_samples_or_the_whole_batch(mode, shared):
    y = F.drop_path(td.ones(64, 3, 4), 0.5, mode=mode).numpy()
    assert _shared_axes(y) == shared or (mode == "batch" and len(np.unique(y)) == 1)
    assert set(np.unique(y)) <= {0.0, 2.0}


def test_drop_path_on_a_residual_branch_keeps_the_expectation():
    # 10^5 samples; each output is x + m / (1 - p) * branch with branch = 1: mean 1 + 1, std sqrt(p / (1 - p))
    p, n = 0.2, 10**5
    x = td.ones(n, 4)
    y = (x + nn.DropPath(p)(td.ones(n, 4))).numpy()[:, 0]
    assert abs(y.mean() - 2.0) <= 5 * math.sqrt(p / (1 - p) / n)
    assert nn.DropPath(p).eval()(x) is x


def test_drop_path_errors_and_repr():
    with pytest.raises(ValueError, match="'rows'"):
        nn.DropPath(0.1, mode="rows")
    with pytest.raises(ValueError, match="'col'"):
        F.drop_path(td.ones(3), 0.1, mode="col")
    with pytest.raises(ValueError, match="0-D"):
        F.drop_path(td.tensor(1.0), 0.1)
    assert repr(nn.DropPath(0.1)) == "DropPath(p=0.1, mode='row')"


def test_drop_path_schedule_is_linear_in_depth():
    assert nn.drop_path_schedule(4, 0.2) == pytest.approx([0.05, 0.1, 0.15, 0.2])
    with pytest.raises(ValueError, match="depth"):
        nn.drop_path_schedule(0, 0.2)
    with pytest.raises(ValueError, match="p=1.5"):
        nn.drop_path_schedule(3, 1.5)


LAYERS = [nn.Dropout1d(0.5), nn.Dropout2d(0.5), nn.Dropout3d(0.5), nn.AlphaDropout(0.5),
          nn.FeatureAlphaDropout(0.5), nn.GaussianDropout(0.5), nn.LockedDropout(0.5), nn.DropPath(0.5)]


@pytest.mark.parametrize("layer", LAYERS, ids=lambda m: type(m).__name__)
def test_each_layer_is_random_in_training_and_the_identity_in_eval(layer):
    x = td.randn(4, 6, 5, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Dropout1d's rank rule is tested above
        if isinstance(layer, nn.Dropout1d):
            x = x.reshape(4, 6, 25)
        y1, y2 = layer.train()(x).numpy(), layer(x).numpy()
    assert not np.array_equal(y1, x.numpy()) and not np.array_equal(y1, y2)
    assert layer.eval()(x) is x
    assert list(layer.parameters()) == []
    assert repr(layer).startswith(f"{type(layer).__name__}(p=0.5")


@pytest.mark.parametrize("cls", [nn.Dropout2d, nn.AlphaDropout, nn.DropPath, nn.LockedDropout])
def test_layers_reject_bad_p(cls):
    with pytest.raises(ValueError, match="p=-0.1"):
        cls(-0.1)


def test_gaussian_dropout_rejects_p_one_when_built():
    with pytest.raises(ValueError, match="infinite noise variance.*use p < 1"):
        nn.GaussianDropout(1.0)


def test_dropconnect_linear_layer():
    td.manual_seed(0)
    layer = nn.DropConnectLinear(5, 3, p=0.5)
    td.manual_seed(0)
    plain = nn.Linear(5, 3)
    np.testing.assert_array_equal(layer.weight.numpy(), plain.weight.numpy())  # Linear's initialisation
    x = td.randn(4, 5)
    assert not np.allclose(layer(x).numpy(), plain(x).numpy())
    np.testing.assert_array_equal(layer.eval()(x).numpy(), plain(x).numpy())
    assert repr(layer) == "DropConnectLinear(in_features=5, out_features=3, bias=True, p=0.5)"
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]


def test_dropconnect_model_gradcheck_names_parameters():
    model = nn.Sequential(nn.DropConnectLinear(4, 6, p=0.3), nn.ReLU(), nn.Linear(6, 2)).double()
    x = td.randn(3, 4, dtype=td.float64)
    assert td.gradcheck(lambda x: F.cross_entropy(model(x), np.array([0, 1, 1])), [x], params=model)
