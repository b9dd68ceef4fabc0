"""Tests for tinygrad_drop.data: data sets, train_test_split and DataLoader."""

import gzip
import struct

import numpy as np
import pytest

import tinygrad_drop as td
from tinygrad_drop.data import (
    DataLoader,
    load_digits,
    load_mnist,
    make_moons,
    make_spirals,
    train_test_split,
)

# ---------------------------------------------------------------- load_digits


def test_digits_shapes_dtypes_and_values():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16
    assert np.array_equal(X, np.round(X))  # pixel counts are whole numbers
    assert set(np.unique(y)) == set(range(10))
    counts = np.bincount(y)
    assert counts.sum() == 1797
    assert np.all((counts >= 170) & (counts <= 190))


def test_digits_first_sample_matches_file():
    X, y = load_digits()
    assert np.array_equal(X[0].reshape(8, 8)[0], [0, 0, 5, 13, 9, 1, 0, 0])
    assert np.array_equal(X[0].reshape(8, 8)[7], [0, 0, 6, 13, 10, 0, 0, 0])
    assert y[0] == 0 and y[1] == 1 and y[2] == 2


def test_digits_unflattened_matches_flat():
    X_flat, y_flat = load_digits()
    X_img, y_img = load_digits(flatten=False)
    assert X_img.shape == (1797, 8, 8) and X_img.dtype == np.float32
    assert np.array_equal(X_img.reshape(1797, 64), X_flat)
    assert np.array_equal(y_img, y_flat)


def test_digits_cache_cannot_be_corrupted():
    X, y = load_digits()
    X[:] = -1
    y[:] = -1
    X_img, _ = load_digits(flatten=False)
    X_img[:] = -1
    X_again, y_again = load_digits()
    assert X_again.min() == 0 and y_again.min() == 0
    assert X_again[0, 2] == 5


# ---------------------------------------------------------------- train_test_split


def test_split_sizes_order_and_disjointness():
    X = np.arange(100).reshape(50, 2)
    y = np.arange(50)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, seed=1)
    assert X_train.shape == (40, 2) and X_test.shape == (10, 2)
    assert y_train.shape == (40,) and y_test.shape == (10,)
    assert np.array_equal(X_train[:, 0] // 2, y_train)  # rows stay paired with their labels
    assert np.array_equal(X_test[:, 0] // 2, y_test)
    assert set(y_train).isdisjoint(y_test)
    assert sorted(np.concatenate([y_train, y_test])) == list(range(50))


def test_split_rounds_fraction_up_and_accepts_counts():
    y = np.arange(10)
    _, y_test = train_test_split(y, test_size=0.25)
    assert len(y_test) == 3  # ceil(2.5)
    y_train, y_test = train_test_split(y, test_size=4)
    assert len(y_train) == 6 and len(y_test) == 4


def test_split_is_reproducible_and_seed_dependent():
    y = np.arange(200)
    first = train_test_split(y, seed=3)
    again = train_test_split(y, seed=3)
    other = train_test_split(y, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[1], other[1])


def test_split_without_shuffle_keeps_order():
    y = np.arange(10)
    y_train, y_test = train_test_split(y, test_size=3, shuffle=False)
    assert np.array_equal(y_train, np.arange(7))
    assert np.array_equal(y_test, [7, 8, 9])


def test_split_accepts_tensors():
    X = td.Tensor(np.arange(20, dtype=np.float32).reshape(10, 2))
    X_train, X_test = train_test_split(X, test_size=2)
    assert isinstance(X_train, np.ndarray) and X_train.shape == (8, 2) and X_test.shape == (2, 2)


def test_stratified_split_keeps_class_proportions():
    y = np.array([0] * 80 + [1] * 20)
    X = np.arange(100)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, seed=0)
    assert np.bincount(y_test).tolist() == [20, 5]
    assert np.bincount(y_train).tolist() == [60, 15]
    assert np.array_equal(y[X_test], y_test)
    assert set(X_train).isdisjoint(X_test)


def test_stratified_split_on_digits_is_balanced():
    X, y = load_digits()
    _, _, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y)
    assert len(y_test) == 360
    share_test = np.bincount(y_test, minlength=10) / len(y_test)
    share_all = np.bincount(y, minlength=10) / len(y)
    assert np.all(np.abs(share_test - share_all) < 0.005)


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, 1.5, 0, 10, 11, -1, "0.25", None, True])
def test_split_rejects_bad_test_size(bad):
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(np.arange(10), test_size=bad)


