"""Tests for RandomShift and DataLoader(transform=...): shapes, zero fill, the shift distribution, reproducibility."""

import numpy as np
import pytest
from helpers import host

import tinygrad_drop as td
from tinygrad_drop.data import DataLoader, RandomShift, load_digits


def _one_hot_images(n, side=7):
    """n images with a single 1 in the centre, so each shifted image reveals its shift."""
    images = np.zeros((n, side, side), np.float32)
    images[:, side // 2, side // 2] = 1
    return images


def _shifts(shifted, side=7):
    """(dy, dx) of each image of one-hot images shifted by RandomShift."""
    flat = shifted.reshape(len(shifted), -1).argmax(axis=1)
    return np.stack([flat // side - side // 2, flat % side - side // 2], axis=1)


@pytest.mark.parametrize("shape", [(5, 64), (5, 8, 8), (5, 3, 8, 8)])
def test_shape_dtype_and_type_are_kept(shape, device):
    x = td.randn(*shape, device=device)
    y = RandomShift(2)(x)
    assert isinstance(y, td.Tensor) and y.shape == shape and y.dtype == td.float32 and y.device == x.device
    raw = RandomShift(1)(x.data)
    assert type(raw) is type(x.data) and raw.shape == shape


def test_shifts_are_uniform_over_the_allowed_range():
    max_shift, n = 2, 25_000
    shifts = _shifts(RandomShift(max_shift)(_one_hot_images(n)))
    assert np.abs(shifts).max() == max_shift
    values, counts = np.unique(shifts, axis=0, return_counts=True)
    assert len(values) == (2 * max_shift + 1) ** 2  # every (dy, dx) pair occurs
    expected = n / len(values)  # 1,000 per pair: a binomial count with sd about 31
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected))
    assert np.corrcoef(shifts[:, 0], shifts[:, 1])[0, 1] == pytest.approx(0.0, abs=0.03)  # independent axes


def test_pixels_move_and_zeros_fill_in():
    images = np.arange(1, 26, dtype=np.float32).reshape(1, 5, 5).repeat(400, axis=0)
    shifted = RandomShift(1)(images)
    for image in shifted:
        rows = np.flatnonzero(image.any(axis=1))
        cols = np.flatnonzero(image.any(axis=0))
        assert len(rows) in (4, 5) and len(cols) in (4, 5)  # at most one row and one column of zeros
        dy = (0 if len(rows) == 5 else (1 if rows[0] == 1 else -1))
        dx = (0 if len(cols) == 5 else (1 if cols[0] == 1 else -1))
        expected = np.roll(images[0], (dy, dx), axis=(0, 1))
        if dy:
            expected[0 if dy > 0 else -1] = 0
        if dx:
            expected[:, 0 if dx > 0 else -1] = 0
        np.testing.assert_array_equal(image, expected)
    assert shifted.sum() < images.sum()  # some pixels left the images


def test_channels_share_their_images_shift():
    x = _one_hot_images(50)[:, None].repeat(3, axis=1)  # (50, 3, 7, 7)
    y = RandomShift(3)(x)
    np.testing.assert_array_equal(y[:, 0], y[:, 1])
    np.testing.assert_array_equal(y[:, 0], y[:, 2])


def test_zero_shift_is_the_identity_and_seeds_reproduce():
    x = np.random.default_rng(0).standard_normal((6, 64)).astype(np.float32)
    np.testing.assert_array_equal(RandomShift(0)(x), x)
    td.manual_seed(5)
    a = RandomShift(1)(x)
    td.manual_seed(5)
    np.testing.assert_array_equal(RandomShift(1)(x), a)
    assert not np.array_equal(RandomShift(1)(x), a)


def test_dataloader_applies_the_transform_to_the_inputs_only():
    X, y = load_digits()
    loader = DataLoader(X[:64], y[:64], batch_size=16, transform=RandomShift(1))
    batches = list(loader)
    assert len(batches) == 4 and all(xb.shape == (16, 64) for xb, _ in batches)
    np.testing.assert_array_equal(np.concatenate([host(yb) for _, yb in batches]), y[:64])
    shifted = np.concatenate([host(xb) for xb, _ in batches])
    assert not np.array_equal(shifted, X[:64]) and np.array_equal(X[:64], load_digits()[0][:64])  # data untouched
    assert np.all(shifted.sum(axis=1) <= X[:64].sum(axis=1))  # zero fill never adds ink


def test_errors():
    with pytest.raises(ValueError, match="max_shift must be a non-negative integer"):
        RandomShift(-1)
    with pytest.raises(ValueError, match="max_shift must be a non-negative integer"):
        RandomShift(1.5)
    with pytest.raises(ValueError, match="60 is not a square"):
        RandomShift(1)(np.zeros((2, 60), np.float32))
    with pytest.raises(ValueError, match="got shape"):
        RandomShift(1)(np.zeros(4, np.float32))
    with pytest.raises(TypeError, match="transform must be callable"):
        DataLoader(np.zeros((4, 2)), transform=3)
    assert repr(RandomShift(2)) == "RandomShift(max_shift=2)"
