"""Gradient clipping, as torch.nn.utils: it changes the parameters' .grad in place before optimizer.step()."""

import math

from .. import backend
from ..tensor import Tensor


def _grads(parameters):
    """The .grad arrays of the parameters that have one (a single Tensor counts as one parameter)."""
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients together so that their joint norm is at most max_norm; return that norm before clipping.

    total = (sum over parameters of ||g||_p^p)^(1/p) (the max of |g| for p = inf), and every gradient is
    multiplied by min(1, max_norm / (total + 1e-6)), as in torch.
    """
    params = _grads(parameters)
    norm_type = float(norm_type)
    if not params:
        return Tensor(0.0)
    xp = backend.get_array_module(params[0].grad)
    if math.isinf(norm_type):
        total = max(float(xp.abs(p.grad).max()) for p in params)
    elif norm_type == 2.0:  # the usual case: a dot product per gradient, without temporaries
        total = math.sqrt(sum(float(xp.vdot(p.grad.ravel(), p.grad.ravel())) for p in params))
    else:
        total = sum(float((xp.abs(p.grad.astype(xp.float64)) ** norm_type).sum()) for p in params) ** (1 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total}, so "
                           "they cannot be clipped; pass error_if_nonfinite=False to clip anyway")
    coefficient = min(1.0, max_norm / (total + 1e-6))
    for p in params:
        p.grad = p.grad * p.grad.dtype.type(coefficient)
    return Tensor(total, dtype=params[0].grad.dtype)


def clip_grad_value_(parameters, clip_value):
    """Clip every gradient element into [-clip_value, clip_value] in place."""
    for p in _grads(parameters):
        p.grad = backend.get_array_module(p.grad).clip(p.grad, -clip_value, clip_value)
