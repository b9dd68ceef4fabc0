"""Variational dropout with learned rates (Kingma, Salimans and Welling 2015).

Gaussian dropout on the weights, W = theta * (1 + sqrt(alpha) * e) with e ~ N(0, 1), is a Gaussian
posterior q(W) = N(theta, alpha * theta^2) whose dropout rate p = alpha / (1 + alpha) can be learned.

Local reparameterisation trick: given x, each pre-activation is itself Gaussian, so draw it directly
(one noise value per sample and output, cheaper and with lower-variance gradients than drawing W):
    mean = x theta^T + b,   var = x^2 (alpha * theta^2)^T,   y = mean + sqrt(var) * e',  e' ~ N(0, 1).

With the log-uniform prior the KL term depends on alpha only. Kingma et al. fit it with a polynomial
valid for alpha <= 1 (p <= 0.5); we use the fit of Molchanov, Ashukha and Vetrov (2017), valid for all alpha,
    -KL ~ k1 * sigmoid(k2 + k3 * log alpha) - 0.5 * log(1 + 1/alpha) - k1,
so a unit the data does not need can drift to alpha -> inf (p -> 1): the layer learns to drop it.
Train on the negative ELBO per sample: loss = mean NLL + variational_kl(model) / N_train.
"""

import numpy as np

from .. import backend
from .. import random as _random
from ..tensor import Tensor
from . import functional as F
from .layers import Linear
from .module import Parameter

K1, K2, K3 = 0.63576, 1.87320, 1.48695  # Molchanov et al. 2017, eq. 14
VAR_EPS = 1e-8  # keeps sqrt's gradient finite where every input is 0


class VariationalLinear(Linear):
    """Linear with Gaussian weight noise and a learned dropout rate per weight (per="weight") or per input unit.

    In eval mode it returns the posterior mean x theta^T + b. `kl()` is the KL term for the loss,
    `dropout_rates()` the learned p = alpha / (1 + alpha); `init_p` is the starting rate.
    """

    def __init__(self, in_features, out_features, bias=True, per="weight", init_p=0.1, device=None, dtype=None):
        if per not in ("weight", "unit"):
            raise ValueError(f"per has to be 'weight' (one rate per weight) or 'unit' (per input), got {per!r}")
        if not 0.0 < init_p < 1.0:
            raise ValueError(f"init_p is a starting dropout rate and must be in (0, 1), got {init_p!r}")
        super().__init__(in_features, out_features, bias=bias, dtype=dtype)
        self.per = per
        shape = (out_features, in_features) if per == "weight" else (in_features,)
        self.log_alpha = Parameter(np.full(shape, np.log(init_p / (1.0 - init_p)), dtype=self.weight.dtype))
        if device is not None:
            self.to(device)

    def forward(self, x):
        mean = F.linear(x, self.weight, self.bias)
        if not self.training:
            return mean
        var = F.linear(x * x, self.log_alpha.exp() * self.weight * self.weight)
        noise = Tensor(_random.normal(mean.shape, dtype=mean.dtype), device=mean.device)
        return mean + (var + VAR_EPS).sqrt() * noise

    def kl(self):
        """KL(q(W) || log-uniform prior) summed over the weights (a per-unit rate counts once per weight)."""
        log_alpha = self.log_alpha
        neg_kl = K1 * (K2 + K3 * log_alpha).sigmoid() - 0.5 * ((-log_alpha).exp() + 1.0).log() - K1
        return -neg_kl.sum() * (self.weight.size // log_alpha.size)

    def dropout_rates(self):
        """The learned dropout rates p = alpha / (1 + alpha), as a NumPy array of log_alpha's shape."""
        return 1.0 / (1.0 + np.exp(-backend.to_numpy(self.log_alpha.data).astype(np.float64)))

    @property
    def p(self):
        """The mean learned dropout rate (a summary for `stochastic_sites`)."""
        return float(self.dropout_rates().mean())

    def extra_repr(self):
        return f"{super().extra_repr()}, per={self.per!r}"


def variational_kl(model):
    """The sum of `kl()` over every VariationalLinear in `model`: add variational_kl(model) / N_train to the loss."""
    terms = [m.kl() for m in model.modules() if isinstance(m, VariationalLinear)]
    if not terms:
        raise ValueError(f"{type(model).__name__} has no VariationalLinear layer, so it has no KL term")
    return sum(terms[1:], start=terms[0])
