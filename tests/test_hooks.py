"""Tensor.register_hook and Tensor.retain_grad, with PyTorch's semantics, and their cleanup."""

import gc
import weakref

import numpy as np
import pytest

import tinygrad_drop as td
from tests.helpers import host
from tinygrad_drop import autograd, nn


def test_hook_on_a_leaf_sees_the_summed_gradient_once(device):
    x = td.Tensor([1.0, 2.0], requires_grad=True, device=device)
    seen = []
    x.register_hook(lambda g: seen.append(host(g).copy()))
    (x * 2.0 + x * 3.0).sum().backward()
    assert len(seen) == 1  # once, with the sum of both uses, as PyTorch's AccumulateGrad
    np.testing.assert_array_equal(seen[0], [5.0, 5.0])
    np.testing.assert_array_equal(host(x.grad), [5.0, 5.0])


def test_hook_return_value_replaces_the_gradient_downstream():
    x = td.Tensor([1.0, -1.0], requires_grad=True)
    y = x * 3.0
    y.register_hook(lambda g: g * 10)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [30.0, 30.0])


def test_hooks_run_in_registration_order_and_chain():
    x = td.Tensor([1.0], requires_grad=True)
    calls = []
    x.register_hook(lambda g: calls.append("first") or g + 1)
    x.register_hook(lambda g: calls.append(("second", float(g[0]))))
    (x * 2.0).sum().backward()
    assert calls == ["first", ("second", 3.0)]
    np.testing.assert_array_equal(x.grad, [3.0])


def test_removed_hook_no_longer_runs_and_leaves_nothing_behind():
    x = td.Tensor([1.0], requires_grad=True)
    calls = []
    handle = x.register_hook(calls.append)
    handle.remove()
    handle.remove()  # a second remove is harmless
    (x * 2.0).sum().backward()
    assert calls == []
    assert not x._hooks.fns


def test_hooks_live_on_their_tensor_and_go_with_it():
    x = td.Tensor([1.0], requires_grad=True)
    x.register_hook(lambda g, tensor=x: None)  # the hook refers back to its own tensor: a cycle
    assert len(x._hooks.fns) == 1 and not hasattr(autograd, "_tensor_hooks")
    ref = weakref.ref(x)
    del x
    gc.collect()
    assert ref() is None


class _MaskedModel(nn.Module):
    """A module whose weight hook refers back to the module: a reference cycle through the hook."""

    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(64, 64)
        self.mask = np.ones((64, 64), dtype=np.float32)
        self.layer.weight.register_hook(lambda g: g * self.mask)


def test_discarded_models_with_hooks_are_collected():
    refs = []
    for _ in range(20):
        model = _MaskedModel()
        refs.append(weakref.ref(model))
        del model
    gc.collect()
    assert all(ref() is None for ref in refs)


def test_hook_on_a_tensor_without_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        td.Tensor([1.0]).register_hook(lambda g: g)


def test_hook_that_changes_the_shape_is_an_error_naming_it():
    x = td.Tensor([1.0, 2.0], requires_grad=True)

    def widen(grad):
        return np.zeros(3)

    x.register_hook(widen)
    with pytest.raises(ValueError, match=r"'widen' returned a gradient of shape \(3,\)"):
        (x * 1.0).sum().backward()


def test_hook_may_return_a_tensor():
    x = td.Tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: td.Tensor(g * 0.5))
    (x * 4.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_retain_grad_keeps_an_intermediate_gradient(device):
    x = td.Tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    h = x * x
    h.retain_grad()
    assert h.retains_grad and h.grad is None
    (h * 2.0).sum().backward()
    np.testing.assert_array_equal(host(h.grad), [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(host(x.grad), [4.0, 8.0, 12.0])


def test_retained_gradient_accumulates_over_backward_calls():
    x = td.Tensor([1.0], requires_grad=True)
    h = x * 3.0
    h.retain_grad()
    out = h * 2.0
    out.backward(retain_graph=True)
    out.backward()
    np.testing.assert_array_equal(h.grad, [4.0])


def test_retain_grad_sees_the_gradient_after_hooks():
    x = td.Tensor([1.0], requires_grad=True)
    h = x * 1.0
    h.retain_grad()
    h.register_hook(lambda g: g * 7)  # registered later, still runs before the retained copy
    h.sum().backward()
    np.testing.assert_array_equal(h.grad, [7.0])


def test_retain_grad_on_a_leaf_changes_nothing():
    x = td.Tensor([1.0], requires_grad=True)
    x.retain_grad()
    assert not x.retains_grad
    (x * 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0])


def test_hook_on_the_root_of_backward():
    x = td.Tensor([2.0], requires_grad=True)
    y = (x * x).sum()
    y.register_hook(lambda g: g * 3)
    y.backward()
    np.testing.assert_array_equal(x.grad, [12.0])


def test_hook_on_a_leaf_root():
    x = td.Tensor([2.0], requires_grad=True)
    x.register_hook(lambda g: g + 1)
    x.backward()
    np.testing.assert_array_equal(x.grad, [2.0])


def test_engine_is_unwatched_by_default():
    gc.collect()
    assert autograd._state.observers == ()


def test_a_hook_that_returns_a_tensor_gives_an_array_grad():
    x = td.Tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: td.Tensor(g * 0.5))
    (x * 4.0).sum().backward()
    assert type(x.grad) is np.ndarray
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


@pytest.mark.parametrize("register, what", [(lambda t: t.register_hook(lambda g: g), "register a hook on"),
                                            (lambda t: t.retain_grad(), "retain_grad on")])
def test_hooks_on_a_tensor_without_grad_say_how_to_fix_it(register, what):
    with pytest.raises(RuntimeError) as info:
        register(td.Tensor([1.0]))
    assert str(info.value) == (f"cannot {what} a tensor that does not require grad: "
                               "create it with requires_grad=True (or call .requires_grad_())")


def test_a_hook_returning_none_lets_the_next_hooks_run():
    x = td.Tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: None)
    x.register_hook(lambda g: g * 10)
    (x * 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [10.0, 10.0])


class _Halve:
    """A callable without a __name__: the error shows its repr instead."""

    def __call__(self, grad):
        return grad[:1]

    def __repr__(self):
        return "Halve()"


def test_a_nameless_hook_that_changes_the_shape_is_named_by_its_repr():
    x = td.Tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(_Halve())
    with pytest.raises(ValueError) as info:
        (x * 1.0).sum().backward()
    assert str(info.value) == ("hook Halve() returned a gradient of shape (1,) for a tensor of shape (2,): "
                               "return an array of the same shape, or None")


@pytest.mark.parametrize("returned", [np.float64, np.float16, np.int64])
def test_a_hook_result_of_another_dtype_is_cast_to_the_tensors_dtype(returned):
    x = td.Tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: (g * 3).astype(returned))
    (x * 1.0).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])