def test_split_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match=r"\[10, 9\]"):
        train_test_split(np.arange(10), np.arange(9))


def test_split_rejects_bad_stratify():
    y = np.arange(10) % 2
    with pytest.raises(ValueError, match="9 labels"):
        train_test_split(y, stratify=y[:9])
    with pytest.raises(ValueError, match="shuffle"):
        train_test_split(y, stratify=y, shuffle=False)
    with pytest.raises(ValueError, match="at least 2 samples"):
        train_test_split(np.arange(5), stratify=np.array([0, 0, 1, 1, 2]))


def test_split_needs_an_array():
    with pytest.raises(ValueError, match="at least one array"):
        train_test_split()


# ---------------------------------------------------------------- DataLoader


def test_loader_batches_in_order_without_shuffle():
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10)
    loader = DataLoader(X, y, batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    assert [tuple(b.shape for b in batch) for batch in batches] == [
        ((4, 2), (4,)),
        ((4, 2), (4,)),
        ((2, 2), (2,)),
    ]
    for batch in batches:
        assert isinstance(batch, tuple) and all(isinstance(t, td.Tensor) for t in batch)
        assert not any(t.requires_grad for t in batch)
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64
    assert np.array_equal(np.concatenate([b[1].numpy() for b in batches]), y)
    assert np.array_equal(batches[1][0].numpy(), X[4:8])


def test_loader_single_array_yields_one_tuples():
    batches = list(DataLoader(np.arange(5), batch_size=2))
    assert all(isinstance(b, tuple) and len(b) == 1 for b in batches)
    assert batches[-1][0].tolist() == [4]


def test_loader_drop_last():
    loader = DataLoader(np.arange(10), batch_size=4, drop_last=True)
    batches = list(loader)
    assert len(loader) == 2 and len(batches) == 2
    assert all(len(b[0]) == 4 for b in batches)
    assert len(DataLoader(np.arange(8), batch_size=4, drop_last=True)) == 2
    assert len(DataLoader(np.arange(3), batch_size=4, drop_last=True)) == 0
    assert len(DataLoader(np.arange(3), batch_size=4)) == 1


def test_loader_accepts_tensors():
    X = td.Tensor(np.arange(6, dtype=np.float32))
    (batch,) = next(iter(DataLoader(X, batch_size=6)))
    assert batch.tolist() == [0, 1, 2, 3, 4, 5]


def test_loader_batches_are_copies():
    X = np.arange(6, dtype=np.float32)
    (batch,) = next(iter(DataLoader(X, batch_size=3)))
    batch.data[:] = -1
    assert X.min() == 0


def _epoch(loader):
    return np.concatenate([b[0].numpy() for b in loader])


def test_loader_shuffle_sees_every_sample_once_and_keeps_pairs():
    X = np.arange(23) * 10
    y = np.arange(23)
    loader = DataLoader(X, y, batch_size=5, shuffle=True, seed=0)
    for _ in range(3):
        xs, ys = [], []
        for xb, yb in loader:
            xs.append(xb.numpy())
            ys.append(yb.numpy())
        xs, ys = np.concatenate(xs), np.concatenate(ys)
        assert sorted(ys) == list(range(23))
        assert np.array_equal(xs, ys * 10)


def test_loader_shuffle_changes_order_each_epoch():
    loader = DataLoader(np.arange(50), batch_size=8, shuffle=True, seed=0)
    first, second = _epoch(loader), _epoch(loader)
    assert not np.array_equal(first, second)
    assert not np.array_equal(first, np.arange(50))


def test_loader_shuffle_is_reproducible_with_seed():
    a = DataLoader(np.arange(50), batch_size=8, shuffle=True, seed=7)
    b = DataLoader(np.arange(50), batch_size=8, shuffle=True, seed=7)
    c = DataLoader(np.arange(50), batch_size=8, shuffle=True, seed=8)
    epochs_a = [_epoch(a) for _ in range(3)]
    epochs_b = [_epoch(b) for _ in range(3)]
    assert all(np.array_equal(x, z) for x, z in zip(epochs_a, epochs_b, strict=True))
    assert not np.array_equal(epochs_a[0], _epoch(c))


def test_loader_without_seed_follows_manual_seed():
    td.manual_seed(123)
    first = _epoch(DataLoader(np.arange(50), batch_size=8, shuffle=True))
    td.manual_seed(123)
    again = _epoch(DataLoader(np.arange(50), batch_size=8, shuffle=True))
    assert np.array_equal(first, again)
    assert not np.array_equal(first, np.arange(50))


def test_loader_shuffle_with_drop_last_serves_distinct_samples():
    loader = DataLoader(np.arange(10), batch_size=3, shuffle=True, seed=0, drop_last=True)
    served = _epoch(loader)
    assert len(served) == 9 and len(set(served)) == 9


@pytest.mark.parametrize("bad", [0, -1, 2.5, "8", True])
def test_loader_rejects_bad_batch_size(bad):
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(np.arange(10), batch_size=bad)


def test_loader_rejects_mismatched_lengths_and_no_arrays():
    with pytest.raises(ValueError, match=r"\[10, 8\]"):
        DataLoader(np.arange(10), np.arange(8))
    with pytest.raises(ValueError, match="at least one array"):
        DataLoader()
    with pytest.raises(ValueError, match="scalar"):
        DataLoader(np.float32(3.0))


# ---------------------------------------------------------------- toy problems


@pytest.mark.parametrize("make", [make_moons, make_spirals])
def test_toy_shapes_dtypes_and_seeds(make):
    X, y = make(n_samples=150)
    assert X.shape == (150, 2) and X.dtype == np.float32
    assert y.shape == (150,) and y.dtype == np.int64
    X2, y2 = make(n_samples=150)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    X3, _ = make(n_samples=150, seed=1)
    assert not np.array_equal(X, X3)


def test_moons_are_balanced_and_shaped_like_moons():
    X, y = make_moons(n_samples=201, noise=0.0)
    assert np.bincount(y).tolist() == [100, 101]
    upper, lower = X[y == 0], X[y == 1]
    assert np.allclose(np.hypot(upper[:, 0], upper[:, 1]), 1, atol=1e-6)
    assert np.all(upper[:, 1] >= -1e-6)
    assert np.allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1, atol=1e-6)
    assert np.all(lower[:, 1] <= 0.5 + 1e-6)
    assert not np.array_equal(y, np.sort(y))  # shuffled


