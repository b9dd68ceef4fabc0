"""Finite-difference gradient checking: compare backward's gradients with central differences.

For each input element x_j the numerical derivative is the central difference
    dy/dx_j ~ (f(x + eps e_j) - f(x - eps e_j)) / (2 eps),       error O(eps^2),
computed on float64 copies (in float32 with eps = 1e-6 the rounding error alone is several percent).
Backward is checked through vector-Jacobian products u^T J: with one u per output element (the
full Jacobian) when the output is small, and with a few random Gaussian u otherwise, never only
u = all ones, which hides errors that cancel in a sum.

Random ops (dropout) are held fixed: the first call of `fn` records where in the random stream each
draw came from (random.Draw: kind, shape, seed, offset), and every later call draws again from
those places, so all evaluations see the same masks without the user reseeding, through the same
op code as training. The framework's generator is restored afterwards, so a check does not change
the run around it.
"""

import math
import warnings

import numpy as np

from . import backend
from .autograd import BackwardContractError, no_grad
from .random import ReplayMismatchError, fork_rng, record_draws, replay_draws
from .tensor import Tensor, float64

FULL_JACOBIAN_MAX_OUTPUTS = 32  # above this many output elements, check with random cotangents
RANDOM_COTANGENTS = 3
MAX_REPORTED = 10


class GradcheckError(AssertionError):
    """Backward's gradient disagrees with the finite-difference gradient."""


def _float64_copies(inputs):
    """Float64 copies of the floating-point input tensors (other inputs pass through unchanged)."""
    copies = []
    for value in inputs:
        if isinstance(value, Tensor) and value.dtype.kind == "f":
            value = Tensor._wrap(value.data.astype(float64), requires_grad=value.requires_grad)
        copies.append(value)
    return copies


def named_params(params):
    """(name, tensor) pairs from a Module, a dict, a list of pairs or a list of tensors."""
    if params is None:
        return []
    if hasattr(params, "named_parameters"):
        return list(params.named_parameters())
    if isinstance(params, dict):
        return list(params.items())
    if isinstance(params, Tensor) or not hasattr(params, "__iter__"):
        return [("params", params)]
    return [p if isinstance(p, tuple) and len(p) == 2 else (f"param {i}", p) for i, p in enumerate(params)]


def _checked_params(params):
    """named_params(params), refusing anything but Tensors: a Module inside a dict has no .data to perturb."""
    named = named_params(params)
    for name, p in named:
        if not isinstance(p, Tensor):
            raise TypeError(f"gradcheck: params must be a Module, a dict of name to Tensor, or a list of Tensors; "
                            f"{name!r} has type {type(p).__name__} (pass a module as params=module, or "
                            "dict(module.named_parameters()))")
    return named


def _evaluate(fn, inputs, draws):
    """fn(*inputs) as a flat float64 NumPy array, with no graph and the recorded random draws."""
    with no_grad(), replay_draws(draws):
        out = fn(*inputs)
    return backend.to_numpy(out.data).astype(np.float64).ravel()


def _jacobian_column(fn, inputs, draws, tensor, index, eps):
    """Central difference of fn's output w.r.t. tensor[index], and the two outputs it used."""
    original = tensor.data[index].item()
    tensor.data[index] = original + eps
    plus = _evaluate(fn, inputs, draws)
    tensor.data[index] = original - eps
    minus = _evaluate(fn, inputs, draws)
    tensor.data[index] = original
    return (plus - minus) / (2 * eps), plus, minus


def _first_call(fn, inputs, caller_depth):
    """Call fn once, recording its random draws; check that it returns one floating-point Tensor.

    caller_depth: how many frames up the user's call is, so that a warning points at it.
    """
    with record_draws() as draws:
        out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    if out.dtype != float64:
        warnings.warn(
            f"gradcheck: fn returned {out.dtype}, not float64, so the finite differences are inexact; "
            "make fn compute in float64 (inputs are passed as float64 copies)",
            UserWarning,
            stacklevel=caller_depth + 1,
        )
    return out, draws


def numerical_grad(fn, inputs, eps=1e-6):
    """Central-difference gradient of a scalar-valued fn w.r.t. each input that requires grad.

    Returns one float64 NumPy array per input (None for inputs that do not require grad). Random
    draws inside fn are recorded on the first call and replayed, so dropout masks stay fixed.
    """
    inputs = _float64_copies((inputs,) if isinstance(inputs, Tensor) else inputs)
    with fork_rng():
        out, draws = _first_call(fn, inputs, caller_depth=2)  # numerical_grad <- the user
    if out.size != 1:
        raise ValueError(f"numerical_grad needs fn to return one element, got shape {out.shape}")
    grads = []
    for t in inputs:
        if not (isinstance(t, Tensor) and t.requires_grad):
            grads.append(None)
            continue
        grad = np.zeros(t.shape)
        for index in np.ndindex(*t.shape):
            grad[index] = _jacobian_column(fn, inputs, draws, t, index, eps)[0][0]
        grads.append(grad)
    return grads


