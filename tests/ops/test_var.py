"""var and std: NumPy/torch values for each correction, gradients, axis=/dim=."""

import warnings

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


def test_var_without_degrees_of_freedom_is_nan_or_inf_as_torch():
    """n - correction <= 0 divides by zero: nan for one element, inf when the squares sum above 0."""
    torch = pytest.importorskip("torch")
    for data, correction in (([3.0], 1), ([1.0, 2.0], 2), ([1.0, 2.0, 4.0], 5)):
        with np.errstate(divide="ignore", invalid="ignore"):
            ours = td.tensor(data, dtype=td.float64).var(correction=correction).item()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # torch: "degrees of freedom is <= 0"
            theirs = torch.tensor(data, dtype=torch.float64).var(correction=correction).item()
        np.testing.assert_array_equal(ours, theirs)


def test_var_op_defaults_to_the_unbiased_variance_of_all_elements():
    from tinygrad_drop.ops.reduce import Var

    x = np.array([[1.0, 2.0], [4.0, 9.0]])
    y = Var.apply(td.tensor(x))
    assert y.shape == ()
    np.testing.assert_allclose(y.item(), np.var(x, ddof=1), rtol=1e-15)
