"""Movement ops: reshape, flatten, transpose, .T and indexing."""

import numpy as np
import pytest

import tinygrad_drop as td
from tests import host_cupy
from tests.helpers import host, leaf, randn

# ---------------------------------------------------------------- reshape


@pytest.mark.parametrize(
    ("call", "shape"),
    [
        (lambda t: t.reshape((4, 6)), (4, 6)),
        (lambda t: t.reshape(4, 6), (4, 6)),
        (lambda t: t.reshape([24]), (24,)),
        (lambda t: t.reshape(-1), (24,)),
        (lambda t: t.reshape(2, -1), (2, 12)),
        (lambda t: t.reshape((-1, 3, 2)), (4, 3, 2)),
        (lambda t: t.reshape(1, 24, 1), (1, 24, 1)),
        (lambda t: t.flatten(), (24,)),
        (lambda t: t.flatten(1), (2, 12)),
    ],
    ids=["tuple", "ints", "list", "-1", "2,-1", "(-1,3,2)", "unit axes", "flatten", "flatten(1)"],
)
def test_reshape_forms(call, shape, device):
    x_np = randn((2, 3, 4))
    x = leaf(x_np, device)
    y = call(x)
    assert y.shape == shape
    np.testing.assert_array_equal(host(y), x_np.reshape(shape))
    assert td.gradcheck(call, [x])


def test_reshape_gradient_closed_form(device):
    x = leaf(np.arange(6.0), device)
    u = randn((3, 2))
    x.reshape(3, 2).backward(u)
    np.testing.assert_array_equal(host(x.grad), u.reshape(6))


def test_reshape_to_incompatible_size_names_shape_and_target():
    with pytest.raises(ValueError, match=r"shape \(2, 3\).*\(4, 2\)"):
        td.ones(2, 3).reshape(4, 2)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(-1, 4\)"):
        td.ones(2, 3).reshape(-1, 4)


# ---------------------------------------------------------------- transpose


def test_transpose_without_axes_reverses(device):
    x_np = randn((2, 3, 4))
    x = leaf(x_np, device)
    y = x.transpose()
    assert y.shape == (4, 3, 2)
    np.testing.assert_array_equal(host(y), x_np.transpose())
    assert td.gradcheck(lambda t: t.transpose(), [x])


@pytest.mark.parametrize("axes", [(1, 0, 2), (2, 0, 1), (0, 2, 1), (-1, 0, 1), (0, 1, 2)], ids=str)
def test_transpose_explicit_permutation(axes, device):
    x_np = randn((2, 3, 4))
    x = leaf(x_np, device)
    for y in (x.transpose(*axes), x.transpose(axes), x.transpose(list(axes))):
        np.testing.assert_array_equal(host(y), x_np.transpose(axes))
    assert td.gradcheck(lambda t: t.transpose(axes), [x])


def test_transpose_gradient_closed_form():
    x = leaf(randn((2, 3, 4)), "cpu")
    u = randn((4, 2, 3), seed=1)
    x.transpose(2, 0, 1).backward(u)
    np.testing.assert_array_equal(x.grad, u.transpose(1, 2, 0))


def test_T_property(device):
    x_np = randn((3, 5))
    x = leaf(x_np, device)
    np.testing.assert_array_equal(host(x.T), x_np.T)
    assert td.gradcheck(lambda t: t.T, [x])
    assert leaf(randn((2, 3, 4)), device).T.shape == (4, 3, 2)


@pytest.mark.parametrize("axes", [(0, 0), (0,), (0, 1, 2), (0, 2), (0, -3), (1, 5)], ids=str)
def test_transpose_bad_permutation_raises(axes):
    with pytest.raises(ValueError, match="not a permutation"):
        td.ones(2, 3).transpose(*axes)


# ---------------------------------------------------------------- indexing


INDICES = {
    "int": 1,
    "negative int": -1,
    "slice": slice(1, 3),
    "negative slice": slice(-2, None),
    "step slice": slice(None, None, 2),
    "reverse slice": slice(None, None, -1),
    "tuple": (1, slice(None), -1),
    "ellipsis": (Ellipsis, 0),
    "newaxis": (None, slice(0, 2)),
    "int array": np.array([2, 0]),
    "repeated list": [0, 0, 2, 0],
    "pair of arrays": (np.array([0, 1, 1]), np.array([2, 3, 3])),
    "array and slice": (slice(None), np.array([1, 1, 0])),
    "bool mask": np.array([True, False, True]),
    "2-D bool mask": np.array([[True, False, True, False]] * 3),
}


@pytest.mark.parametrize("name", list(INDICES))
def test_getitem_forward_and_gradcheck(name, device):
    index = INDICES[name]
    x_np = randn((3, 4, 2)) if name in ("ellipsis", "tuple") else randn((3, 4))
    x = leaf(x_np, device)
    y = x[index]
    np.testing.assert_array_equal(host(y), x_np[index])
    assert td.gradcheck(lambda t: t[index], [x])


def test_getitem_basic_slicing_gradient(device):
    x = leaf(np.arange(12.0).reshape(3, 4), device)
    x[1:, ::2].sum().backward()
    np.testing.assert_array_equal(host(x.grad), [[0, 0, 0, 0], [1, 0, 1, 0], [1, 0, 1, 0]])


