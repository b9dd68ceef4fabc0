"""LayerNorm: normalised rows, gradcheck with and without affine parameters, torch agreement, errors."""

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tests.helpers import host, leaf, randn
from tests.torch_check import matches_torch
from tinygrad_drop.ops import blocks
from tinygrad_drop.ops.layernorm import LayerNorm


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


def _normalized_shape_tuple(normalized_shape):
    return (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)


@pytest.mark.parametrize("blocked", [False, True])
@pytest.mark.parametrize("eps", [1e-5, 0.3])
@pytest.mark.parametrize("affine", ["none", "weight", "bias", "both"])
@pytest.mark.parametrize("normalized_shape", [6, (6,), [3, 6], (2, 3, 6)])
def test_layer_norm_matches_torch_in_float64_for_every_form(normalized_shape, affine, eps, blocked, monkeypatch):
    """Values and gradients of x, weight and bias equal torch's: int/tuple/list shapes, eps, affine or not, blocks."""
    torch = pytest.importorskip("torch")
    if blocked:  # rows of 6 go 2 to a block; rows of 18 and 36 are wider than a block and go one at a time
        monkeypatch.setattr(blocks, "BLOCK_ELEMENTS", 12)
    shape = _normalized_shape_tuple(normalized_shape)
    arrays = [randn((4, 2, 3, 6)) * 2 + 0.5]
    arrays += [randn(shape, seed=1) + 1] if affine in ("weight", "both") else []
    arrays += [randn(shape, seed=2)] if affine in ("bias", "both") else []

    def split(wb):
        weight = wb[0] if affine in ("weight", "both") else None
        bias = wb[-1] if affine in ("bias", "both") else None
        return weight, bias

    matches_torch(lambda x, *wb: F.layer_norm(x, normalized_shape, *split(wb), eps=eps),
                  lambda x, *wb: torch.nn.functional.layer_norm(x, shape, *split(wb), eps=eps),  # torch: no int
                  arrays, td.float64, rtol=1e-12, atol=1e-13)


def test_the_layer_norm_op_alone_normalises_the_last_axis_with_eps_1e_5():
    """LayerNorm.apply(x) with no other argument is torch's layer_norm over the last axis with its default eps."""
    torch = pytest.importorskip("torch")
    x = randn((2, 3, 4)) * 0.01  # variance 1e-4, so eps = 1e-5 shows in the result
    expected = torch.nn.functional.layer_norm(torch.from_numpy(x), (4,)).numpy()
    np.testing.assert_allclose(LayerNorm.apply(td.Tensor(x)).numpy(), expected, rtol=1e-12, atol=1e-13)


def test_layer_norm_promotes_to_the_dtype_of_a_float64_bias():
    """float32 input, float64 bias: the result is float64, the float32 scaled rows plus the bias, not rounded back."""
    x = td.Tensor(randn((3, 5)).astype(np.float32))
    weight = td.Tensor(randn(5, seed=1).astype(np.float32))
    bias = td.Tensor(randn(5, seed=2) * 1e-3 + 1 / 3, requires_grad=True)
    y = F.layer_norm(x, 5, weight, bias)
    assert y.dtype == np.float64
    scaled = F.layer_norm(x, 5, weight).numpy()
    assert scaled.dtype == np.float32
    np.testing.assert_array_equal(y.numpy(), scaled.astype(np.float64) + bias.numpy())
    y.sum().backward()
    assert bias.grad.dtype == np.float64
    np.testing.assert_array_equal(bias.grad, np.full(5, 3.0))


@pytest.mark.parametrize("needs", [(True, False, False), (False, True, False), (False, False, True),
                                   (True, True, False), (False, True, True), (True, True, True)])
def test_layer_norm_backward_returns_none_for_each_input_that_needs_no_gradient(needs):
    """The backward contract: a gradient for each input that requires one, None for the others."""
    x, weight, bias = (td.Tensor(randn(shape, seed=i), requires_grad=need)
                       for i, (shape, need) in enumerate(zip([(3, 4), (4,), (4,)], needs, strict=True)))
    out = F.layer_norm(x, 4, weight, bias)
    grads = out._ctx.backward(out._ctx, np.ones(out.shape))
    assert len(grads) == 3
    for tensor, need, grad in zip((x, weight, bias), needs, grads, strict=True):
        assert (grad is None) == (not need)
        if need:
            assert grad.shape == tensor.shape and grad.dtype == tensor.dtype
