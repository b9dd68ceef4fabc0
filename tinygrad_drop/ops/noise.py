"""Multiplicative-noise relatives of dropout: alpha dropout (for SELU networks) and Gaussian dropout.

Alpha dropout (Klambauer et al. 2017) sets a dropped unit to SELU's negative saturation value
alpha' = -scale * alpha = -1.7581 instead of 0, then applies an affine map a * (.) + b chosen so
that an input with zero mean and unit variance keeps them:

    y = a * (m * x + (1 - m) * alpha') + b,    m ~ Bernoulli(1 - p),
    a = ((1 - p) * (1 + p * alpha'^2))^(-1/2),   b = -a * alpha' * p.

Gaussian dropout (Srivastava et al. 2014, section 10) multiplies by e ~ N(1, p / (1 - p)) instead
of m / (1 - p): the same mean (1) and the same variance (p / (1 - p)) as inverted dropout's factor.
"""

import math

from ..autograd import Function

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
ALPHA_PRIME = -SELU_SCALE * SELU_ALPHA  # -1.7580993408473766, where SELU saturates for x -> -inf


def alpha_dropout_affine(p):
    """The constants (a, b) of alpha dropout for drop probability p; (0, 0) at p = 1 (PyTorch gives zeros)."""
    if p == 1.0:
        return 0.0, 0.0
    a = 1.0 / math.sqrt((1.0 - p) * (1.0 + p * ALPHA_PRIME**2))
    return a, -a * ALPHA_PRIME * p


class AlphaDropout(Function):
    """y = a * (m * x + (1 - m) * alpha') + b;   dL/dx = a * m * dL/dy.

    The keep-mask m (bool, any shape that broadcasts to x) is drawn by the caller
    (`nn.functional.alpha_dropout`); a dropped unit outputs the constant a * alpha' + b.
    """

    @staticmethod
    def forward(ctx, x, mask, a, b):
        a, dropped = x.dtype.type(a), x.dtype.type(a * ALPHA_PRIME + b)
        ctx.save_for_backward(mask)
        ctx.a = a
        y = x * mask
        y *= a
        y += mask * x.dtype.type(b) + ~mask * dropped
        return y

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        grad_x = grad * mask
        grad_x *= ctx.a
        return grad_x, None, None, None  # no gradient for the mask and the constants a, b


class GaussianDropout(Function):
    """y = x * e;   dL/dx = e * dL/dy, with the noise e ~ N(1, p / (1 - p)) drawn by the caller."""

    @staticmethod
    def forward(ctx, x, noise):
        ctx.save_for_backward(noise)
        return x * noise

    @staticmethod
    def backward(ctx, grad):
        (noise,) = ctx.saved_tensors
        return grad * noise, None
