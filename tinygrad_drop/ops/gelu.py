"""GELU, the Gaussian error linear unit: y = x * Phi(x), with Phi the standard normal CDF.

approximate="none":  Phi(x) = (1 + erf(x / sqrt 2)) / 2, with erf computed below (NumPy has none);
approximate="tanh":  Phi(x) ~ (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3))) / 2 (GPT-2's form).
"""

import math

import numpy as np

from ..autograd import Function
from ..backend import get_array_module

# ---------------------------------------------------------------- erf without SciPy
#
# For z = |x| >= 0, erfc(z) = t * exp(-z^2 + P(t)) with t = 2 / (2 + z) (Numerical Recipes' form):
# P is smooth on t in [0.25, 1] (z in [0, 6]), so a degree-20 Chebyshev series fits it to about 30
# float64 roundings. The series is fitted once, at import, to math.erfc at Chebyshev nodes. Beyond
# z = 6, erfc(z) < 3e-17, so erf(x) = +-1 in float64.

ERF_Z_MAX = 6.0
_T_LOW = 2 / (2 + ERF_Z_MAX)


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


def erf(x):
    """The error function erf(x) = 2/sqrt(pi) * integral_0^x e^(-s^2) ds, elementwise.

    Computed in float64 and returned in x's dtype, so float32 results are correctly rounded or nearly.
    """
    xp = get_array_module(x)
    x64 = x.astype(xp.float64, copy=False)
    z = xp.minimum(xp.abs(x64), ERF_Z_MAX)
    t = 2 / (2 + z)
    u = (2 * t - (1 + _T_LOW)) / (1 - _T_LOW)  # t in [_T_LOW, 1] -> u in [-1, 1]
    erfc = t * xp.exp(_chebyshev(u, _ERFC_EXPONENT) - z * z)
    return (xp.sign(x64) * (1 - erfc)).astype(x.dtype, copy=False)


# ---------------------------------------------------------------- the op

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_TANH_CUBIC = 0.044715


class GELU(Function):
    """y = x * Phi(x).

    "none":  dL/dx = dL/dy * (Phi(x) + x * phi(x)), phi(x) = e^(-x^2/2) / sqrt(2 pi).
    "tanh":  with s = tanh(k (x + c x^3)), k = sqrt(2/pi), c = 0.044715, y = x (1 + s) / 2 and
             dL/dx = dL/dy * ((1 + s) / 2 + x (1 - s^2) k (1 + 3 c x^2) / 2).
    """

    @staticmethod
    def forward(ctx, x, approximate="none"):
        xp, one = get_array_module(x), x.dtype.type(1)
        ctx.approximate = approximate
        if approximate == "tanh":
            s = xp.tanh(x.dtype.type(_SQRT_2_OVER_PI) * (x + x.dtype.type(_TANH_CUBIC) * x * x * x))
            ctx.save_for_backward(x, s)
            return x * (one + s) * x.dtype.type(0.5)
        cdf = (one + erf(x * x.dtype.type(_SQRT_HALF))) * x.dtype.type(0.5)
        ctx.save_for_backward(x, cdf)
        return x * cdf

    @staticmethod
    def backward(ctx, grad):
        x, saved = ctx.saved_tensors
        xp, dtype = get_array_module(x), x.dtype.type
        if ctx.approximate == "tanh":
            s = saved
            inner = dtype(_SQRT_2_OVER_PI) * (dtype(1) + dtype(3 * _TANH_CUBIC) * x * x)
            return grad * dtype(0.5) * ((dtype(1) + s) + x * (dtype(1) - s * s) * inner)
        pdf = xp.exp(x * x * dtype(-0.5)) * dtype(_INV_SQRT_2PI)
        return grad * (saved + x * pdf)