def test_spirals_are_balanced():
    X, y = make_spirals(n_samples=300, n_classes=3)
    assert np.bincount(y).tolist() == [100, 100, 100]
    _, y = make_spirals(n_samples=101, n_classes=4)
    counts = np.bincount(y)
    assert len(counts) == 4 and counts.sum() == 101 and counts.max() - counts.min() <= 1
    X, _ = make_spirals(noise=0.0)
    assert np.all(np.hypot(X[:, 0], X[:, 1]) <= 1 + 1e-6)


def test_toy_problems_reject_bad_arguments():
    with pytest.raises(ValueError, match="n_samples"):
        make_moons(n_samples=1)
    with pytest.raises(ValueError, match="noise"):
        make_moons(noise=-0.1)
    with pytest.raises(ValueError, match="n_classes"):
        make_spirals(n_classes=0)
    with pytest.raises(ValueError, match="n_samples"):
        make_spirals(n_samples=2, n_classes=3)


# ---------------------------------------------------------------- load_mnist


def _idx_images(images):
    n, rows, cols = images.shape
    return struct.pack(">IIII", 2051, n, rows, cols) + images.astype(np.uint8).tobytes()


def _idx_labels(labels):
    return struct.pack(">II", 2049, len(labels)) + labels.astype(np.uint8).tobytes()


