"""Tests for dropout's mask_storage: "bool" saves the mask, "recompute" draws it again in backward."""

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tinygrad_drop import backend
from tinygrad_drop.random import Draw


def _forward_backward(mask_storage, device, shape=(8, 16), p=0.4, dtype=td.float32, **kwargs):
    """y and dL/dx for dropout of a fixed input with a fixed seed and a fixed upstream gradient."""
    rng = np.random.default_rng(0)
    x = td.tensor(rng.standard_normal(shape), dtype=dtype, requires_grad=True, device=device)
    td.manual_seed(21)
    y = F.dropout(x, p=p, mask_storage=mask_storage, **kwargs)
    y.backward(rng.standard_normal(shape))
    return y.numpy(), backend.to_numpy(x.grad)


@pytest.mark.parametrize("shape", [(8, 16), (3, 5, 7), (1,), ()])
@pytest.mark.parametrize("p", [0.1, 0.5, 1.0])
@pytest.mark.parametrize("dtype", [td.float32, td.float64])
def test_recompute_gives_the_same_output_and_gradient_as_bool(shape, p, dtype, device):
    y_bool, grad_bool = _forward_backward("bool", device, shape, p, dtype)
    y_re, grad_re = _forward_backward("recompute", device, shape, p, dtype)
    assert y_re.tobytes() == y_bool.tobytes() and grad_re.tobytes() == grad_bool.tobytes()


def test_recompute_with_a_shared_mask_matches_bool(device):
    kwargs = {"shape": (4, 6, 5), "broadcast_dims": (0, 2)}
    recomputed, saved = _forward_backward("recompute", device, **kwargs), _forward_backward("bool", device, **kwargs)
    for got, expected in zip(recomputed, saved, strict=True):
        np.testing.assert_array_equal(got, expected)


def test_recompute_saves_no_array_and_bool_saves_one_byte_per_element(device):
    x = td.randn(32, 64, requires_grad=True, device=device)
    (saved,) = F.dropout(x, p=0.5, mask_storage="recompute")._ctx.saved_tensors
    assert isinstance(saved, Draw) and saved.kind == "keep_mask" and saved.shape == (32, 64)
    (saved,) = F.dropout(x, p=0.5)._ctx.saved_tensors
    assert saved.dtype == bool and saved.nbytes == 32 * 64


def test_recompute_does_not_depend_on_draws_made_before_backward(device):
    x = td.randn(10, 10, requires_grad=True, device=device)
    y, mask = F.dropout(x, p=0.5, mask_storage="recompute", return_mask=True)
    td.randn(1000)  # the generator moves on before backward
    td.manual_seed(99)
    y.sum().backward()
    np.testing.assert_array_equal(backend.to_numpy(x.grad), backend.to_numpy(mask) * np.float32(2.0))


def test_recompute_backward_twice_with_retain_graph(device):
    x = td.randn(6, 7, requires_grad=True, device=device)
    y = F.dropout(x, p=0.3, mask_storage="recompute")
    y.sum().backward(retain_graph=True)
    first = backend.to_numpy(x.grad).copy()
    y.sum().backward()
    np.testing.assert_array_equal(backend.to_numpy(x.grad), 2 * first)


def test_a_given_mask_is_saved_as_given_under_recompute():
    mask = np.array([True, False, True])
    y = F.dropout(td.ones(3, requires_grad=True), p=0.5, mask=mask, mask_storage="recompute")
    (saved,) = y._ctx.saved_tensors
    np.testing.assert_array_equal(saved, mask)


def test_recompute_passes_gradcheck(device):
    x = td.randn(5, 6, dtype=td.float64, requires_grad=True, device=device)
    assert td.gradcheck(lambda x: F.dropout(x, p=0.4, mask_storage="recompute") * x, [x])


@pytest.mark.parametrize("mask_storage", ["uint8", "bits", None, "Recompute"])
def test_unknown_mask_storage_is_a_value_error_even_in_eval(mask_storage):
    for training in (True, False):
        with pytest.raises(ValueError, match="mask_storage must be 'bool' or 'recompute'"):
            F.dropout(td.ones(3), p=0.5, training=training, mask_storage=mask_storage)
