"""Tests for td.gradcheck and td.numerical_grad: they pass on correct ops and catch wrong backwards."""

import re

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tinygrad_drop import nn
from tinygrad_drop.ops.dropout import Dropout as DropoutOp
from tinygrad_drop.ops.linear import Linear as LinearOp

# ---------------------------------------------------------------- helper ops with known backwards


class Square(td.Function):
    """y = x^2 with the correct backward."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * grad * x


class WrongSquare(td.Function):
    """y = x^2 with a backward that forgets the factor 2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x


class ReversedIdentity(td.Function):
    """y = x, but backward returns the cotangent reversed: correct in sum, wrong element by element."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad[::-1].copy()


class WrongForSecond(td.Function):
    """y = a * b with a correct gradient for a and a wrong one for b."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b, grad * a + 123.0


def _tensor(values, device, requires_grad=True, dtype=td.float64):
    return td.tensor(np.asarray(values, dtype=np.float64), dtype=dtype, device=device,
                     requires_grad=requires_grad)


def _report_lines(message):
    """The per-element lines of a GradcheckError message."""
    return [line for line in message.splitlines() if line.startswith("  ") and ": numerical" in line]


# ---------------------------------------------------------------- passes on correct ops


def test_gradcheck_error_is_an_assertion_error():
    assert issubclass(td.GradcheckError, AssertionError)


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: (x * x).sum(),
        lambda x: (x.tanh() * x.exp()).sum(),
        lambda x: x.sigmoid(),  # non-scalar output, full Jacobian
        lambda x: x.softmax(axis=-1),
        lambda x: (x @ x.T).log_softmax(axis=0),
        lambda x: Square.apply(x).mean(),
    ],
)
def test_passes_on_correct_ops(fn, device):
    td.manual_seed(3)
    x = td.randn(3, 4, dtype=td.float64, device=device, requires_grad=True)
    assert td.gradcheck(fn, [x]) is True


def test_passes_on_large_non_scalar_output(device):
    # 100 output elements: checked with random cotangents rather than the full Jacobian
    x = td.randn(10, 10, dtype=td.float64, device=device, requires_grad=True)
    assert td.gradcheck(lambda x: x.tanh() * 3.0, [x]) is True


def test_accepts_a_single_tensor_instead_of_a_list():
    x = _tensor([0.5, -1.5], "cpu")
    assert td.gradcheck(lambda x: (x * x).sum(), x) is True


# ---------------------------------------------------------------- fails on wrong backwards


def test_fails_on_detached_factor(device):
    x = _tensor([0.5, -1.0, 2.0], device)
    with pytest.raises(td.GradcheckError):
        td.gradcheck(lambda x: (x * x.detach()).sum(), [x])


def test_fails_on_wrong_custom_backward(device):
    x = _tensor([1.0, -2.0, 3.0], device)
    with pytest.raises(td.GradcheckError):
        td.gradcheck(lambda x: WrongSquare.apply(x).sum(), [x])
    assert td.gradcheck(lambda x: Square.apply(x).sum(), [x])


def test_message_names_element_values_and_errors_worst_first():
    x = _tensor([1.0, -2.0, 3.0], "cpu")
    with pytest.raises(td.GradcheckError) as info:
        td.gradcheck(lambda x: WrongSquare.apply(x).sum(), [x])
    message = str(info.value)
    assert "3 of 3" in message
    lines = _report_lines(message)
    assert len(lines) == 3
    # the error grows with |x|, so the worst element is x[2] = 3: numerical 6, analytical 3
    assert [re.search(r"input 0\[(\d+)\]", line).group(1) for line in lines] == ["2", "1", "0"]
    worst = lines[0]
    numbers = dict(re.findall(r"(numerical|analytical|abs err|rel err) (-?[\d.e+-]+)", worst))
    assert float(numbers["numerical"]) == pytest.approx(6.0, rel=1e-6)
    assert float(numbers["analytical"]) == pytest.approx(3.0, rel=1e-12)
    assert float(numbers["abs err"]) == pytest.approx(3.0, rel=1e-3)
    assert float(numbers["rel err"]) == pytest.approx(0.5, rel=1e-3)
    assert "... and" not in message


