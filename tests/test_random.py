"""Tests for the framework's generator: Philox4x64-10, the 16-bit mask layout, the fast paths, the state,
thread safety, and record/replay of draws as places in the stream."""

import ctypes
import math
import shutil
import subprocess
import threading

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tinygrad_drop import backend
from tinygrad_drop import random as R
from tinygrad_drop.ops.dropout import masked_scale_at

SEEDS = [0, 1, 12345, td.random.DEFAULT_SEED, 2**64 + 7, 2**128 - 1]
OFFSETS = [0, 1, 5, 2**32 + 3, 2**64 - 4]  # the last reaches the final block, 2**64 - 1


def _reference_mask(seed, offset, shape, p):
    """A dropout mask rebuilt from (seed, offset) with NumPy alone, as docs/gpu.md describes."""
    n = int(np.prod(shape))
    words = np.random.Philox(key=seed, counter=(offset - 1) % 2**256).random_raw(-(-n // 4))
    return (words.view(np.uint16)[:n] >= round(p * 2**16)).reshape(shape)  # little-endian: low bits first


def _reference_u16(seed, offset, n):
    """The 16-bit values of a mask by the array implementation: value j is bits 16 (j % 4).. of word j // 4."""
    words = R.stream_words(seed, offset, -(-n // 4))
    shifts = np.array([0, 16, 32, 48], dtype=np.uint64)
    return ((words[:, None] >> shifts) & np.uint64(0xFFFF)).reshape(-1)[:n].astype(np.uint16)


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


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("offset", OFFSETS[:-1])
@pytest.mark.parametrize("n", [1, 15, 16, 17, 1000])
def test_numpy_fast_path_mask_values_are_the_array_implementations_16_bit_values(seed, offset, n):
    words = R.numpy_philox_words(seed, offset, R.mask_blocks(n))
    np.testing.assert_array_equal(R.words_to_u16(words, n), _reference_u16(seed, offset, n))


def test_the_numpy_fast_path_gives_the_same_words_in_any_order_of_draws():
    reference = R.stream_words(5, 0, 4 * 10)
    np.testing.assert_array_equal(R.numpy_philox_words(5, 0, 3), reference[:12])
    np.testing.assert_array_equal(R.numpy_philox_words(5, 3, 2), reference[12:20])  # where the last draw ended
    np.testing.assert_array_equal(R.numpy_philox_words(5, 1, 4), reference[4:20])  # back
    np.testing.assert_array_equal(R.numpy_philox_words(5, 7, 3), reference[28:40])  # ahead
    np.testing.assert_array_equal(R.numpy_philox_words(6, 10, 1), R.stream_words(6, 10, 4))  # another seed
    np.testing.assert_array_equal(R.numpy_philox_words(5, 10, 1), R.stream_words(5, 10, 4))  # the other seed's end


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


@pytest.mark.parametrize("p", [0.0, 0.3, 0.5, 1.0])
def test_recompute_kernel_keep_mask_and_numpy_agree(p, device):
    draw = R.Draw("keep_mask", (33, 17), seed=77, offset=11)
    expected = _reference_mask(77, 11, (33, 17), p)
    np.testing.assert_array_equal(backend.to_numpy(R.keep_mask_at(draw, p, device)), expected)
    x = td.ones(33, 17, device=device).data
    y = masked_scale_at(x, draw, p, 1 / 0.7)  # one fused CUDA kernel on CuPy
    np.testing.assert_array_equal(backend.to_numpy(y), expected * np.float32(1 / 0.7))


@pytest.mark.parametrize("p", [0.0, 0.25, 0.5, 1 / 3, 0.9])
def test_keep_mask_applies_the_16_bit_threshold_rule(p):
    td.manual_seed(3)
    mask = R.keep_mask((50,), p)
    np.testing.assert_array_equal(mask, _reference_u16(3, 0, 50) >= round(p * 2**16))


@pytest.mark.parametrize(("p", "threshold"), [(1.0, 2**16), (1 - 2**-18, 2**16), (2**-18, 0), (0.2, 13107)])
def test_p_is_resolved_to_one_in_65536(p, threshold):
    assert R.mask_threshold(p) == threshold
    mask = R.keep_mask((4096,), p)
    if threshold == 2**16:  # no 16-bit value reaches 2**16: nothing is kept
        assert not mask.any()
    if threshold == 0:  # every value is >= 0: everything is kept
        assert mask.all()


@pytest.mark.parametrize("p", [0.1, 0.2, 0.5, 0.9])
def test_keep_fraction_matches_the_exact_keep_probability(p):
    n = 2**22
    keep_probability = 1 - round(p * 2**16) / 2**16  # exact: e.g. p = 0.2 keeps 0.8000030517578125
    kept = R.keep_mask((n,), p).mean()
    assert abs(kept - keep_probability) <= 5 * math.sqrt(keep_probability * (1 - keep_probability) / n)


def test_the_16_bit_values_are_uniform():
    values = R.words_to_u16(R.numpy_philox_words(1, 0, 2**16), 2**20)
    counts = np.bincount(values >> 10, minlength=64)  # 64 bins of the top six bits, 2**14 expected in each
    chi2 = ((counts - 2**14) ** 2 / 2**14).sum()
    assert chi2 < 63 + 5 * math.sqrt(2 * 63)  # 63 degrees of freedom: mean 63, sd sqrt(126)
    bits = np.unpackbits(values.view(np.uint8)).reshape(-1, 16).mean(axis=0)  # each bit is 1 half the time
    assert np.all(np.abs(bits - 0.5) <= 5 * math.sqrt(0.25 / 2**20))


@pytest.mark.parametrize(("size", "blocks"), [(1, 1), (16, 1), (17, 2), (800, 50), (0, 0)])
def test_a_mask_takes_ceil_n_over_16_blocks(size, blocks):
    td.manual_seed(0)
    R.keep_mask((size,), 0.5)
    assert td.random.default_generator.offset == blocks


# ---------------------------------------------------------------- the CUDA source, compiled for the host


def _host_philox(tmp_path):
    """random.PHILOX_CUDA compiled with the host's C compiler: (block's 16-bit values, block's keep bits)."""
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        pytest.skip("needs a C compiler")
    source = tmp_path / "philox.c"
    source.write_text(
        "#define __device__ static\n"  # the CUDA-only parts: a qualifier and the high word of a 64x64 product
        "static unsigned long long __umul64hi(unsigned long long a, unsigned long long b)"
        " { return (unsigned long long)(((unsigned __int128)a * b) >> 64); }\n"
        + R.PHILOX_CUDA
        + "void host_block(unsigned long long k0, unsigned long long k1, unsigned long long block,"
        " unsigned long long *out) { philox4x64_block(k0, k1, block, out); }\n"
        "unsigned int host_keep_bits(unsigned long long k0, unsigned long long k1, unsigned long long block,"
        " unsigned int threshold) { return keep_bits16(k0, k1, block, threshold); }\n"
    )
    library = tmp_path / "philox.so"
    subprocess.run([compiler, "-O1", "-shared", "-fPIC", "-o", str(library), str(source)], check=True)
    lib = ctypes.CDLL(str(library))
    lib.host_block.argtypes = [ctypes.c_uint64] * 3 + [ctypes.POINTER(ctypes.c_uint64)]
    lib.host_keep_bits.argtypes, lib.host_keep_bits.restype = [ctypes.c_uint64] * 3 + [ctypes.c_uint32], ctypes.c_uint32
    return lib


@pytest.mark.parametrize(("seed", "offset"), [(0, 0), (7, 3), (2**64 + 5, 2**40), (2**128 - 1, 2**64 - 4)])
def test_the_cuda_source_gives_the_array_codes_blocks_and_numpys_masks(seed, offset, tmp_path):
    lib, (k0, k1), blocks = _host_philox(tmp_path), R.seed_to_key(seed), 4
    words = (ctypes.c_uint64 * 4)()
    host_words = []
    for b in range(blocks):
        lib.host_block(k0, k1, offset + b, words)
        host_words += list(words)
    np.testing.assert_array_equal(np.array(host_words, dtype=np.uint64), R.stream_words(seed, offset, 4 * blocks))
    n = 16 * blocks
    for p in (0.0, 0.2, 0.5, 1 / 3, 0.999, 1.0):  # thresholds 0 to 2**16
        bits = [lib.host_keep_bits(k0, k1, offset + b, R.mask_threshold(p)) for b in range(blocks)]
        host_mask = np.array([(bits[j // 16] >> (j % 16)) & 1 for j in range(n)], dtype=bool)
        np.testing.assert_array_equal(host_mask, _reference_mask(seed, offset, (n,), p))
        np.testing.assert_array_equal(host_mask, _reference_u16(seed, offset, n) >= R.mask_threshold(p))


# ---------------------------------------------------------------- uniform and normal


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_uniform_and_normal_are_numpy_samplers_started_at_the_offset(dtype):
    td.manual_seed(5)
    R.keep_mask((40,), 0.5)  # 40 values take 3 blocks
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
    assert state == {"seed": 11, "offset": 7}
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
    R.keep_mask((16,), 0.5, generator=gen)  # the very last block
    with pytest.raises(OverflowError, match="manual_seed"):
        R.keep_mask((16,), 0.5, generator=gen)


def test_separate_generators_do_not_touch_the_default_one():
    gen = R.Generator(4)
    before = td.random.default_generator.get_state()
    np.testing.assert_array_equal(R.keep_mask((30,), 0.5, generator=gen), _reference_mask(4, 0, (30,), 0.5))
    assert td.random.default_generator.get_state() == before


# ---------------------------------------------------------------- record and replay


def test_draws_are_recorded_as_places_in_the_stream_and_replayed_from_them(device):
    x = td.ones(4, 6, device=device)
    td.manual_seed(12)
    td.randn(3)
    with R.record_draws() as draws:
        y = F.dropout(x, p=0.5)
        noise = td.randn(5)
    assert draws == [R.Draw("keep_mask", (4, 6), 12, 1), R.Draw("normal", (5,), 12, 3)]  # no arrays
    before = td.random.default_generator.get_state()
    with R.replay_draws(draws):
        replayed, replayed_noise = F.dropout(x, p=0.5), td.randn(5)
    assert td.random.default_generator.get_state() == before  # the generator did not move
    assert replayed.numpy().tobytes() == y.numpy().tobytes()
    assert replayed_noise.numpy().tobytes() == noise.numpy().tobytes()


def test_recording_and_replaying_are_per_thread():
    seen = {}

    def other_thread():  # draws while the main thread records and then replays: neither sees it
        seen["draw"] = R.next_mask_draw((3,))

    with R.record_draws() as draws:
        R.keep_mask((2,), 0.5)
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    assert [d.shape for d in draws] == [(2,)]
    with R.replay_draws(draws):
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        R.keep_mask((2,), 0.5)  # the one recorded draw, still answered in order
    assert seen["draw"].offset > draws[0].offset  # a fresh place in the stream, not the recorded one


def test_replay_uses_the_recorded_place_not_the_generator_given():
    with R.record_draws() as draws:
        first = R.keep_mask((40,), 0.5, generator=R.Generator(5))
    with R.replay_draws(draws):
        np.testing.assert_array_equal(R.keep_mask((40,), 0.5), first)


@pytest.mark.parametrize(("replayed", "message"), [
    (lambda: R.keep_mask((3, 5), 0.5), "keep_mask of shape \\(3, 5\\).*keep_mask of shape \\(5, 3\\)"),
    (lambda: R.normal((5, 3)), "normal of shape \\(5, 3\\).*keep_mask of shape \\(5, 3\\)"),
])
def test_a_replay_asking_for_another_kind_or_shape_is_a_mismatch(replayed, message):
    with R.record_draws() as draws:
        R.keep_mask((5, 3), 0.5)
    with pytest.raises(R.ReplayMismatchError, match=message), R.replay_draws(draws):
        replayed()


def test_a_replay_with_more_or_fewer_draws_is_a_mismatch():
    with R.record_draws() as draws:
        R.uniform((2,))
    with pytest.raises(R.ReplayMismatchError, match="was not recorded"), R.replay_draws(draws):
        R.uniform((2,))
        R.uniform((2,))
    with pytest.raises(R.ReplayMismatchError, match="made 0 random draws, but 1 were recorded"), R.replay_draws(draws):
        pass


# ---------------------------------------------------------------- threads


def test_draws_from_four_threads_are_all_distinct():
    per_thread, results = 5000, [[] for _ in range(4)]

    def draw(out):
        for _ in range(per_thread):
            out.append(td.randn(16).numpy().tobytes())

    threads = [threading.Thread(target=draw, args=(out,)) for out in results]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    draws = [d for out in results for d in out]
    assert len(draws) == 4 * per_thread and len(set(draws)) == len(draws)


def test_masks_from_four_threads_take_disjoint_blocks():
    gen, results = R.Generator(2), [[] for _ in range(4)]

    def draw(out):
        for _ in range(2000):
            out.append(R.next_mask_draw((16,), gen).offset)  # 16 values: one block each

    threads = [threading.Thread(target=draw, args=(out,)) for out in results]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    offsets = sorted(o for out in results for o in out)
    assert offsets == list(range(8000)) and gen.offset == 8000


def test_layers_built_in_four_threads_get_distinct_weights():
    results = [[] for _ in range(4)]

    def build(out):
        for _ in range(100):
            out.append(td.nn.Linear(8, 8).weight.numpy().tobytes())

    threads = [threading.Thread(target=build, args=(out,)) for out in results]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    weights = [w for out in results for w in out]
    assert len(set(weights)) == len(weights) == 400


@pytest.mark.parametrize("device", ["gpu", "cuda:x"])
def test_keep_mask_on_an_unknown_device_is_a_value_error(device):
    with pytest.raises(ValueError, match="device"):
        R.keep_mask((3,), 0.5, device=device)
