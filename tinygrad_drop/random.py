"""The framework's random bits: one Philox4x64-10 stream, the same on CPU and GPU.

The generator's whole state is (seed, offset), and every random bit is a pure function of it:

    key      = (seed mod 2**64, seed // 2**64)              the seed itself, as two 64-bit words
    block b  = Philox4x64-10(key, counter = b)             four 64-bit words, counter as a 256-bit int
    offset   = the index of the next unused block

Every draw takes whole blocks starting at `offset` and moves `offset` past them, so draws never
share a block. A dropout keep-mask of n elements takes ceil(n / 16) blocks and gives each element
16 bits: word w is word w % 4 of block offset + w // 4, and the 16-bit value u_j of element j
(in C order) is bits 16 (j % 4) to 16 (j % 4) + 15 of word j // 4. Element j is kept when
u_j >= round(p * 2**16), so p is resolved to 1/65536 and P(keep) = 1 - round(p * 2**16) / 2**16
exactly; p = 1 keeps nothing. uniform and normal run NumPy's Generator on a Philox bit generator
that starts at block `offset`, and move `offset` past the last block it used.

Philox is written once below in uint64 array operations that run unchanged on NumPy and CuPy
(`philox4x64`): that is the reference. The fast paths, NumPy's own `np.random.Philox` on the CPU
and the CUDA source `PHILOX_CUDA` on the GPU (one thread per block: 16 mask elements), are tested
to give the same bits, so the same seed gives the same mask on both devices. docs/gpu.md rebuilds
a mask from (seed, offset) with NumPy alone.

The generator is thread-safe: reserving blocks and moving the offset happen under a lock. Every
draw is noted as its place in the stream, a `Draw(kind, shape, seed, offset)`. `record_draws`
collects those places; `replay_draws` answers each draw from a generator put back at its recorded
place, so it gives the same bits again. This is how `gradcheck` holds dropout masks fixed across
its many evaluations of one function, with no copy of any array.
"""

import contextlib
import math
import threading
from typing import NamedTuple

import numpy as np

from . import backend

DEFAULT_SEED = 67280421310721  # PyTorch's default seed: runs are reproducible even without manual_seed
MAX_SEED = 2**128  # the seed is Philox's 128-bit key
MAX_BLOCKS = 2**64  # block counters stay below 2**64, so only the counter's low word varies
MASK_BITS = 16  # random bits per mask element: p is resolved to 2**-16
MASK_VALUES_PER_BLOCK = 256 // MASK_BITS

# Philox4x64 constants (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", 2011)
PHILOX_M0, PHILOX_M1 = 0xD2E7470EE14C6C93, 0xCA5A826395121157  # round multipliers
PHILOX_W0, PHILOX_W1 = 0x9E3779B97F4A7C15, 0xBB67AE8584CAA73B  # key bumps: golden ratio, sqrt(3) - 1
PHILOX_ROUNDS = 10
_LOW32 = np.uint64(0xFFFFFFFF)
_32 = np.uint64(32)


# ---------------------------------------------------------------- Philox4x64-10 in array operations


def _mulhilo(a, b):
    """(a * b mod 2**64, a * b // 2**64) for a Python-int constant a and a uint64 array b.

    With a = a1 2**32 + a0 and b = b1 2**32 + b0, every partial product a_i b_j fits in 64 bits:
    a b = a1 b1 2**64 + (a1 b0 + a0 b1) 2**32 + a0 b0, and the high word collects the carries.
    """
    a0, a1 = np.uint64(a & 0xFFFFFFFF), np.uint64(a >> 32)
    b0, b1 = b & _LOW32, b >> _32
    low_low, low_high, high_low = a0 * b0, a0 * b1, a1 * b0
    carry = ((low_low >> _32) + (low_high & _LOW32) + (high_low & _LOW32)) >> _32  # < 3 * 2**32: no overflow
    high = a1 * b1 + (low_high >> _32) + (high_low >> _32) + carry
    return np.uint64(a) * b, high  # uint64 products wrap mod 2**64, which is the low word


