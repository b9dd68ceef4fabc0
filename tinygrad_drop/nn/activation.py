"""Activation modules: each wraps its functional form in `nn.functional`, with torch's arguments.

`inplace=` is accepted so that ported code runs, and ignored: the result is always a new tensor
(use the returned value, as `x = act(x)` and `nn.Sequential` do).
"""

import warnings

from . import functional as F
from .module import Module


class Sigmoid(Module):
    """1 / (1 + e^-x) elementwise."""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    """tanh x elementwise."""

    def forward(self, x):
        return F.tanh(x)


class LeakyReLU(Module):
    """x where x > 0, negative_slope * x elsewhere."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """x where x > 0, alpha * (e^x - 1) elsewhere."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha

    def forward(self, x):
        return F.elu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class SELU(Module):
    """scale * ELU(x, alpha) with alpha = 1.6733, scale = 1.0507: keeps activations near zero mean, unit variance."""

    def __init__(self, inplace=False):
        super().__init__()

    def forward(self, x):
        return F.selu(x)


class Softplus(Module):
    """log(1 + e^(beta x)) / beta, linear where beta * x > threshold."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class SiLU(Module):
    """x * sigmoid(x) (swish)."""

    def __init__(self, inplace=False):
        super().__init__()

    def forward(self, x):
        return F.silu(x)


def _implicit_dim(name, dim):
    """dim, or the last axis with a warning when it is None (torch guesses an axis from the rank instead)."""
    if dim is None:
        warnings.warn(f"{name}(dim=None) uses the last axis; PyTorch picks one from the input's rank instead: "
                      f"pass dim= explicitly", UserWarning, stacklevel=3)
        return -1
    return dim


class Softmax(Module):
    """e^x / sum(e^x) along `dim`."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, dim=_implicit_dim("Softmax", self.dim))

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along `dim`, computed stably."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.log_softmax(x, dim=_implicit_dim("LogSoftmax", self.dim))

    def extra_repr(self):
        return f"dim={self.dim}"