def test_getitem_negative_index_gradient(device):
    x = leaf([1.0, 2.0, 3.0, 4.0], device)
    y = x[-1] * 5 + x[-3]
    assert host(y).item() == 22.0
    y.backward()
    np.testing.assert_array_equal(host(x.grad), [0.0, 1.0, 0.0, 5.0])


def test_getitem_repeated_indices_accumulate(device):
    x = leaf([10.0, 20.0, 30.0], device)
    y = x[[0, 0, 2, 0]]
    np.testing.assert_array_equal(host(y), [10.0, 10.0, 30.0, 10.0])
    y.backward(np.array([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(host(x.grad), [7.0, 0.0, 3.0])


def test_getitem_repeated_rows_accumulate(device):
    x = leaf(np.ones((3, 2)), device)
    x[np.array([1, 1, 1])].sum().backward()
    np.testing.assert_array_equal(host(x.grad), [[0, 0], [3, 3], [0, 0]])


def test_getitem_with_tensor_index(device):
    x = leaf([1.0, 2.0, 3.0], device)
    idx = td.Tensor([2, 2], device=device)
    x[idx].sum().backward()
    np.testing.assert_array_equal(host(x.grad), [0.0, 0.0, 2.0])
    rows = td.Tensor([0, 0], device=device)
    m = leaf(np.ones((2, 2)), device)
    m[rows, 1].sum().backward()
    np.testing.assert_array_equal(host(m.grad), [[0.0, 2.0], [0.0, 0.0]])


def test_getitem_boolean_mask_tensor(device):
    x_np = np.array([-1.0, 2.0, -3.0, 4.0])
    x = leaf(x_np, device)
    mask = x > 0
    assert mask.dtype == td.bool_
    y = x[mask]
    np.testing.assert_array_equal(host(y), [2.0, 4.0])
    (y * y).sum().backward()
    np.testing.assert_array_equal(host(x.grad), [0.0, 4.0, 0.0, 8.0])


def test_getitem_keeps_dtype_and_data_is_ndarray():
    x = td.Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x[0, 1]
    assert y.dtype == td.float32 and y.shape == ()
    assert type(y.data) is np.ndarray
    y.backward()
    assert x.grad.dtype == td.float32
    np.testing.assert_array_equal(x.grad, [[0.0, 1.0], [0.0, 0.0]])


def test_getitem_out_of_range_raises():
    with pytest.raises(IndexError):
        td.ones(3)[5]


def test_getitem_gradient_accumulates_in_the_tensors_dtype_as_torch():
    """A float16 element picked 3,000 times gets 2048, as in torch: float16 sums of ones stop growing at 2048."""
    torch = pytest.importorskip("torch")
    index = np.zeros(3000, dtype=np.int64)
    x = td.Tensor(np.zeros(3, dtype=np.float16), requires_grad=True)
    x[index].sum().backward()
    expected = torch.zeros(3, dtype=torch.float16, requires_grad=True)
    expected[torch.from_numpy(index)].sum().backward()
    assert x.grad.dtype == np.float16
    np.testing.assert_array_equal(x.grad, expected.grad.numpy())
    assert x.grad[0] == 2048


# ---------------------------------------------------------------- expand


def test_expand_a_size_one_axis_to_zero_gives_an_empty_tensor_as_torch():
    x = td.Tensor(np.ones((1, 3)), requires_grad=True)
    y = x.expand(0, 3)
    assert y.shape == (0, 3) and x.expand(2, 0, 3).shape == (2, 0, 3)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros((1, 3)))


def test_expand_error_says_what_can_grow():
    with pytest.raises(ValueError) as info:
        td.zeros(2, 3).expand(4, 3)
    assert str(info.value) == ("expand: cannot expand shape (2, 3) to (4, 3) (only size-1 axes and new leading axes "
                               "can grow; -1 keeps an existing size)")


# ---------------------------------------------------------------- cat and moving between devices


def test_cat_op_joins_along_the_first_axis_by_default():
    from tinygrad_drop.ops.movement import Cat

    a, b = td.Tensor(np.ones((1, 2)), requires_grad=True), td.Tensor(np.zeros((2, 2)), requires_grad=True)
    y = Cat.apply(a, b)
    np.testing.assert_array_equal(y.numpy(), [[1.0, 1.0], [0.0, 0.0], [0.0, 0.0]])
    y.backward(np.arange(6.0).reshape(3, 2))
    np.testing.assert_array_equal(a.grad, [[0.0, 1.0]])
    np.testing.assert_array_equal(b.grad, [[2.0, 3.0], [4.0, 5.0]])


@pytest.mark.parametrize(("source", "target"), [("cpu", "cuda:0"), ("cuda:0", "cpu")])
def test_moving_between_devices_sends_the_gradient_back_to_the_source(source, target, monkeypatch):
    from tinygrad_drop.ops.movement import ToDevice

    monkeypatch.setattr(td.backend, "_cupy", host_cupy)
    data = np.array([1.0, 2.0, 3.0])
    x = td.Tensor._wrap(data if source == "cpu" else data.view(host_cupy.ndarray))
    x.requires_grad = True
    y = ToDevice.apply(x, device=target)
    assert y.device == target and x.device == source
    np.testing.assert_array_equal(np.asarray(y.data), data)
    y.backward(td.backend.array_module_for(target).array([0.5, -1.0, 2.0]))
    assert td.backend.device_of(x.grad) == source
    np.testing.assert_array_equal(np.asarray(x.grad), [0.5, -1.0, 2.0])
