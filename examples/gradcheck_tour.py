"""A guided walk through gradient checking: run it and read what it prints.

    python examples/gradcheck_tour.py
"""

import numpy as np

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tinygrad_drop import nn


def section(title):
    print(f"\n=== {title} " + "=" * max(0, 66 - len(title)))


def show_failure(fn, inputs, **kwargs):
    """Run gradcheck and print its report when it fails."""
    try:
        td.gradcheck(fn, inputs, **kwargs)
        print("passed (unexpected!)")
    except td.GradcheckError as err:
        print(err)


class BrokenSquare(td.Function):
    """y = x^2 with a wrong backward: it returns x * dL/dy instead of 2 x * dL/dy."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x


def main():
    td.manual_seed(0)

    section("1. The idea: central differences")
    print("backward() computes dL/dx exactly (up to rounding). A finite difference estimates it from")
    print("two forward passes:  dL/dx_j ~ (L(x + eps e_j) - L(x - eps e_j)) / (2 eps),  error O(eps^2).")
    x = td.Tensor([0.5, -1.0, 2.0], dtype=td.float64, requires_grad=True)
    (x.tanh() * x).sum().backward()
    (numerical,) = td.numerical_grad(lambda x: (x.tanh() * x).sum(), [x])
    print(f"analytical {x.grad}\nnumerical  {numerical}")

    section("2. Why float64")
    f = lambda x: (x.exp() * x).sum()  # noqa: E731
    for dtype in (td.float32, td.float64):
        t = td.Tensor([1.0], dtype=dtype)
        plus, minus = f(t + 1e-6).item(), f(t - 1e-6).item()
        estimate = (plus - minus) / 2e-6
        print(f"{str(dtype):>8}: estimate {estimate:.8f}, exact {2 * np.e:.8f}, "
              f"relative error {abs(estimate - 2 * np.e) / (2 * np.e):.1e}")
    print("float32 keeps about 7 digits; dividing a difference of nearby values by 2e-6 loses most of")
    print("them. gradcheck therefore always works on float64 copies of the inputs and parameters.")

    section("3. Every op passes")
    a = td.randn(3, 4, dtype=td.float64, requires_grad=True)
    b = td.randn(4, dtype=td.float64, requires_grad=True)
    checks = {
        "a + b (broadcast)": lambda a, b: a + b,
        "a * b": lambda a, b: a * b,
        "a / (b*b + 1)": lambda a, b: a / (b * b + 1),
        "a @ b": lambda a, b: a @ b,
        "softmax(a)": lambda a, b: a.softmax(axis=-1),
        "log_softmax(a)": lambda a, b: a.log_softmax(axis=-1),
        "tanh, sigmoid": lambda a, b: a.tanh() * b.sigmoid(),
        "max over axis": lambda a, b: a.max(axis=0),
        "a[[0, 0, 2]]": lambda a, b: a[[0, 0, 2]],
        "linear(a, W=a[:2], b[:2])": lambda a, b: F.linear(a, a[:2], b[:2]),
    }
    for name, fn in checks.items():
        print(f"  {name:<26} {'pass' if td.gradcheck(fn, [a, b]) else 'FAIL'}")

    section("4. What a wrong backward looks like")
    print("BrokenSquare forgets the factor 2 in d(x^2)/dx = 2x. The report lists the worst elements")
    print("first, with both values and both errors, then how many failed:")
    show_failure(lambda x: BrokenSquare.apply(x), [td.randn(3, 4, dtype=td.float64, requires_grad=True)])
    print("\nA subtler bug, x * x.detach(): the graph only sees one factor of x, so the gradient is x, not 2x:")
    show_failure(lambda x: x * x.detach(), [td.randn(2, 2, dtype=td.float64, requires_grad=True)])

    section("5. Dropout: masks must stay fixed")
    print("Each call of a dropout layer draws a new mask, so two forward passes at x + eps and x - eps")
    print("would see different networks and their difference would be meaningless. gradcheck records")
    print("every random draw in its first call of fn and replays it in every later call.")
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3)).double()
    xb, yb = td.randn(4, 5, dtype=td.float64, requires_grad=True), td.Tensor([0, 2, 1, 1])
    loss = lambda x: F.cross_entropy(model(x), yb)  # noqa: E731
    print(f"gradcheck over the input and all parameters, dropout active: {td.gradcheck(loss, [xb], params=model)}")
    print("\nNow dropout's backward forgets the 1/(1 - p) scale; gradcheck names the parameter and element:")
    from tinygrad_drop.ops.dropout import Dropout

    correct_backward = Dropout.backward
    def forgetful_backward(ctx, grad):  # grad * mask, without 1/(1 - p); None for the mask and other inputs
        return (grad * ctx.saved_tensors[0],) + (None,) * (len(ctx.parents) - 1)

    Dropout.backward = staticmethod(forgetful_backward)
    try:
        show_failure(loss, [xb], params=model)
    finally:
        Dropout.backward = staticmethod(correct_backward)  # Dropout.backward read back a plain function

    section("6. Kinks")
    print("ReLU has no derivative at 0. Probing exactly there, the two one-sided slopes differ and the")
    print("central difference is their average, 0.5, while backward says 0 (PyTorch's convention).")
    print("gradcheck flags such points:")
    show_failure(lambda x: x.relu(), [td.Tensor([0.0, 1.0, -1.0], dtype=td.float64, requires_grad=True)])
    print("\nKeep probe points away from kinks (random inputs almost never hit 0 exactly).")


if __name__ == "__main__":
    main()
