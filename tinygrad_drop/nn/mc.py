"""Monte Carlo dropout and mode safety: where a model's dropout sites are, predictions with dropout
left on, and the masks of each site recorded and replayed by module name.

- `stochastic_sites(model)`: every dropout-family layer, with its name, p and whether it is active.
- `mc_predict(model, x, n_samples)`: MC dropout (Gal & Ghahramani 2016). The stochastic layers
  stay on, every other layer runs in eval mode, and the spread of the n_samples predictions
  measures the model's uncertainty.
- `record_masks(model)` / `replay_masks(model, record)`: the random draws (masks or noise) of every
  call of every stochastic layer, by module name, for debugging and for fixed-mask MC.
"""

import contextlib
from collections import namedtuple

from .. import backend
from .. import random as _random
from ..autograd import no_grad
from ..tensor import Tensor
from .dropout import DropConnectLinear
from .layers import Dropout
from .variational import VariationalLinear

STOCHASTIC_LAYERS = (Dropout, DropConnectLinear, VariationalLinear)  # every dropout-family layer subclasses one

Site = namedtuple("Site", ["name", "layer", "p", "active"])
MCPrediction = namedtuple("MCPrediction", ["mean", "std", "entropy"])


def _sites(model):
    """(name, layer) for every stochastic layer of model, in definition order."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, STOCHASTIC_LAYERS)]


def stochastic_sites(model):
    """Site(name, layer, p, active) for each stochastic layer in order; active means training and p > 0."""
    return [Site(name, type(m).__name__, m.p, m.training and m.p > 0) for name, m in _sites(model)]


@contextlib.contextmanager
def _mc_mode(model):
    """Stochastic layers in training mode, every other module in eval mode; the modes are restored after."""
    saved = [(m, m.training) for m in model.modules()]
    model.eval()
    for _, site in _sites(model):
        site.training = True
    try:
        yield
    finally:
        for m, mode in saved:
            m.training = mode


def mc_predict(model, x, n_samples=30, classification=False):
    """Monte Carlo dropout: n_samples forward passes with dropout on (other layers in eval mode), no graph.

    Returns MCPrediction(mean, std, entropy) as Tensors. For regression: the mean and standard
    deviation of the outputs over the samples, and entropy None. With classification=True the
    outputs are logits: mean is the mean softmax, std its spread, and entropy the predictive entropy
    -sum_c mean_c log mean_c (in nats; log(C) for C classes is total uncertainty).
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    if not _sites(model):
        raise ValueError(f"{type(model).__name__} has no dropout layer, so all {n_samples} MC samples would be "
                         "the same prediction; add nn.Dropout (or a relative) to the model")
    with _mc_mode(model), no_grad():
        outputs = [model(x) for _ in range(n_samples)]
        samples = [(out.softmax(axis=-1) if classification else out).data for out in outputs]
    xp = backend.get_array_module(samples[0])
    samples = xp.stack(samples)
    mean, std = samples.mean(axis=0), samples.std(axis=0)
    entropy = None
    if classification:
        entropy = Tensor._wrap(-(mean * xp.log(xp.maximum(mean, xp.finfo(mean.dtype).tiny))).sum(axis=-1))
    return MCPrediction(Tensor._wrap(mean), Tensor._wrap(std), entropy)


@contextlib.contextmanager
def _wrapped_sites(model, wrap):
    """Replace each stochastic layer's forward by wrap(name, forward) inside the block."""
    sites = _sites(model)
    previous = [m.__dict__.get("forward") for _, m in sites]
    for name, m in sites:
        m.forward = wrap(name, m.forward)
    try:
        yield
    finally:
        for (_, m), forward in zip(sites, previous, strict=True):
            if forward is None:
                del m.forward
            else:
                m.forward = forward


@contextlib.contextmanager
def record_masks(model):
    """Record the random draws of every call of every stochastic layer of `model`, by module name.

    Yields a dict: `record[name][i]` lists the draws of call i of that layer (empty when it drew
    nothing, as in eval mode). A draw is kept as its position in the generator's stream, so
    replaying it rebuilds exactly the same mask or noise.
    """
    record = {}

    def wrap(name, forward):
        def recording_forward(*args, **kwargs):
            with _random.record_draws() as draws:
                out = forward(*args, **kwargs)
            record.setdefault(name, []).append(draws)
            return out

        return recording_forward

    with _wrapped_sites(model, wrap):
        yield record


@contextlib.contextmanager
def replay_masks(model, record):
    """Inside the block, call i of each stochastic layer reuses the draws of its recorded call i.

    Replays need the recorded input shapes. A layer called more often than recorded, or asking for
    other draws than it made when recorded, raises random.ReplayMismatchError naming it.
    """
    calls = {}

    def wrap(name, forward):
        def replaying_forward(*args, **kwargs):
            recorded, i = record.get(name, []), calls.get(name, 0)
            if i >= len(recorded):
                raise _random.ReplayMismatchError(
                    f"replay_masks: {name!r} is called {i + 1} times, but {len(recorded)} calls were recorded")
            calls[name] = i + 1
            try:
                with _random.replay_draws(recorded[i]):
                    return forward(*args, **kwargs)
            except _random.ReplayMismatchError as err:
                raise _random.ReplayMismatchError(f"replay_masks: call {i + 1} of {name!r}: {err}") from None

        return replaying_forward

    with _wrapped_sites(model, wrap):
        yield