def test_message_lists_ten_and_counts_the_rest():
    x = _tensor(np.arange(1.0, 16.0), "cpu")  # 15 elements, all wrong
    with pytest.raises(td.GradcheckError) as info:
        td.gradcheck(lambda x: WrongSquare.apply(x).sum(), [x])
    message = str(info.value)
    assert "15 of 15" in message
    lines = _report_lines(message)
    assert len(lines) == 10
    indices = [int(re.search(r"input 0\[(\d+)\]", line).group(1)) for line in lines]
    assert indices == list(range(14, 4, -1))  # largest |x| (worst) first
    assert "... and 5 more" in message


def test_multi_index_elements_are_named_with_commas():
    x = td.tensor(np.arange(1.0, 7.0).reshape(2, 3), dtype=td.float64, requires_grad=True)
    with pytest.raises(td.GradcheckError) as info:
        td.gradcheck(lambda x: WrongSquare.apply(x).sum(), [x])
    assert "input 0[1, 2]" in _report_lines(str(info.value))[0]


@pytest.mark.parametrize("n", [5, 100])  # full Jacobian and random cotangents
def test_fails_on_error_that_a_ones_cotangent_hides(n, device):
    x = td.randn(n, dtype=td.float64, device=device, requires_grad=True)
    # the ones cotangent really is blind to this bug
    y = ReversedIdentity.apply(x)
    y.backward(np.ones(n))
    np.testing.assert_array_equal(td.backend.to_numpy(x.grad), np.ones(n))
    with pytest.raises(td.GradcheckError) as info:
        td.gradcheck(lambda x: ReversedIdentity.apply(x), [x])
    kind = "output element" if n == 5 else "random cotangent"
    assert kind in str(info.value)


# ---------------------------------------------------------------- numerical_grad


def test_numerical_grad_matches_closed_forms():
    rng = np.random.default_rng(0)
    xv, yv = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    x = td.tensor(xv, requires_grad=True)
    y = td.tensor(yv, requires_grad=True)
    c = td.tensor(rng.standard_normal((2, 3)))  # does not require grad
    gx, gy, gc = td.numerical_grad(lambda x, y, c: (x * x * y + c * x).sum(), [x, y, c], eps=1e-6)
    np.testing.assert_allclose(gx, 2 * xv * yv + c.numpy(), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gy, xv**2, rtol=1e-6, atol=1e-8)
    assert gc is None
    assert gx.dtype == np.float64 and gx.shape == (2, 3)


def test_numerical_grad_of_exp_and_log():
    xv = np.array([0.3, 1.2, 2.5])
    x = td.tensor(xv, requires_grad=True)
    (g,) = td.numerical_grad(lambda x: (x.exp() + x.log()).sum(), [x])
    np.testing.assert_allclose(g, np.exp(xv) + 1 / xv, rtol=1e-6)


def test_numerical_grad_needs_a_scalar_output():
    x = _tensor([1.0, 2.0], "cpu")
    with pytest.raises(ValueError, match=r"^numerical_grad needs fn to return one element, got shape \(2,\)$"):
        td.numerical_grad(lambda x: x * 2.0, [x])


# ---------------------------------------------------------------- which inputs are checked


def test_checks_every_input_that_requires_grad():
    a, b = _tensor([1.0, 2.0], "cpu"), _tensor([3.0, -1.0], "cpu")
    with pytest.raises(td.GradcheckError) as info:
        td.gradcheck(lambda a, b: WrongForSecond.apply(a, b).sum(), [a, b])
    message = str(info.value)
    assert "input 1[" in message and "input 0[" not in message


def test_ignores_inputs_that_do_not_require_grad():
    a, b = _tensor([1.0, 2.0], "cpu"), _tensor([3.0, -1.0], "cpu", requires_grad=False)
    assert td.gradcheck(lambda a, b: WrongForSecond.apply(a, b).sum(), [a, b])