def philox4x64(counter, key):
    """Philox4x64-10 of counter words (x0, x1, x2, x3), uint64 arrays, low word first, under key (k0, k1).

    Each round:  (lo0, hi0) = M0 * x0,  (lo1, hi1) = M1 * x2,
                 (x0, x1, x2, x3) = (hi1 ^ x1 ^ k0, lo1, hi0 ^ x3 ^ k1, lo0),
    and the key grows by (W0, W1) between rounds. Returns the four output words as arrays.
    """
    x0, x1, x2, x3 = counter
    for r in range(PHILOX_ROUNDS):
        k0 = np.uint64((key[0] + r * PHILOX_W0) % 2**64)
        k1 = np.uint64((key[1] + r * PHILOX_W1) % 2**64)
        lo0, hi0 = _mulhilo(PHILOX_M0, x0)
        lo1, hi1 = _mulhilo(PHILOX_M1, x2)
        x0, x1, x2, x3 = hi1 ^ x1 ^ k0, lo1, hi0 ^ x3 ^ k1, lo0
    return x0, x1, x2, x3


def seed_to_key(seed):
    """Philox's 128-bit key for a seed: (seed mod 2**64, seed // 2**64)."""
    return seed % 2**64, seed >> 64


def stream_words(seed, offset, n_words, xp=np):
    """n_words 64-bit words of the stream from block `offset` on, by the array implementation (NumPy or CuPy).

    Word w is word w % 4 of block offset + w // 4, with block b = Philox4x64-10(key, counter b).
    """
    blocks = -(-n_words // 4)
    low_word = xp.arange(blocks, dtype=np.uint64) + np.uint64(offset)
    zeros = xp.zeros(blocks, dtype=np.uint64)
    words = philox4x64((low_word, zeros, zeros, zeros), seed_to_key(seed))
    return xp.stack(words, axis=1).reshape(-1)[:n_words]


def words_to_u16(words, n):
    """The first n 16-bit values of 64-bit words: value j is bits 16 (j % 4) to 16 (j % 4) + 15 of word j // 4."""
    return words.astype("<u8", copy=False).view("<u2")[:n]  # little-endian bytes: the low bits come first


def mask_blocks(size):
    """Blocks a keep-mask of `size` elements takes: 16 bits each, sixteen per block."""
    return -(-size // MASK_VALUES_PER_BLOCK)


def mask_threshold(p):
    """The 16-bit threshold round(p * 2**16): an element is kept when its value is at least this."""
    return round(p * 2**MASK_BITS)


# ---------------------------------------------------------------- the fast paths: NumPy's Philox and CUDA


class _ThreadPhilox(threading.local):
    """This thread's NumPy Philox (`bits`) and the (seed, block) where its next draw starts (`end`)."""

    def __init__(self):
        self.bits, self.end = np.random.Philox(0), None


_philox_cache = _ThreadPhilox()


def numpy_philox_words(seed, offset, blocks):
    """The 4 * blocks words of blocks offset .. offset + blocks - 1 of `seed`'s stream, by NumPy's Philox.

    One NumPy Philox per thread is re-pointed for each draw (NumPy increments its counter before each
    block, so it starts from offset - 1). Setting its state costs about 4 us, building a new one
    about 15 us: either would dominate a small dropout layer. Training draws mask after mask from
    one stream, so the state is set only when this draw does not start where the last one ended.
    """
    bits = _philox_cache.bits
    if _philox_cache.end != (seed, offset):
        counter = (offset - 1) % 2**256
        bits.state = {
            "bit_generator": "Philox",
            "state": {
                "counter": np.array([(counter >> s) % 2**64 for s in (0, 64, 128, 192)], dtype=np.uint64),
                "key": np.array(seed_to_key(seed), dtype=np.uint64),
            },
            "buffer": np.zeros(4, dtype=np.uint64),
            "buffer_pos": 4,  # an empty buffer: the next word comes from a fresh block
            "has_uint32": 0,
            "uinteger": 0,
        }
    _philox_cache.end = None  # unknown while drawing: an exception (KeyboardInterrupt) may stop it midway
    words = bits.random_raw(4 * blocks)  # whole blocks, so that the next block is offset + blocks
    _philox_cache.end = (seed, offset + blocks)
    return words


# Philox4x64-10 in CUDA C, the same maths as `philox4x64`. One thread computes one block and gives
# the keep bits of its sixteen elements. Only __device__ and __umul64hi (the high word of a 64x64-bit
# product) are CUDA: the tests compile this source with the host's C compiler and compare it with
# the array implementation and NumPy's Philox. ops/dropout.py's fused kernel uses it too.
PHILOX_CUDA = r"""
/* The four 64-bit words of block `counter` of the stream with key (k0, k1). */
__device__ void philox4x64_block(unsigned long long k0, unsigned long long k1, unsigned long long counter,
                                 unsigned long long out[4]) {
    unsigned long long x0 = counter, x1 = 0, x2 = 0, x3 = 0;
    for (int r = 0; r < 10; r++) {
        unsigned long long lo0 = 0xD2E7470EE14C6C93ULL * x0, hi0 = __umul64hi(0xD2E7470EE14C6C93ULL, x0);
        unsigned long long lo1 = 0xCA5A826395121157ULL * x2, hi1 = __umul64hi(0xCA5A826395121157ULL, x2);
        x0 = hi1 ^ x1 ^ k0;
        x1 = lo1;
        x2 = hi0 ^ x3 ^ k1;
        x3 = lo0;
        k0 += 0x9E3779B97F4A7C15ULL;
        k1 += 0xBB67AE8584CAA73BULL;
    }
    out[0] = x0, out[1] = x1, out[2] = x2, out[3] = x3;
}

/* Bit e (0..15) is 1 when the 16-bit value e of block `block` is >= threshold (in 0..65536). */
__device__ unsigned int keep_bits16(unsigned long long k0, unsigned long long k1, unsigned long long block,
                                    unsigned int threshold) {
    unsigned long long words[4];
    philox4x64_block(k0, k1, block, words);
    unsigned int bits = 0;
    for (int e = 0; e < 16; e++) {
        unsigned int value = (unsigned int)((words[e / 4] >> (16 * (e % 4))) & 0xFFFF);
        bits |= (unsigned int)(value >= threshold) << e;
    }
    return bits;
}
"""

# Thread i writes the keep flags of elements 16 i .. 16 i + 15 (those below n_values) from block offset + i.
_KEEP_MASK_BODY = """
unsigned int bits = keep_bits16(k0, k1, offset + i, threshold);
for (long long j = 16 * (long long)i, e = 0; e < 16 && j < n_values; j++, e++) keep[j] = (bits >> e) & 1;
"""
_kernels = {}


def _cuda_keep_mask(cupy, seed, offset, n, threshold):
    """CuPy only: the n keep flags from block `offset` on, one thread per block."""
    if "keep_mask" not in _kernels:
        _kernels["keep_mask"] = cupy.ElementwiseKernel(
            "uint64 k0, uint64 k1, uint64 offset, uint32 threshold, int64 n_values", "raw bool keep",
            _KEEP_MASK_BODY, "tinygrad_drop_keep_mask", preamble=PHILOX_CUDA)
    keep = cupy.empty(n, dtype=bool)
    if n:
        k0, k1 = seed_to_key(seed)
        _kernels["keep_mask"](np.uint64(k0), np.uint64(k1), np.uint64(offset), np.uint32(threshold), np.int64(n),
                              keep, size=mask_blocks(n))
    return keep


# ---------------------------------------------------------------- the generator


def _check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < MAX_SEED:
        raise ValueError(f"seed must be a non-negative integer below 2**128, got {seed!r}")
    return int(seed)


class Generator:
    """A Philox4x64-10 stream whose state is (seed, offset); offset is the next unused 256-bit block.

    Thread-safe: every read or move of the state happens under the generator's lock, as in PyTorch.
    """

    def __init__(self, seed=DEFAULT_SEED):
        self._lock = threading.Lock()
        self.manual_seed(seed)

    def manual_seed(self, seed):
        """Restart the stream from `seed` (an integer in [0, 2**128)) at offset 0."""
        seed = _check_seed(seed)
        with self._lock:
            self.seed, self.offset = seed, 0
        return self

    def initial_seed(self):
        """The seed the stream was last started from."""
        return self.seed

    def get_state(self):
        """A copy of the generator's state, for `set_state`."""
        with self._lock:
            return {"seed": self.seed, "offset": self.offset}

    def set_state(self, state):
        """Restore a state returned by `get_state`."""
        seed, offset = _check_seed(state["seed"]), int(state["offset"])
        with self._lock:
            self.seed, self.offset = seed, offset
        return self

    def take(self, blocks):
        """Reserve the next `blocks` blocks of the stream; return (seed, index of the first)."""
        with self._lock:
            start = self.offset
            self._move_to(start + blocks)
            return self.seed, start

    def numpy_sample(self, sample):
        """sample(g) for a NumPy Generator g on Philox starting at block `offset`; offset moves past what it used."""
        return self.numpy_sample_at(sample)[0]

    def numpy_sample_at(self, sample):
        """(sample(g), seed, first block) as `numpy_sample`: how many blocks a sample takes is known only after it."""
        with self._lock:
            seed, start = self.seed, self.offset
            bits = np.random.Philox(key=seed, counter=(start - 1) % 2**256)
            value = sample(np.random.Generator(bits))
            last_block = sum(int(word) << (64 * i) for i, word in enumerate(bits.state["state"]["counter"]))
            self._move_to((last_block + 1) % 2**256)
            return value, seed, start

    def _move_to(self, offset):
        """Set the offset (the lock is held), refusing to run past the last block whose counter fits in 64 bits."""
        if offset > MAX_BLOCKS:
            raise OverflowError(f"seed {self.seed} has used all 2**64 blocks of its stream: call td.manual_seed again")
        self.offset = offset


default_generator = Generator()


def manual_seed(seed):
    """Seed the framework's generator; the same seed reproduces every random op that follows."""
    return default_generator.manual_seed(seed)


def initial_seed():
    """The seed of the framework's generator."""
    return default_generator.initial_seed()


@contextlib.contextmanager
def fork_rng():
    """Run a block on the framework's generator, then restore its state (as torch.random.fork_rng)."""
    state = default_generator.get_state()
    try:
        yield
    finally:
        default_generator.set_state(state)


# ---------------------------------------------------------------- record / replay of draws


class Draw(NamedTuple):
    """Where a draw's bits sit in the stream: enough to make the same draw again on any device."""

    kind: str  # "keep_mask", "uniform" or "normal"
    shape: tuple
    seed: int
    offset: int  # the draw's first block


class ReplayMismatchError(RuntimeError):
    """Raised when a replayed computation asks for different random draws than were recorded."""


class _Tape(threading.local):
    """This thread's record/replay state: the mode, the recorded Draws and the index of the next one."""

    mode = None  # None, "record" or "replay"
    draws = ()
    cursor = 0


_tape = _Tape()


@contextlib.contextmanager
def _taping(mode, draws):
    previous = (_tape.mode, _tape.draws, _tape.cursor)
    _tape.mode, _tape.draws, _tape.cursor = mode, draws, 0
    try:
        yield draws
    finally:
        _tape.mode, _tape.draws, _tape.cursor = previous


@contextlib.contextmanager
def record_draws():
    """Record every random draw made in this thread inside the block, as a list of Draws (yielded)."""
    with _taping("record", []) as draws:
        yield draws


@contextlib.contextmanager
def replay_draws(draws):
    """Make every random draw inside the block again from its recorded place in the stream, in order.

    The generators themselves do not move. Raises ReplayMismatchError if the block asks for a draw
    of another kind or shape, or for more or fewer draws than were recorded.
    """
    with _taping("replay", draws):
        yield
        if _tape.cursor != len(draws):
            raise ReplayMismatchError(
                f"the computation made {_tape.cursor} random draws, but {len(draws)} were recorded")


def _source(kind, shape, generator):
    """The generator a draw comes from: the given or default one, or while replaying, one at the recorded place."""
    if _tape.mode != "replay":
        return generator or default_generator
    if _tape.cursor >= len(_tape.draws):
        raise ReplayMismatchError(f"random draw #{_tape.cursor + 1} ({kind}, shape {shape}) was not recorded: "
                                  f"only {len(_tape.draws)} draws were")
    recorded = _tape.draws[_tape.cursor]
    if (recorded.kind, recorded.shape) != (kind, shape):
        raise ReplayMismatchError(f"random draw #{_tape.cursor + 1} asks for {kind} of shape {shape}, "
                                  f"but {recorded.kind} of shape {recorded.shape} was recorded")
    _tape.cursor += 1
    return Generator(recorded.seed).set_state({"seed": recorded.seed, "offset": recorded.offset})


def _noted(draw):
    """The draw, after adding it to the tape while draws are recorded."""
    if _tape.mode == "record":
        _tape.draws.append(draw)
    return draw


# ---------------------------------------------------------------- draws


def _shape(shape):
    return tuple(map(int, shape))


def _float_type(dtype):
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"random floats can be float32 or float64, got {dtype}")
    return dtype.type


def _numpy_draw(kind, shape, generator, sample):
    """sample(g) for a NumPy Generator g at the next place of the stream, noted as a Draw."""
    value, seed, offset = _source(kind, shape, generator).numpy_sample_at(sample)
    _noted(Draw(kind, shape, seed, offset))
    return value


def uniform(shape, dtype=np.float32, generator=None):
    """U[0, 1) samples of the given shape and float dtype, as a NumPy array."""
    shape, ftype = _shape(shape), _float_type(dtype)
    return _numpy_draw("uniform", shape, generator, lambda g: g.random(shape, dtype=ftype))


def normal(shape, dtype=np.float32, generator=None):
    """N(0, 1) samples of the given shape and float dtype, as a NumPy array."""
    shape, ftype = _shape(shape), _float_type(dtype)
    return _numpy_draw("normal", shape, generator, lambda g: g.standard_normal(shape, dtype=ftype))


def next_mask_draw(shape, generator=None):
    """Reserve the blocks of the next keep-mask of `shape` (ceil(n / 16) of them) and return their Draw."""
    shape = _shape(shape)
    seed, offset = _source("keep_mask", shape, generator).take(mask_blocks(math.prod(shape)))
    return _noted(Draw("keep_mask", shape, seed, offset))


def keep_mask_at(draw, p, device="cpu"):
    """The bool keep-mask (True = keep) whose bits sit at `draw`: element j is kept when u_j >= round(p * 2**16)."""
    device = backend.parse_device(device)
    xp, size, threshold = backend.array_module_for(device), math.prod(draw.shape), mask_threshold(p)
    if xp is np:
        words = numpy_philox_words(draw.seed, draw.offset, mask_blocks(size))
        return (words_to_u16(words, size) >= threshold).reshape(draw.shape)  # threshold 2**16: none kept
    with xp.cuda.Device(int(device.split(":")[1])):
        return _cuda_keep_mask(xp, draw.seed, draw.offset, size, threshold).reshape(draw.shape)


def keep_mask(shape, p, device="cpu", generator=None):
    """A bool array on `device` where each element is True (kept) with probability 1 - p, independently.

    Each element takes 16 random bits u and is kept when u >= round(p * 2**16), so p is resolved to
    1/65536 and P(keep) = 1 - round(p * 2**16) / 2**16 exactly. p = 1 keeps nothing.
    """
    return keep_mask_at(next_mask_draw(shape, generator), p, device)
