# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exercise 5: an MLP's backward by hand, beside the framework's graph
#
# `benchmarks/numpy_baseline.py` trains the benchmark MLP in plain NumPy, with its backward
# pass written out by hand: it is the speed limit the framework is measured against. Writing
# that backward yourself once shows exactly what autograd automates.
#
# The network: `x (N, 64) -> Linear(64, 32) -> ReLU -> Dropout(p) -> Linear(32, 10) ->
# softmax cross-entropy`, mean over the batch. The forward is given below; it keeps what
# backward needs in a dict, as an op keeps it on `ctx`.
#
# **Task.** Write `hand_backward(cache, W2)`, which returns dW1, db1, dW2, db2 (the gradients of
# the mean loss), using only NumPy. Work from the loss back to the input, one layer at a time:
#
# - cross-entropy after softmax: dL/dlogits = (softmax(logits) - onehot(y)) / N;
# - `z = h W^T + b`: dL/dW = dL/dz^T h, dL/db = column sums of dL/dz, dL/dh = dL/dz W;
# - dropout: dL/dh = dL/dd * keep / (1 - p);  ReLU: dL/dz = dL/dh where z > 0, else 0.
#
# The check runs the same network through the framework, with the same weights and the same
# dropout mask (replayed with `F.dropout(..., mask=keep)`), and compares:
#
# ```text
# loss: hand 2.5627  framework 2.5627
# W1  (32, 64)  hand-written = autograd: True
# b1  (32,)     hand-written = autograd: True
# W2  (10, 32)  hand-written = autograd: True
# b2  (10,)     hand-written = autograd: True
# ```

# %%
import numpy as np

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F


def hand_forward(x, y, W1, b1, W2, b2, keep, p):
    """The loss, and what backward needs."""
    z1 = x @ W1.T + b1
    h1 = np.maximum(z1, 0)
    d1 = h1 * keep / (1 - p)
    logits = d1 @ W2.T + b2
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(len(y)), y]).mean()
    return loss, {"x": x, "y": y, "z1": z1, "d1": d1, "probs": probs, "keep": keep, "p": p}


# %% tags=["solution"] jupyter={"source_hidden": true}
def hand_backward(cache, W2):
    """dW1, db1, dW2, db2 of the mean cross-entropy, from the loss back to the input."""
    x, y, z1, d1, probs, keep, p = (cache[k] for k in ("x", "y", "z1", "d1", "probs", "keep", "p"))
    n = len(y)
    d_logits = probs.copy()                  # CrossEntropy: (softmax - onehot) / N
    d_logits[np.arange(n), y] -= 1
    d_logits /= n
    dW2 = d_logits.T @ d1                    # Linear 2: weight, bias, input
    db2 = d_logits.sum(axis=0)
    d_d1 = d_logits @ W2
    d_h1 = d_d1 * keep / (1 - p)             # Dropout: the mask and the scale
    d_z1 = d_h1 * (z1 > 0)                   # ReLU: pass where the input was positive
    dW1 = d_z1.T @ x                         # Linear 1: weight and bias (no one needs dL/dx)
    db1 = d_z1.sum(axis=0)
    return dW1, db1, dW2, db2


# %%
# Your version: write hand_backward here; it replaces the solution above.

# %%
rng = np.random.default_rng(0)
n, p = 16, 0.5
x = rng.standard_normal((n, 64))
y = rng.integers(0, 10, n)
params = {"W1": rng.standard_normal((32, 64)) / 8, "b1": rng.standard_normal(32) / 8,
          "W2": rng.standard_normal((10, 32)) / 6, "b2": rng.standard_normal(10) / 6}
keep = rng.random((n, 32)) >= p

loss, cache = hand_forward(x, y, *params.values(), keep, p)
hand = dict(zip(params, hand_backward(cache, params["W2"]), strict=True))



def framework_loss(x, y, t, keep, p):
    """The same network through the framework: t holds the weights as tensors."""
    h = F.dropout(F.linear(x, t["W1"], t["b1"]).relu(), p, mask=keep)
    return F.cross_entropy(F.linear(h, t["W2"], t["b2"]), y)


t = {name: td.tensor(value, requires_grad=True) for name, value in params.items()}
L = framework_loss(td.tensor(x), td.tensor(y), t, keep, p)
L.backward()
print(f"loss: hand {loss:.4f}  framework {L.item():.4f}")
for name in params:
    print(f"{name:<3} {str(params[name].shape):<9} hand-written = autograd: {np.allclose(hand[name], t[name].grad)}")

