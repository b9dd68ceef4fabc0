"""where/masked_fill, cat/stack and the shape methods unsqueeze, squeeze, permute, split: values, gradients,
agreement with torch, axis=/dim=, and every error path.
"""

import numpy as np
import pytest

import tinygrad_drop as td
from tests.helpers import host, leaf, randn
from tests.torch_check import matches_torch

DTYPES = [td.float32, td.float64]
COND = randn((3, 1, 4), seed=9) > 0  # broadcasts against (2, 4) operands to (3, 2, 4)


# ---------------------------------------------------------------- where and masked_fill


def test_where_gradcheck_with_broadcasting(device):
    a, b = leaf(randn((2, 4)), device), leaf(randn((4,), seed=1), device)
    assert td.gradcheck(lambda a, b: td.where(td.Tensor(COND, device=device), a, b), [a, b])


@pytest.mark.parametrize("dtype", DTYPES)
def test_where_matches_torch(dtype):
    torch = pytest.importorskip("torch")
    matches_torch(lambda a, b: td.where(COND, a, b), lambda a, b: torch.where(torch.from_numpy(COND), a, b),
                  [randn((2, 4)), randn((4,), seed=1)], dtype)


def test_where_with_a_number():
    x = td.Tensor([-1.0, 2.0], requires_grad=True)
    y = td.where(x > 0, x, 0.0)
    y.sum().backward()
    np.testing.assert_array_equal(host(y), [0.0, 2.0])
    np.testing.assert_array_equal(host(x.grad), [0.0, 1.0])
    np.testing.assert_array_equal(host(td.where(x > 0, 5.0, x)), [-1.0, 5.0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_masked_fill_matches_torch(dtype):
    torch = pytest.importorskip("torch")
    mask = randn((3, 1), seed=4) > 0
    matches_torch(lambda x: x.masked_fill(mask, -2.5), lambda x: x.masked_fill(torch.from_numpy(mask), -2.5),
                  [randn((3, 5))], dtype)


def test_masked_fill_gradcheck_and_minus_infinity(device):
    x = leaf(randn((3, 4)), device)
    mask = np.tril(np.ones((3, 4), bool))
    assert td.gradcheck(lambda t: t.masked_fill(mask, 1.5), [x])
    y = td.Tensor(randn((2, 2)), device=device).masked_fill(np.array([[False, True], [False, False]]), float("-inf"))
    assert host(y)[0, 1] == -np.inf and host(y.softmax(-1))[0, 1] == 0.0


def test_where_and_masked_fill_errors():
    x = td.randn(2, 3)
    with pytest.raises(TypeError, match="mask must be bool"):
        x.masked_fill(np.ones((2, 3)), 0.0)
    with pytest.raises(ValueError, match=r"mask of shape \(3, 3\) does not broadcast to the tensor's shape \(2, 3\)"):
        x.masked_fill(np.ones((3, 3), bool), 0.0)
    with pytest.raises(TypeError, match="condition must be bool"):
        td.where(np.ones(3), x, x)
    with pytest.raises(ValueError, match=r"shapes \(4,\) \(condition\), \(2, 3\) \(input\)"):
        td.where(np.ones(4, bool), x, x)
    with pytest.raises(TypeError, match="input or other must be a Tensor"):
        td.where(np.ones(3, bool), 1.0, 2.0)
    with pytest.raises(TypeError, match="dtypes float32 and float64"):
        td.where(np.ones(3, bool), x, x.double())


# ---------------------------------------------------------------- cat and stack


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_cat_gradcheck(axis, device):
    shapes = {0: [(1, 3), (2, 3), (3, 3)], 1: [(2, 1), (2, 4), (2, 2)], -1: [(2, 2), (2, 1), (2, 3)]}[axis]
    xs = [leaf(randn(s, seed=i), device) for i, s in enumerate(shapes)]
    assert td.gradcheck(lambda *t: td.cat(t, axis=axis), xs)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cat_and_stack_match_torch(dtype):
    torch = pytest.importorskip("torch")
    matches_torch(lambda a, b: td.cat([a, b], dim=1), lambda a, b: torch.cat([a, b], dim=1),
                  [randn((2, 3)), randn((2, 5), seed=1)], dtype)
    matches_torch(lambda a, b: td.stack([a, b], dim=-1), lambda a, b: torch.stack([a, b], dim=-1),
                  [randn((2, 3)), randn((2, 3), seed=1)], dtype)


def test_cat_passes_no_gradient_to_constants():
    a, b = td.Tensor([1.0, 2.0], requires_grad=True), td.Tensor([3.0])
    td.cat([a, b]).sum().backward()
    np.testing.assert_array_equal(host(a.grad), [1.0, 1.0])
    assert b.grad is None


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_stack_gradcheck(axis, device):
    xs = [leaf(randn((2, 3), seed=i), device) for i in range(3)]
    out = td.stack(xs, axis=axis)
    assert out.shape == np.stack([host(x) for x in xs], axis=axis).shape
    assert td.gradcheck(lambda *t: td.stack(t, axis=axis), xs)


def test_cat_and_stack_errors():
    a = td.randn(2, 3)
    with pytest.raises(TypeError, match="non-empty sequence of Tensors"):
        td.cat([])
    with pytest.raises(TypeError, match="non-empty sequence of Tensors"):
        td.stack([a, np.ones((2, 3))])
    with pytest.raises(ValueError, match=r"shapes \[\(2, 3\), \(3, 3\)\] differ outside axis 1"):
        td.cat([a, td.randn(3, 3)], axis=1)
    with pytest.raises(IndexError, match="axis 2 is out of range for tensors of 2 dimensions"):
        td.cat([a, a], axis=2)
    with pytest.raises(ValueError, match="stack: all tensors must have the same shape"):
        td.stack([a, td.randn(3, 2)])
    with pytest.raises(TypeError, match="different dtypes"):
        td.cat([a, a.double()])
    with pytest.raises(TypeError, match="pass axis= or dim=, not both"):
        td.cat([a, a], axis=0, dim=0)


# ---------------------------------------------------------------- unsqueeze, squeeze, permute, split


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
def test_unsqueeze_matches_torch(axis):
    torch = pytest.importorskip("torch")
    for dtype in DTYPES:
        matches_torch(lambda x: x.unsqueeze(axis), lambda x: x.unsqueeze(axis), [randn((2, 3))], dtype)
    assert td.randn(2, 3).unsqueeze(dim=axis).shape == torch.zeros(2, 3).unsqueeze(axis).shape


@pytest.mark.parametrize("axis", [None, 0, 2, -1, (0, 2), 1])
def test_squeeze_matches_torch(axis):
    pytest.importorskip("torch")
    for dtype in DTYPES:
        matches_torch(lambda x: x.squeeze(axis), lambda x: x.squeeze() if axis is None else x.squeeze(axis),
                      [randn((1, 3, 1))], dtype)


def test_squeeze_of_a_0d_tensor_and_dim():
    assert td.tensor(2.0).squeeze(0).shape == () and td.randn(1, 2).squeeze(dim=0).shape == (2,)


@pytest.mark.parametrize("dtype", DTYPES)
def test_permute_matches_torch(dtype):
    pytest.importorskip("torch")
    matches_torch(lambda x: x.permute(2, 0, 1), lambda x: x.permute(2, 0, 1), [randn((2, 3, 4))], dtype)
    matches_torch(lambda x: x.permute((1, 2, 0)), lambda x: x.permute((1, 2, 0)), [randn((2, 3, 4))], dtype)


@pytest.mark.parametrize("sizes", [2, 3, 5, [1, 4], [2, 0, 3]])
@pytest.mark.parametrize("dtype", DTYPES)
def test_split_matches_torch(sizes, dtype):
    pytest.importorskip("torch")
    matches_torch(lambda x: td.cat([p * (i + 1) for i, p in enumerate(x.split(sizes, dim=1))], axis=1),
                  lambda x: __import__("torch").cat([p * (i + 1) for i, p in enumerate(x.split(sizes, dim=1))], 1),
                  [randn((2, 5, 3))], dtype)


def test_split_cuts_pieces_with_a_shorter_last_one():
    assert [p.shape for p in td.randn(7, 2).split(3)] == [(3, 2), (3, 2), (1, 2)]
    assert [p.shape for p in td.randn(2, 6).split(2, axis=-1)] == [(2, 2)] * 3


def test_shape_method_gradcheck(device):
    x = leaf(randn((1, 3, 4)), device)
    assert td.gradcheck(lambda t: t.squeeze(0).unsqueeze(-1).permute(2, 1, 0), [x])
    assert td.gradcheck(lambda t: t.split(3, axis=2)[1] * 2, [x])


def test_shape_method_errors():
    x = td.randn(2, 3)
    with pytest.raises(TypeError, match=r"unsqueeze\(\) needs the axis"):
        x.unsqueeze()
    with pytest.raises(IndexError, match=r"axis 3 is out of range for 3 dimensions \(use -3 to 2\)"):
        x.unsqueeze(3)
    with pytest.raises(IndexError, match="out of range for 2 dimensions"):
        x.squeeze(2)
    with pytest.raises(TypeError, match="axis must be an int"):
        x.squeeze(0.5)
    with pytest.raises(ValueError, match="split_size must be a positive int"):
        x.split(0)
    with pytest.raises(ValueError, match=r"sections \[1, 1\] must be non-negative and add up to 3"):
        x.split([1, 1], axis=1)
    with pytest.raises(ValueError, match="not a permutation"):
        x.permute(0, 0)
    with pytest.raises(TypeError, match="pass axis= or dim=, not both"):
        x.split(1, axis=0, dim=0)
