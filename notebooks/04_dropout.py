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
# # Exercise 4: dropout with a replayed mask, and the forgotten 1/(1 - p)
#
# Inverted dropout zeroes each element with probability p and scales the survivors by
# 1/(1 - p), so that the expected output equals the input:
#
#     keep ~ Bernoulli(1 - p),   y = x * keep * scale,   scale = 1 / (1 - p)
#     dL/dx = dL/dy * keep * scale
#
# The op is two lines of maths. What makes it interesting is the randomness: a gradient check
# evaluates the function many times, and every evaluation must see the *same* mask.
#
# **Task.** Write `MyDropout`, a `td.Function` whose `forward(ctx, x, keep, scale)` takes the
# mask (a bool array, True = keep) as an argument, so a recorded mask can be replayed. Its
# backward returns one entry per input given to `apply`: dL/dx, and None for `keep` and `scale`,
# which need no gradient. (This is the framework's own `Dropout` in `tinygrad_drop/ops/dropout.py`.) Check it
# against the framework's `F.dropout(x, p, mask=keep)`, which replays a given mask the same way,
# then gradcheck it. Expected output:
#
# ```text
# same output as F.dropout: True
# same gradient as F.dropout: True
# gradcheck, mask replayed: True
# ```

# %% tags=["solution"] jupyter={"source_hidden": true}
import numpy as np

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F


class MyDropout(td.Function):
    """y = x * keep * scale;  dL/dx = dL/dy * keep * scale (a dropped element gets exactly 0)."""

    @staticmethod
    def forward(ctx, x, keep, scale):
        ctx.save_for_backward(keep)
        ctx.scale = scale
        return x * keep * x.dtype.type(scale)

    @staticmethod
    def backward(ctx, grad):
        (keep,) = ctx.saved_tensors
        return grad * keep * grad.dtype.type(ctx.scale), None, None  # one per input: keep and scale get none


# %%
# Your version: write MyDropout here; it replaces the solution above.

# %%
p = 0.5
rng = np.random.default_rng(0)
keep = rng.random((4, 5)) >= p  # drawn once, then replayed: P(keep) = 1 - p
x = td.tensor(rng.standard_normal((4, 5)), requires_grad=True)
x_ref = x.detach().requires_grad_()

y = MyDropout.apply(x, keep, 1 / (1 - p))
y_ref = F.dropout(x_ref, p, mask=keep)
print("same output as F.dropout:", np.allclose(y.numpy(), y_ref.numpy()))
(y * y).sum().backward()
(y_ref * y_ref).sum().backward()
print("same gradient as F.dropout:", np.allclose(x.grad, x_ref.grad))
print("gradcheck, mask replayed:", td.gradcheck(lambda x: MyDropout.apply(x, keep, 1 / (1 - p)), [x]))

# %% [markdown]
# ## A fresh mask in every call breaks the check
#
# If `fn` draws its own mask from NumPy each time, the finite differences compare two
# *different* networks, f(x + eps) with one mask and f(x - eps) with another, and their
# difference means nothing. The framework's own dropout draws from the framework's generator,
# which gradcheck records in its first call of `fn` and replays in every later call, so
# `F.dropout` inside `fn` needs no care:
#
# ```text
# fresh NumPy mask in every call, gradcheck passes: False
# F.dropout drawing its own mask, gradcheck passes: True
# ```

# %%
def passes(fn, inputs):
    try:
        return td.gradcheck(fn, inputs)
    except td.GradcheckError:
        return False


print("fresh NumPy mask in every call, gradcheck passes:",
      passes(lambda x: MyDropout.apply(x, rng.random(x.shape) >= p, 1 / (1 - p)), [x]))
print("F.dropout drawing its own mask, gradcheck passes:", passes(lambda x: F.dropout(x, p), [x]))

# %% [markdown]
# ## The forgotten 1/(1 - p)
#
# **Task.** Predict what gradcheck says about a backward that forgets the scale, returning
# `grad * keep`. Then predict what it says when the scale is forgotten in *both* forward and
# backward, and how you would catch that one. Expected output:
#
# ```text
# backward forgets the scale:
# gradcheck failed: 12 of 400 checked values differ (|numerical - analytical| > atol + rtol * |numerical|, atol=1e-05, rtol=0.001); worst first:
#   input 0[0, 4] (output element 4): numerical 2, analytical 1, abs err 1, rel err 0.5
# both forget it, gradcheck passes: True
# ForgetsBoth: mean of y for x = 1 over 100,000 elements: 0.50
# MyDropout: mean of y for x = 1 over 100,000 elements: 1.00
# ```

# %% tags=["solution"] jupyter={"source_hidden": true}
class ForgetfulBackward(MyDropout):
    @staticmethod
    def backward(ctx, grad):
        (keep,) = ctx.saved_tensors
        return grad * keep, None, None


class ForgetsBoth(MyDropout):
    @staticmethod
    def forward(ctx, x, keep, scale):
        return MyDropout.forward(ctx, x, keep, 1.0)

    @staticmethod
    def backward(ctx, grad):
        return ForgetfulBackward.backward(ctx, grad)


# %%
print("backward forgets the scale:")
try:
    td.gradcheck(lambda x: ForgetfulBackward.apply(x, keep, 1 / (1 - p)), [x])
except td.GradcheckError as err:
    print("\n".join(str(err).splitlines()[:2]))
print("both forget it, gradcheck passes:", td.gradcheck(lambda x: ForgetsBoth.apply(x, keep, 1 / (1 - p)), [x]))

ones = td.ones(100_000)
big_keep = rng.random(100_000) >= p
for op in (ForgetsBoth, MyDropout):
    print(f"{op.__name__}: mean of y for x = 1 over 100,000 elements: {op.apply(ones, big_keep, 1 / (1 - p)).mean().item():.2f}")

# %% [markdown]
# gradcheck compares backward with *the forward you wrote*, so it cannot see a forward that is
# consistently wrong. That is a statistical property, E[y] = x, and it needs a statistical test:
# the framework's tests of dropout check the mean, the variance and the fraction kept, each
# within a stated bound.
#
# A relative error of exactly 0.5 on every kept element (12 of the 20 here, each on its own
# output element: 400 = 20 x 20 Jacobian entries) is the signature of a missing factor of 2,
# which at p = 0.5 is 1/(1 - p).
#
# Next, exercise 5 (`05_numpy_mlp.py`) puts dropout in an MLP and writes its whole backward by hand.
