"""LayerNorm: normalised rows, gradcheck with and without affine parameters, torch agreement, errors."""

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tests.helpers import host, leaf, randn
from tests.torch_check import matches_torch


def test_layer_norm_rows_have_zero_mean_unit_variance(device):
    x = td.Tensor(randn((3, 4, 8)) * 5 + 2, dtype=td.float64, device=device)
    y = host(F.layer_norm(x, 8, eps=0.0))
    np.testing.assert_allclose(y.mean(axis=-1), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=-1), 1, rtol=1e-12)


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("normalized_shape", [(5,), (4, 5)])
def test_layer_norm_gradcheck(affine, normalized_shape, device):
    x = leaf(randn((3, 4, 5)), device)
    params = [leaf(randn(normalized_shape, seed=s), device) for s in (1, 2)] if affine else []
    assert td.gradcheck(lambda x, *wb: F.layer_norm(x, normalized_shape, *wb), [x, *params])


def test_layer_norm_weight_only_gradcheck(device):
    x, w = leaf(randn((3, 5)), device), leaf(randn(5, seed=1), device)
    assert td.gradcheck(lambda x, w: F.layer_norm(x, (5,), weight=w), [x, w])


@pytest.mark.parametrize("dtype", [td.float32, td.float64])
@pytest.mark.parametrize("normalized_shape", [(6,), (3, 6)])
def test_layer_norm_matches_torch(dtype, normalized_shape):
    torch = pytest.importorskip("torch")
    shape = normalized_shape
    matches_torch(lambda x, w, b: F.layer_norm(x, shape, w, b, eps=1e-5),
                  lambda x, w, b: torch.nn.functional.layer_norm(x, shape, w, b, eps=1e-5),
                  [randn((2, 3, 6)) * 3 + 1, randn(shape, seed=1), randn(shape, seed=2)], dtype)


def test_layer_norm_module_matches_torch_module():
    torch = pytest.importorskip("torch")
    layer, ref = td.nn.LayerNorm(6), torch.nn.LayerNorm(6)
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    np.testing.assert_array_equal(layer.weight.numpy(), ref.weight.detach().numpy())
    np.testing.assert_array_equal(layer.bias.numpy(), ref.bias.detach().numpy())
    x = randn((4, 6)).astype(np.float32)
    np.testing.assert_allclose(layer(td.Tensor(x)).numpy(), ref(torch.from_numpy(x)).detach().numpy(), atol=1e-6)
    assert td.nn.LayerNorm(6, elementwise_affine=False).weight is None
    assert td.nn.LayerNorm(6, bias=False).bias is None
    assert "eps=1e-05" in repr(layer)


def test_layer_norm_errors():
    with pytest.raises(ValueError, match=r"normalized_shape \(4,\) must be the last axes of the input's shape"):
        F.layer_norm(td.randn(2, 3), 4)
    with pytest.raises(ValueError, match=r"weight of shape \(2,\) must have normalized_shape \(3,\)"):
        F.layer_norm(td.randn(2, 3), 3, weight=td.ones(2))