def test_ignores_integer_inputs_such_as_targets(device):
    logits = td.randn(4, 3, dtype=td.float64, device=device, requires_grad=True)
    target = td.tensor([0, 2, 1, 2], device=device)
    assert td.gradcheck(lambda z, t: F.cross_entropy(z, t), [logits, target])
    assert target.dtype == td.int64


def test_float32_inputs_are_checked_as_float64_copies(recwarn):
    x = td.randn(3, 4, requires_grad=True)  # float32
    original = x.data.copy()
    # in float32 these central differences would be off by percent; on float64 copies they pass
    assert td.gradcheck(lambda x: (x.tanh() * x).sum(), [x])
    assert not [w for w in recwarn if "float64" in str(w.message)]
    assert x.dtype == td.float32 and x.grad is None
    np.testing.assert_array_equal(x.data, original)


def test_value_error_when_nothing_requires_grad():
    x = _tensor([1.0, 2.0], "cpu", requires_grad=False)
    with pytest.raises(ValueError, match="^gradcheck: no input or parameter requires grad, so there is nothing to "
                                         "check$"):
        td.gradcheck(lambda x: (x * x).sum(), [x])


# ---------------------------------------------------------------- parameters of a model


@pytest.fixture
def broken_linear_weight_grad(monkeypatch):
    """Make the Linear op's weight gradient wrong at [3, 7] only, for weights of shape (4, 8)."""
    original = LinearOp.backward

    def broken(ctx, grad):
        grad_x, grad_w, grad_b = original(ctx, grad)
        if grad_w is not None and grad_w.shape == (4, 8):
            grad_w = grad_w.copy()
            grad_w[3, 7] += 1.0
        return grad_x, grad_w, grad_b

    monkeypatch.setattr(LinearOp, "backward", staticmethod(broken))


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 4)
        self.fc2 = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc2(self.fc1(x).tanh())


def test_params_are_checked_and_pass_when_correct():
    model = TwoLayer()
    x = td.randn(3, 8, dtype=td.float64)
    assert td.gradcheck(lambda x: model(x).sum(), [x], params=model)


def test_failure_names_sequential_parameter_element(broken_linear_weight_grad):
    model = nn.Sequential(nn.Linear(8, 4), nn.Tanh(), nn.Linear(4, 2))
    x = td.randn(3, 8, dtype=td.float64)
    with pytest.raises(td.GradcheckError) as info:
        td.gradcheck(lambda x: model(x).sum(), [x], params=model)
    message = str(info.value)
    assert message.count(": numerical") == 1  # exactly the one broken element
    assert "0.weight[3, 7]" in _report_lines(message)[0]


def test_failure_names_custom_module_parameter_element(broken_linear_weight_grad):
    model = TwoLayer()
    x = td.randn(3, 8, dtype=td.float64, requires_grad=True)
    with pytest.raises(td.GradcheckError) as info:
        td.gradcheck(lambda x: model(x).sum(), [x], params=model)
    lines = _report_lines(str(info.value))
    assert len(lines) == 1 and "fc1.weight[3, 7]" in lines[0]


@pytest.mark.parametrize("broken", [False, True])
def test_params_are_restored(broken, monkeypatch):
    if broken:
        monkeypatch.setattr(LinearOp, "backward", staticmethod(lambda ctx, grad: (None, None, None)))
    model = TwoLayer()
    for i, p in enumerate(model.parameters()):
        p.grad = np.full(p.shape, float(i), dtype=np.float32)
    before = [(p, p.data, p.data.copy(), p.grad) for p in model.parameters()]
    x = td.randn(3, 8, dtype=td.float64)
    if broken:
        with pytest.raises(td.GradcheckError):
            td.gradcheck(lambda x: model(x).sum(), [x], params=model)
    else:
        assert td.gradcheck(lambda x: model(x).sum(), [x], params=model)
    for p, data, values, grad in before:
        assert p.data is data and p.dtype == td.float32
        np.testing.assert_array_equal(p.data, values)
        assert p.grad is grad


