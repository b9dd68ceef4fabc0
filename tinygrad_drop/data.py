"""Data sets and the tools to feed them to a model.

- `load_digits`: the 8x8 handwritten digits shipped with the package (1,797 images, 10 classes).
- `load_mnist`: MNIST read from the standard IDX files in a local folder (nothing is downloaded).
- `make_moons`, `make_spirals`: small 2-D toy problems for classifiers.
- `train_test_split`: split arrays into a training part and a test part, optionally stratified.
- `DataLoader`: iterate over mini-batches of `Tensor`s, optionally shuffled every epoch and transformed.
- `RandomShift`: data augmentation for small images, a random shift of each image with zero fill.

Everything random takes a seed and uses its own `np.random.default_rng`, never the global NumPy
generator, so results are reproducible. Loaders and generators return NumPy arrays; `DataLoader`
wraps its batches as `Tensor`s.
"""

import functools
import gzip
import math
import os
from importlib import resources

import numpy as np

from . import backend, datasets
from . import random as td_random
from .tensor import Tensor

# ---------------------------------------------------------------- shipped and local data sets


@functools.cache
def _digits_arrays():
    """Parse the shipped digits CSV once: (pixels as an (n, 64) int array, labels)."""
    with resources.files(datasets).joinpath("digits.csv.gz").open("rb") as raw, gzip.open(raw, "rt") as text:
        table = np.loadtxt(text, delimiter=",", dtype=np.int64)
    return table[:, :64], table[:, 64]


def load_digits(flatten=True):
    """The digits images X (float32, values 0..16) and labels y (int64, 0..9): 1,797 of each.

    X has shape (1797, 64), or (1797, 8, 8) with flatten=False. Each call returns fresh arrays.
    """
    pixels, labels = _digits_arrays()
    X = pixels.astype(np.float32)
    if not flatten:
        X = X.reshape(-1, 8, 8)
    return X, labels.astype(np.int64)


_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_IDX_MAGIC = {"images": 2051, "labels": 2049}  # unsigned bytes, with 3 and 1 dimensions


def _find_idx_file(folder, name):
    """The path of `name` or `name.gz` in `folder`, or None if neither exists."""
    for candidate in (name, name + ".gz"):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            return path
    return None


