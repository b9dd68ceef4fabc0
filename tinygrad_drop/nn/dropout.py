"""The dropout family as layers: structured masks, alpha and Gaussian dropout, DropPath and DropConnect.

Each layer holds its drop probability `p` and calls its functional form with
`training=self.training`, so `model.eval()` turns every one of them off. nn.Dropout itself lives in
layers.py; these subclass it (same `p` check and repr), except DropConnectLinear, which is a Linear.
See docs/dropout.md for when to use which.
"""

from . import functional as F
from .layers import Dropout, Linear


class Dropout1d(Dropout):
    """Zero whole channels of (N, C, L) or (C, L) inputs (PyTorch's Dropout1d): one mask value per channel."""

    def forward(self, x):
        return F.dropout1d(x, self.p, self.training)


class Dropout2d(Dropout):
    """Zero whole channels of (N, C, H, W) inputs (PyTorch's Dropout2d; a 3-D input is read as (N, C, L))."""

    def forward(self, x):
        return F.dropout2d(x, self.p, self.training)


class Dropout3d(Dropout):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs (PyTorch's Dropout3d)."""

    def forward(self, x):
        return F.dropout3d(x, self.p, self.training)


class AlphaDropout(Dropout):
    """Dropout for SELU networks that keeps zero mean and unit variance (PyTorch's AlphaDropout)."""

    def forward(self, x):
        return F.alpha_dropout(x, self.p, self.training)


class FeatureAlphaDropout(Dropout):
    """Alpha dropout of whole channels of (N, C, ...) inputs (PyTorch's FeatureAlphaDropout)."""

    def forward(self, x):
        return F.feature_alpha_dropout(x, self.p, self.training)


class GaussianDropout(Dropout):
    """Multiplicative N(1, p / (1 - p)) noise while training (Keras's GaussianDropout); p must be below 1."""

    def __init__(self, p=0.5):
        super().__init__(F.check_gaussian_p(p))

    def forward(self, x):
        return F.gaussian_dropout(x, self.p, self.training)


class LockedDropout(Dropout):
    """One mask for all time steps of a sequence (locked or variational RNN dropout, Gal & Ghahramani 2016).

    Inputs are (T, N, C), or (N, T, C) with batch_first=True, as PyTorch's RNNs take them.
    """

    def __init__(self, p=0.5, batch_first=False):
        super().__init__(p)
        self.batch_first = batch_first

    def forward(self, x):
        return F.dropout(x, self.p, self.training, broadcast_dims=1 if self.batch_first else 0)

    def extra_repr(self):
        return f"p={self.p}, batch_first={self.batch_first}"


class DropPath(Dropout):
    """Stochastic depth (torchvision's StochasticDepth): drops a whole residual branch per sample ("row") or batch.

    Wrap the branch, not the sum: `x + self.drop_path(self.block(x))`.
    """

    def __init__(self, p, mode="row"):
        super().__init__(p)
        self.mode = F.check_drop_path_mode(mode)

    def forward(self, x):
        return F.drop_path(x, self.p, self.training, self.mode)

    def extra_repr(self):
        return f"p={self.p}, mode={self.mode!r}"


def drop_path_schedule(depth, p):
    """The linear rule of Huang et al. 2016: block l of depth (1-based) drops with probability p * l / depth."""
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive integer (the number of residual blocks), got {depth!r}")
    p = F.check_p(p)
    return [p * layer / depth for layer in range(1, depth + 1)]


class DropConnectLinear(Linear):
    """A Linear layer whose weights (not activations) are dropped while training (Wan et al. 2013).

    One weight mask per forward pass, shared by the whole batch; kept weights are scaled by 1/(1 - p),
    so in eval mode this is exactly Linear. The bias is never dropped.
    """

    def __init__(self, in_features, out_features, bias=True, p=0.5, device=None, dtype=None):
        super().__init__(in_features, out_features, bias=bias, device=device, dtype=dtype)
        self.p = F.check_p(p)

    def forward(self, x):
        return F.dropconnect_linear(x, self.weight, self.bias, self.p, self.training)

    def extra_repr(self):
        return f"{super().extra_repr()}, p={self.p}"
