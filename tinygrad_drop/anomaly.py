"""Anomaly detection: find the op that first produced a NaN or an infinity, forward or backward.

Inside `with td.detect_anomaly():` the output of every op, and every gradient an op's backward
returns, is checked. The first value that is not finite raises AnomalyError, naming the op, the
shapes of its inputs and the line of your code that created it. Outside the block nothing is
checked and the engine pays nothing (see `autograd.observe`).
"""

import linecache
import os
import sys

from . import autograd, backend

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class AnomalyError(RuntimeError):
    """An op produced NaN or inf inside detect_anomaly()."""


def detect_anomaly():
    """Check every forward and backward result for NaN and inf inside a `with` block or decorated function."""
    return autograd.observe(_AnomalyChecker())


class _AnomalyChecker(autograd.Observer):
    """Records where each op was created, and raises at the first non-finite result."""

    def forward(self, ctx, inputs, out):
        ctx.created_at = _user_line()
        bad = _non_finite(out)
        if bad:
            raise AnomalyError(_report(ctx, f"forward returned {bad}", inputs))

    def backward(self, ctx, grads):
        for i, grad in enumerate(grads):
            bad = _non_finite(grad)
            if bad:
                raise AnomalyError(_report(ctx, f"backward returned {bad} in the gradient of input {i}", ctx.parents))


def _user_line():
    """'file:line in function: source' of the innermost frame outside this package: the user's code."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "unknown (no caller outside tinygrad_drop)"
    path, line = frame.f_code.co_filename, frame.f_lineno
    shown = os.path.relpath(path) if path.startswith(os.getcwd() + os.sep) else path
    return f"{shown}:{line} in {frame.f_code.co_name}: {linecache.getline(path, line).strip()}"


def _non_finite(array):
    """'2 nan and 1 inf among 12 values' when a floating-point array has any, else ''."""
    if not hasattr(array, "dtype") or array.dtype.kind not in "fc":  # None, or integer or bool values
        return ""
    xp = backend.get_array_module(array)
    if xp.isfinite(array).all():
        return ""
    counts = {"nan": int(xp.isnan(array).sum()), "inf": int(xp.isinf(array).sum())}
    found = " and ".join(f"{n} {kind}" for kind, n in counts.items() if n)
    return f"{found} among {array.size} values"


def _describe(value):
    """'float32 (32, 64)' for a tensor or array, repr() for anything else (None, a number)."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"{value.dtype} {tuple(value.shape)}"
    return repr(value)


def _report(ctx, what, inputs):
    """The error message: the op and what went wrong, its inputs, and where it was created."""
    created_at = getattr(ctx, "created_at", "unknown: the forward pass ran outside detect_anomaly()")
    return (f"{type(ctx).__name__} {what}.\n"
            f"  inputs: {', '.join(_describe(v) for v in inputs)}\n"
            f"  created at {created_at}")
