"""GELU, the Gaussian error linear unit: y = x * Phi(x), with Phi the standard normal CDF.

approximate="none":  Phi(x) = (1 + erf(x / sqrt 2)) / 2 = erfc(-x / sqrt 2) / 2, computed below (NumPy has no erf);
approximate="tanh":  Phi(x) ~ (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3))) / 2 (GPT-2's form).
"""

import math

import numpy as np

from ..autograd import Function
from ..backend import get_array_module
from .blocks import blockwise

# ---------------------------------------------------------------- erf without SciPy
#
# For z = |x| >= 0, erfc(z) = t * exp(-z^2 + P(t)) with t = 2 / (2 + z) (Numerical Recipes' form).
# P is smooth on t in [1/6, 1] (z in [0, 10]), so a degree-20 Chebyshev series fits it to about 1e-14
# relative error. The series is fitted once, at import, to math.erfc at Chebyshev nodes. Beyond
# z = 10 (erfc < 3e-45) it is used as it is: t > 0 keeps u above -1.4, where the series still gives
# erfc to about 1e-9 relative error, down to where erfc underflows (z near 27).

ERF_Z_MAX = 10.0
_T_LOW = 2 / (2 + ERF_Z_MAX)
_SQRT_HALF = math.sqrt(0.5)


def _fit_erfc_exponent(degree=20, nodes=400):
    """Chebyshev coefficients of P(t) = log(erfc(z) / t) + z^2 on t in [_T_LOW, 1]."""
    u = np.cos(np.pi * (np.arange(nodes) + 0.5) / nodes)  # Chebyshev nodes in [-1, 1]
    t = _T_LOW + (1 - _T_LOW) * (u + 1) / 2
    z = 2 / t - 2
    target = np.log(np.array([math.erfc(v) for v in z]) / t) + z * z
    return np.polynomial.chebyshev.chebfit(u, target, degree)


_ERFC_EXPONENT = _fit_erfc_exponent()


def _chebyshev(u, coefficients):
    """sum_k c_k T_k(u) by Clenshaw's recurrence (u in [-1, 1])."""
    b1 = b2 = 0.0
    for c in coefficients[:0:-1]:
        b1, b2 = 2 * u * b1 - b2 + c, b1
    return u * b1 - b2 + coefficients[0]


def _erfc_of_abs(x):
    """erfc(|x|) in float64, to about 1e-14 relative error for |x| <= 10 and 1e-9 beyond (no cancellation)."""
    xp = get_array_module(x)
    z = xp.abs(x.astype(xp.float64, copy=False))
    t = 2 / (2 + z)
    u = (2 * t - (1 + _T_LOW)) / (1 - _T_LOW)  # t in [_T_LOW, 1] -> u in [-1, 1]; beyond z = 10, u > -1.4
    return t * xp.exp(_chebyshev(u, _ERFC_EXPONENT) - z * z)


def erf(x):
    """The error function erf(x) = 2/sqrt(pi) * integral_0^x e^(-s^2) ds, elementwise, in x's dtype
    (computed in float64, so float32 results are correctly rounded or one rounding off).
    """
    xp = get_array_module(x)
    return (xp.sign(x) * (1 - _erfc_of_abs(x))).astype(x.dtype, copy=False)


def normal_cdf(x):
    """Phi(x) = erfc(-x / sqrt 2) / 2, the standard normal CDF, in x's dtype. For x < 0 it is erfc(|x| / sqrt 2) / 2
    directly, which keeps its relative accuracy far into the tail where 1 + erf(x / sqrt 2) would cancel.
    """
    xp = get_array_module(x)
    half_tail = _erfc_of_abs(x.astype(xp.float64, copy=False) * _SQRT_HALF) / 2  # Phi(-|x|), x / sqrt 2 unrounded
    return xp.where(x < 0, half_tail, 1 - half_tail).astype(x.dtype, copy=False)


# ---------------------------------------------------------------- the op

_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_TANH_CUBIC = 0.044715


class GELU(Function):
    """y = x * Phi(x), and forward also computes dy/dx, which backward multiplies by dL/dy (one pass).

    "none":  dy/dx = Phi(x) + x * phi(x), phi(x) = e^(-x^2/2) / sqrt(2 pi).
    "tanh":  with s = tanh(k (x + c x^3)), k = sqrt(2/pi), c = 0.044715, y = x (1 + s) / 2 and
             dy/dx = (1 + s) / 2 + x (1 - s^2) k (1 + 3 c x^2) / 2.
    dL/dx = dL/dy * dy/dx.
    """

    @staticmethod
    def forward(ctx, x, approximate="none"):
        formula = _tanh_gelu if approximate == "tanh" else _erf_gelu
        with_slope = ctx.needs_input_grad[0]
        results = blockwise(lambda block: formula(block, with_slope), x.reshape(-1, 1))
        if with_slope:
            ctx.save_for_backward(results[1].reshape(x.shape))
        return results[0].reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        (slope,) = ctx.saved_tensors
        return (grad * slope,)


def _tanh_gelu(x, with_slope):
    """(y, dy/dx) of the tanh form, or (y,) without the slope, computed in place on fresh arrays."""
    xp, dtype = get_array_module(x), x.dtype.type
    x2 = x * x
    s = x2 * dtype(_TANH_CUBIC * _SQRT_2_OVER_PI)
    s += dtype(_SQRT_2_OVER_PI)
    s *= x
    s = xp.tanh(s, out=s)  # s = tanh(k (x + c x^3))
    half = s + dtype(1)
    half *= dtype(0.5)  # (1 + s) / 2
    y = x * half
    if not with_slope:
        return (y,)
    slope = x2  # x k (1 + 3 c x^2) / 2, in place
    slope *= dtype(1.5 * _TANH_CUBIC * _SQRT_2_OVER_PI)
    slope += dtype(0.5 * _SQRT_2_OVER_PI)
    slope *= x
    s *= s
    s -= dtype(1)
    s *= slope  # -(1 - s^2) x k (1 + 3 c x^2) / 2
    half -= s  # dy/dx
    return y, half


def _erf_gelu(x, with_slope):
    """(y, dy/dx) of the erf form, or (y,) without the slope."""
    xp, dtype = get_array_module(x), x.dtype.type
    cdf = normal_cdf(x)
    y = x * cdf
    if not with_slope:
        return (y,)
    slope = x * x
    slope *= dtype(-0.5)
    slope = xp.exp(slope, out=slope)
    slope *= dtype(_INV_SQRT_2PI)  # phi(x)
    slope *= x
    slope += cdf  # Phi(x) + x phi(x)
    return y, slope
