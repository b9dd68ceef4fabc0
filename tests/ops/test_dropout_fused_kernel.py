"""The fused CUDA dropout kernel (ops/dropout.py), run on the CPU through tests/host_cupy.py's stand-in for CuPy.

On CuPy, `masked_scale_at` draws the keep bits, forms the mask and scales in one kernel. These tests
compile that kernel's CUDA source with the host's C compiler and check that it gives the very bytes
the NumPy path gives, so the same seed gives the same outputs and gradients on both devices.
"""

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tests import host_cupy
from tinygrad_drop import backend
from tinygrad_drop import random as R
from tinygrad_drop.ops import dropout
from tinygrad_drop.ops.dropout import DropoutRecompute, masked_scale, masked_scale_at

FUSED, KEEP_MASK = "tinygrad_drop_dropout_recompute", "tinygrad_drop_keep_mask"


@pytest.fixture
def gpu(monkeypatch):
    """The framework with host_cupy as its CuPy: its arrays count as arrays on cuda:0."""
    if host_cupy.compiler() is None:
        pytest.skip("needs a C compiler")
    monkeypatch.setattr(backend, "_cupy", host_cupy)
    monkeypatch.setattr(dropout, "_kernels", {})  # kernels built here are the stand-in's: keep them out of the cache
    monkeypatch.setattr(R, "_kernels", {})
    monkeypatch.setattr(host_cupy, "created", [])
    monkeypatch.setattr(host_cupy, "launches", [])
    return host_cupy


def _expected(v, draw, p, scale):
    """What the CPU computes: masked_scale with the mask drawn by NumPy's Philox."""
    return masked_scale(v, R.keep_mask_at(draw, p), scale)


def _scale(p):
    return 1 / (1 - p) if p < 1 else 0.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 1.0])
def test_fused_kernel_gives_the_cpu_bytes(dtype, p, gpu):
    """One kernel launch of ceil(n / 16) threads, and the output bytes equal the NumPy path's."""
    for n in (1, 15, 16, 17, 1000):
        for seed, offset in ((0, 0), (77, 11), (2**64 + 5, 2**40), (2**128 - 1, 2**64 - 100)):
            v = np.random.default_rng(n).standard_normal(n).astype(dtype)
            draw = R.Draw("keep_mask", (n,), seed, offset)
            gpu.launches.clear()
            y = masked_scale_at(gpu.asarray(v), draw, p, _scale(p))
            assert isinstance(y, gpu.ndarray) and y.dtype == dtype
            assert gpu.launches == [(FUSED, -(-n // 16))]
            assert gpu.asnumpy(y).tobytes() == _expected(v, draw, p, _scale(p)).tobytes(), (n, seed, offset)


def test_fused_kernel_takes_the_mask_in_the_order_of_the_inputs_shape(gpu):
    """A transposed (not C-contiguous) input gets element j of the stream at its element j in C order."""
    v = np.random.default_rng(0).standard_normal((6, 10)).T
    draw = R.Draw("keep_mask", (10, 6), 9, 3)
    x = gpu.asarray(v.T).T  # the same non-contiguous layout, on the device
    y = masked_scale_at(x, draw, 0.5, 2.0)
    assert gpu.asnumpy(y).tobytes() == _expected(v, draw, 0.5, 2.0).tobytes()
    assert gpu.asnumpy(x).tobytes() == v.tobytes()  # the input is left as it was


def test_a_broadcast_mask_is_drawn_on_the_device_and_then_applied(gpu):
    """A mask shared along an axis has fewer elements than the input: the keep-mask kernel draws it, no fusion."""
    v = np.random.default_rng(1).standard_normal((4, 5)).astype(np.float32)
    draw = R.Draw("keep_mask", (4, 1), 12, 7)
    y = masked_scale_at(gpu.asarray(v), draw, 0.5, 2.0)  # a host mask would be refused here, as by CuPy
    assert gpu.launches == [(KEEP_MASK, 1)]
    assert gpu.asnumpy(y).tobytes() == _expected(v, draw, 0.5, 2.0).tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_recompute_dropout_forward_and_backward_match_the_cpu(dtype, gpu):
    """F.dropout(mask_storage="recompute") on the device: outputs and gradients byte-equal to the CPU's."""
    v = np.random.default_rng(2).standard_normal((3, 40)).astype(dtype)
    upstream = np.random.default_rng(3).standard_normal((3, 40)).astype(dtype)
    results = []
    for array in (v, gpu.asarray(v)):
        td.manual_seed(2**64 + 9)
        x = td.Tensor._wrap(array, requires_grad=True)
        y = F.dropout(x, p=0.3, mask_storage="recompute")
        y.backward(td.Tensor._wrap(upstream if array is v else gpu.asarray(upstream)))
        results.append([backend.to_numpy(a).tobytes() for a in (y.data, x.grad.data)])
    assert y._ctx.__class__ is DropoutRecompute and gpu.launches == [(FUSED, 8), (FUSED, 8)]
    assert results[1] == results[0]


def test_fused_kernel_is_built_once_and_reused(gpu):
    """One ElementwiseKernel serves every call, for both float dtypes (CuPy compiles it once per dtype)."""
    for dtype in (np.float32, np.float64, np.float32):
        for n in (5, 33):
            masked_scale_at(gpu.asarray(np.ones(n, dtype)), R.Draw("keep_mask", (n,), 1, 0), 0.5, 2.0)
    assert [k.name for k in gpu.created] == [FUSED]
    assert len(gpu.launches) == 6