# %% [markdown]
# ## The framework's graph, beside your function
#
# `td.trace_backward()` prints the nodes in the order the engine runs their backward, with the
# gradient each receives and returns (arrays of more than 8 values as dtype, shape and norm).
# Read it beside `hand_backward`: each node is one paragraph of your function.
#
# | node | your lines |
# |---|---|
# | `CrossEntropy` | `d_logits = (probs - onehot) / n`; None for the targets |
# | `Linear` (the last layer) | `d_d1 = d_logits @ W2`, `dW2`, `db2` |
# | `W2`, `b2`, `W1`, `b1` | nothing: you returned them; the engine adds each leaf's total into `.grad` once, at the end |
# | `Dropout` | `d_h1 = d_d1 * keep / (1 - p)`; None for the mask and the scale |
# | `ReLU` | `d_z1 = d_h1 * (z1 > 0)` |
# | `Linear 2` (the first layer: the trace numbers nodes as it meets them) | `dW1`, `db1`; None for x, which needs no gradient |
#
# ```text
# CrossEntropy  receives 1.                              returns float64 (16, 10) (norm 0.2495) to Linear, None to constant 1
# Linear        receives float64 (16, 10) (norm 0.2495)  returns float64 (16, 32) (norm 0.2526) to Dropout, float64 (10, 32) (norm 1.598) to W2, float64 (10,) (norm 0.2454) to b2
# Dropout       receives float64 (16, 32) (norm 0.2526)  returns float64 (16, 32) (norm 0.3505) to ReLU, None to ndarray, None to float
# ReLU          receives float64 (16, 32) (norm 0.3505)  returns float64 (16, 32) (norm 0.2494) to Linear 2
# Linear 2      receives float64 (16, 32) (norm 0.2494)  returns None to constant 2, float64 (32, 64) (norm 2.01) to W1, float64 (32,) (norm 0.2353) to b1
# W2            receives float64 (10, 32) (norm 1.598)   adds it to .grad
# b2            receives float64 (10,) (norm 0.2454)     adds it to .grad
# W1            receives float64 (32, 64) (norm 2.01)    adds it to .grad
# b1            receives float64 (32,) (norm 0.2353)     adds it to .grad
# ```

# %%
t = {name: td.tensor(value, requires_grad=True) for name, value in params.items()}
with td.trace_backward(names=t) as trace:
    framework_loss(td.tensor(x), td.tensor(y), t, keep, p).backward()
print(trace)

# %% [markdown]
# ## The same backward in `benchmarks/numpy_baseline.py`
#
# `NumpyMLP.step` does this for any number of layers, and then takes an SGD step. Open it
# beside your `hand_backward`: the loop `for i in reversed(range(n_layers))` is your function,
# one layer per turn, with one trick. It multiplies the gradient by `inputs[i] > 0`, the
# *dropped* activation, which is zero where ReLU blocked *or* dropout dropped, so one mask does
# both jobs and only the scale 1/(1 - p) is left to apply.
#
# On its first step with momentum, `param -= lr * grad`, so the gradient it used is
# (old - new) / lr. Without dropout (there the masks come from its own generator) it must
# match autograd:
#
# ```text
# NumpyMLP.step's hand-written backward = autograd: True
# ```

# %%
import sys
from pathlib import Path

root = next(d for d in [Path.cwd(), *Path.cwd().parents] if (d / "benchmarks" / "numpy_baseline.py").exists())
sys.path.insert(0, str(root))
from benchmarks.numpy_baseline import NumpyMLP

lr = 0.1
baseline = NumpyMLP([64, 32, 10], p_input=0.0, p_hidden=0.0, lr=lr, momentum=0.9, seed=0, dtype=np.float64)
before = [w.copy() for w in baseline.params]
baseline.step(x, y)
used = [(old - new) / lr for old, new in zip(before, baseline.params, strict=True)]

t = dict(zip(params, (td.tensor(w, requires_grad=True) for w in before), strict=True))
framework_loss(td.tensor(x), td.tensor(y), t, np.ones((n, 32), dtype=bool), 0.0).backward()
same = all(np.allclose(g, t[name].grad) for g, name in zip(used, params, strict=True))
print("NumpyMLP.step's hand-written backward = autograd:", same)

# %% [markdown]
# ## What autograd automates
#
# Everything in `hand_backward` is bookkeeping the framework does for you:
#
# - **the order**: the hand-written version runs the layers in reverse by construction; the
#   framework finds that order from the graph (a topological sort of the nodes);
# - **what to keep**: `cache` holds z1, d1, probs and keep; each op saves its own on `ctx`, and
#   the engine frees them once its backward has run;
# - **the local rules**: each line of `hand_backward` is one op's `backward`, written once in
#   `tinygrad_drop/ops/` and reused by every network;
# - **the sums**: a tensor used twice receives the sum of its gradients, and a broadcast input
#   the sum over the broadcast axes.
#
# The price is Python overhead per op: about 2x NumPy on tiny layers, within a few percent on
# large ones (see the Benchmarks page).