def _check_one(name, tensor, fn, inputs, draws, cotangents, analytical, base, eps, atol, rtol, picks):
    """Compare numerical and analytical u^T J for the chosen elements of one tensor; return failures."""
    failures = []
    for index in picks:
        column, plus, minus = _jacobian_column(fn, inputs, draws, tensor, index, eps)
        for k, u in enumerate(cotangents):
            num, ana = float(u @ column), float(analytical[k][index])
            abs_err, tolerance = abs(num - ana), atol + rtol * abs(num)
            if abs_err > tolerance:
                slopes = (u @ (plus - base)) / eps, (u @ (base - minus)) / eps
                kink = abs(slopes[0] - slopes[1]) > 10 * tolerance
                badness = abs_err / tolerance if tolerance else math.inf  # how many tolerances off: the sort key
                failures.append((badness, name, index, k, num, ana, abs_err, kink))
    return failures


def _describe(failure, full_jacobian, n_out):
    """One report line: where, which output, both values and both errors."""
    _, name, index, k, num, ana, abs_err, kink = failure
    where = f"{name}[{', '.join(str(i) for i in index)}]" if index else name
    output = "" if n_out == 1 else f" (output element {k})" if full_jacobian else f" (random cotangent {k})"
    rel_err = abs_err / max(abs(num), 1e-300)
    line = (f"  {where}{output}: numerical {num:.8g}, analytical {ana:.8g}, "
            f"abs err {abs_err:.3g}, rel err {rel_err:.3g}")
    if kink:
        line += "  <- one-sided slopes differ: a kink (e.g. ReLU at 0) near this point"
    return line


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, params=None, max_elements=None, seed=0):
    """Check backward against central differences for every input (and parameter) that requires grad.

    fn: takes the inputs (Tensors or other values) and returns a Tensor. Floating-point inputs are
        passed as float64 copies.
    params: tensors that fn uses without taking them as arguments, such as a model's parameters:
        a Module, a dict name -> tensor or a list. They are switched to float64 for the check and
        restored afterwards; failures name them (for example `fc1.weight[3, 7]`).
    max_elements: check at most this many elements of each tensor, chosen at random with `seed`
        (None: every element).
    Returns True, or raises GradcheckError listing the worst elements first and how many failed.
    """
    inputs = _float64_copies((inputs,) if isinstance(inputs, Tensor) else inputs)
    named = [(f"input {i}", t) for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    param_list = _checked_params(params)
    saved = [(p, p.data, p.grad) for _, p in param_list]
    named += [(name, p) for name, p in param_list if p.requires_grad]
    if not named:
        raise ValueError("gradcheck: no input or parameter requires grad, so there is nothing to check")
    try:
        for p, data, _ in saved:
            p.data, p.grad = data.astype(float64), None
        with fork_rng():
            return _gradcheck(fn, inputs, named, eps, atol, rtol, max_elements, seed)
    except ReplayMismatchError as err:
        raise GradcheckError(
            f"gradcheck: fn made different random draws from one call to the next ({err}). gradcheck "
            "replays the draws of the first call to hold dropout masks fixed, so every call of fn "
            "must draw the same kinds and shapes in the same order"
        ) from None
    finally:
        for p, data, grad in saved:
            p.data, p.grad = data, grad


def _gradcheck(fn, inputs, named, eps, atol, rtol, max_elements, seed):
    out, draws = _first_call(fn, inputs, caller_depth=3)  # _gradcheck <- gradcheck <- the user
    n_out = out.size
    rng = np.random.default_rng(seed)
    full_jacobian = n_out <= FULL_JACOBIAN_MAX_OUTPUTS
    cotangents = np.eye(n_out) if full_jacobian else rng.standard_normal((RANDOM_COTANGENTS, n_out))

    analytical = {name: [] for name, _ in named}  # name -> one gradient array per cotangent
    for u in cotangents:
        for _, t in named:
            t.grad = None
        if out.requires_grad:
            try:
                out.backward(u.reshape(out.shape), retain_graph=True)
            except BackwardContractError as err:  # a gradient of the wrong shape or count: say so first
                raise GradcheckError(str(err)) from None
        for name, t in named:
            grad = t.grad if t.grad is not None else np.zeros(t.shape)
            analytical[name].append(backend.to_numpy(grad))
    for _, t in named:
        t.grad = None

    base = _evaluate(fn, inputs, draws)
    failures, checked = [], 0
    for name, t in named:
        picks = list(np.ndindex(*t.shape))
        if max_elements is not None and len(picks) > max_elements:
            picks = [picks[i] for i in sorted(rng.choice(len(picks), max_elements, replace=False))]
        checked += len(picks) * len(cotangents)
        failures += _check_one(name, t, fn, inputs, draws, cotangents, analytical[name], base,
                               eps, atol, rtol, picks)
    if failures:
        failures.sort(key=lambda f: -f[0])
        lines = [f"gradcheck failed: {len(failures)} of {checked} checked values differ "
                 f"(|numerical - analytical| > atol + rtol * |numerical|, atol={atol}, rtol={rtol}); "
                 "worst first:"]
        lines += [_describe(f, full_jacobian, n_out) for f in failures[:MAX_REPORTED]]
        if len(failures) > MAX_REPORTED:
            lines.append(f"  ... and {len(failures) - MAX_REPORTED} more")
        raise GradcheckError("\n".join(lines))
    return True
