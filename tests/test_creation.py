"""Factories (zeros, ones, rand, randn, arange, full, *_like) and seeding."""

import numpy as np
import pytest

import tinygrad_drop as td
from tests.helpers import host


@pytest.mark.parametrize("factory", [td.zeros, td.ones, td.rand, td.randn])
def test_shape_as_tuple_or_separate_ints(factory, device):
    assert factory((2, 3), device=device).shape == (2, 3)
    assert factory(2, 3, device=device).shape == (2, 3)
    assert factory([4], device=device).shape == (4,)
    assert factory(5, device=device).shape == (5,)
    assert factory((), device=device).shape == ()


@pytest.mark.parametrize("factory", [td.zeros, td.ones, td.rand, td.randn])
def test_float32_default_dtype_and_options(factory, device):
    t = factory(2, 2, device=device)
    assert t.dtype == td.float32
    assert not t.requires_grad and t.grad is None and t.is_leaf
    t64 = factory(2, 2, dtype=td.float64, requires_grad=True, device=device)
    assert t64.dtype == td.float64
    assert t64.requires_grad and t64.is_leaf
    assert t64.device == t.device


def test_zeros_and_ones_values(device):
    np.testing.assert_array_equal(host(td.zeros(2, 3, device=device)), np.zeros((2, 3)))
    np.testing.assert_array_equal(host(td.ones(3, device=device)), np.ones(3))
    ints = td.ones(2, dtype=td.int64, device=device)
    assert ints.dtype == td.int64 and ints.tolist() == [1, 1]


def test_full(device):
    t = td.full((2, 2), 7.5, device=device)
    assert t.dtype == td.float32 and t.tolist() == [[7.5, 7.5], [7.5, 7.5]]
    assert td.full(3, 2, dtype=td.int64).tolist() == [2, 2, 2]


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="non-negative ints"):
        td.zeros(-1, 2)
    with pytest.raises(ValueError, match="non-negative ints"):
        td.ones(2.5)


def test_factories_requires_grad_on_int_dtype_raises():
    with pytest.raises(TypeError, match="dtype=td.float32"):
        td.zeros(2, dtype=td.int64, requires_grad=True)


def test_factory_leaf_gets_gradient(device):
    w = td.randn(3, 2, requires_grad=True, device=device)
    (w * 2).sum().backward()
    np.testing.assert_array_equal(td.backend.to_numpy(w.grad), np.full((3, 2), 2.0))


@pytest.mark.parametrize(
    ("args", "expected", "dtype"),
    [
        ((5,), [0, 1, 2, 3, 4], td.int64),
        ((2, 6), [2, 3, 4, 5], td.int64),
        ((1, 10, 3), [1, 4, 7], td.int64),
        ((5, 0, -2), [5, 3, 1], td.int64),
        ((3.0,), [0.0, 1.0, 2.0], td.float32),
        ((0, 1, 0.25), [0.0, 0.25, 0.5, 0.75], td.float32),
        ((0.5, 2), [0.5, 1.5], td.float32),
    ],
)
def test_arange(args, expected, dtype, device):
    t = td.arange(*args, device=device)
    assert t.dtype == dtype
    assert t.tolist() == expected


def test_arange_dtype_and_errors():
    assert td.arange(3, dtype=td.float64).dtype == td.float64
    assert td.arange(3, dtype=td.float32, requires_grad=True).requires_grad
    with pytest.raises(ValueError, match="step"):
        td.arange(0, 5, 0)


@pytest.mark.parametrize("like", [td.zeros_like, td.ones_like])
@pytest.mark.parametrize("dtype", [td.float32, td.float64, td.int64, td.bool_])
def test_like_factories_keep_source_dtype_and_shape(like, dtype, device):
    source = td.Tensor(np.ones((2, 3)), dtype=dtype, device=device)
    t = like(source)
    assert t.dtype == dtype
    assert t.shape == (2, 3)
    assert t.device == source.device
    fill = 0 if like is td.zeros_like else 1
    np.testing.assert_array_equal(host(t), np.full((2, 3), fill, dtype=dtype))


def test_like_factories_dtype_override_and_no_graph():
    source = td.Tensor([1.0, 2.0], requires_grad=True)
    z = td.zeros_like(source, dtype=td.float64)
    assert z.dtype == td.float64 and not z.requires_grad
    assert td.ones_like(source, requires_grad=True).requires_grad


# ---------------------------------------------------------------- randomness


@pytest.mark.parametrize("factory", [td.randn, td.rand])
def test_manual_seed_reproduces_exactly(factory, device):
    td.manual_seed(1234)
    a = host(factory(4, 5, device=device))
    b = host(factory(4, 5, device=device))
    td.manual_seed(1234)
    a2 = host(factory(4, 5, device=device))
    b2 = host(factory(4, 5, device=device))
    assert a.tobytes() == a2.tobytes()
    assert b.tobytes() == b2.tobytes()
    assert not np.array_equal(a, b)  # the stream moves on between draws


@pytest.mark.parametrize("factory", [td.randn, td.rand])
def test_different_seeds_differ(factory):
    td.manual_seed(1)
    a = factory(100).numpy()
    td.manual_seed(2)
    b = factory(100).numpy()
    assert not np.array_equal(a, b)


def test_manual_seed_reports_seed_and_validates():
    td.manual_seed(42)
    assert td.initial_seed() == 42
    with pytest.raises(ValueError, match="non-negative"):
        td.manual_seed(-1)


def test_random_does_not_use_global_numpy_state():
    td.manual_seed(5)
    a = td.randn(10).numpy()
    td.manual_seed(5)
    np.random.seed(999)
    np.random.standard_normal(7)
    b = td.randn(10).numpy()
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [td.float32, td.float64])
def test_rand_is_in_unit_interval(dtype):
    x = td.rand(100_000, dtype=dtype).numpy()
    assert x.dtype == dtype
    assert x.min() >= 0.0
    assert x.max() < 1.0
    # U[0, 1): mean 1/2, variance 1/12; 5 standard errors
    n = x.size
    assert abs(x.mean() - 0.5) < 5 * np.sqrt(1 / 12 / n)
    assert x.min() < 0.001 and x.max() > 0.999


@pytest.mark.parametrize("dtype", [td.float32, td.float64])
def test_randn_mean_and_std(dtype):
    n = 100_000
    x = td.randn(n, dtype=dtype).numpy().astype(np.float64)
    # standard error of the mean is 1/sqrt(n); of the sample std about 1/sqrt(2n)
    assert abs(x.mean()) < 5 / np.sqrt(n)
    assert abs(x.std() - 1.0) < 5 / np.sqrt(2 * n)
    # heavy-ish tails are present: P(|z| > 3) = 0.0027, so about 270 of 100k samples
    assert 150 < np.sum(np.abs(x) > 3) < 400


def test_random_float_dtype_validation():
    with pytest.raises(TypeError, match="float32 or float64"):
        td.randn(3, dtype=td.int64)
