"""Embedding: row lookup, scatter-add gradient with repeated indices, errors, and agreement with torch."""

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tests.helpers import host, leaf, randn
from tests.torch_check import matches_torch

INDICES = np.array([[0, 3, 3], [1, 0, 3]])  # 3 appears three times, 0 twice: their gradients must accumulate


def test_embedding_picks_rows(device):
    weight = randn((4, 5))
    out = F.embedding(td.Tensor(INDICES, device=device), td.Tensor(weight, device=device))
    assert out.shape == (2, 3, 5)
    np.testing.assert_array_equal(host(out), weight[INDICES])


def test_embedding_gradient_accumulates_repeated_indices(device):
    weight = leaf(randn((4, 5)), device)
    F.embedding(INDICES, weight).sum().backward()
    counts = np.bincount(INDICES.ravel(), minlength=4)[:, None]
    np.testing.assert_array_equal(host(weight.grad), np.broadcast_to(counts, (4, 5)))


def test_embedding_gradcheck(device):
    weight = leaf(randn((4, 3)), device)
    assert td.gradcheck(lambda w: F.embedding(INDICES, w), [weight])


@pytest.mark.parametrize("dtype", [td.float32, td.float64])
def test_embedding_matches_torch(dtype):
    torch = pytest.importorskip("torch")
    indices = torch.from_numpy(INDICES)
    matches_torch(lambda w: F.embedding(INDICES, w), lambda w: torch.nn.functional.embedding(indices, w),
                  [randn((4, 5))], dtype)


def test_embedding_module():
    layer = td.nn.Embedding(10, 6)
    assert layer.weight.shape == (10, 6) and layer(np.array([[1, 2]])).shape == (1, 2, 6)
    assert abs(float(td.nn.Embedding(1000, 64).weight.numpy().std()) - 1.0) < 0.02  # N(0, 1), as torch
    assert "10, 6" in repr(layer)


def test_embedding_errors():
    weight = td.randn(4, 3)
    with pytest.raises(IndexError, match=r"index 4 is out of range for 4 embeddings"):
        F.embedding(np.array([0, 4]), weight)
    with pytest.raises(IndexError, match=r"index -1"):
        F.embedding(np.array([-1]), weight)
    with pytest.raises(TypeError, match="indices must be integers"):
        F.embedding(np.array([0.5]), weight)
    with pytest.raises(ValueError, match="weight must be 2-D"):
        F.embedding(np.array([0]), td.randn(4))


def test_embedding_gradient_accumulates_in_the_tables_dtype_as_torch():
    """A float16 row looked up 3,000 times gets 2048, as in torch: float16 sums of ones stop growing at 2048."""
    torch = pytest.importorskip("torch")
    indices = np.zeros(3000, dtype=np.int64)
    weight = td.Tensor(np.zeros((2, 3), dtype=np.float16), requires_grad=True)
    F.embedding(indices, weight).sum().backward()
    expected = torch.zeros(2, 3, dtype=torch.float16, requires_grad=True)
    torch.nn.functional.embedding(torch.from_numpy(indices), expected).sum().backward()
    assert weight.grad.dtype == np.float16
    np.testing.assert_array_equal(weight.grad, expected.grad.numpy())
    assert weight.grad[0, 0] == 2048
