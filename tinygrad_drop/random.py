"""The framework's random number generator, used by every random op (never the global np.random).

One generator, seeded by `manual_seed`, built on NumPy's counter-based Philox bit generator, so a
stream is a pure function of its seed. Every draw goes through `_draw`, which lets a caller record
the draws of a computation and replay them later (`record_draws` / `replay_draws`): this is how
`gradcheck` holds dropout masks fixed across its many evaluations of one function.
"""

import contextlib
import threading

import numpy as np

DEFAULT_SEED = 67280421310721  # PyTorch's default seed: runs are reproducible even without manual_seed


class Generator:
    """A seeded Philox stream of random bits."""

    def __init__(self, seed=DEFAULT_SEED):
        self.manual_seed(seed)

    def manual_seed(self, seed):
        """Restart the stream from `seed` (a non-negative int)."""
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self._seed = int(seed)
        self.bits = np.random.Generator(np.random.Philox(self._seed))
        return self

    def initial_seed(self):
        """The seed the stream was last started from."""
        return self._seed

    def get_state(self):
        """A copy of the generator's state, for `set_state`."""
        return {"seed": self._seed, "bit_generator": self.bits.bit_generator.state}

    def set_state(self, state):
        """Restore a state returned by `get_state`."""
        self._seed = state["seed"]
        self.bits.bit_generator.state = state["bit_generator"]


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
    """Record every random draw made inside the block into the yielded list."""
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


# ---------------------------------------------------------------- draws (NumPy arrays on the host)

def _shape(shape):
    return tuple(int(s) for s in shape)


def _float_type(dtype):
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"random floats can be float32 or float64, got {dtype}")
    return dtype.type


def uniform(shape, dtype=np.float32, generator=None):
    """U[0, 1) samples of the given shape and float dtype."""
    gen, shape, ftype = generator or default_generator, _shape(shape), _float_type(dtype)
    return _draw("uniform", shape, lambda: gen.bits.random(shape, dtype=ftype))


def normal(shape, dtype=np.float32, generator=None):
    """N(0, 1) samples of the given shape and float dtype."""
    gen, shape, ftype = generator or default_generator, _shape(shape), _float_type(dtype)
    return _draw("normal", shape, lambda: gen.bits.standard_normal(shape, dtype=ftype))


def keep_mask(shape, p, generator=None):
    """A bool mask where each element is True (kept) with probability 1 - p, independently.

    Each element takes 32 raw random bits u and is kept when u >= round(p * 2**32), so p is
    resolved to 1/2**32 and P(keep) = 1 - round(p * 2**32) / 2**32 exactly. p = 1 keeps nothing.
    """
    gen, shape = generator or default_generator, _shape(shape)
    threshold = round(p * 2**32)

    def make():
        if threshold >= 2**32:
            return np.zeros(shape, dtype=bool)
        size = int(np.prod(shape))
        bits = gen.bits.bit_generator.random_raw((size + 1) // 2).view(np.uint32)[:size]
        return (bits >= np.uint32(threshold)).reshape(shape)

    return _draw("keep_mask", shape, make)
