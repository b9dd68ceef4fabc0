"""Compare a tinygrad_drop function with its PyTorch counterpart: values, then gradients for one random cotangent."""

import numpy as np
import pytest

import tinygrad_drop as td
from tests.helpers import host

TOLERANCES = {td.float32: dict(rtol=2e-5, atol=2e-6), td.float64: dict(rtol=1e-10, atol=1e-12)}


def matches_torch(td_fn, torch_fn, arrays, dtype, device="cpu", **tolerance):
    """Run td_fn and torch_fn on the same inputs (float arrays in `dtype`, requiring grad; others as they are)
    and assert equal outputs and equal input gradients for a random cotangent. Returns the tinygrad_drop output.
    """
    torch = pytest.importorskip("torch")
    tol = {**TOLERANCES[np.dtype(dtype)], **tolerance}
    floats = [np.asarray(a).dtype.kind == "f" for a in arrays]
    ours = [td.Tensor(np.asarray(a), dtype=dtype, requires_grad=True, device=device) if f else a
            for a, f in zip(arrays, floats, strict=True)]
    theirs = [torch.tensor(np.asarray(a, dtype=dtype), requires_grad=True) if f else
              (torch.from_numpy(np.asarray(a)) if isinstance(a, np.ndarray) else a)
              for a, f in zip(arrays, floats, strict=True)]
    out, ref = td_fn(*ours), torch_fn(*theirs)
    np.testing.assert_allclose(host(out), ref.detach().numpy(), **tol)
    cotangent = np.random.default_rng(7).standard_normal(out.shape).astype(dtype)
    out.backward(cotangent)
    ref.backward(torch.from_numpy(cotangent))
    for ours_t, theirs_t, f in zip(ours, theirs, floats, strict=True):
        if f:
            assert ours_t.grad.dtype == np.dtype(dtype) and ours_t.grad.shape == ours_t.shape
            np.testing.assert_allclose(host(ours_t.grad), theirs_t.grad.numpy(), **tol)
    return out
