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
# # Exercise 1: a scalar engine in about 60 lines
#
# Reverse-mode autodiff fits in one small class. A `Value` holds a number (`data`), the
# gradient of the final result with respect to it (`grad`), the values it was computed from
# (`parents`) and a closure, `backward_step`, that passes its gradient on to those parents.
# `backward()` orders the graph so that every value comes before the values it was computed
# from, then calls each closure once, from the output back to the inputs.
#
# This is the design of Andrej Karpathy's micrograd. The rest of tinygrad_drop is the same
# idea on arrays: the notebooks that follow get there one step at a time.
#
# **Task.** Write `Value` with `+`, `*`, `**` (a number as exponent), `-`, `/`, `tanh`, `relu`
# and `backward()`. Each operator returns a new `Value` and sets its `backward_step`, which adds
# (`+=`, not `=`) the local derivative times the output's gradient into each parent's `grad`.
#
# **Check.** The cell after the solution computes `L = ((a * b + a) ** 2 / c).tanh() + (b - c).relu()`
# with your `Value` and with `td.Tensor`, and prints both. When your `Value` is right it prints:
#
# ```text
# L       Value 1.719466  framework 1.719466
# dL/da   Value 0.501136  framework 0.501136
# dL/db   Value 1.100227  framework 1.100227
# dL/dc   Value -1.167045  framework -1.167045
# all match: True
# ```
#
# The solution is the next cell, collapsed (in Jupyter click the bar on its left; on the website,
# "Show the solution"). Write yours in the cell after it, uncommenting the skeleton: it replaces
# the solution for the checks that follow.

# %% tags=["solution"] jupyter={"source_hidden": true}
import math


class Value:
    """A scalar that remembers how it was computed, so that backward() can find its gradient."""

    def __init__(self, data, parents=()):
        self.data, self.grad, self.parents = float(data), 0.0, parents
        self.backward_step = lambda: None  # a leaf passes nothing on

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))

        def backward_step():  # d(a + b)/da = 1, d(a + b)/db = 1
            self.grad += out.grad
            other.grad += out.grad

        out.backward_step = backward_step
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))

        def backward_step():  # d(a b)/da = b, d(a b)/db = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out.backward_step = backward_step
        return out

    def __pow__(self, exponent):
        out = Value(self.data**exponent, (self,))

        def backward_step():  # d(x^c)/dx = c x^(c-1)
            self.grad += exponent * self.data ** (exponent - 1) * out.grad

        out.backward_step = backward_step
        return out

    def tanh(self):
        out = Value(math.tanh(self.data), (self,))

        def backward_step():  # d tanh(x)/dx = 1 - tanh(x)^2
            self.grad += (1 - out.data**2) * out.grad

        out.backward_step = backward_step
        return out

    def relu(self):
        out = Value(max(self.data, 0.0), (self,))

        def backward_step():  # 1 where x > 0, else 0
            self.grad += (self.data > 0) * out.grad

        out.backward_step = backward_step
        return out

    # the rest are built from the ops above, so they need no backward of their own
    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        return self * other**-1

    __radd__, __rmul__ = __add__, __mul__

    def backward(self):
        """Fill in .grad of every value this one was computed from: dL/dL = 1, then the chain rule."""
        order, seen = [], set()

        def visit(v):  # depth-first: a value is appended after everything it was computed from
            if id(v) not in seen:
                seen.add(id(v))
                for parent in v.parents:
                    visit(parent)
                order.append(v)

        visit(self)
        self.grad = 1.0
        for v in reversed(order):  # the output first: each value's grad is complete when it is used
            v.backward_step()


# %%
# Your version: uncomment the skeleton, fill it in and run this cell; the checks below then test yours.
#
# class Value:
#     def __init__(self, data, parents=()):
#         self.data, self.grad, self.parents = float(data), 0.0, parents
#         self.backward_step = lambda: None
#
#     def __add__(self, other): ...
#     def __mul__(self, other): ...
#     def __pow__(self, exponent): ...
#     def tanh(self): ...
#     def relu(self): ...
#     def __neg__(self): ...
#     def __sub__(self, other): ...
#     def __truediv__(self, other): ...
#     def backward(self): ...

# %% [markdown]
# ## The check: the same sum with the framework
#
# `td.Tensor` does the same with arrays. Zero-dimensional float64 tensors behave like the
# scalars above, so both engines should agree to the last digit printed.

# %%
import tinygrad_drop as td


def loss(a, b, c):
    return ((a * b + a) ** 2 / c).tanh() + (b - c).relu()


values = {"a": 0.5, "b": 1.5, "c": 0.75}
mine = {name: Value(v) for name, v in values.items()}
theirs = {name: td.tensor(v, dtype=td.float64, requires_grad=True) for name, v in values.items()}
L_mine, L_theirs = loss(**mine), loss(**theirs)
L_mine.backward()
L_theirs.backward()

rows = [("L", L_mine.data, L_theirs.item())]
rows += [(f"dL/d{name}", mine[name].grad, float(theirs[name].grad)) for name in values]
for label, ours, framework in rows:
    print(f"{label:<7} Value {ours:.6f}  framework {framework:.6f}")
print("all match:", all(math.isclose(ours, framework, rel_tol=1e-12) for _, ours, framework in rows))

# %% [markdown]
# ## Why `+=` and not `=`
#
# `a` is used twice in `a * b + a`, so two closures send it a gradient, and it must receive
# their sum: dL/da = dL/d(ab) * b + dL/d(+a) * 1. With `=`, the second closure to run would
# overwrite the first. Each leaf's `grad` also starts at 0 and is never reset by `backward()`,
# which is why the framework, like PyTorch, asks you to zero gradients between steps.
#
# The order matters too: a value's closure runs only after every value computed *from* it has
# run its own, so its `grad` is complete when it is passed on. The smallest case:

# %%
a, b = Value(2.0), Value(-3.0)
L = a * b + a
L.backward()
print("dL/da =", a.grad, " (b + 1)")
print("dL/db =", b.grad, " (a)")

# %% [markdown]
# ```text
# dL/da = -2.0  (b + 1)
# dL/db = 2.0  (a)
# ```
#
# Next, exercise 2 (`02_vectorise.py`) replaces the floats with NumPy arrays, and meets broadcasting.
