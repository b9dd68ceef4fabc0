"""The framework's random number generator: one Philox4x64-10 stream, the same on CPU and GPU.

The generator's whole state is (seed, offset), and every random bit is a pure function of it:

    key      = (seed mod 2**64, seed // 2**64)              the seed itself, as two 64-bit words
    block b  = Philox4x64-10(key, counter = b)             four 64-bit words, counter as a 256-bit int
    offset   = the index of the next unused block

Every draw takes whole blocks starting at `offset` and moves `offset` past them, so draws never
share a block. A dropout mask of n elements takes ceil(n / 8) blocks: 32-bit value j is the low
(j even) or high (j odd) half of word j // 2, where word w is word w % 4 of block offset + w // 4,
and element j (in C order) is kept when that value >= round(p * 2**32). uniform and normal run
NumPy's Generator on a Philox bit generator that starts at block `offset`, and move `offset` past
the last block it used.

Philox is written once below in uint64 array operations that run unchanged on NumPy and CuPy
(`philox4x64`). The fast paths, NumPy's own `np.random.Philox` on the CPU and a CUDA kernel in
`backend.py` on the GPU, are tested to give the same bits, so the same seed gives the same mask on
both devices. docs/gpu.md rebuilds a mask from (seed, offset) with NumPy alone.

Draws go through `_draw`, which lets a caller record the draws of a computation and replay them
later (`record_draws` / `replay_draws`): this is how `gradcheck` holds dropout masks fixed
across its many evaluations of one function.
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


def stream_u32(seed, offset, n, xp=np):
    """n 32-bit values from block `offset` on: value j is the low (j even) or high half of word j // 2.

    On NumPy this is the fast path np.random.Philox, whose first output is the block after its
    `counter` argument (tests prove it bit-identical to `stream_words`); on CuPy, the array code.
    """
    n_words = (n + 1) // 2
    if xp is np:
        words = _numpy_philox(seed, offset).random_raw(n_words)
    else:
        words = stream_words(seed, offset, n_words, xp)
    return words.view(np.uint32)[:n]  # little-endian: the low half of each word comes first


_philox_cache = threading.local()  # .bits: one np.random.Philox per thread, re-pointed for each draw


def _numpy_philox(seed, offset):
    """NumPy's Philox positioned so that its next output is block `offset` of `seed`'s stream.

    Setting the state of a cached bit generator costs about 1 us; building a new one about 15 us,
    which would dominate a small dropout layer.
    """
    bits = getattr(_philox_cache, "bits", None)
    if bits is None:
        bits = _philox_cache.bits = np.random.Philox(0)
    counter = (offset - 1) % 2**256  # NumPy's Philox increments its counter before each block
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
    return bits


def mask_blocks(size):
    """Blocks a mask of `size` elements takes: one 32-bit value each, eight per block."""
    return -(-size // 8)


class MaskDraw(NamedTuple):
    """Where a dropout mask's bits sit in the stream: enough to rebuild the mask on any device."""

    seed: int
    offset: int
    shape: tuple
    p: float

    @property
    def threshold(self):
        """Element j is kept when its 32-bit value u_j >= round(p * 2**32): P(keep) = 1 - threshold / 2**32."""
        return round(self.p * 2**32)

    def keep(self, xp=np):
        """The bool keep-mask (True = keep) as an xp array of `shape`."""
        if self.threshold >= 2**32:  # p = 1 keeps nothing, and no 32-bit value reaches 2**32
            return xp.zeros(self.shape, dtype=bool)
        bits = stream_u32(self.seed, self.offset, math.prod(self.shape), xp)
        return (bits >= np.uint32(self.threshold)).reshape(self.shape)

    def apply(self, x, scale, return_keep=False):
        """x * keep * scale with keep drawn from the stream (and keep too if asked).

        On CuPy, when the mask has x's shape, one kernel draws the bits, forms the mask and scales.
        """
        xp = backend.get_array_module(x)
        if xp is not np and self.shape == x.shape:
            return backend.fused_dropout(x, self.seed, self.offset, self.threshold, scale, return_keep)
        keep = self.keep(xp)
        y = backend.masked_scale(x, keep, scale)
        return (y, keep) if return_keep else y


# ---------------------------------------------------------------- the generator


def _check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < MAX_SEED:
        raise ValueError(f"seed must be a non-negative integer below 2**128, got {seed!r}")
    return int(seed)


