"""tinygrad_drop: a small reverse-mode autodiff framework on NumPy, with dropout as a first-class op."""

from . import backend, cuda, data, nn, optim, random, viz  # noqa: E402 - these build on the names above
from .anomaly import AnomalyError, detect_anomaly
from .autograd import Function, enable_grad, is_grad_enabled, no_grad
from .combine import cat, stack, where
from .creation import (
    arange,
    eye,
    from_dlpack,
    full,
    linspace,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .functions import maximum, minimum
from .gradcheck import GradcheckError, gradcheck, numerical_grad  # noqa: E402
from .random import initial_seed, manual_seed
from .serialization import CheckpointError, load, save
from .tensor import (
    Tensor,
    bool_,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    uint8,
)
from .viz import trace_backward

__version__ = "0.1.0"
