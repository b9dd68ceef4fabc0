"""tests/host_cupy.py, the CPU stand-in for CuPy's ElementwiseKernel: it accepts and refuses what CuPy does."""

import numpy as np
import pytest

from tests import host_cupy as cp

if cp.compiler() is None:
    pytest.skip("needs a C compiler", allow_module_level=True)


def test_a_generic_kernel_runs_its_body_for_each_index_below_size():
    """'raw T x, T a' with T bound from x's dtype: y[i] = a * x[i] for i < size, the rest untouched."""
    kernel = cp.ElementwiseKernel("raw T x, T a", "raw T y", "y[i] = a * x[i]", "axpy_host_test")
    for dtype in (np.float32, np.float64):
        x, y = cp.asarray(np.arange(6, dtype=dtype)), cp.asarray(np.full(6, -1, dtype))
        kernel(x, dtype(0.5), y, size=4)
        assert cp.asnumpy(y).tobytes() == np.array([0, 0.5, 1, 1.5, -1, -1], dtype).tobytes()


@pytest.mark.parametrize(("in_params", "error"), [
    ("rw T x", ValueError),  # unknown keyword
    ("RAW T x", ValueError),
    ("raw float x", ValueError),  # not a dtype name: NumPy calls float "float64"
    ("raw UINT64 x", TypeError),
    ("raw TT x", TypeError),  # a placeholder is one letter
    ("x", ValueError),  # no type
])
def test_parameter_lists_are_read_as_cupy_reads_them(in_params, error):
    with pytest.raises(error):
        cp.ElementwiseKernel(in_params, "raw T y", "", "k")


@pytest.mark.parametrize("name", ["2k", "a-b", "", None])
def test_the_kernel_name_must_be_a_c_identifier(name):
    with pytest.raises((ValueError, TypeError)):
        cp.ElementwiseKernel("raw T x", "raw T y", "", name)


def test_calls_need_every_argument_a_size_and_device_arrays_for_raw_parameters():
    kernel = cp.ElementwiseKernel("raw T x, uint64 k", "raw T y", "y[i] = x[i]", "copy_host_test")
    x = cp.asarray(np.ones(3))
    with pytest.raises(TypeError, match="Wrong number of arguments"):
        kernel(x, np.uint64(1), size=3)
    with pytest.raises(ValueError, match="Loop size"):
        kernel(x, np.uint64(1), cp.empty_like(x))
    with pytest.raises(TypeError, match="raw parameter"):
        kernel(np.ones(3), np.uint64(1), cp.empty_like(x), size=3)  # a host array
    with pytest.raises(TypeError, match="Unsupported type"):
        kernel(x, None, cp.empty_like(x), size=3)


def test_device_arrays_refuse_host_arrays_as_operands():
    x = cp.asarray(np.arange(3.0))
    assert isinstance(x * np.float64(2), cp.ndarray)  # a NumPy scalar is fine
    with pytest.raises(TypeError, match="Unsupported type"):
        x * np.ones(3)
