"""blockwise: a formula run on blocks of rows gives exactly what it gives on the whole array."""

import numpy as np
import pytest

import tinygrad_drop as td
from tinygrad_drop.ops import blocks
from tinygrad_drop.ops.blocks import blockwise


def _row_stats(x):
    return x - x.mean(axis=1, keepdims=True), x.max(axis=1, keepdims=True)


@pytest.mark.parametrize("row", [1, 7])
def test_blockwise_matches_one_call_across_blocks_and_a_short_last_block(row, monkeypatch):
    monkeypatch.setattr(blocks, "BLOCK_ELEMENTS", 5 * row)  # 23 rows: blocks of 5, the last one of 3
    x = np.random.default_rng(0).standard_normal((23, row)).astype(np.float32)
    calls = []
    centred, peak = blockwise(lambda b: calls.append(len(b)) or _row_stats(b), x)
    assert calls == [5, 5, 5, 5, 3]
    expected = _row_stats(x)
    np.testing.assert_array_equal(centred, expected[0])
    np.testing.assert_array_equal(peak, expected[1])
    assert centred.dtype == np.float32 and peak.shape == (23, 1)


def test_blockwise_runs_once_when_the_array_fits_in_a_block():
    calls = []
    blockwise(lambda b: calls.append(b.shape) or (b,), np.zeros((4, 3)))
    assert calls == [(4, 3)]


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_in_blocks_equals_gelu_in_one_block(approximate, monkeypatch):
    x_np = np.random.default_rng(1).standard_normal((6, 50)).astype(np.float32)
    whole = td.Tensor(x_np, requires_grad=True)
    expected = td.nn.functional.gelu(whole, approximate)
    expected.sum().backward()
    monkeypatch.setattr(blocks, "BLOCK_ELEMENTS", 64)
    blocked = td.Tensor(x_np, requires_grad=True)
    y = td.nn.functional.gelu(blocked, approximate)
    y.sum().backward()
    np.testing.assert_array_equal(y.numpy(), expected.numpy())
    np.testing.assert_array_equal(blocked.grad, whole.grad)


def _layer_norm_and_grads(x_np):
    x = td.Tensor(x_np, requires_grad=True)
    norm = td.nn.LayerNorm(x_np.shape[-1])
    y = norm(x)
    (y * td.Tensor(np.arange(y.size, dtype=np.float32).reshape(y.shape))).sum().backward()
    return y.numpy(), x.grad, norm.weight.grad, norm.bias.grad


def test_layer_norm_in_blocks_equals_layer_norm_in_one_block(monkeypatch):
    x_np = np.random.default_rng(2).standard_normal((2, 7, 16)).astype(np.float32)
    whole = _layer_norm_and_grads(x_np)
    monkeypatch.setattr(blocks, "BLOCK_ELEMENTS", 48)  # 14 rows of 16: blocks of 3 rows, the last of 2
    for blocked, expected in zip(_layer_norm_and_grads(x_np), whole, strict=True):
        np.testing.assert_array_equal(blocked, expected)


def test_layer_norm_of_an_empty_batch():
    x = td.zeros(0, 4, requires_grad=True)
    y = td.nn.LayerNorm(4)(x)
    y.sum().backward()
    assert y.shape == (0, 4) and x.grad.shape == (0, 4)


def test_arrays_that_exactly_fill_one_block_are_passed_whole_and_come_back_uncopied(monkeypatch):
    """Rows that exactly fill one block: fn gets the arrays themselves, and its results are returned as they are."""
    monkeypatch.setattr(blocks, "BLOCK_ELEMENTS", 12)  # 4 rows of 3: exactly one block
    x = np.arange(12.0).reshape(4, 3)
    seen = []
    (out,) = blockwise(lambda b: seen.append(b) or (b,), x)
    assert len(seen) == 1 and seen[0] is x and out is x


def test_a_formula_that_returns_fewer_arrays_for_a_later_block_is_an_error(monkeypatch):
    """Rows of a result the formula stopped returning are never left unfilled: blockwise raises instead."""
    monkeypatch.setattr(blocks, "BLOCK_ELEMENTS", 2)  # 4 rows of 1: two blocks
    x = np.arange(4.0).reshape(4, 1)
    results = iter([(x[:2] + 1, x[:2] * 2), (x[2:] + 1,)])
    with pytest.raises(ValueError, match="shorter"):
        blockwise(lambda block: next(results), x)
