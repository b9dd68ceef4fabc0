"""The backward contract (see autograd.Function): planted bugs in user ops, and the errors they give."""

import numpy as np
import pytest

import tinygrad_drop as td
from tinygrad_drop.autograd import BackwardContractError, Function, unbroadcast
from tinygrad_drop.ops import elementwise, movement, noise, reduce


class BadMul(Function):
    """y = a * b, with a backward that forgets b's gradient."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b  # one gradient for two inputs


class BadAdd(Function):
    """y = a + b, with a backward that forgets unbroadcast."""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


def _leaves():
    a = td.Tensor(np.arange(12.0).reshape(3, 4), dtype=td.float64, requires_grad=True)
    b = td.Tensor(np.ones(4), dtype=td.float64, requires_grad=True)
    return a, b


def test_too_few_gradients_name_the_op_and_the_counts():
    a, b = _leaves()
    with pytest.raises(BackwardContractError) as info:
        BadMul.apply(a, b).sum().backward()
    assert str(info.value).startswith("BadMul.backward returned 1 gradient(s) for 2 input(s)")
    assert b.grad is None and a.grad is None  # nothing was accumulated


def test_a_forgotten_unbroadcast_names_the_op_the_input_and_both_shapes():
    a, b = _leaves()
    with pytest.raises(BackwardContractError) as info:
        BadAdd.apply(a, b).sum().backward()
    assert str(info.value).startswith("BadAdd.backward returned shape (3, 4) for input 1 of shape (4,)")
    assert "unbroadcast" in str(info.value)


def test_contract_errors_are_runtime_errors():
    assert issubclass(BackwardContractError, RuntimeError)


def test_gradcheck_reports_the_shape_first():
    a, b = _leaves()
    with pytest.raises(td.GradcheckError) as info:
        td.gradcheck(lambda a, b: BadAdd.apply(a, b), [a, b])
    assert str(info.value).startswith("BadAdd.backward returned shape (3, 4) for input 1 of shape (4,)")


def test_gradcheck_reports_too_few_gradients():
    a, b = _leaves()
    with pytest.raises(td.GradcheckError, match=r"^BadMul.backward returned 1 gradient\(s\) for 2 input\(s\)"):
        td.gradcheck(lambda a, b: BadMul.apply(a, b), [a, b])


def test_fixed_ops_pass():
    class GoodAdd(BadAdd):
        @staticmethod
        def backward(ctx, grad):
            a_shape, b_shape = ctx.shapes
            return unbroadcast(grad, a_shape), unbroadcast(grad, b_shape)

        @staticmethod
        def forward(ctx, a, b):
            ctx.shapes = a.shape, b.shape
            return a + b

    assert td.gradcheck(lambda a, b: GoodAdd.apply(a, b), list(_leaves()))


def test_non_tensor_inputs_count_too():
    class Scale(Function):
        """y = x * s for a plain number s given as a positional input."""

        @staticmethod
        def forward(ctx, x, s):
            ctx.s = s
            return x * s

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.s  # should be (grad * s, None)

    x = td.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(BackwardContractError, match=r"Scale.backward returned 1 gradient\(s\) for 2 input\(s\)"):
        Scale.apply(x, 3.0).sum().backward()


def test_a_gradient_of_another_dtype_is_cast_to_the_inputs():
    class Wide(Function):
        @staticmethod
        def forward(ctx, x):
            return x.copy()

        @staticmethod
        def backward(ctx, grad):
            return grad.astype(np.float64)

    x = td.Tensor([1.0, 2.0], requires_grad=True)
    h = Wide.apply(x)
    h.retain_grad()
    (h * 2.0).sum().backward()
    assert x.grad.dtype == td.float32


def test_a_leafs_grad_of_another_shape_is_refused_naming_both_shapes():
    x = td.Tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    x.grad = np.ones((1, 2), dtype=np.float32)  # broadcastable, so `x.grad + g` would grow it to (3, 2)
    with pytest.raises(RuntimeError, match=r"\.grad of shape \(1, 2\) for a tensor of shape \(3, 2\)"):
        (x * 2.0).sum().backward()


# ---------------------------------------------------------------- every op follows the contract


def _backward_of(op, *inputs, **params):
    """The gradients op's backward returns for an all-ones upstream gradient."""
    out = op.apply(*inputs, **params)
    return out._ctx, out._ctx.backward(out._ctx, np.ones(out.shape, dtype=out.dtype))


@pytest.mark.parametrize("op", [elementwise.Add, elementwise.Sub, elementwise.Mul, elementwise.Div])
@pytest.mark.parametrize("needs", [(True, False), (False, True), (True, True)])
def test_binary_ops_return_none_where_no_gradient_is_needed(op, needs):
    a = td.Tensor(np.full((2, 3), 2.0), requires_grad=needs[0])
    b = td.Tensor(np.full((3,), 4.0), requires_grad=needs[1])
    _, grads = _backward_of(op, a, b)
    assert len(grads) == 2
    for x, need, g in zip((a, b), needs, grads, strict=True):
        assert (g is None) == (not need)
        if need:
            assert g.shape == x.shape and g.dtype == x.dtype


def test_noise_ops_return_one_entry_per_input():
    x = td.Tensor(np.ones((2, 3)), requires_grad=True)
    mask = np.array([[True, False, True], [False, True, True]])
    _, grads = _backward_of(noise.AlphaDropout, x, mask, 1.5, 0.5)
    assert len(grads) == 4 and grads[1:] == (None, None, None)
    _, grads = _backward_of(noise.GaussianDropout, x, np.full((2, 3), 2.0, dtype=np.float32))
    assert len(grads) == 2 and grads[1] is None


@pytest.mark.parametrize("make", [
    lambda x: (reduce.Sum, (x,), {"axis": 0}),
    lambda x: (reduce.Mean, (x,), {}),
    lambda x: (movement.Reshape, (x,), {"shape": (6,)}),
    lambda x: (elementwise.Pow, (x,), {"exponent": 2}),
])
def test_keyword_parameters_are_not_inputs(make):
    x = td.Tensor(np.ones((2, 3)), requires_grad=True)
    op, inputs, params = make(x)
    ctx, grads = _backward_of(op, *inputs, **params)
    grads = grads if isinstance(grads, tuple) else (grads,)
    assert len(grads) == len(ctx.parents) == 1 and grads[0].shape == x.shape