# ---------------------------------------------------------------- random ops


def _dropout_net():
    td.manual_seed(1)
    return nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Dropout(0.5), nn.Linear(6, 3)).double()


def test_dropout_network_passes_without_reseeding():
    model = _dropout_net()
    x = td.randn(5, 4, dtype=td.float64, requires_grad=True)
    target = td.tensor([0, 2, 1, 1, 0])
    # dropout really is active: two calls draw different masks
    assert not np.array_equal(model(x).numpy(), model(x).numpy())
    assert td.gradcheck(lambda x, t: F.cross_entropy(model(x), t), [x, target], params=model)


def test_dropout_network_fails_without_the_rescale(monkeypatch):
    def forgetful_backward(ctx, grad):  # the 1/(1 - p) scale forgotten; None for the other inputs
        return (grad * ctx.saved_tensors[0],) + (None,) * (len(ctx.parents) - 1)

    monkeypatch.setattr(DropoutOp, "backward", staticmethod(forgetful_backward))
    model = _dropout_net()
    x = td.randn(5, 4, dtype=td.float64, requires_grad=True)
    target = td.tensor([0, 2, 1, 1, 0])
    with pytest.raises(td.GradcheckError):
        td.gradcheck(lambda x, t: F.cross_entropy(model(x), t), [x, target], params=model)


def test_fresh_random_draws_inside_fn_are_held_fixed():
    x = _tensor([0.5, -1.0, 2.0], "cpu")
    assert td.gradcheck(lambda x: (x * x * td.randn(3, dtype=td.float64)).sum(), [x])


def test_changing_random_draws_are_reported():
    calls = []

    def fn(x):
        calls.append(1)
        noise = F.dropout(td.ones(len(calls), dtype=td.float64), 0.5)  # a mask of a new shape each call
        return (x * x).sum() + noise.sum() * 0.0

    x = _tensor([0.5, -1.0], "cpu")
    with pytest.raises(td.GradcheckError) as info:
        td.gradcheck(fn, [x])
    message = str(info.value)
    assert message.startswith("gradcheck: fn made different random draws from one call to the next (")
    assert message.endswith("). gradcheck replays the draws of the first call to hold dropout masks fixed, so "
                            "every call of fn must draw the same kinds and shapes in the same order")


# ---------------------------------------------------------------- kinks and max_elements


def test_relu_at_its_kink_is_reported_as_a_kink():
    x = _tensor([0.0, 1.0, -1.0], "cpu")
    with pytest.raises(td.GradcheckError) as info:
        td.gradcheck(lambda x: F.relu(x).sum(), [x])
    message = str(info.value)
    lines = _report_lines(message)
    assert len(lines) == 1 and "input 0[0]" in lines[0] and "kink" in lines[0]
    assert "numerical 0.5" in lines[0] and "analytical 0" in lines[0]


def test_a_plain_wrong_gradient_is_not_called_a_kink():
    x = _tensor([1.0, 2.0], "cpu")
    with pytest.raises(td.GradcheckError) as info:
        td.gradcheck(lambda x: WrongSquare.apply(x).sum(), [x])
    assert "kink" not in str(info.value)


def test_max_elements_limits_the_checked_count():
    x = _tensor(np.arange(1.0, 21.0), "cpu")
    with pytest.raises(td.GradcheckError) as info:
        td.gradcheck(lambda x: WrongSquare.apply(x).sum(), [x], max_elements=5)
    assert "5 of 5 checked" in str(info.value)

    calls = []

    def fn(x):
        calls.append(1)
        return (x * x).sum()

    assert td.gradcheck(fn, [x], max_elements=5)
    limited = len(calls)
    calls.clear()
    assert td.gradcheck(fn, [x])
    assert limited <= 2 + 2 * 5 < 2 * 20 <= len(calls)


