"""The Tensor class: construction, dtype inference, attributes, conversions and repr."""

import numpy as np
import pytest

import tinygrad_drop as td
from tests.helpers import host

# ---------------------------------------------------------------- construction and dtype inference


@pytest.mark.parametrize(
    ("data", "dtype"),
    [
        (1.5, td.float32),
        ([1.0, 2.0], td.float32),
        ([1, 2.5, 3], td.float32),  # one float makes the whole list float
        ([[1, 2], [3, 4.0]], td.float32),
        (3, td.int64),
        ([1, 2, 3], td.int64),
        ([[1], [2]], td.int64),
        (True, td.bool_),
        ([True, False], td.bool_),
    ],
)
def test_python_data_dtype_inference(data, dtype, device):
    t = td.Tensor(data, device=device)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.cpu().numpy(), np.array(data, dtype=dtype))


@pytest.mark.parametrize(
    "dtype", [np.float16, np.float32, np.float64, np.int8, np.int32, np.int64, np.uint8, np.bool_]
)
def test_numpy_array_keeps_dtype(dtype, device):
    array = np.arange(6).reshape(2, 3).astype(dtype)
    t = td.Tensor(array, device=device)
    assert t.dtype == np.dtype(dtype)
    assert t.shape == (2, 3)
    np.testing.assert_array_equal(t.cpu().numpy(), array)


def test_numpy_scalar_keeps_dtype():
    assert td.Tensor(np.float64(2.0)).dtype == td.float64
    assert td.Tensor(np.float32(2.0)).dtype == td.float32
    assert td.Tensor(np.int32(2)).dtype == td.int32


def test_construction_copies_numpy_input():
    array = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    t = td.Tensor(array)
    array[0] = 100.0
    assert t.tolist() == [1.0, 2.0, 3.0]


def test_construction_from_tensor_copies(device):
    a = td.Tensor([1.0, 2.0], device=device)
    b = td.Tensor(a)
    assert b.dtype == a.dtype and b.device == a.device
    a.data[0] = 50.0
    assert b.tolist() == [1.0, 2.0]
    assert b._ctx is None and not b.requires_grad


def test_td_tensor_factory_is_the_constructor():
    t = td.tensor([1, 2], dtype=td.float64, requires_grad=True)
    assert isinstance(t, td.Tensor)
    assert t.dtype == td.float64 and t.requires_grad


@pytest.mark.parametrize(
    ("data", "dtype", "expected"),
    [
        ([1, 2, 3], td.float32, td.float32),
        ([1, 2, 3], td.float64, td.float64),
        ([1.5, 2.5], td.int64, td.int64),
        (np.ones(3, dtype=np.float64), td.float32, td.float32),
        (np.ones(3, dtype=np.float32), "float64", td.float64),
    ],
)
def test_dtype_argument_overrides(data, dtype, expected, device):
    assert td.Tensor(data, dtype=dtype, device=device).dtype == expected


def test_requires_grad_on_int_data_raises_with_hint():
    with pytest.raises(TypeError, match=r"dtype=td\.float32"):
        td.Tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(TypeError, match=r"dtype=td\.float32"):
        td.Tensor(True, requires_grad=True)
    with pytest.raises(TypeError, match="int64"):
        td.Tensor(np.arange(3), requires_grad=True)


def test_requires_grad_on_int_data_with_float_dtype_is_fine():
    t = td.Tensor([1, 2, 3], dtype=td.float32, requires_grad=True)
    assert t.requires_grad and t.dtype == td.float32


def test_requires_grad_in_place():
    t = td.Tensor([1.0, 2.0])
    assert t.requires_grad_() is t and t.requires_grad
    assert not t.requires_grad_(False).requires_grad
    with pytest.raises(TypeError, match="dtype"):
        td.Tensor([1, 2]).requires_grad_()


def test_unknown_device_raises_value_error():
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        td.Tensor([1.0], device="tpu")
    with pytest.raises(ValueError, match="unknown device"):
        td.Tensor([1.0]).to("gpu")