class Generator:
    """A Philox4x64-10 stream whose state is (seed, offset); offset is the next unused 256-bit block."""

    def __init__(self, seed=DEFAULT_SEED):
        self.manual_seed(seed)

    def manual_seed(self, seed):
        """Restart the stream from `seed` (an integer in [0, 2**128)) at offset 0."""
        self.seed, self.offset = _check_seed(seed), 0
        return self

    def initial_seed(self):
        """The seed the stream was last started from."""
        return self.seed

    def get_state(self):
        """A copy of the generator's state, for `set_state`."""
        return {"seed": self.seed, "offset": self.offset}

    def set_state(self, state):
        """Restore a state returned by `get_state`."""
        self.seed, self.offset = _check_seed(state["seed"]), int(state["offset"])

    def take(self, blocks):
        """Reserve the next `blocks` blocks of the stream; return the first one's index."""
        start = self.offset
        self._move_to(start + blocks)
        return start

    def numpy_sample(self, sample):
        """sample(g) for a NumPy Generator g on Philox starting at block `offset`; offset moves past what it used."""
        bits = np.random.Philox(key=self.seed, counter=(self.offset - 1) % 2**256)
        value = sample(np.random.Generator(bits))
        last_block = sum(int(word) << (64 * i) for i, word in enumerate(bits.state["state"]["counter"]))
        self._move_to((last_block + 1) % 2**256)
        return value

    def _move_to(self, offset):
        """Set the offset, refusing to run past the last block whose counter fits in 64 bits."""
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

_tape = threading.local()  # .mode is None, "record" or "replay"; .draws is the list of recorded draws


class ReplayMismatchError(RuntimeError):
    """Raised when a replayed computation asks for different random draws than were recorded."""


@contextlib.contextmanager
def record_draws():
    """Record every random draw made inside the block into the yielded list of (kind, array) pairs."""
    previous = (getattr(_tape, "mode", None), getattr(_tape, "draws", None), getattr(_tape, "cursor", 0))
    _tape.mode, _tape.draws, _tape.cursor = "record", [], 0
    try:
        yield _tape.draws
    finally:
        _tape.mode, _tape.draws, _tape.cursor = previous


@contextlib.contextmanager
def replay_draws(draws):
    """Answer every random draw inside the block from `draws` (recorded by `record_draws`), in order.

    Raises ReplayMismatchError if the block asks for a draw of another kind or shape, or for more or
    fewer draws than were recorded.
    """
    previous = (getattr(_tape, "mode", None), getattr(_tape, "draws", None), getattr(_tape, "cursor", 0))
    _tape.mode, _tape.draws, _tape.cursor = "replay", draws, 0
    try:
        yield
        if _tape.cursor != len(draws):
            raise ReplayMismatchError(
                f"the computation made {_tape.cursor} random draws, but {len(draws)} were recorded"
            )
    finally:
        _tape.mode, _tape.draws, _tape.cursor = previous


def _draw(kind, shape, make):
    """Return make() (a fresh draw), unless a record or replay is active for this thread."""
    mode = getattr(_tape, "mode", None)
    if mode == "replay":
        if _tape.cursor >= len(_tape.draws):
            raise ReplayMismatchError(
                f"random draw #{_tape.cursor + 1} ({kind}, shape {shape}) was not recorded: "
                f"only {len(_tape.draws)} draws were"
            )
        recorded_kind, recorded = _tape.draws[_tape.cursor]
        if recorded_kind != kind or recorded.shape != shape:
            raise ReplayMismatchError(
                f"random draw #{_tape.cursor + 1} asks for {kind} of shape {shape}, "
                f"but {recorded_kind} of shape {recorded.shape} was recorded"
            )
        _tape.cursor += 1
        return recorded.copy()
    value = make()
    if mode == "record":
        _tape.draws.append((kind, value.copy()))
    return value


# ---------------------------------------------------------------- draws


def _shape(shape):
    return tuple(int(s) for s in shape)


def _float_type(dtype):
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"random floats can be float32 or float64, got {dtype}")
    return dtype.type


def uniform(shape, dtype=np.float32, generator=None):
    """U[0, 1) samples of the given shape and float dtype, as a NumPy array."""
    gen, shape, ftype = generator or default_generator, _shape(shape), _float_type(dtype)
    return _draw("uniform", shape, lambda: gen.numpy_sample(lambda bits: bits.random(shape, dtype=ftype)))


def normal(shape, dtype=np.float32, generator=None):
    """N(0, 1) samples of the given shape and float dtype, as a NumPy array."""
    gen, shape, ftype = generator or default_generator, _shape(shape), _float_type(dtype)
    return _draw("normal", shape, lambda: gen.numpy_sample(lambda bits: bits.standard_normal(shape, dtype=ftype)))


def _next_mask(shape, p, generator):
    """Reserve the stream blocks of the next mask of `shape`."""
    gen = generator or default_generator
    return MaskDraw(gen.seed, gen.take(mask_blocks(math.prod(shape))), shape, p)


def keep_mask(shape, p, generator=None):
    """A NumPy bool mask where each element is True (kept) with probability 1 - p, independently.

    Each element takes 32 random bits u and is kept when u >= round(p * 2**32), so p is resolved to
    1/2**32 and P(keep) = 1 - round(p * 2**32) / 2**32 exactly. p = 1 keeps nothing.
    """
    shape = _shape(shape)
    return _draw("keep_mask", shape, lambda: _next_mask(shape, p, generator).keep(np))


def draw_mask(shape, p, device="cpu", generator=None):
    """The next dropout mask: a MaskDraw for the op to build, or a bool array on `device` while draws are recorded."""
    if getattr(_tape, "mode", None) is None:
        return _next_mask(_shape(shape), p, generator)
    return backend.to_device(keep_mask(shape, p, generator), device)