def test_gradcheck_leaves_the_framework_generator_as_it_found_it():
    """A check draws dropout masks, but the run around it must not notice."""
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5)).double()
    x = td.randn(2, 3, dtype=td.float64, requires_grad=True)
    td.manual_seed(7)
    expected = td.rand(5).numpy()
    td.manual_seed(7)
    td.gradcheck(lambda x: model(x).sum(), [x], params=model)
    np.testing.assert_array_equal(td.rand(5).numpy(), expected)


# ---------------------------------------------------------------- how params may be given


@pytest.mark.parametrize(("params", "where"), [
    ({"fc1": nn.Linear(4, 3)}, "'fc1' has type Linear"),
    ([nn.Linear(4, 3)], "'param 0' has type Linear"),
    ({"w": np.ones(3)}, "'w' has type ndarray"),
    (3, "'params' has type int"),
])
def test_params_of_the_wrong_type_are_a_type_error(params, where):
    x = td.randn(2, 4, dtype=td.float64, requires_grad=True)
    with pytest.raises(TypeError, match=r"^gradcheck: params must be a Module, a dict of name to Tensor, or a list "
                                        r"of Tensors; " + re.escape(where) + r" \(pass a module as params=module, or "
                                        r"dict\(module.named_parameters\(\)\)\)$"):
        td.gradcheck(lambda x: x.sum(), [x], params=params)


@pytest.mark.parametrize("as_list", [
    lambda model: list(model.parameters()),
    lambda model: model.parameters(),  # a generator
    lambda model: list(model.named_parameters()),
    lambda model: dict(model.named_parameters()),
])
def test_params_as_a_list_or_dict_are_checked_and_named(as_list, broken_linear_weight_grad):
    model = TwoLayer()
    x = td.randn(3, 8, dtype=td.float64)
    with pytest.raises(td.GradcheckError) as info:
        td.gradcheck(lambda x: model(x).sum(), [x], params=as_list(model))
    (line,) = _report_lines(str(info.value))
    assert re.search(r"(param 0|fc1\.weight)\[3, 7\]", line)
    assert all(p.dtype == td.float32 for p in model.parameters())  # restored


def test_a_single_tensor_as_params_is_checked():
    w = td.randn(3, dtype=td.float64, requires_grad=True)
    assert td.gradcheck(lambda x: (x * w).sum(), [td.randn(3, dtype=td.float64)], params=w)
    with pytest.raises(td.GradcheckError, match=r"params\[1\]"):
        td.gradcheck(lambda x: WrongSquare.apply(x * w).sum(), [td.randn(3, dtype=td.float64)], params=w)


# ---------------------------------------------------------------- numerical_grad's inputs, float64, report order


def test_numerical_grad_takes_a_single_tensor():
    xv = np.array([0.5, -1.0, 2.0])
    x = td.tensor(xv, requires_grad=True)
    (g,) = td.numerical_grad(lambda x: (x * x * x).sum(), x)
    np.testing.assert_allclose(g, 3 * xv**2, rtol=1e-6)


def test_numerical_grad_skips_a_constant_before_an_input_that_requires_grad():
    c, x = td.tensor([2.0, 3.0]), td.tensor([1.0, -1.0], requires_grad=True)
    gc, gx = td.numerical_grad(lambda c, x: (c * x * x).sum(), [c, x])
    assert gc is None
    np.testing.assert_allclose(gx, [4.0, -6.0], rtol=1e-6)
    with pytest.raises(td.GradcheckError, match=r"input 1\[0\]"):  # the input is named by its position
        td.gradcheck(lambda c, x: WrongSquare.apply(c * x).sum(), [c, x])


def _float32_fn(x):
    return (x * x).to(dtype=td.float32).sum()


def test_gradcheck_warns_when_fn_does_not_compute_in_float64():
    x = td.tensor([1.0, 2.0], dtype=td.float64, requires_grad=True)
    with pytest.warns(UserWarning, match=r"gradcheck: fn returned float32, not float64, so the finite differences "
                                         r"are inexact; make fn compute in float64"):
        td.gradcheck(_float32_fn, [x], eps=1e-2, atol=1e-3, rtol=1e-3)
    with pytest.warns(UserWarning, match="not float64"):
        td.numerical_grad(_float32_fn, [x], eps=1e-2)


