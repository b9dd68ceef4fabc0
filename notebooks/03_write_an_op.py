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
# # Exercise 3: write an op and gradcheck it
#
# In tinygrad_drop an op is a `td.Function` with two static methods that work on raw arrays:
#
# - `forward(ctx, *arrays, **params)` computes the output and keeps on `ctx` what backward will
#   need (`ctx.save_for_backward(...)` for arrays, plain attributes for anything else);
# - `backward(ctx, grad)` receives dL/dy (the output's gradient, the *cotangent*) and returns
#   dL/dx for each input: one entry per input given to `apply`, each of its input's shape, and
#   `None` where `ctx.needs_input_grad[i]` is False.
#
# `Op.apply(*tensors)` runs forward and records the graph node; `td.gradcheck(fn, inputs)`
# compares backward with finite differences and raises a report naming each wrong element.
#
# **Task.** Write `Softplus`, y = ln(1 + e^x), whose derivative is the logistic sigmoid,
# dy/dx = 1 / (1 + e^-x). Compute the forward as max(x, 0) + ln(1 + e^-|x|) so that it never
# overflows. Then write `Hypot`, y = sqrt(a^2 + b^2) for two inputs that may broadcast
# (dy/da = a / y, dy/db = b / y), and gradcheck both. Expected output:
#
# ```text
# softplus matches log(1 + exp(x)): True
# gradcheck Softplus: True
# gradcheck Hypot, a (3, 4) and b (4,): True
# gradcheck Hypot, only b needs a gradient: True
# ```

# %% tags=["solution"] jupyter={"source_hidden": true}
import numpy as np

import tinygrad_drop as td
from tinygrad_drop.autograd import unbroadcast
from tinygrad_drop.backend import get_array_module


class Softplus(td.Function):
    """y = ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|);  dL/dx = sigmoid(x) dL/dy."""

    @staticmethod
    def forward(ctx, x):
        xp = get_array_module(x)  # NumPy on the CPU, CuPy on a GPU: the same code runs on both
        ctx.save_for_backward(x)
        return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        xp = get_array_module(x)
        return grad / (1 + xp.exp(-x))


class Hypot(td.Function):
    """y = sqrt(a^2 + b^2);  dL/da = a / y dL/dy,  dL/db = b / y dL/dy, each summed to its input's shape."""

    @staticmethod
    def forward(ctx, a, b):
        y = get_array_module(a).sqrt(a * a + b * b)
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        a, b, y = ctx.saved_tensors
        grad_a = unbroadcast(grad * a / y, a.shape) if ctx.needs_input_grad[0] else None
        grad_b = unbroadcast(grad * b / y, b.shape) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


# %%
# Your version: write Softplus and Hypot here; they replace the solution above.

# %%
x = td.tensor([[-30.0, -1.0, 0.0], [0.5, 2.0, 30.0]], dtype=td.float64, requires_grad=True)
same = np.allclose(Softplus.apply(x).numpy(), np.log1p(np.exp(x.numpy())))
print("softplus matches log(1 + exp(x)):", same)
print("gradcheck Softplus:", td.gradcheck(lambda x: Softplus.apply(x), [x]))

a = td.randn(3, 4, dtype=td.float64, requires_grad=True)
b = td.randn(4, dtype=td.float64, requires_grad=True)
print("gradcheck Hypot, a (3, 4) and b (4,):", td.gradcheck(lambda a, b: Hypot.apply(a, b), [a, b]))
print("gradcheck Hypot, only b needs a gradient:", td.gradcheck(lambda a, b: Hypot.apply(a, b), [a.detach(), b]))

# %% [markdown]
# ## What gradcheck catches
#
# A backward that is almost right passes a casual test. Here are three mistakes a first op
# often makes; gradcheck names each one. The first line of each report:
#
# ```text
# forgot the chain rule (ignores grad): gradcheck failed: 30 of 36 checked values differ
# wrong sign in the derivative: gradcheck failed: 6 of 36 checked values differ
# dL/db from the first row only: gradcheck failed: 8 of 192 checked values differ
# ```
#
# The first returns dy/dx itself instead of dy/dx times the incoming dL/dy. With at most 32
# output elements gradcheck builds the whole Jacobian, one backward pass per output element with
# that element's cotangent set to 1: the 6 diagonal entries come out right, the 30 others do not.
# The second uses sigmoid(-x): wrong on the diagonal, and right (zero) everywhere else. The third
# gives `b` the gradient of its first row of uses only, instead of the sum over the three rows:
# it has the right shape, so only the values can give it away.

# %%
class ForgotChainRule(Softplus):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return np.broadcast_to(1 / (1 + np.exp(-x)), grad.shape)


class WrongSign(Softplus):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + np.exp(x))


class HalfSummed(Hypot):
    @staticmethod
    def backward(ctx, grad):
        a, b, y = ctx.saved_tensors
        return unbroadcast(grad * a / y, a.shape), (grad * b / y)[0]  # only the first row's share


x6 = td.tensor([[-1.5, -0.5, 0.2], [0.7, 1.1, 2.0]], dtype=td.float64, requires_grad=True)
for name, fn, inputs in [("forgot the chain rule (ignores grad)", lambda x: ForgotChainRule.apply(x), [x6]),
                         ("wrong sign in the derivative", lambda x: WrongSign.apply(x), [x6]),
                         ("dL/db from the first row only", lambda a, b: HalfSummed.apply(a, b), [a, b])]:
    try:
        td.gradcheck(fn, inputs)
        print(name, "passed?!")
    except td.GradcheckError as err:
        print(f"{name}: {str(err).splitlines()[0].split(' (')[0]}")

# %% [markdown]
# Next, exercise 4 (`04_dropout.py`) writes dropout, whose randomness needs care in a gradient check.
