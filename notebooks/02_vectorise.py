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
# # Exercise 2: vectorise it, and discover why `unbroadcast` is needed
#
# The scalar engine of exercise 1 makes one Python object per number: a 64-256-10 network
# would need tens of thousands of them for a single example. Frameworks work on whole arrays
# instead: one node per *operation*, each holding a NumPy array. The chain rule is the same, with
# one change that this exercise makes you find.
#
# **Task.** Write `ArrayValue`, the scalar `Value` with NumPy arrays in `data` and `grad`:
# `+` and `*` (elementwise, broadcasting as NumPy does), `@` (matrix product of 2-D arrays),
# `sum()` and `relu()`. For `a @ b` the local rules are dL/da = dL/dy @ b.T and
# dL/db = a.T @ dL/dy; `sum()` sends its gradient to every element. Every backward step calls
# `unbroadcast(g, shape)` on the gradient it passes to `+` and `*`'s inputs; for now that
# function returns `g` unchanged.
#
# Then run the check. It adds a bias `b` of shape (4,) to a (3, 4) array, the most common
# broadcast in a network, and prints:
#
# ```text
# b.shape      (4,)
# b.grad.shape (3, 4)   <- a gradient must have its input's shape
# ```

# %% tags=["solution"] jupyter={"source_hidden": true}
import numpy as np


def unbroadcast(grad, shape):
    """For now: pass the gradient through unchanged (the second task fixes this)."""
    return grad


class ArrayValue:
    """An array that remembers how it was computed: the scalar Value, one node per operation."""

    def __init__(self, data, parents=()):
        self.data = np.asarray(data, dtype=np.float64)
        self.grad, self.parents = np.zeros_like(self.data), parents
        self.backward_step = lambda: None

    def _accumulate(self, g):
        self.grad = self.grad + g  # not +=, so that a wrong shape shows instead of raising

    def __add__(self, other):
        out = ArrayValue(self.data + other.data, (self, other))

        def backward_step():
            self._accumulate(unbroadcast(out.grad, self.data.shape))
            other._accumulate(unbroadcast(out.grad, other.data.shape))

        out.backward_step = backward_step
        return out

    def __mul__(self, other):
        out = ArrayValue(self.data * other.data, (self, other))

        def backward_step():
            self._accumulate(unbroadcast(other.data * out.grad, self.data.shape))
            other._accumulate(unbroadcast(self.data * out.grad, other.data.shape))

        out.backward_step = backward_step
        return out

    def __matmul__(self, other):
        out = ArrayValue(self.data @ other.data, (self, other))

        def backward_step():
            self._accumulate(out.grad @ other.data.T)
            other._accumulate(self.data.T @ out.grad)

        out.backward_step = backward_step
        return out

    def sum(self):
        out = ArrayValue(self.data.sum(), (self,))

        def backward_step():  # every element contributed with slope 1
            self._accumulate(np.broadcast_to(out.grad, self.data.shape))

        out.backward_step = backward_step
        return out

    def relu(self):
        out = ArrayValue(np.maximum(self.data, 0), (self,))

        def backward_step():
            self._accumulate(out.grad * (self.data > 0))

        out.backward_step = backward_step
        return out

    def backward(self):
        """As the scalar engine's, with dL/dL = 1 as a 0-d array."""
        order, seen = [], set()

        def visit(v):
            if id(v) not in seen:
                seen.add(id(v))
                for parent in v.parents:
                    visit(parent)
                order.append(v)

        visit(self)
        self.grad = np.ones_like(self.data)
        for v in reversed(order):
            v.backward_step()


# %%
# Your version: write ArrayValue (and the first unbroadcast) here; it replaces the solution above.

# %%
rng = np.random.default_rng(0)
x, b = ArrayValue(rng.standard_normal((3, 4))), ArrayValue(rng.standard_normal(4))
(x + b).sum().backward()
print("b.shape     ", b.data.shape)
print("b.grad.shape", b.grad.shape, "  <- a gradient must have its input's shape")

