"""var and std: NumPy/torch values for each correction, gradients, axis=/dim=."""

import numpy as np
import pytest

import tinygrad_drop as td
from tests.helpers import host, leaf, randn
from tests.torch_check import matches_torch


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 2), -1])
@pytest.mark.parametrize("correction", [0, 1, 2])
def test_var_and_std_values(axis, correction, device):
    x = randn((3, 4, 5))
    t = td.Tensor(x, dtype=td.float64, device=device)
    np.testing.assert_allclose(host(t.var(axis, correction=correction)), x.var(axis=axis, ddof=correction), rtol=1e-12)
    np.testing.assert_allclose(host(t.std(axis, keepdims=True, correction=correction)),
                               x.std(axis=axis, ddof=correction, keepdims=True), rtol=1e-12)


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_gradcheck(name, device):
    x = leaf(randn((3, 4)), device)
    assert td.gradcheck(lambda t: getattr(t, name)(1), [x])
    assert td.gradcheck(lambda t: getattr(t, name)(correction=0, keepdims=True), [x])


@pytest.mark.parametrize("dtype", [td.float32, td.float64])
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_match_torch(name, dtype):
    pytest.importorskip("torch")
    matches_torch(lambda x: getattr(x, name)(dim=1, correction=1), lambda x: getattr(x, name)(dim=1, correction=1),
                  [randn((3, 6, 2))], dtype)
    matches_torch(lambda x: getattr(x, name)(), lambda x: getattr(x, name)(), [randn((3, 6))], dtype)


def test_var_rejects_axis_and_dim_together():
    with pytest.raises(TypeError, match="pass axis= or dim=, not both"):
        td.randn(2, 3).var(axis=0, dim=0)
