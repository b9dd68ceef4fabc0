"""The backward engine and no_grad: graph walking, accumulation, retain_graph, errors, threads."""

import threading

import numpy as np
import pytest

import tinygrad_drop as td
from tests.helpers import host

# ---------------------------------------------------------------- graph shapes


def test_long_chain_backward_has_no_recursion_error(device):
    x = td.Tensor([1.0, 2.0], requires_grad=True, device=device)
    y = x
    for _ in range(10_000):
        y = y + 1.0
    np.testing.assert_array_equal(host(y), [10_001.0, 10_002.0])
    y.sum().backward()
    np.testing.assert_array_equal(host(x.grad), [1.0, 1.0])


def test_long_multiplicative_chain_gradient_value():
    x = td.Tensor([1.0], requires_grad=True, dtype=td.float64)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0001**10_000], rtol=1e-9)


def test_diamond_gives_two_x_plus_one(device):
    x = td.Tensor([-1.5, 0.0, 2.0, 3.0], requires_grad=True, device=device)
    y = x * x + x
    y.sum().backward()
    np.testing.assert_allclose(host(x.grad), 2 * np.array([-1.5, 0.0, 2.0, 3.0]) + 1)


def test_tensor_used_twice_accumulates(device):
    x = td.Tensor([1.0, 2.0], requires_grad=True, device=device)
    (x + x).sum().backward()
    np.testing.assert_array_equal(host(x.grad), [2.0, 2.0])


def test_intermediate_used_by_several_consumers():
    x = td.Tensor([0.5, -1.0], requires_grad=True, dtype=td.float64)
    h = x.exp()
    y = h * h + 3 * h
    y.sum().backward()
    e = np.exp([0.5, -1.0])
    np.testing.assert_allclose(x.grad, 2 * e * e + 3 * e, rtol=1e-12)


def test_gradients_accumulate_across_backward_calls(device):
    x = td.Tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    (x * 2).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(host(x.grad), 2 + 2 * np.array([1.0, 2.0, 3.0]))
    x.zero_grad()
    assert x.grad is None


def test_backward_twice_through_freed_graph_raises():
    x = td.Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = td.Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    y.backward()
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])


def test_backward_on_non_scalar_without_grad_names_shape():
    x = td.Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\(2, 2\)"):
        (x * 2).backward()


def test_backward_on_one_element_non_scalar_is_allowed():
    x = td.Tensor([[3.0]], requires_grad=True)
    (x * x).backward()
    np.testing.assert_array_equal(x.grad, [[6.0]])


def test_backward_grad_of_wrong_shape_names_both_shapes():
    x = td.Tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    y = x * 2
    with pytest.raises(ValueError, match=r"\(3,\).*\(1, 3\)"):
        y.backward(np.ones(3))


@pytest.mark.parametrize("wrap", [np.asarray, td.Tensor], ids=["ndarray", "Tensor"])
def test_backward_with_explicit_grad(wrap, device):
    x = td.Tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    y = x * x
    g = [1.0, -1.0, 0.5]
    y.backward(wrap(g) if wrap is np.asarray else td.Tensor(g, device=device))
    np.testing.assert_allclose(host(x.grad), 2 * np.array([1.0, 2.0, 3.0]) * g)
    assert x.grad.dtype == td.float32


def test_backward_grad_is_cast_to_output_dtype():
    x = td.Tensor([1.0, 2.0], requires_grad=True)
    (x * 3).backward(np.array([1.0, 1.0], dtype=np.float64))
    assert x.grad.dtype == td.float32


def test_backward_on_leaf_accumulates_grad():
    x = td.Tensor([1.0, 2.0], requires_grad=True)
    x.backward(np.array([3.0, 4.0]))
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


def test_backward_on_tensor_not_requiring_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        td.Tensor([1.0]).sum().backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        (td.Tensor([1.0]) * 2).backward(np.ones(1))


def test_leaf_not_requiring_grad_gets_no_grad():
    x = td.Tensor([1.0, 2.0], requires_grad=True)
    c = td.Tensor([5.0, 6.0])
    (x * c).sum().backward()
    assert c.grad is None
    np.testing.assert_array_equal(x.grad, [5.0, 6.0])


def test_grads_have_the_leafs_dtype():
    x32 = td.Tensor([1.0, 2.0], requires_grad=True)
    x64 = td.Tensor([3.0, 4.0], requires_grad=True, dtype=td.float64)
    (x32 * x64).sum().backward()
    assert x32.grad.dtype == td.float32
    assert x64.grad.dtype == td.float64
    np.testing.assert_array_equal(x32.grad, [3.0, 4.0])
    np.testing.assert_array_equal(x64.grad, [1.0, 2.0])