# %% [markdown]
# ## What went wrong
#
# NumPy broadcast `b` to (3, 4) by repeating it down the rows: each `b[j]` was *used three
# times*, once per row. In exercise 1 a value used twice received the sum of its two
# gradients. Broadcasting is the same reuse, so the gradient of `b[j]` is the sum of the
# gradients of its three copies: the column sums of `out.grad`. In general the rule has two parts:
#
# - axes that broadcasting *added* in front (a (4,) bias against (3, 4)) are summed away;
# - axes where the input had size 1 and the output more (a (1, 4) or (3, 1) operand) are summed
#   with `keepdims=True`, so the result keeps its size-1 axis.
#
# **Task.** Write `unbroadcast(grad, shape)`, which sums `grad` down to `shape` by these two
# rules. The check compares it with the framework's own (`td.autograd.unbroadcast`) on five
# pairs of shapes, then runs a small layer, `((x @ W + b).relu() * s).sum()` with a bias `b` of
# shape (4,) and a scale `s` of shape (1, 4), through `ArrayValue` and through `td.Tensor`:
#
# ```text
# (3, 4) -> (4,)       ok
# (3, 4) -> (1, 4)     ok
# (3, 4) -> (3, 1)     ok
# (2, 3, 4) -> (3, 1)  ok
# (3, 4) -> ()         ok
# x  grad (5, 3)  matches the framework: True
# W  grad (3, 4)  matches the framework: True
# b  grad (4,)  matches the framework: True
# s  grad (1, 4)  matches the framework: True
# ```

# %% tags=["solution"] jupyter={"source_hidden": true}
def unbroadcast(grad, shape):
    """Sum grad down to shape: over the leading axes broadcasting added, and over axes where shape has 1."""
    extra = grad.ndim - len(shape)
    grad = grad.sum(axis=tuple(range(extra)))  # the axes added in front
    ones = tuple(axis for axis, size in enumerate(shape) if size == 1 and grad.shape[axis] != 1)
    return grad.sum(axis=ones, keepdims=True)  # the size-1 axes that were stretched


# %%
# Your version of unbroadcast goes here.

# %% [markdown]
# The backward steps look `unbroadcast` up by name when they run, so redefining it fixes
# `ArrayValue` without rewriting it.

# %%
import tinygrad_drop as td

for big, small in [((3, 4), (4,)), ((3, 4), (1, 4)), ((3, 4), (3, 1)), ((2, 3, 4), (3, 1)), ((3, 4), ())]:
    g = rng.standard_normal(big)
    ok = np.allclose(unbroadcast(g, small), td.autograd.unbroadcast(g, small))
    print(f"{str(big) + ' -> ' + str(small):<20} {'ok' if ok else 'WRONG'}")

arrays = {"x": rng.standard_normal((5, 3)), "W": rng.standard_normal((3, 4)),
          "b": rng.standard_normal(4), "s": rng.standard_normal((1, 4))}
mine = {name: ArrayValue(a) for name, a in arrays.items()}
theirs = {name: td.tensor(a, requires_grad=True) for name, a in arrays.items()}


def layer(x, W, b, s):
    return ((x @ W + b).relu() * s).sum()


layer(**mine).backward()
layer(**theirs).backward()
for name in arrays:
    same = mine[name].grad.shape == theirs[name].shape and np.allclose(mine[name].grad, theirs[name].grad)
    print(f"{name}  grad {mine[name].grad.shape}  matches the framework: {same}")

# %% [markdown]
# In tinygrad_drop every broadcasting op (`Add`, `Sub`, `Mul`, `Div` in
# `tinygrad_drop/ops/elementwise.py`) calls `unbroadcast` in its backward, and the engine checks
# that each gradient has its input's shape. Leaving `unbroadcast` out of a new op is one of the
# two common bugs shown in the docs' "Your first op" page.
#
# Next, exercise 3 (`03_write_an_op.py`) writes an op the framework's way, as a `td.Function`.
