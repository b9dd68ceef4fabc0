"""Integer and bool tensors: torch's dtype rules for reductions, arithmetic and comparisons, float ops that
compute in float32, ops that refuse them, and bool class targets."""

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tinygrad_drop import nn

INT_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64"]


def _pair(values, dtype):
    torch = pytest.importorskip("torch")
    return td.tensor(np.array(values, dtype=dtype)), torch.tensor(np.array(values, dtype=dtype))


def _same(ours, theirs):
    theirs = theirs.numpy()
    assert ours.dtype == theirs.dtype, (ours.dtype, theirs.dtype)
    np.testing.assert_array_equal(ours.numpy(), theirs)


# ---------------------------------------------------------------- min on extremes (its own reduction)


@pytest.mark.parametrize(("values", "dtype"), [
    ([0, 5], "uint8"), ([255, 7], "uint8"), ([-128, 5], "int8"), ([127, -128], "int8"),
    ([np.iinfo(np.int64).min, 5], "int64"), ([np.iinfo(np.int64).max, 0], "int64"),
    ([True, False], "bool"), ([True, True], "bool"),
])
def test_min_and_max_on_integer_extremes_match_torch(values, dtype):
    ours, theirs = _pair(values, dtype)
    _same(ours.min(), theirs.min())
    _same(ours.max(), theirs.max())
    _same(ours.reshape(1, 2).min(dim=1), theirs.reshape(1, 2).amin(dim=1))


def test_min_gradient_is_shared_among_ties():
    x = td.tensor([[2.0, 1.0, 1.0], [0.0, 3.0, 4.0]], dtype=td.float64, requires_grad=True)
    x.min(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])
    assert td.gradcheck(lambda t: t.min(axis=0, keepdims=True), [td.tensor([[2.0, 1.0], [0.5, 3.0]],
                                                                          dtype=td.float64, requires_grad=True)])


def test_min_of_an_empty_tensor_is_an_error():
    with pytest.raises(ValueError, match="min of an empty tensor"):
        td.zeros(0).min()


# ---------------------------------------------------------------- reductions, arithmetic and comparisons


@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_sum_max_min_follow_torch(dtype):
    ours, theirs = _pair([[1, 0, 1], [1, 1, 0]], dtype)
    _same(ours.sum(), theirs.sum())
    _same(ours.sum(dim=0), theirs.sum(dim=0))
    _same(ours.max(dim=1), theirs.amax(dim=1))
    _same(ours.min(), theirs.min())


@pytest.mark.parametrize("a_dtype", INT_DTYPES[1:])
@pytest.mark.parametrize("b_dtype", INT_DTYPES[1:])
def test_add_sub_mul_between_integer_tensors_follow_torch(a_dtype, b_dtype):
    a, at = _pair([1, 2, 3], a_dtype)
    b, bt = _pair([3, 2, 1], b_dtype)
    _same(a + b, at + bt)
    _same(a * b, at * bt)
    _same(a - b, at - bt)


@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_comparisons_give_bool_as_torch(dtype):
    a, at = _pair([0, 1, 1], dtype)
    b, bt = _pair([1, 1, 0], dtype)
    for op in ("__lt__", "__le__", "__eq__", "__ne__", "__gt__", "__ge__"):
        _same(getattr(a, op)(b), getattr(at, op)(bt))
        _same(getattr(a, op)(0.5), getattr(at, op)(0.5))


def test_integer_matmul_with_float_raises_as_torch():
    with pytest.raises(TypeError, match="int64 and float32"):
        td.tensor([[1, 2]]) @ td.ones(2, 2)
    with pytest.raises(TypeError, match="float32 and int64"):
        td.ones(2, 2) @ td.tensor([[1], [2]])
    with pytest.raises(TypeError, match="bool and float64"):
        td.tensor([True, False]) @ np.ones(2)
    np.testing.assert_array_equal((td.tensor([[1, 2]]) @ td.tensor([[3], [4]])).numpy(), [[11]])


# ---------------------------------------------------------------- float ops on integer tensors


@pytest.mark.filterwarnings("ignore:divide by zero")
@pytest.mark.parametrize("method", ["sigmoid", "exp", "tanh", "sqrt", "log"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_float_ops_on_integers_compute_in_float32_as_torch(method, dtype):
    ours, theirs = _pair([1, 2, 0], dtype) if dtype != "bool" else _pair([True, False, True], dtype)
    y, yt = getattr(ours, method)(), getattr(theirs, method)()
    assert y.dtype == td.float32
    np.testing.assert_allclose(y.numpy(), yt.numpy(), rtol=1e-6)


@pytest.mark.parametrize("fn", [lambda x: x.softmax(), lambda x: x.log_softmax(dim=0), lambda x: F.softmax(x, 0),
                                lambda x: F.cross_entropy(x.reshape(1, 2), [1]), lambda x: nn.Linear(2, 1)(x),
                                lambda x: F.linear(x, td.ones(3, 2))])
def test_softmax_cross_entropy_and_linear_refuse_integers(fn):
    with pytest.raises(TypeError, match="floating-point input, got dtype int64"):
        fn(td.tensor([1, 2]))


# ---------------------------------------------------------------- bool class targets


@pytest.mark.parametrize("fn", [F.cross_entropy, lambda x, t: F.nll_loss(x.log_softmax(), t),
                                lambda x, t: nn.CrossEntropyLoss()(x, t)])
def test_bool_class_targets_are_refused(fn):
    logits = td.tensor([[0.0, 1.0], [2.0, 0.0]])
    with pytest.raises(TypeError, match="targets must be integer class indices"):
        fn(logits, np.array([True, False]))
    with pytest.raises(TypeError, match="float probabilities"):
        fn(logits, td.tensor([True, False]))