def test_cuda_without_cupy_raises_install_hint(monkeypatch):
    monkeypatch.setattr(td.backend, "_cupy", None)
    with pytest.raises(RuntimeError, match=r'pip install "tinygrad_drop\[cuda12\]"'):
        td.Tensor([1.0], device="cuda")
    with pytest.raises(RuntimeError, match="CuPy is not installed"):
        td.zeros(2, device="cuda:0")


def test_ragged_and_non_numeric_data_raise():
    with pytest.raises(ValueError, match="ragged"):
        td.Tensor([[1.0, 2.0], [3.0]])
    with pytest.raises(TypeError, match="cannot build a tensor"):
        td.Tensor(["a", "b"])


@pytest.mark.parametrize(
    "data",
    [np.array(["1", "2"]), np.array([1 + 2j]), [1j, 2], np.array([{}], dtype=object), np.array([b"1"]), "3"],
    ids=["str-array", "complex-array", "complex-list", "object-array", "bytes-array", "str"],
)
def test_non_numeric_data_is_refused_even_with_a_dtype(data):
    for dtype in (None, td.float32):  # with a dtype NumPy would happily parse "1" or drop the imaginary part
        with pytest.raises(TypeError, match=r"NumPy dtype .*bool, integer and floating-point numbers only"):
            td.tensor(data, dtype=dtype)


@pytest.mark.parametrize("value", [2**63, 2**64, -(2**63) - 1, 10**30])
def test_ints_beyond_int64_are_refused_not_wrapped(value):
    torch = pytest.importorskip("torch")
    with pytest.raises(OverflowError, match=f"value {value} overflows int64"):
        td.tensor([1, value])
    with pytest.raises(OverflowError, match="overflows int64"):
        td.tensor(value)
    with pytest.raises((ValueError, RuntimeError, OverflowError)):  # torch refuses them too
        torch.tensor([1, value])
    assert td.tensor([value], dtype=td.float64).item() == float(value)  # a float dtype holds it approximately


def test_int64_limits_and_narrow_dtypes():
    assert td.tensor([2**63 - 1, -(2**63)]).tolist() == [2**63 - 1, -(2**63)]
    assert td.tensor([255], dtype=td.uint8).tolist() == [255]
    with pytest.raises(OverflowError, match=r"value 300 overflows uint8, whose range is \[0, 255\]"):
        td.tensor([300], dtype=td.uint8)
    with pytest.raises(OverflowError, match="value -1 overflows uint8"):
        td.tensor([-1, 3], dtype=td.uint8)
    with pytest.raises(OverflowError, match="value 128 overflows int8"):
        td.tensor(np.array([128, 0], dtype=np.uint64), dtype=td.int8)


def test_a_list_of_tensors_is_stacked_as_torch_does(device):
    torch = pytest.importorskip("torch")
    a, b = td.tensor(1.5, dtype=td.float64, device=device), td.tensor(2.5, dtype=td.float64, device=device)
    t = td.tensor([a, b])
    expected = torch.tensor([torch.tensor(1.5, dtype=torch.float64), torch.tensor(2.5, dtype=torch.float64)])
    assert t.dtype == td.float64 and str(expected.dtype) == "torch.float64"  # the tensors' dtype is kept
    np.testing.assert_array_equal(host(t), expected.numpy())
    rows = td.tensor((td.ones(2, device=device), td.zeros(2, device=device)), dtype=td.int64)
    assert rows.tolist() == [[1, 1], [0, 0]] and rows.dtype == td.int64
    x = td.tensor([1.0], requires_grad=True, device=device)
    stacked = td.tensor([x, x])
    assert stacked.is_leaf and not stacked.requires_grad  # a copy, as torch.tensor makes
    with pytest.raises(ValueError, match=r"list of tensors of shapes \[\(2,\), \(3,\)\]: they need one shape"):
        td.tensor([td.ones(2), td.ones(3)])