def _read_idx(path, kind):
    """The array stored in the IDX file at `path`, whose header must say it holds `kind`."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        content = f.read()
    magic = int.from_bytes(content[:4], "big") if len(content) >= 4 else None
    if magic != _IDX_MAGIC[kind]:
        raise ValueError(
            f"{path} starts with magic number {magic}, but an IDX {kind} file starts with "
            f"{_IDX_MAGIC[kind]}; the file is corrupt or not the right file"
        )
    header_size = 4 * (1 + (3 if kind == "images" else 1))  # the magic number, then one size per dimension
    if len(content) < header_size:
        raise ValueError(f"{path} is too short to be an IDX {kind} file; download it again")
    shape = [int(v) for v in np.frombuffer(content[4:header_size], dtype=">u4")]
    values = np.frombuffer(content, dtype=np.uint8, offset=header_size)
    if values.size != math.prod(shape):
        raise ValueError(
            f"{path} declares shape {tuple(shape)} ({math.prod(shape)} values) but holds {values.size}; "
            "the file is truncated or corrupt, download it again"
        )
    return values.reshape(shape)


def load_mnist(path, kind="train"):
    """MNIST from the IDX files in the folder `path`: X (float32, (n, 784), in [0, 1]) and y (int64).

    kind="train" reads train-images-idx3-ubyte and train-labels-idx1-ubyte (60,000 images);
    kind="test" reads t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (10,000 images).
    Each file may also be gzipped (with a .gz suffix). Nothing is downloaded.
    """
    if kind not in _MNIST_FILES:
        raise ValueError(f"kind must be 'train' or 'test', got {kind!r}")
    names = _MNIST_FILES[kind]
    where = f"put {names[0]} and {names[1]} (optionally gzipped, .gz) in it"
    if not os.path.isdir(path):
        raise FileNotFoundError(f"MNIST folder {path!r} does not exist: create it and {where}")
    image_path, label_path = (_find_idx_file(path, name) for name in names)
    missing = [name for name, found in zip(names, (image_path, label_path), strict=True) if found is None]
    if missing:
        raise FileNotFoundError(f"MNIST folder {path!r} lacks {' and '.join(missing)}: {where}")
    images, labels = _read_idx(image_path, "images"), _read_idx(label_path, "labels")
    if len(images) != len(labels):
        raise ValueError(
            f"{image_path} holds {len(images)} images but {label_path} holds {len(labels)} labels"
        )
    X = images.reshape(len(images), -1).astype(np.float32) / np.float32(255)
    return X, labels.astype(np.int64)


# ---------------------------------------------------------------- toy problems


def _check_sample_args(n_samples, noise, min_samples):
    """Raise ValueError unless n_samples is an int >= min_samples and noise is >= 0."""
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < min_samples:
        raise ValueError(f"n_samples must be an integer >= {min_samples}, got {n_samples!r}")
    if not noise >= 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")


def make_moons(n_samples=200, noise=0.1, seed=0):
    """Two interleaving half circles in 2-D: X (float32, (n, 2)) and y (int64, (n,)), shuffled.

    Class 0 is the upper half circle of radius 1 centred at (0, 0); class 1 is the lower half
    circle centred at (1, 0.5). Gaussian noise of standard deviation `noise` is added to X.
    """
    _check_sample_args(n_samples, noise, min_samples=2)
    rng = np.random.default_rng(seed)
    n_outer = n_samples // 2
    n_inner = n_samples - n_outer
    outer = np.linspace(0, np.pi, n_outer)
    inner = np.linspace(0, np.pi, n_inner)
    X = np.concatenate(
        [
            np.stack([np.cos(outer), np.sin(outer)], axis=1),
            np.stack([1 - np.cos(inner), 0.5 - np.sin(inner)], axis=1),
        ]
    )
    y = np.concatenate([np.zeros(n_outer, dtype=np.int64), np.ones(n_inner, dtype=np.int64)])
    X += rng.normal(scale=noise, size=X.shape)
    order = rng.permutation(n_samples)
    return X[order].astype(np.float32), y[order]


def make_spirals(n_samples=300, n_classes=3, noise=0.2, seed=0):
    """`n_classes` interleaved spiral arms in 2-D: X (float32, (n, 2)) and y (int64, (n,)), shuffled.

    Each arm winds out from the origin to radius 1; `noise` is the standard deviation of the
    Gaussian noise added to each point's angle. Classes differ in size by at most one sample.
    """
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) or n_classes < 1:
        raise ValueError(f"n_classes must be a positive integer, got {n_classes!r}")
    _check_sample_args(n_samples, noise, min_samples=n_classes)
    rng = np.random.default_rng(seed)
    points, labels = [], []
    for label in range(n_classes):
        count = n_samples // n_classes + (label < n_samples % n_classes)
        radius = np.linspace(0.0, 1.0, count)
        start = 2 * np.pi * label / n_classes
        angle = start + np.linspace(0.0, 4.0, count) + rng.normal(scale=noise, size=count)
        points.append(np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1))
        labels.append(np.full(count, label, dtype=np.int64))
    X, y = np.concatenate(points), np.concatenate(labels)
    order = rng.permutation(n_samples)
    return X[order].astype(np.float32), y[order]


# ---------------------------------------------------------------- splitting and batching


def _as_arrays(arrays):
    """The arrays as NumPy arrays (Tensors via .numpy()), checked to share their first dimension."""
    if not arrays:
        raise ValueError("expected at least one array")
    arrays = [a.numpy() if isinstance(a, Tensor) else np.asarray(a) for a in arrays]
    if any(a.ndim == 0 for a in arrays):
        raise ValueError("every array needs at least one dimension (one entry per sample), got a scalar")
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) > 1:
        raise ValueError(f"all arrays must have the same length (first dimension), got lengths {lengths}")
    return arrays


def _test_count(test_size, n):
    """The number of test samples that `test_size` (a fraction or a count) asks for out of n."""
    if isinstance(test_size, (float, np.floating)):
        if not 0 < test_size < 1:
            raise ValueError(f"a float test_size must be between 0 and 1 (exclusive), got {test_size}")
        n_test = math.ceil(test_size * n)
    elif isinstance(test_size, (int, np.integer)) and not isinstance(test_size, bool):
        n_test = int(test_size)
    else:
        raise ValueError(f"test_size must be a float in (0, 1) or an int count, got {test_size!r}")
    if not 1 <= n_test <= n - 1:
        raise ValueError(
            f"test_size={test_size!r} gives {n_test} test samples out of {n}; "
            "both the training and the test part need at least one sample"
        )
    return n_test


def _stratified_test_indices(labels, n_test, rng):
    """Indices of a random test set of n_test samples whose class proportions follow `labels`."""
    classes, class_of, counts = np.unique(labels, return_inverse=True, return_counts=True)
    if counts.min() < 2:
        raise ValueError(
            f"stratify needs at least 2 samples of every class, but class {classes[counts.argmin()]!r} "
            "has only 1"
        )
    # Each class gets its proportional share, rounded down; the samples left over go to the
    # classes with the largest remainders, so the shares add up to n_test.
    exact = counts * n_test / len(labels)
    per_class = np.floor(exact).astype(np.int64)
    leftover = n_test - per_class.sum()
    per_class[np.argsort(per_class - exact, kind="stable")[:leftover]] += 1
    chosen = [rng.permutation(np.flatnonzero(class_of == c))[:k] for c, k in enumerate(per_class)]
    return rng.permutation(np.concatenate(chosen))


def train_test_split(*arrays, test_size=0.25, seed=0, shuffle=True, stratify=None):
    """Split arrays into (a_train, a_test, b_train, b_test, ...), the same samples in each array.

    test_size is the fraction (a float in (0, 1), rounded up) or the number (an int) of test samples.
    With shuffle=False the last samples form the test part. `stratify`, an array of class labels,
    keeps each class's share the same in both parts. Arrays may be NumPy arrays or Tensors; the
    parts are NumPy arrays.
    """
    arrays = _as_arrays(arrays)
    n = len(arrays[0])
    n_test = _test_count(test_size, n)
    if stratify is not None:
        if not shuffle:
            raise ValueError(
                "stratify needs shuffle=True (a split in the original order cannot keep class shares)"
            )
        (labels,) = _as_arrays([stratify])
        if len(labels) != n:
            raise ValueError(f"stratify has {len(labels)} labels but the arrays have {n} samples")
        rng = np.random.default_rng(seed)
        test = _stratified_test_indices(labels, n_test, rng)
        in_test = np.zeros(n, dtype=bool)
        in_test[test] = True
        train = rng.permutation(np.flatnonzero(~in_test))
    elif shuffle:
        order = np.random.default_rng(seed).permutation(n)
        test, train = order[:n_test], order[n_test:]
    else:
        train, test = np.arange(n - n_test), np.arange(n - n_test, n)
    return [part for a in arrays for part in (a[train], a[test])]


class DataLoader:
    """Iterate over mini-batches of arrays; each batch is a tuple of Tensors, one per array.

    `DataLoader(X, y, batch_size=32, shuffle=True, seed=0)` yields (X_batch, y_batch) tuples.
    With shuffle=True the order changes every epoch (every `iter`); a given seed always gives
    the same sequence of orders, and seed=None draws each order from the framework's generator
    (so `td.manual_seed` makes it reproducible). drop_last=True skips a final, smaller batch.
    Batches are copies: changing them does not change the data. `transform`, if given, is called on
    each batch of the first array (the inputs) as a whole, e.g. `transform=RandomShift(1)`.
    """

    def __init__(self, *arrays, batch_size=32, shuffle=False, seed=None, drop_last=False, transform=None):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.arrays = _as_arrays(arrays)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be callable (it gets each batch of inputs), "
                            f"got {type(transform).__name__}")
        self.transform = transform
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def __len__(self):
        """The number of batches in one epoch."""
        n = len(self.arrays[0])
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _epoch_order(self):
        """The sample indices of the next epoch, in the order they are served."""
        n = len(self.arrays[0])
        if not self.shuffle:
            return np.arange(n)
        rng = self._rng or np.random.default_rng(
            td_random.default_generator.numpy_sample(lambda g: g.integers(0, 2**63)))
        return rng.permutation(n)

    def __iter__(self):
        order = self._epoch_order()
        for b in range(len(self)):
            indices = order[b * self.batch_size : (b + 1) * self.batch_size]
            batch = [a[indices] for a in self.arrays]
            if self.transform is not None:
                batch[0] = self.transform(batch[0])
            yield tuple(Tensor._wrap(a) for a in batch)


# ---------------------------------------------------------------- data augmentation


class RandomShift:
    """Shift each image of a batch by up to max_shift pixels along each axis, filling with zeros.

    The shifts (dy, dx) are drawn uniformly from {-max_shift, ..., max_shift} per image, from the
    framework's generator (`td.manual_seed` makes them reproducible). Batches may be (N, H*W) with
    square images (e.g. (N, 64) digits), (N, H, W) or (N, C, H, W); NumPy or CuPy arrays, or Tensors;
    the result has the same shape, type and device. Use it on the training inputs only.
    """

    def __init__(self, max_shift=1):
        if isinstance(max_shift, bool) or not isinstance(max_shift, (int, np.integer)) or max_shift < 0:
            raise ValueError(f"max_shift must be a non-negative integer number of pixels, got {max_shift!r}")
        self.max_shift = int(max_shift)

    def __call__(self, images):
        if isinstance(images, Tensor):
            return Tensor._wrap(self(images.data))
        xp = backend.get_array_module(images)
        shape, batch = images.shape, self._as_nchw(images)
        n, _, h, w = batch.shape
        m = self.max_shift
        shifts = np.floor(td_random.uniform((n, 2), dtype=np.float64) * (2 * m + 1)).astype(np.int64) - m
        padded = xp.pad(batch, ((0, 0), (0, 0), (m, m), (m, m)))
        # output pixel (r, c) of image i reads padded pixel (r + m - dy_i, c + m - dx_i)
        shifts = backend.to_device(shifts, backend.device_of(images))
        rows = (m - shifts[:, :1] + xp.arange(h))[:, None, :, None]
        cols = (m - shifts[:, 1:] + xp.arange(w))[:, None, None, :]
        return padded[xp.arange(n)[:, None, None, None], xp.arange(batch.shape[1])[None, :, None, None], rows, cols
                      ].reshape(shape)

    @staticmethod
    def _as_nchw(images):
        """The batch as an (N, C, H, W) view."""
        if images.ndim == 2:
            side = math.isqrt(images.shape[1])
            if side * side != images.shape[1]:
                raise ValueError(f"RandomShift: a 2-D batch of shape {images.shape} is read as (N, H*W) square "
                                 f"images, but {images.shape[1]} is not a square; reshape it to (N, H, W)")
            return images.reshape(len(images), 1, side, side)
        if images.ndim == 3:
            return images[:, None]
        if images.ndim == 4:
            return images
        raise ValueError(f"RandomShift expects (N, H*W), (N, H, W) or (N, C, H, W) images, got shape {images.shape}")

    def __repr__(self):
        return f"RandomShift(max_shift={self.max_shift})"


# ---------------------------------------------------------------- text: Tiny Shakespeare and characters as tokens


@functools.cache
def _shakespeare_text():
    with resources.files(datasets).joinpath("tinyshakespeare.txt.gz").open("rb") as raw, gzip.open(raw, "rt",
                                                                                                encoding="utf-8") as f:
        return f.read()


def load_shakespeare():
    """The Tiny Shakespeare text shipped with the package, as one str of 1,115,394 characters (65 distinct)."""
    return _shakespeare_text()


class CharTokenizer:
    """Characters as tokens: each distinct character of `text` gets an id, in sorted order (nanoGPT's shakespeare_char).

    `encode(str)` gives an int64 array of ids, `decode(ids)` the string back; `vocab_size` is the number of ids.
    """

    def __init__(self, text):
        self.chars = sorted(set(text))
        if not self.chars:
            raise ValueError("CharTokenizer needs a non-empty text to build its vocabulary from")
        self.vocab_size = len(self.chars)
        self._ids = {c: i for i, c in enumerate(self.chars)}
        self._table = np.array(self.chars)

    def encode(self, text):
        """The ids of the characters of `text`, as an int64 array."""
        try:
            return np.fromiter((self._ids[c] for c in text), dtype=np.int64, count=len(text))
        except KeyError as err:
            raise ValueError(f"CharTokenizer.encode: character {err.args[0]!r} is not in the vocabulary "
                             f"({self.vocab_size} characters)") from None

    def decode(self, ids):
        """The string of the ids (an int array, Tensor or list)."""
        ids = np.asarray(ids.numpy() if isinstance(ids, Tensor) else ids, dtype=np.int64).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(f"CharTokenizer.decode: ids must be in [0, {self.vocab_size - 1}], got "
                             f"{int(ids.min())}..{int(ids.max())}")
        return "".join(self._table[ids])

    def __repr__(self):
        return f"CharTokenizer(vocab_size={self.vocab_size})"


def random_windows(ids, batch_size, block_size, generator=None):
    """A batch of language-model windows: x (batch_size, block_size) taken at random starts in `ids`, and
    y, the same windows shifted one token on (the next token at each position). Starts are drawn from the
    framework's generator (or `generator`), uniformly over the len(ids) - block_size possible ones.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or len(ids) <= block_size:
        raise ValueError(f"random_windows needs a 1-D array of more than block_size={block_size} ids, "
                         f"got shape {ids.shape}")
    gen = generator or td_random.default_generator
    starts = gen.numpy_sample(lambda g: g.integers(0, len(ids) - block_size, size=batch_size))
    offsets = starts[:, None] + np.arange(block_size)
    return ids[offsets], ids[offsets + 1]
