"""td.eye, td.full's dtype rules, td.linspace, td.randint and td.randperm against torch."""

import numpy as np
import pytest

import tinygrad_drop as td


@pytest.mark.parametrize(("n", "m"), [(3, None), (2, 4), (4, 1), (0, None)])
def test_eye_matches_torch(n, m):
    torch = pytest.importorskip("torch")
    ours = td.eye(n, m)
    theirs = torch.eye(n) if m is None else torch.eye(n, m)
    assert ours.dtype == td.float32
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert td.eye(2, dtype=td.int64).dtype == td.int64


@pytest.mark.parametrize("value", [3, 2.5, True, -1])
def test_full_dtype_follows_the_value_as_torch(value):
    torch = pytest.importorskip("torch")
    ours, theirs = td.full((2, 3), value), torch.full((2, 3), value)
    assert ours.dtype == theirs.numpy().dtype
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert td.full((2,), value, dtype=td.float64).dtype == td.float64


@pytest.mark.parametrize("args", [(0, 1, 5), (-3.5, 7.25, 11), (0, 1, 1), (1, 0, 0), (0.1, 0.9, 1000), (5, -5, 8)])
@pytest.mark.parametrize("dtype", [None, td.float64, td.int64])
def test_linspace_matches_torch(args, dtype):
    torch = pytest.importorskip("torch")
    tdtype = {None: None, td.float64: torch.float64, td.int64: torch.int64}[dtype]
    ours, theirs = td.linspace(*args, dtype=dtype), torch.linspace(*args, dtype=tdtype).numpy()
    assert ours.dtype == theirs.dtype
    np.testing.assert_allclose(ours.numpy(), theirs, rtol=1e-6 if dtype is None else 1e-15, atol=1e-6)


def test_linspace_includes_both_ends_and_refuses_bad_steps():
    values = td.linspace(-1.0, 2.0, 7, dtype=td.float64).numpy()
    assert values[0] == -1.0 and values[-1] == 2.0
    with pytest.raises(ValueError, match="steps must be a non-negative int"):
        td.linspace(0, 1, -1)


def test_randint_forms_range_dtype_and_seed():
    td.manual_seed(3)
    a = td.randint(2, 7, (1000,))
    assert a.dtype == td.int64 and a.shape == (1000,)
    assert int(a.min().item()) == 2 and int(a.max().item()) == 6
    td.manual_seed(3)
    np.testing.assert_array_equal(td.randint(2, 7, (1000,)).numpy(), a.numpy())  # from the framework's stream
    b = td.randint(5, (2, 3))
    assert b.shape == (2, 3) and 0 <= b.min().item() and b.max().item() < 5
    assert td.randint(0, 3, 4).shape == (4,)


def test_randint_is_uniform():
    # each of 10 values has p = 0.1; over 100,000 draws each count is within 6 standard deviations (~570)
    counts = np.bincount(td.randint(0, 10, (100_000,)).numpy(), minlength=10)
    assert np.all(np.abs(counts - 10_000) < 6 * np.sqrt(100_000 * 0.1 * 0.9))


def test_randint_errors():
    with pytest.raises(TypeError, match="needs a size"):
        td.randint(5)
    with pytest.raises(ValueError, match="low must be smaller than high"):
        td.randint(3, 3, (2,))


def test_randperm_is_a_permutation_from_the_framework_stream():
    td.manual_seed(1)
    p = td.randperm(50)
    assert p.dtype == td.int64
    np.testing.assert_array_equal(np.sort(p.numpy()), np.arange(50))
    td.manual_seed(1)
    np.testing.assert_array_equal(td.randperm(50).numpy(), p.numpy())
    assert td.randperm(0).shape == (0,)
    with pytest.raises(ValueError, match="n must be a non-negative int"):
        td.randperm(-1)


def test_randperm_positions_are_uniform():
    # where element 0 lands over 20,000 permutations of 4: each place has p = 1/4; bound of 6 sigma
    places = np.array([int(np.argmax(td.randperm(4).numpy() == 0)) for _ in range(20_000)])
    counts = np.bincount(places, minlength=4)
    assert np.all(np.abs(counts - 5000) < 6 * np.sqrt(20_000 * 0.25 * 0.75))