def test_np_asarray_of_a_tensor_is_its_array():
    t = td.tensor([[1.0, 2.0]])
    array = np.asarray(t)
    assert array.dtype == np.float32 and array.shape == (1, 2)
    assert np.shares_memory(array, t.data)  # as np.asarray(torch_tensor) and .numpy() do
    assert np.array(t, dtype=np.float64).dtype == np.float64
    copied = np.array(t, copy=True)
    copied[0, 0] = 9.0
    assert t.tolist() == [[1.0, 2.0]]
    with pytest.raises(ValueError):
        np.array(t, dtype=np.float64, copy=False)  # NumPy 2's rule: a conversion needs a copy
    assert np.asarray([td.tensor(1.0), td.tensor(2.0)]).tolist() == [1.0, 2.0]


@pytest.mark.skipif(not td.backend.cuda_is_available(), reason="needs a GPU")
def test_np_asarray_of_a_gpu_tensor_says_to_copy_it_first():
    with pytest.raises(TypeError, match=r"on cuda:0 to a NumPy array implicitly: use tensor.cpu\(\).numpy\(\)"):
        np.asarray(td.ones(2, device="cuda"))


def test_reshape_refuses_non_integer_sizes():
    x = td.ones(4)
    for shape in ((2.9, 2), (2, 2.0), (True, 4), ("2", 2)):
        with pytest.raises(TypeError, match=r"reshape needs ints, got"):
            x.reshape(*shape)
    assert x.reshape(np.int64(2), 2).shape == (2, 2)
    assert x.reshape([2, -1]).shape == (2, 2)


# ---------------------------------------------------------------- attributes


def test_attributes(device):
    t = td.Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], device=device)
    assert t.shape == (2, 3)
    assert t.ndim == 2
    assert t.size == 6
    assert len(t) == 2
    assert t.dtype == td.float32
    assert t.grad is None
    assert t.requires_grad is False
    assert t.is_leaf and t.grad_fn is None
    assert t.device == ("cpu" if device == "cpu" else "cuda:0")


def test_default_device_is_cpu():
    t = td.Tensor([1.0])
    assert t.device == "cpu"
    assert isinstance(t.data, np.ndarray)


def test_data_is_always_an_ndarray_never_a_numpy_scalar():
    x = td.Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    outputs = [td.Tensor(3.0), td.Tensor(7), td.Tensor(np.float32(1.0)), x.sum(), x.mean(), x.max(), x.min(),
               x[0, 1], x.sum(axis=(0, 1)), (x * 2).sum()]
    for out in outputs:
        assert type(out.data) is np.ndarray, type(out.data)
        assert out.shape == ()
        assert out.ndim == 0


def test_zero_d_len_raises():
    with pytest.raises(TypeError, match="0-d"):
        len(td.Tensor(1.0))


# ---------------------------------------------------------------- conversions


def test_numpy_shares_memory_on_cpu():
    t = td.Tensor([1.0, 2.0, 3.0])
    array = t.numpy()
    assert isinstance(array, np.ndarray)
    assert np.shares_memory(array, t.data)
    array[1] = 20.0
    assert t.tolist() == [1.0, 20.0, 3.0]


def test_item(device):
    assert td.Tensor(2.5, device=device).item() == 2.5
    assert isinstance(td.Tensor([[4]], device=device).item(), int)
    assert td.Tensor([[4]], device=device).item() == 4
    assert isinstance(td.Tensor([1.5], device=device).sum().item(), float)
    with pytest.raises(ValueError, match=r"one element, got shape \(2,\)"):
        td.Tensor([1.0, 2.0], device=device).item()


def test_float_and_int_conversions():
    assert float(td.Tensor([2.5])) == 2.5
    assert int(td.Tensor(7)) == 7
    assert bool(td.Tensor([1.0])) is True
    with pytest.raises(ValueError, match="ambiguous"):
        bool(td.Tensor([1.0, 2.0]))


