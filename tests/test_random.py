"""Tests for the framework's generator: Philox4x64-10, the stream layout, the fast paths and the state."""

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tinygrad_drop import backend
from tinygrad_drop import random as R

SEEDS = [0, 1, 12345, td.random.DEFAULT_SEED, 2**64 + 7, 2**128 - 1]
OFFSETS = [0, 1, 5, 2**32 + 3, 2**64 - 4]  # the last reaches the final block, 2**64 - 1


def _reference_mask(seed, offset, shape, p):
    """A dropout mask rebuilt from (seed, offset) with NumPy alone, as docs/gpu.md describes."""
    n = int(np.prod(shape))
    words = np.random.Philox(key=seed, counter=(offset - 1) % 2**256).random_raw((n + 1) // 2)
    return (words.view(np.uint32)[:n] >= round(p * 2**32)).reshape(shape)


# ---------------------------------------------------------------- Philox4x64-10, the array implementation


@pytest.mark.parametrize(("counter", "key", "expected"), [  # Random123's known-answer vectors (kat_vectors)
    ((0, 0, 0, 0), (0, 0), (0x16554D9ECA36314C, 0xDB20FE9D672D0FDC, 0xD7E772CEE186176B, 0x7E68B68AEC7BA23B)),
    ((2**64 - 1,) * 4, (2**64 - 1,) * 2,
     (0x87B092C3013FE90B, 0x438C3C67BE8D0224, 0x9CC7D7C69CD777B6, 0xA09CAEBF594F0BA0)),
    ((0x243F6A8885A308D3, 0x13198A2E03707344, 0xA4093822299F31D0, 0x082EFA98EC4E6C89),
     (0x452821E638D01377, 0xBE5466CF34E90C6C),
     (0xA528F45403E61D95, 0x38C72DBD566E9788, 0xA5A1610E72FD18B5, 0x57BD43B5E52B7FE6)),
])
def test_array_philox_matches_the_published_test_vectors(counter, key, expected):
    words = R.philox4x64(tuple(np.array([c], dtype=np.uint64) for c in counter), key)
    assert tuple(int(w[0]) for w in words) == expected


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("offset", OFFSETS)
def test_numpy_philox_fast_path_is_bit_identical_to_the_array_implementation(seed, offset):
    n_words = 4 * 3 + 2  # a partial last block too
    fast = np.random.Philox(key=seed, counter=(offset - 1) % 2**256).random_raw(n_words)
    np.testing.assert_array_equal(fast, R.stream_words(seed, offset, n_words))


@pytest.mark.parametrize("n", [0, 1, 2, 7, 8, 9, 1000])
def test_u32_values_are_the_low_then_high_halves_of_each_word(n, device):
    xp = backend.array_module_for(device)
    words = R.stream_words(42, 3, (n + 1) // 2)
    halves = np.stack([words & np.uint64(0xFFFFFFFF), words >> np.uint64(32)], axis=1).reshape(-1)[:n]
    np.testing.assert_array_equal(backend.to_numpy(R.stream_u32(42, 3, n, xp)), halves.astype(np.uint32))


def test_seeds_and_blocks_give_different_bits():
    a, b, c = R.stream_words(0, 0, 8), R.stream_words(1, 0, 8), R.stream_words(0, 2, 8)
    assert not np.array_equal(a, b) and not np.array_equal(a, c)
    np.testing.assert_array_equal(a[4:], R.stream_words(0, 1, 4))  # block 1 is words 4..7


# ---------------------------------------------------------------- masks from the stream


@pytest.mark.parametrize("shape", [(1,), (7,), (16, 9), (2, 3, 5)])
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_mask_is_the_documented_function_of_seed_and_offset(shape, p, device):
    td.manual_seed(2024)
    F.dropout(td.ones(5, device=device), p=0.5)  # one earlier draw of 5 elements takes one block
    assert td.random.default_generator.offset == 1
    x = td.ones(*shape, device=device)
    y, mask = F.dropout(x, p=p, return_mask=True)
    expected = _reference_mask(2024, 1, shape, p)
    np.testing.assert_array_equal(backend.to_numpy(mask), expected)
    np.testing.assert_array_equal(y.numpy() != 0, expected)  # the mask the op drew itself (fused on CuPy)


def test_transposed_input_takes_its_mask_in_the_order_of_its_own_shape(device):
    x = td.randn(6, 10, device=device).T  # not C-contiguous
    td.manual_seed(9)
    y = F.dropout(x, p=0.5)
    np.testing.assert_array_equal(y.numpy() != 0, _reference_mask(9, 0, (10, 6), 0.5))


def test_mask_draw_kernel_array_code_and_numpy_agree(device):
    xp = backend.array_module_for(device)
    draw = R.MaskDraw(seed=77, offset=11, shape=(33, 17), p=0.3)
    x = td.ones(33, 17, device=device).data
    y, keep = draw.apply(x, np.float32(1 / 0.7), return_keep=True)  # one CUDA kernel on CuPy
    expected = _reference_mask(77, 11, (33, 17), 0.3)
    np.testing.assert_array_equal(backend.to_numpy(keep), expected)
    np.testing.assert_array_equal(backend.to_numpy(draw.keep(xp)), expected)  # the array code on CuPy
    np.testing.assert_array_equal(backend.to_numpy(y), expected * np.float32(1 / 0.7))


def test_keep_mask_applies_the_threshold_rule():
    td.manual_seed(3)
    mask = R.keep_mask((50,), 0.25)
    np.testing.assert_array_equal(mask, R.stream_u32(3, 0, 50) >= 2**30)
    assert not R.keep_mask((10,), 1.0).any() and R.keep_mask((10,), 0.0).all()


@pytest.mark.parametrize(("size", "blocks"), [(1, 1), (8, 1), (9, 2), (800, 100), (0, 0)])
def test_a_mask_takes_ceil_n_over_8_blocks(size, blocks):
    td.manual_seed(0)
    R.keep_mask((size,), 0.5)
    assert td.random.default_generator.offset == blocks


# ---------------------------------------------------------------- uniform and normal


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_uniform_and_normal_are_numpy_samplers_started_at_the_offset(dtype):
    td.manual_seed(5)
    R.keep_mask((20,), 0.5)  # 20 values take 3 blocks
    u = R.uniform((3, 4), dtype=dtype)
    after_uniform = td.random.default_generator.offset
    z = R.normal((5,), dtype=dtype)
    sampler = lambda offset: np.random.Generator(np.random.Philox(key=5, counter=offset - 1))  # noqa: E731
    np.testing.assert_array_equal(u, sampler(3).random((3, 4), dtype=dtype))
    np.testing.assert_array_equal(z, sampler(after_uniform).standard_normal(5, dtype=dtype))
    words = 12 if dtype == np.float64 else 6  # 12 values of 64 or 32 bits
    assert after_uniform == 3 + -(-words // 4)


def test_each_draw_starts_at_a_fresh_block():
    td.manual_seed(8)
    R.uniform((3,), dtype=np.float64)  # 3 words of block 0: the 4th is never used
    assert td.random.default_generator.offset == 1
    R.uniform((0,))
    assert td.random.default_generator.offset == 1  # an empty draw takes nothing


# ---------------------------------------------------------------- the state


def test_state_is_seed_and_offset_and_round_trips():
    td.manual_seed(11)
    F.dropout(td.ones(100), p=0.5)
    state = td.random.default_generator.get_state()
    assert state == {"seed": 11, "offset": 13}
    first = F.dropout(td.ones(100), p=0.5).numpy()
    td.random.default_generator.set_state(state)
    np.testing.assert_array_equal(F.dropout(td.ones(100), p=0.5).numpy(), first)


def test_fork_rng_restores_the_offset():
    td.manual_seed(1)
    with td.random.fork_rng():
        td.randn(100)
    assert td.random.default_generator.get_state() == {"seed": 1, "offset": 0}


@pytest.mark.parametrize("seed", [-1, 2**128, 1.5, True, "3"])
def test_bad_seeds_are_value_errors(seed):
    with pytest.raises(ValueError, match="below 2\\*\\*128"):
        td.manual_seed(seed)


def test_a_used_up_stream_says_to_reseed():
    gen = R.Generator(3)
    gen.set_state({"seed": 3, "offset": 2**64 - 1})
    R.keep_mask((8,), 0.5, generator=gen)  # the very last block
    with pytest.raises(OverflowError, match="manual_seed"):
        R.keep_mask((8,), 0.5, generator=gen)


def test_separate_generators_do_not_touch_the_default_one():
    gen = R.Generator(4)
    before = td.random.default_generator.get_state()
    np.testing.assert_array_equal(R.keep_mask((30,), 0.5, generator=gen), _reference_mask(4, 0, (30,), 0.5))
    assert td.random.default_generator.get_state() == before


# ---------------------------------------------------------------- record and replay


def test_recorded_masks_are_arrays_and_replay_returns_them_without_drawing(device):
    x = td.ones(4, 6, device=device)
    with R.record_draws() as draws:
        y = F.dropout(x, p=0.5)
    (kind, mask), = draws
    assert kind == "keep_mask" and isinstance(mask, np.ndarray) and mask.dtype == bool
    edited = [(kind, ~mask)]  # a recorded mask may be edited before it is replayed
    before = td.random.default_generator.get_state()
    with R.replay_draws(edited):
        replayed = F.dropout(x, p=0.5)
    assert td.random.default_generator.get_state() == before
    np.testing.assert_array_equal(replayed.numpy() != 0, ~(y.numpy() != 0))