@pytest.mark.mutation_unsafe  # checks a warning's call site, which mutmut's wrappers move
def test_the_float64_warning_points_at_the_callers_line():
    x = td.tensor([1.0, 2.0], dtype=td.float64, requires_grad=True)
    with pytest.warns(UserWarning, match="not float64") as caught:
        td.gradcheck(_float32_fn, [x], eps=1e-2, atol=1e-3, rtol=1e-3)
    with pytest.warns(UserWarning, match="not float64") as caught_numerical:
        td.numerical_grad(_float32_fn, [x], eps=1e-2)
    assert caught[0].filename == caught_numerical[0].filename == __file__


class WrongScaledSquare(td.Function):
    """y = x^2 with backward 2 g x + 1: the same absolute error everywhere, a small relative one at large x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * grad * x + np.where(np.abs(x) > 100, 3.0, 1.0)


def test_the_report_is_ordered_by_error_relative_to_the_tolerance():
    # x[0] = 1: abs err 1 at a derivative of 2; x[1] = 1000: abs err 3 at 2000. The tolerance
    # atol + rtol |numerical| is 0.002 and 2.00001: x[0] is 500 times over it, x[1] only 1.5 times,
    # so x[0] comes first although its absolute error is the smaller one.
    x = td.tensor([1000.0, 1.0], requires_grad=True)
    with pytest.raises(td.GradcheckError) as info:
        td.gradcheck(lambda x: WrongScaledSquare.apply(x).sum(), [x], atol=1e-5, rtol=1e-3, eps=1e-4)
    lines = _report_lines(str(info.value))
    assert [re.search(r"input 0\[(\d+)\]", line).group(1) for line in lines] == ["1", "0"]


def test_an_exact_match_passes_with_zero_tolerances():
    # powers of two make the central difference of 2x exact: |numerical - analytical| = 0, which
    # is not greater than atol + rtol |numerical| = 0
    x = td.tensor([1.0, -0.5, 4.0], requires_grad=True)
    assert td.gradcheck(lambda x: x * 2.0, [x], eps=2.0**-10, atol=0.0, rtol=0.0)
    with pytest.raises(td.GradcheckError):
        td.gradcheck(lambda x: WrongSquare.apply(x), [x], eps=2.0**-10, atol=0.0, rtol=0.0)


@pytest.mark.parametrize(("slope", "is_kink"), [(5.25e-5, True), (4.75e-5, False)])
def test_a_kink_is_one_sided_slopes_differing_by_over_ten_tolerances(slope, is_kink):
    # s |x| at 0: numerical 0, analytical -s (relu'(0) = 0), one-sided slopes s and -s. With
    # atol = 1e-5 and numerical = 0 the tolerance is 1e-5, so slopes 2s apart are a kink above 1e-4.
    x = _tensor([0.0], "cpu")
    with pytest.raises(td.GradcheckError) as info:
        td.gradcheck(lambda x: (F.relu(x) * 2.0 - x) * slope, [x], atol=1e-5, rtol=1e-3)
    assert ("kink" in str(info.value)) is is_kink
    if is_kink:
        assert _report_lines(str(info.value))[0].endswith(
            "  <- one-sided slopes differ: a kink (e.g. ReLU at 0) near this point")


def test_fn_must_return_a_tensor():
    x = _tensor([1.0], "cpu")
    with pytest.raises(TypeError, match="^gradcheck: fn must return a Tensor, got float$"):
        td.gradcheck(lambda x: 1.0, [x])


def test_report_lines_of_a_scalar_output_and_a_0d_input():
    x = td.tensor(0.25, requires_grad=True)  # numerical 0.5, analytical 0.25: rel err 0.5 below |numerical| = 1
    with pytest.raises(td.GradcheckError) as info:
        td.gradcheck(lambda x: WrongSquare.apply(x), [x])
    (line,) = _report_lines(str(info.value))
    assert line.startswith("  input 0: numerical 0.5")  # a 0-d input has no [index]; one output, no element
    assert line.endswith("numerical 0.5, analytical 0.25, abs err 0.25, rel err 0.5")
    assert "gradcheck failed: 1 of 1 checked values differ" in str(info.value)
    assert str(info.value).splitlines()[0].endswith("atol=1e-05, rtol=0.001); worst first:")


@pytest.mark.parametrize(("n", "kind", "checked"), [(32, "output element", 32 * 32), (33, "random cotangent", 33 * 3)])
def test_outputs_up_to_32_elements_get_the_full_jacobian(n, kind, checked):
    x = td.tensor(np.arange(1.0, n + 1), requires_grad=True)
    with pytest.raises(td.GradcheckError) as info:
        td.gradcheck(lambda x: WrongSquare.apply(x), [x])
    message = str(info.value)
    assert f" of {checked} checked values differ" in message and f"({kind} " in _report_lines(message)[0]


def test_random_cotangents_and_picks_come_from_seed_zero_by_default():
    x = td.tensor(np.arange(1.0, 41.0), requires_grad=True)

    def report(**kwargs):
        with pytest.raises(td.GradcheckError) as info:
            td.gradcheck(lambda x: WrongSquare.apply(x), [x], max_elements=5, **kwargs)
        return str(info.value)

    default = report()
    assert default == report() == report(seed=0)  # the same check every time
    assert default != report(seed=1)
    assert "of 15 checked values differ" in default  # 5 elements x 3 random cotangents


def test_max_elements_picks_distinct_elements():
    x = td.tensor(np.arange(1.0, 13.0), requires_grad=True)
    with pytest.raises(td.GradcheckError) as info:
        td.gradcheck(lambda x: WrongSquare.apply(x).sum(), [x], max_elements=10)
    indices = [re.search(r"input 0\[(\d+)\]", line).group(1) for line in _report_lines(str(info.value))]
    assert len(indices) == len(set(indices)) == 10


def test_the_checked_count_adds_up_over_inputs_and_ten_failures_need_no_more_line():
    a, b = td.tensor(np.arange(1.0, 6.0), requires_grad=True), td.tensor(np.arange(1.0, 6.0), requires_grad=True)
    with pytest.raises(td.GradcheckError) as info:
        td.gradcheck(lambda a, b: WrongSquare.apply(a).sum() + WrongSquare.apply(b).sum(), [a, b])
    message = str(info.value)
    assert "10 of 10 checked values differ" in message
    assert len(_report_lines(message)) == 10 and "... and" not in message


def test_one_sided_slopes_exactly_ten_tolerances_apart_are_not_a_kink():
    """'Over ten tolerances' is strict: 5 relu(x) at 0 has slopes 5 and 0, exactly 10 x atol = 0.5 apart."""
    x = _tensor([0.0], "cpu")  # eps a power of two: both slopes and the central difference 2.5 are exact
    with pytest.raises(td.GradcheckError) as info:
        td.gradcheck(lambda x: F.relu(x) * 5.0, [x], eps=2.0**-10, atol=0.5, rtol=0.0)
    (line,) = _report_lines(str(info.value))
    assert line == "  input 0[0]: numerical 2.5, analytical 0, abs err 2.5, rel err 1"


def test_max_elements_equal_to_a_size_checks_it_all_without_using_the_seed():
    """Only tensors larger than max_elements draw their picks, so the next tensor's picks are the seed's first."""
    a, b = td.tensor([1.0, 2.0, 3.0], requires_grad=True), td.tensor(np.arange(1.0, 9.0), requires_grad=True)
    with pytest.raises(td.GradcheckError) as info:
        td.gradcheck(lambda a, b: WrongSquare.apply(a).sum() + WrongSquare.apply(b).sum(), [a, b], max_elements=3)
    where = [re.search(r"input \d\[\d\]", line).group(0) for line in _report_lines(str(info.value))]
    expected_b = sorted(np.random.default_rng(0).choice(8, 3, replace=False))
    assert sorted(where) == [f"input 0[{i}]" for i in range(3)] + [f"input 1[{i}]" for i in expected_b]