def test_tolist(device):
    t = td.Tensor([[1, 2], [3, 4]], device=device)
    assert t.tolist() == [[1, 2], [3, 4]]
    assert isinstance(t.tolist()[0][0], int)
    assert td.Tensor(1.5, device=device).tolist() == 1.5


def test_detach_shares_data_and_records_no_graph(device):
    x = td.Tensor([1.0, 2.0], requires_grad=True, device=device)
    y = x * 3
    d = y.detach()
    assert d.data is y.data
    assert not d.requires_grad and d._ctx is None and d.is_leaf
    z = d * 2
    assert not z.requires_grad and z._ctx is None
    assert x.detach().data is x.data


def test_to_cpu_and_cpu_are_no_ops_on_cpu():
    t = td.Tensor([1.0, 2.0], requires_grad=True)
    assert t.to("cpu") is t
    assert t.cpu() is t
    assert t.to() is t
    assert t.to(dtype=td.float32) is t


def test_to_moves_between_devices(device):
    t = td.Tensor([1.0, 2.0], requires_grad=True, device=device)
    back = t.to("cpu")
    assert back.device == "cpu"
    np.testing.assert_array_equal(back.numpy(), [1.0, 2.0])
    back.sum().backward()
    assert t.grad is not None
    assert td.backend.device_of(t.grad) == t.device


def test_to_dtype_converts_and_is_differentiable(device):
    x = td.Tensor([1.5, -2.25], requires_grad=True, device=device)
    y = x.to(dtype=td.float64)
    assert y.dtype == td.float64
    assert y.requires_grad and y._ctx is not None
    (y * y).sum().backward()
    assert x.grad.dtype == td.float32
    np.testing.assert_allclose(td.Tensor(x.grad).cpu().numpy(), [3.0, -4.5])
    assert x.double().dtype == td.float64
    assert x.double().float().dtype == td.float32
    assert td.Tensor([1.7, -2.7]).to(dtype=td.int64).tolist() == [1, -2]


def test_repr_contains_values_and_graph_info():
    leaf = td.Tensor([1.5, 2.0], requires_grad=True)
    r = repr(leaf)
    assert r.startswith("Tensor(")
    assert "1.5" in r and "2." in r
    assert "requires_grad=True" in r
    r2 = repr(leaf * 2)
    assert "3." in r2 and "grad_fn=<Mul>" in r2
    plain = repr(td.Tensor([7, 8]))
    assert "7" in plain and "8" in plain
    assert "requires_grad" not in plain and "grad_fn" not in plain
    assert "dtype=float64" in repr(td.Tensor([1.0], dtype=td.float64))
    assert "dtype" not in repr(td.Tensor([1.0]))


def test_iteration_yields_rows(device):
    t = td.Tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
    rows = list(t)
    assert len(rows) == 2
    assert rows[1].tolist() == [3.0, 4.0]


def test_comparisons_return_bool_tensors_without_graph():
    x = td.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    cases = [
        (x > 1.5, [False, True, True]),
        (x <= 2.0, [True, True, False]),
        (x == td.Tensor([1.0, 0.0, 3.0]), [True, False, True]),
        (x != 2.0, [True, False, True]),
        (x < 2.0, [True, False, False]),
        (x >= 3.0, [False, False, True]),
    ]
    for result, expected in cases:
        assert result.dtype == td.bool_
        assert result.tolist() == expected
        assert not result.requires_grad


def test_tensors_are_hashable_by_identity():
    a, b = td.Tensor([1.0]), td.Tensor([1.0])
    assert len({a, b}) == 2


def test_dtype_cast_gradcheck():
    """Cast's backward casts the gradient back; float32 rounding needs a larger step and tolerance."""
    x = td.randn(3, 4, dtype=td.float64, requires_grad=True)
    assert td.gradcheck(lambda x: (x.to(dtype=td.float32) * 2.0).to(dtype=td.float64), [x], eps=1e-3, atol=1e-3)