def _write(path, content, zipped):
    if zipped:
        with gzip.open(str(path) + ".gz", "wb") as f:
            f.write(content)
    else:
        path.write_bytes(content)


@pytest.fixture
def tiny_mnist():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28)).astype(np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    return images, labels


@pytest.mark.parametrize("zipped", [False, True])
@pytest.mark.parametrize("kind, prefix", [("train", "train"), ("test", "t10k")])
def test_load_mnist_reads_idx_files(tmp_path, tiny_mnist, zipped, kind, prefix):
    images, labels = tiny_mnist
    _write(tmp_path / f"{prefix}-images-idx3-ubyte", _idx_images(images), zipped)
    _write(tmp_path / f"{prefix}-labels-idx1-ubyte", _idx_labels(labels), zipped)
    X, y = load_mnist(str(tmp_path), kind=kind)
    assert X.shape == (5, 784) and X.dtype == np.float32
    assert y.dtype == np.int64 and y.tolist() == [3, 1, 4, 1, 5]
    assert X[0, 0] == 0 and X[0, 1] == 1
    assert np.allclose(X, images.reshape(5, 784) / 255)


def test_load_mnist_missing_folder(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match="does not exist") as info:
        load_mnist(str(missing))
    assert "train-images-idx3-ubyte" in str(info.value) and "train-labels-idx1-ubyte" in str(info.value)


def test_load_mnist_missing_file_names_it(tmp_path, tiny_mnist):
    images, _ = tiny_mnist
    _write(tmp_path / "t10k-images-idx3-ubyte", _idx_images(images), zipped=False)
    with pytest.raises(FileNotFoundError, match="lacks t10k-labels-idx1-ubyte:"):
        load_mnist(str(tmp_path), kind="test")


def test_load_mnist_rejects_bad_magic(tmp_path, tiny_mnist):
    images, labels = tiny_mnist
    _write(tmp_path / "train-images-idx3-ubyte", _idx_labels(labels), zipped=False)  # swapped files
    _write(tmp_path / "train-labels-idx1-ubyte", _idx_images(images), zipped=False)
    with pytest.raises(ValueError, match="magic number 2049.*2051"):
        load_mnist(str(tmp_path))


def test_load_mnist_rejects_truncated_and_mismatched_files(tmp_path, tiny_mnist):
    images, labels = tiny_mnist
    _write(tmp_path / "train-images-idx3-ubyte", _idx_images(images)[:-10], zipped=False)
    _write(tmp_path / "train-labels-idx1-ubyte", _idx_labels(labels), zipped=False)
    with pytest.raises(ValueError, match="truncated"):
        load_mnist(str(tmp_path))
    _write(tmp_path / "train-images-idx3-ubyte", _idx_images(images)[:8], zipped=False)
    with pytest.raises(ValueError, match="too short"):
        load_mnist(str(tmp_path))
    _write(tmp_path / "train-images-idx3-ubyte", _idx_images(images[:4]), zipped=False)
    with pytest.raises(ValueError, match="4 images.*5 labels"):
        load_mnist(str(tmp_path))


def test_load_mnist_rejects_bad_kind(tmp_path):
    with pytest.raises(ValueError, match="kind"):
        load_mnist(str(tmp_path), kind="validation")
