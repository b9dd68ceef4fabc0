"""Small helpers shared by the test files: NumPy views of results, float64 leaves, seeded data."""

import numpy as np

import tinygrad_drop as td


def host(x):
    """A NumPy array of a Tensor's data or of a backend array (a host copy for GPU arrays)."""
    return td.backend.to_numpy(x.data if isinstance(x, td.Tensor) else x)


def leaf(array, device, dtype=td.float64):
    """A leaf tensor that requires grad, holding `array` on `device` (float64 by default, for gradcheck)."""
    return td.Tensor(np.asarray(array), dtype=dtype, requires_grad=True, device=device)


def randn(shape, seed=0):
    """Seeded standard-normal NumPy data (independent of the framework's generator)."""
    return np.random.default_rng(seed).standard_normal(shape)
