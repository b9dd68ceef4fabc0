"""The backward engine and no_grad: graph walking, accumulation, retain_graph, errors, threads."""

import threading

import numpy as np
import pytest

import tinygrad_drop as td
from tests.helpers import host
from tinygrad_drop import autograd

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


def test_the_engine_frees_saved_arrays_by_default():
    x = td.Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    autograd.backward(y, np.float32(1.0))  # called directly, without Tensor.backward's retain_graph
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        autograd.backward(y, np.float32(1.0))


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


# ---------------------------------------------------------------- one accumulation rule, whatever watches


def _twice_used_leaf_gradient(hook_elsewhere):
    """x.grad after a second backward in which x (float32, .grad = 1e8) gets 4 along each of two edges."""
    x = td.Tensor([1.0], requires_grad=True)
    x.grad = np.array([1e8], dtype=np.float32)
    other = td.Tensor([1.0], requires_grad=True)
    if hook_elsewhere:
        other.register_hook(lambda g: None)
    (x * 4.0 + x * 4.0 + other).sum().backward()
    return x.grad


def test_a_no_op_hook_changes_no_bit_of_any_gradient():
    plain, watched = _twice_used_leaf_gradient(False), _twice_used_leaf_gradient(True)
    assert plain.tobytes() == watched.tobytes()
    assert plain[0] == np.float32(1e8) + np.float32(8)  # the edges are summed first (4 + 4), then added once


def test_observers_change_no_bit_of_any_gradient():
    with td.detect_anomaly():
        watched = _twice_used_leaf_gradient(False)
    assert watched.tobytes() == _twice_used_leaf_gradient(False).tobytes()


# ---------------------------------------------------------------- every .grad is its own array


def test_leaves_fed_the_same_array_get_their_own_grads():
    a = td.Tensor([1.0, 2.0], requires_grad=True)
    b = td.Tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    assert not np.shares_memory(a.grad, b.grad)
    for p in (a, b):
        p.grad *= 0.5  # gradient clipping done in place, as ported PyTorch code does
    np.testing.assert_array_equal(a.grad, [0.5, 0.5])
    np.testing.assert_array_equal(b.grad, [0.5, 0.5])


def test_a_view_of_another_gradient_is_copied():
    a = td.Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = td.Tensor([1.0, 1.0, 1.0, 1.0], requires_grad=True)
    ((a.reshape(4) + b) * 1.0).sum().backward()  # a's gradient is b's gradient reshaped: a view
    assert not np.shares_memory(a.grad, b.grad)


def test_a_retained_gradient_is_not_a_leafs_gradient():
    a = td.Tensor([1.0, 2.0], requires_grad=True)
    h = a * 2.0
    h.retain_grad()
    (h + a).sum().backward()
    assert not np.shares_memory(h.grad, a.grad)


def test_an_array_a_hook_returns_is_copied_into_grad():
    kept = np.array([7.0, 7.0], dtype=np.float32)
    a = td.Tensor([1.0, 2.0], requires_grad=True)
    a.register_hook(lambda g: kept)
    (a * 2.0).sum().backward()
    a.grad *= 0
    np.testing.assert_array_equal(kept, [7.0, 7.0])


@pytest.mark.parametrize("build", [lambda a, b: a, lambda a, b: a + b], ids=["leaf root", "add"])
def test_the_callers_gradient_array_is_never_a_leafs_grad(build):
    a = td.Tensor([1.0, 2.0], requires_grad=True)
    b = td.Tensor([3.0, 4.0], requires_grad=True)
    given = np.ones(2, dtype=np.float32)
    build(a, b).backward(given)  # Add hands `given` itself to a: the engine must not make it a.grad
    given[...] = 5.0
    np.testing.assert_array_equal(a.grad, [1.0, 1.0])


def test_the_common_case_makes_no_copy():
    a = td.Tensor([1.0, 2.0], requires_grad=True)
    seen = []
    a.register_hook(lambda g: seen.append(g))
    (a * 2.0).sum().backward()
    assert a.grad is seen[0]  # the array backward made, handed over as it is


# ---------------------------------------------------------------- arrays backward needs cannot change under it


def test_numpy_of_a_tensor_that_requires_grad_is_read_only():
    x = td.Tensor([0.5, 1.0], requires_grad=True)
    y = x.exp()
    with pytest.raises(ValueError, match="read-only"):
        y.numpy()[0] = 0.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad, np.exp([0.5, 1.0]), rtol=1e-6)
    np.testing.assert_array_equal(y.numpy(), y.data)  # reading is free
    assert y.detach().numpy().flags.writeable and td.Tensor([1.0]).numpy().flags.writeable


def test_index_arrays_are_copied_when_saved():
    x = td.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    index = np.array([0, 0])
    y = x[index]
    index[:] = 2
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, 0.0])


def test_a_given_dropout_mask_is_copied_when_saved():
    import tinygrad_drop.nn.functional as F

    x = td.Tensor([1.0, 2.0], requires_grad=True)
    mask = np.array([True, False])
    y = F.dropout(x, 0.5, mask=mask)
    mask[:] = True
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 0.0])


# ---------------------------------------------------------------- behaviours pinned against planted bugs


def test_an_intermediate_node_that_receives_no_gradient_does_not_stop_the_walk():
    class FirstOnly(td.Function):
        """y = a + b, with no gradient for b (as if b were a constant)."""

        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad):
            return grad, None

    x = td.Tensor([1.0, 2.0], requires_grad=True)
    w = td.Tensor([3.0, 4.0], requires_grad=True)
    h = x * 2.0  # an intermediate that nothing reaches, visited before w's node
    FirstOnly.apply(w * 1.0, h).sum().backward()
    assert x.grad is None
    np.testing.assert_array_equal(w.grad, [1.0, 1.0])


@pytest.mark.parametrize(("grad_shape", "shape"), [((3, 4), (1, 4)), ((2, 3, 4), (1, 1, 4)), ((2, 3), (1, 3))])
def test_unbroadcast_sums_a_leading_size_one_axis(grad_shape, shape):
    grad = np.arange(np.prod(grad_shape), dtype=np.float64).reshape(grad_shape)
    expected = grad.sum(axis=tuple(i for i, s in enumerate(shape) if s == 1), keepdims=True)
    np.testing.assert_array_equal(td.autograd.unbroadcast(grad, shape), expected)


def test_a_second_backward_names_an_op_that_saved_arrays():
    a = td.Tensor([1.0, 2.0], requires_grad=True)
    b = td.Tensor([3.0, 4.0], requires_grad=True)
    loss = (a * b + a).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="Mul's saved arrays were freed") as info:
        loss.backward()
    assert "Sum" not in str(info.value)


def test_ops_that_save_nothing_can_run_backward_twice():
    a = td.Tensor([1.0, 2.0], requires_grad=True)
    loss = (a + 1.0).sum()
    loss.backward()
    loss.backward()
    np.testing.assert_array_equal(a.grad, [2.0, 2.0])


def test_the_engine_does_not_import_tensor():
    import ast
    from pathlib import Path

    tree = ast.parse(Path(td.autograd.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert "tensor" not in imported and "Tensor" not in imported


@pytest.mark.parametrize("op", [lambda x: x.exp(), lambda x: x * 2.0, lambda x: x])
def test_the_gradient_of_a_0d_tensor_is_a_0d_array(op):
    x = td.tensor(0.5, requires_grad=True)
    op(x).backward()
    op(x).backward()  # accumulated too
    assert type(x.grad) is np.ndarray and x.grad.shape == () and x.grad.dtype == np.float32
