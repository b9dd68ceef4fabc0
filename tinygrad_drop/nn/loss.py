"""Loss modules: thin wrappers around the functional losses."""

from ..tensor import Tensor
from . import functional as F
from .module import Module


class CrossEntropyLoss(Module):
    """Softmax cross-entropy of logits (N, C, ...) against class indices (N, ...) or probabilities (N, C, ...)."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__()
        _optional_buffer(self, "weight", weight)
        self.ignore_index, self.reduction, self.label_smoothing = ignore_index, reduction, label_smoothing

    def forward(self, logits, target):
        return F.cross_entropy(logits, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction,
                               label_smoothing=self.label_smoothing)


class NLLLoss(Module):
    """Negative log-likelihood of class indices given log-probabilities."""

    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, log_probs, target):
        return F.nll_loss(log_probs, target, reduction=self.reduction)


class MSELoss(Module):
    """Mean squared error."""

    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, input, target):  # noqa: A002 - PyTorch's name
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(Module):
    """Mean absolute error."""

    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, input, target):  # noqa: A002 - PyTorch's name
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(Module):
    """Squared error below beta, absolute error above it."""

    def __init__(self, reduction="mean", beta=1.0):
        super().__init__()
        self.reduction, self.beta = reduction, beta

    def forward(self, input, target):  # noqa: A002 - PyTorch's name
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(Module):
    """Squared error below delta, delta times the absolute error above it."""

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__()
        self.reduction, self.delta = reduction, delta

    def forward(self, input, target):  # noqa: A002 - PyTorch's name
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


def _optional_buffer(module, name, value):
    """Register value (converted to a Tensor, or None) as a buffer, so it moves with .to() as in torch."""
    module.register_buffer(name, None if value is None else Tensor(value))


class BCELoss(Module):
    """Binary cross-entropy of probabilities, with an optional per-element weight."""

    def __init__(self, weight=None, reduction="mean"):
        super().__init__()
        _optional_buffer(self, "weight", weight)
        self.reduction = reduction

    def forward(self, input, target):  # noqa: A002 - PyTorch's name
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(Module):
    """Binary cross-entropy of logits in one stable op, with optional weight and pos_weight."""

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__()
        _optional_buffer(self, "weight", weight)
        _optional_buffer(self, "pos_weight", pos_weight)
        self.reduction = reduction

    def forward(self, input, target):  # noqa: A002 - PyTorch's name
        return F.binary_cross_entropy_with_logits(input, target, self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)