def test_graph_records_parents_and_leaves_flag():
    x = td.Tensor([1.0], requires_grad=True)
    y = x * 2
    assert y.requires_grad and not y.is_leaf
    assert y.grad_fn is y._ctx
    assert y._ctx.parents[0] is x
    assert repr(y.grad_fn) == "<Mul>"


def test_backward_is_deterministic_bit_for_bit():
    def grads():
        rng = np.random.default_rng(123)
        w = td.Tensor(rng.standard_normal((8, 5)), requires_grad=True)
        x = td.Tensor(rng.standard_normal((16, 8)), requires_grad=True)
        h = (x @ w).tanh()
        loss = (h.softmax(axis=1) * h).sum() + h.max(axis=0).mean() + (x[[0, 0, 3]] ** 2).sum()
        loss.backward()
        return x.grad.copy(), w.grad.copy()

    first, second = grads(), grads()
    for a, b in zip(first, second, strict=True):
        assert a.tobytes() == b.tobytes()


# ---------------------------------------------------------------- no_grad


def test_no_grad_context_manager():
    x = td.Tensor([1.0, 2.0], requires_grad=True)
    with td.no_grad():
        assert not td.is_grad_enabled()
        y = x * 2
    assert td.is_grad_enabled()
    assert not y.requires_grad
    assert y._ctx is None
    np.testing.assert_array_equal(y.numpy(), [2.0, 4.0])


def test_no_grad_decorator():
    x = td.Tensor([1.0, 2.0], requires_grad=True)

    @td.no_grad()
    def f(t):
        assert not td.is_grad_enabled()
        return t * t + 1

    y = f(x)
    assert not y.requires_grad and y._ctx is None
    assert td.is_grad_enabled()
    assert (x * x).requires_grad


def test_no_grad_nested_and_enable_grad():
    x = td.Tensor([1.0], requires_grad=True)
    with td.no_grad():
        with td.no_grad():
            assert not td.is_grad_enabled()
        assert not td.is_grad_enabled()
        with td.enable_grad():
            assert td.is_grad_enabled()
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad
    assert td.is_grad_enabled()


def test_no_grad_same_instance_reentered():
    ng = td.no_grad()
    with ng:
        with ng:
            assert not td.is_grad_enabled()
        assert not td.is_grad_enabled()
    assert td.is_grad_enabled()


def test_no_grad_restores_state_after_exception():
    with pytest.raises(KeyError):
        with td.no_grad():
            raise KeyError("boom")
    assert td.is_grad_enabled()

    @td.no_grad()
    def fails():
        raise ValueError("boom")

    with pytest.raises(ValueError):
        fails()
    assert td.is_grad_enabled()


def test_no_grad_is_thread_local():
    inside, release = threading.Event(), threading.Event()
    seen = {}

    def worker():
        with td.no_grad():
            seen["worker"] = td.is_grad_enabled()
            inside.set()
            release.wait(timeout=10)

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert inside.wait(timeout=10)
        assert td.is_grad_enabled()
        y = td.Tensor([1.0], requires_grad=True) * 2
        assert y.requires_grad and y._ctx is not None
    finally:
        release.set()
        thread.join(timeout=10)
    assert seen["worker"] is False
    assert td.is_grad_enabled()


def test_new_thread_starts_with_grad_enabled():
    seen = {}

    def worker():
        seen["enabled"] = td.is_grad_enabled()

    with td.no_grad():
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join(timeout=10)
    assert seen["enabled"] is True


def test_one_no_grad_instance_shared_by_two_threads():
    """Entering the same instance (as a shared decorator does) from two threads restores each one."""
    ng = td.no_grad()
    main_in, worker_in, main_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def worker():
        with td.no_grad():  # this thread has grad disabled when it enters `ng`
            assert main_in.wait(timeout=10)
            with ng:
                worker_in.set()
                assert main_out.wait(timeout=10)
            seen["worker"] = td.is_grad_enabled()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        with ng:
            main_in.set()
            assert worker_in.wait(timeout=10)
        assert td.is_grad_enabled()  # restored to this thread's mode, not the worker's
    finally:
        main_out.set()
        thread.join(timeout=10)
    assert seen["worker"] is False
