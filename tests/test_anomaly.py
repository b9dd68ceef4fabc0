"""td.detect_anomaly: the first NaN or inf, forward or backward, names the op, its inputs and the user's line."""

import contextlib
import warnings

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tinygrad_drop import autograd, nn


@pytest.fixture(autouse=True)
def _quiet_numpy():
    """These tests make NaNs on purpose: NumPy's RuntimeWarnings are expected."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


@pytest.mark.mutation_unsafe  # checks the user's line, which mutmut's wrappers hide
def test_forward_nan_names_the_op_the_input_shapes_and_the_line(device):
    x = td.Tensor([[-1.0, 1.0], [2.0, 3.0]], device=device)
    with td.detect_anomaly(), pytest.raises(td.AnomalyError) as info:
        x.log()  # the line the error must point at
    message = str(info.value)
    assert message.startswith("Log forward returned 1 nan among 4 values")
    assert "inputs: float32 (2, 2)" in message
    assert "test_anomaly.py:" in message and "x.log()  # the line the error must point at" in message


@pytest.mark.mutation_unsafe  # checks the user's line, which mutmut's wrappers hide
def test_backward_inf_names_the_op_and_where_it_was_created(device):
    x = td.zeros(3, requires_grad=True, device=device)
    with td.detect_anomaly():
        y = x.sqrt()  # finite forward, infinite gradient at 0
        loss = y.sum()
        with pytest.raises(td.AnomalyError) as info:
            loss.backward()
    message = str(info.value)
    assert "Sqrt backward returned 3 inf among 3 values in the gradient of input 0" in message
    assert "inputs: float32 (3,)" in message
    assert "y = x.sqrt()  # finite forward, infinite gradient at 0" in message
    assert x.grad is None  # nothing was accumulated


@pytest.mark.mutation_unsafe  # checks the user's line, which mutmut's wrappers hide
def test_the_line_is_the_users_even_through_modules_and_functional():
    model = nn.Sequential(nn.Linear(2, 2))
    with np.errstate(all="ignore"):
        model[0].weight.data[...] = np.inf
    with td.detect_anomaly(), pytest.raises(td.AnomalyError) as info:
        F.cross_entropy(model(td.ones(4, 2)), td.Tensor([0, 1, 0, 1]))
    message = str(info.value)
    assert message.startswith("Linear forward returned")
    assert "inputs: float32 (4, 2), float32 (2, 2), float32 (2,)" in message
    assert "F.cross_entropy(model(td.ones(4, 2))" in message


def test_backward_of_a_forward_run_outside_the_block_says_so():
    x = td.zeros(2, requires_grad=True)
    loss = x.sqrt().sum()
    with td.detect_anomaly(), pytest.raises(td.AnomalyError, match="forward pass ran outside detect_anomaly"):
        loss.backward()


def test_off_by_default_nan_flows_through():
    x = td.Tensor([-1.0], requires_grad=True)
    y = x.log()
    assert np.isnan(y.item())
    y.backward()
    assert x.grad[0] == -1.0


def test_works_as_a_decorator_and_cleans_up():
    @td.detect_anomaly()
    def bad():
        return td.Tensor([0.0]).log() * 0.0

    with pytest.raises(td.AnomalyError, match="Log forward returned 1 inf"):
        bad()
    assert autograd._state.observers == ()
    assert np.isnan((td.Tensor([0.0]).log() * 0.0).item())  # off again afterwards


def _gradients(check):
    """The parameter gradients of one training step of a small dropout MLP, with or without the checks."""
    td.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 2))
    x, y = td.randn(16, 2), td.Tensor(np.arange(16) % 2)
    with td.detect_anomaly() if check else contextlib.nullcontext():
        F.cross_entropy(model(x), y).backward()
    return [p.grad for p in model.parameters()]


def test_a_finite_training_step_is_unchanged_by_the_checks():
    for checked, unchecked in zip(_gradients(True), _gradients(False), strict=True):
        np.testing.assert_array_equal(checked, unchecked)


def test_detect_anomaly_is_thread_local():
    import threading

    errors = []
    entered, done = threading.Event(), threading.Event()

    def other_thread():
        entered.wait()
        try:
            td.Tensor([0.0]).log()
        except Exception as err:  # noqa: BLE001 - any error here is the failure
            errors.append(err)
        done.set()

    thread = threading.Thread(target=other_thread)
    thread.start()
    with td.detect_anomaly():
        entered.set()
        done.wait()
        with pytest.raises(td.AnomalyError):
            td.Tensor([0.0]).log()
    thread.join()
    assert errors == []
