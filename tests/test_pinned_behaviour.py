"""Behaviours that mutation testing (scripts/mutation.sh) found unpinned: each test fails if one planted bug survives.

Losses on one (C,) sample, the loss functions' defaults, the dropout family's defaults, the fused
cross-entropy's upstream gradient, per-row softmax shifts, axis bounds and Linear's mixed-dtype bias.
"""

import re

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tests.helpers import randn

LOGITS = randn((4,), seed=7)


def _torch():
    return pytest.importorskip("torch")


# ---------------------------------------------------------------- losses on a single (C,) sample


def test_nll_loss_on_one_sample_is_minus_the_target_log_probability():
    torch = _torch()
    log_probs = td.tensor(LOGITS).log_softmax()
    expected = torch.nn.functional.nll_loss(torch.tensor(LOGITS).log_softmax(0), torch.tensor(2))
    for reduction in ("mean", "sum", "none"):
        loss = F.nll_loss(log_probs, td.tensor(2), reduction=reduction)
        np.testing.assert_allclose(loss.numpy(), expected.numpy(), rtol=1e-12)
        assert loss.item() > 0


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_on_one_sample_matches_torch(reduction, smoothing):
    torch = _torch()
    logits = td.tensor(LOGITS, requires_grad=True)
    t_logits = torch.tensor(LOGITS, requires_grad=True)
    loss = F.cross_entropy(logits, td.tensor(1), reduction=reduction, label_smoothing=smoothing)
    expected = torch.nn.functional.cross_entropy(t_logits, torch.tensor(1), reduction=reduction,
                                                 label_smoothing=smoothing)
    assert loss.shape == tuple(expected.shape) == ()
    np.testing.assert_allclose(loss.numpy(), expected.detach().numpy(), rtol=1e-12)
    (loss * 3.0).backward()
    (expected * 3.0).backward()
    np.testing.assert_allclose(logits.grad, t_logits.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_on_one_sample_with_probability_targets_matches_torch(smoothing):
    torch = _torch()
    probs = np.array([0.1, 0.2, 0.3, 0.4])
    for reduction in ("mean", "sum", "none"):
        loss = F.cross_entropy(td.tensor(LOGITS), td.tensor(probs), reduction=reduction, label_smoothing=smoothing)
        expected = torch.nn.functional.cross_entropy(torch.tensor(LOGITS), torch.tensor(probs), reduction=reduction,
                                                     label_smoothing=smoothing)
        np.testing.assert_allclose(loss.numpy(), expected.numpy(), rtol=1e-12)


def test_a_target_equal_to_the_class_count_is_out_of_range():
    for loss in (F.cross_entropy, lambda x, t: F.nll_loss(x.log_softmax(), t)):
        with pytest.raises(IndexError, match=r"target 4 is out of range for 4 classes \(targets must be in \[0, 3\]\)"):
            loss(td.tensor(np.zeros((2, 4))), td.tensor([0, 4]))
        with pytest.raises(IndexError, match="target 4 is out of range"):
            loss(td.tensor(np.zeros(4)), td.tensor(4))
        assert np.isfinite(loss(td.tensor(np.zeros((2, 4))), td.tensor([0, 3])).item())


def test_loss_reductions_default_to_the_mean():
    log_probs = td.tensor(randn((5, 3), seed=2)).log_softmax()
    target = td.tensor([0, 2, 1, 1, 0])
    assert F.nll_loss(log_probs, target).item() == pytest.approx(F.nll_loss(log_probs, target, "none").numpy().mean())
    logits = td.tensor(randn((5, 3), seed=2))
    assert F.cross_entropy(logits, target).item() == pytest.approx(
        F.cross_entropy(logits, target, reduction="none").numpy().mean())
    assert F.mse_loss(logits, td.zeros(5, 3, dtype=td.float64)).item() == pytest.approx((logits.numpy() ** 2).mean())


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_the_fused_cross_entropy_scales_by_the_upstream_gradient(reduction):
    torch = _torch()
    values, target = randn((5, 3), seed=4), np.array([0, 2, 1, 1, 0])
    upstream = randn((5,), seed=5) if reduction == "none" else np.array(2.5)
    logits, t_logits = td.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    F.cross_entropy(logits, td.tensor(target), reduction=reduction, label_smoothing=0.1).backward(upstream)
    torch.nn.functional.cross_entropy(t_logits, torch.tensor(target), reduction=reduction,
                                      label_smoothing=0.1).backward(torch.tensor(upstream))
    np.testing.assert_allclose(logits.grad, t_logits.grad.numpy(), rtol=1e-12)


# ---------------------------------------------------------------- softmax shifts each row by its own max


def test_softmax_log_softmax_and_cross_entropy_shift_each_row_by_its_own_max():
    # a shift by the global max (1000) would give e^-1000 = 0 in the first row and 0 / 0 = NaN
    rows = td.tensor([[0.0, 0.0], [1000.0, 1000.0]], requires_grad=True)
    np.testing.assert_array_equal(rows.softmax(axis=-1).numpy(), np.full((2, 2), 0.5))
    np.testing.assert_allclose(rows.log_softmax(axis=-1).numpy(), np.full((2, 2), np.log(0.5)), rtol=1e-6)
    columns = td.tensor([[0.0, 1000.0], [0.0, 1000.0]])
    np.testing.assert_array_equal(columns.softmax(axis=0).numpy(), np.full((2, 2), 0.5))
    np.testing.assert_allclose(columns.log_softmax(axis=0).numpy(), np.full((2, 2), np.log(0.5)), rtol=1e-6)
    loss = F.cross_entropy(rows, td.tensor([0, 1]), reduction="none")
    np.testing.assert_allclose(loss.numpy(), [np.log(2), np.log(2)], rtol=1e-6)
    loss.sum().backward()
    np.testing.assert_allclose(rows.grad, [[-0.5, 0.5], [0.5, -0.5]], rtol=1e-6)


# ---------------------------------------------------------------- axis bounds


def test_axis_minus_ndim_is_the_first_axis_and_ndim_is_out_of_range():
    x = td.tensor(np.arange(6.0).reshape(2, 3))
    for reduce in (x.sum, x.mean, x.max, x.softmax, x.log_softmax):
        np.testing.assert_array_equal(reduce(axis=-2).numpy(), reduce(axis=0).numpy())
    for reduce in (x.sum, x.mean, x.max):
        for axis in (2, -3):
            with pytest.raises(ValueError, match=f"axis {axis} is out of range for a tensor with 2 dimensions"):
                reduce(axis=axis)
    v = td.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match="axis 1 is out of range for a tensor with 1 dimensions"):
        v.sum(axis=1)
    assert v.sum(axis=-1).item() == 3.0 and v.sum(axis=0).item() == 3.0
    scalar = td.tensor(2.0, requires_grad=True)
    for axis in (0, -1):  # a 0-d tensor takes axis 0 or -1, as in torch
        for y in (scalar.sum(axis=axis), scalar.mean(axis=axis), scalar.max(axis=axis)):
            assert y.shape == () and y.item() == 2.0
            y.backward()
    assert scalar.grad.item() == 6.0
    for axis in (1, -2):
        with pytest.raises(ValueError, match=f"axis {axis} is out of range for a tensor with 0 dimensions"):
            scalar.sum(axis=axis)


# ---------------------------------------------------------------- Linear's bias of another dtype


def test_linear_with_a_bias_of_another_dtype_promotes_as_numpy_does():
    x, w = randn((3, 4), seed=1).astype(np.float32), randn((2, 4), seed=2).astype(np.float32)
    b = randn((2,), seed=3)  # float64
    y = F.linear(td.tensor(x), td.tensor(w), td.tensor(b))
    assert y.dtype == td.float64  # y += b in place would have kept float32
    np.testing.assert_allclose(y.numpy(), x @ w.T + b, rtol=1e-6)


# ---------------------------------------------------------------- the dropout family's defaults


def _same_draw(call_default, call_explicit):
    """Run both calls from the same seed and return both results' arrays."""
    td.manual_seed(11)
    a = call_default()
    td.manual_seed(11)
    b = call_explicit()
    return (a if isinstance(a, np.ndarray) else a.numpy()), (b if isinstance(b, np.ndarray) else b.numpy())


@pytest.mark.parametrize(("name", "default", "explicit"), [
    ("dropout", lambda x: F.dropout(x), lambda x: F.dropout(x, 0.5, True)),
    ("dropout1d", lambda x: F.dropout1d(x), lambda x: F.dropout1d(x, 0.5, True)),
    ("dropout2d", lambda x: F.dropout2d(x[..., None]), lambda x: F.dropout2d(x[..., None], 0.5, True)),
    ("gaussian_dropout", lambda x: F.gaussian_dropout(x), lambda x: F.gaussian_dropout(x, 0.5, True)),
    ("drop_path", lambda x: F.drop_path(x), lambda x: F.drop_path(x, 0.5, True, "row")),
    ("alpha_dropout", lambda x: F.alpha_dropout(x, training=True), lambda x: F.alpha_dropout(x, 0.5, True)),
    ("feature_alpha_dropout", lambda x: F.feature_alpha_dropout(x, training=True),
     lambda x: F.feature_alpha_dropout(x, 0.5, True)),
    ("dropconnect_linear", lambda x: F.dropconnect_linear(x[0], td.ones(5, 6)),
     lambda x: F.dropconnect_linear(x[0], td.ones(5, 6), None, 0.5, True)),
])
def test_dropout_family_defaults_are_p_one_half_in_training(name, default, explicit):
    x = td.ones(64, 8, 6)
    a, b = _same_draw(lambda: default(x), lambda: explicit(x))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, np.broadcast_to(x.numpy(), a.shape) if a.shape == x.shape else a + 1)
    td.manual_seed(11)
    again = explicit(x).numpy()
    td.manual_seed(11)
    other_p = {"dropconnect_linear": lambda: F.dropconnect_linear(x[0], td.ones(5, 6), None, 0.25, True)}.get(
        name, lambda: None)()
    if other_p is not None:
        assert not np.array_equal(again, other_p.numpy())


def test_drop_path_defaults_to_one_value_per_sample():
    x = td.ones(200, 3)
    y = F.drop_path(x).numpy()
    assert set(np.unique(y)) == {0.0, 2.0}  # p = 0.5: kept rows are scaled by 2
    assert np.all(y == y[:, :1])  # each row all kept or all dropped
    assert 0 < (y[:, 0] == 0).sum() < 200


def test_alpha_dropouts_default_to_evaluation_as_in_torch():
    x = td.randn(4, 3, 2)
    assert F.alpha_dropout(x) is x and F.feature_alpha_dropout(x) is x
    assert F.alpha_dropout(x, 0.5) is x and F.feature_alpha_dropout(x, 0.5) is x


def test_dropout_family_defaults_draw_with_p_one_half():
    # half of 10^5 values are dropped, within 5 standard errors sqrt(p (1 - p) / n) = 0.0079
    x = td.ones(100_000)
    for y in (F.dropout(x), F.drop_path(x[:, None])[:, 0], F.dropout1d(x.reshape(1000, 100, 1))):
        dropped = (y.numpy() == 0).mean()
        assert abs(dropped - 0.5) < 0.008, dropped
    w = F.dropconnect_linear(td.tensor(np.eye(300, dtype=np.float32)), td.ones(300, 300)).numpy()
    assert abs((w == 0).mean() - 0.5) < 0.008
    noise = F.gaussian_dropout(x).numpy()
    assert abs(noise.var() - 1.0) < 0.03  # p / (1 - p) = 1 at p = 0.5
    alpha = F.alpha_dropout(x, training=True).numpy()
    assert abs((alpha == alpha.min()).mean() - 0.5) < 0.008


@pytest.mark.parametrize("p", [True, False, "0.5", None, -0.1, 1.5, float("nan")])
def test_p_must_be_a_number_in_zero_one_not_a_bool(p):
    x = td.ones(4, 3)
    for op in (F.dropout, F.alpha_dropout, F.gaussian_dropout, F.drop_path,
               lambda x, p, training: F.dropconnect_linear(x, td.ones(2, 3), None, p, training)):
        with pytest.raises(ValueError, match=r"probability has to be between 0 and 1, but got p="):
            op(x, p, training=True)


def test_broadcast_dims_zero_and_minus_ndim_are_the_first_axis():
    x = td.ones(4, 6)
    for dims in (0, -2, (0,), [-2]):
        _, mask = F.dropout(x, p=0.5, broadcast_dims=dims, return_mask=True)
        assert mask.shape == (1, 6)
    for dims in (2, -3, (0, 2)):
        with pytest.raises(ValueError, match=r"broadcast_dims .* is out of range for an input of shape \(4, 6\)"):
            F.dropout(x, p=0.5, broadcast_dims=dims)
    _, mask = F.dropout(x, p=0.5, broadcast_dims=(), return_mask=True)
    assert mask.shape == (4, 6)


def test_return_mask_without_a_draw_gives_none():
    x = td.ones(3)
    for kwargs in ({"training": False}, {"p": 0.0}):
        y, mask = F.dropout(x, return_mask=True, **kwargs)
        assert y is x and mask is None


def test_label_smoothing_of_one_is_allowed_and_matches_torch():
    torch = _torch()
    values, target = randn((3, 4), seed=9), np.array([0, 3, 1])
    loss = F.cross_entropy(td.tensor(values), td.tensor(target), label_smoothing=1.0)
    expected = torch.nn.functional.cross_entropy(torch.tensor(values), torch.tensor(target), label_smoothing=1.0)
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-12)
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        F.cross_entropy(td.tensor(values), td.tensor(target), label_smoothing=-0.1)


# ---------------------------------------------------------------- every error and warning of F, word for word

X = td.ones(2, 3)
ERRORS = {
    "p": (lambda: F.dropout(X, p=1.5), ValueError, "dropout probability has to be between 0 and 1, but got p=1.5"),
    "mask dtype": (lambda: F.dropout(X, 0.5, mask=np.ones((2, 3))), TypeError,
                   "dropout mask must be a bool array (True = keep), got dtype float64"),
    "mask shape": (lambda: F.dropout(X, 0.5, mask=np.ones((2,), bool)), ValueError,
                   "dropout mask of shape (2,) does not broadcast to the input's shape (2, 3)"),
    "broadcast_dims": (lambda: F.dropout(X, 0.5, broadcast_dims=5), ValueError,
                       "broadcast_dims 5 is out of range for an input of shape (2, 3)"),
    "dropout of ints": (lambda: F.dropout(td.tensor([1, 2]), 0.5), TypeError,
                        "dropout needs a floating-point input, got dtype int64"),
    "reduction, probabilities": (lambda: F.cross_entropy(X, td.ones(2, 3), reduction="avg"), ValueError,
                                 "reduction must be 'mean', 'sum' or 'none', got 'avg'"),
    "reduction, indices": (lambda: F.cross_entropy(X, td.tensor([0, 1]), reduction="avg"), ValueError,
                           "reduction must be 'mean', 'sum' or 'none', got 'avg'"),
    "target of N, C, d1 logits": (lambda: F.cross_entropy(td.ones(2, 3, 4), td.tensor([0, 1])), ValueError,
                     "cross_entropy: target of shape (2,) does not fit input of shape (2, 3, 4) "
                     "(expected class indices of shape (2, 4))"),
    "label_smoothing": (lambda: F.cross_entropy(X, td.tensor([0, 1]), label_smoothing=2), ValueError,
                        "label_smoothing must be in [0, 1], got 2"),
    "probability shape": (lambda: F.cross_entropy(X, td.ones(2, 4)), ValueError,
                          "probability targets must have the logits' shape (2, 3), got (2, 4)"),
    "target shape": (lambda: F.nll_loss(X, td.tensor([0, 1, 2])), ValueError,
                     "nll_loss: target of shape (3,) does not fit input of shape (2, 3) (expected class indices of "
                     "shape (2,))"),
    "float target": (lambda: F.nll_loss(X, td.tensor([0.5, 1.0], dtype=td.float64)), TypeError,
                     "nll_loss: class-index targets must be integers, got dtype float64"),
    "target range": (lambda: F.nll_loss(X, td.tensor([0, -1])), IndexError,
                     "nll_loss: target -1 is out of range for 3 classes (targets must be in [0, 2])"),
    "random op of ints": (lambda: F.alpha_dropout(td.tensor([1, 2]), 0.5, True), TypeError,
                          "alpha_dropout needs a floating-point input, got dtype int64"),
    "channel axis": (lambda: F.dropout2d(td.ones(3), 0.5), ValueError,
                     "dropout2d needs an input with a channel axis, got shape (3,)"),
    "dropout1d rank": (lambda: F.dropout1d(td.ones(3), 0.5), ValueError,
                       "dropout1d expects a 2-D (C, L) or 3-D (N, C, L) input, got shape (3,); use dropout2d/dropout3d "
                       "for more spatial axes, dropout for elementwise dropout"),
    "feature_alpha rank": (lambda: F.feature_alpha_dropout(td.ones(3), 0.5, True), ValueError,
                           "feature_alpha_dropout needs an (N, C, ...) input of 2 or more axes, got shape (3,)"),
    "gaussian p=1": (lambda: F.gaussian_dropout(X, 1.0), ValueError,
                     "gaussian dropout: p=1 gives infinite noise variance p / (1 - p); use p < 1"),
    "drop_path mode": (lambda: F.drop_path(X, 0.5, mode="col"), ValueError,
                       "drop_path mode has to be 'row' or 'batch', but got 'col'"),
    "drop_path 0-d": (lambda: F.drop_path(td.tensor(1.0), 0.5), ValueError,
                      "drop_path with mode='row' needs a batch axis, got a 0-D input"),
    "not a tensor": (lambda: F.linear(X, [[1.0]]), TypeError,
                     "linear: weight must be a Tensor, got list; wrap it with td.tensor(...)"),
}
WARNINGS = {
    "mse_loss shapes": (lambda: F.mse_loss(X, td.ones(3)),
                        ["mse_loss: input shape (2, 3) and target shape (3,) differ and will broadcast, which is "
                         "rarely intended"]),
    "dropout2d 5-D": (lambda: F.dropout2d(td.ones(1, 2, 2, 2, 2), 0.5),
                      ["dropout2d: received a 5-D input of shape (1, 2, 2, 2, 2); dropout2d is meant for "
                       "(N, C, H, W) inputs. Use dropout for elementwise dropout"]),
    "dropout2d 3-D": (lambda: F.dropout2d(td.ones(1, 2, 2), 0.5),
                      ["dropout2d: received a 3-D input and, as PyTorch does, reads it as (N, C, L) with C the "
                       "channel axis (not as an unbatched (C, H, W)); use dropout1d to say so, or add a batch axis"]),
    "dropout3d 3-D": (lambda: F.dropout3d(td.ones(1, 2, 2), 0.5),
                      ["dropout3d: received a 3-D input of shape (1, 2, 2); dropout3d is meant for (N, C, D, H, W) or "
                       "(C, D, H, W) inputs. Use dropout for elementwise dropout"]),
    "dropout2d 4-D": (lambda: F.dropout2d(td.ones(1, 2, 2, 2), 0.5), []),
    "dropout3d 4-D and 5-D": (lambda: (F.dropout3d(td.ones(2, 2, 2, 2), 0.5), F.dropout3d(td.ones(1, 2, 2, 2, 2))), []),
    "mse_loss same shapes": (lambda: F.mse_loss(X, td.ones(2, 3)), []),
}


@pytest.mark.filterwarnings("ignore:dropout2d")  # a 1-D input warns before it is refused
@pytest.mark.parametrize("case", ERRORS, ids=list(ERRORS))
def test_each_error_of_functional_says_exactly_this(case):
    call, kind, message = ERRORS[case]
    with pytest.raises(kind) as info:
        call()
    assert str(info.value) == message


@pytest.mark.parametrize("case", WARNINGS, ids=list(WARNINGS))
def test_each_warning_of_functional_says_exactly_this(case):
    import warnings

    call, messages = WARNINGS[case]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    assert [str(w.message) for w in caught] == messages
    assert all(w.category is UserWarning for w in caught)


def _eval_mode_warnings(calls):
    """The warnings from calling, `calls` times, a module in eval mode whose forward calls F.dropout(x, 0.5)."""
    import warnings

    from tinygrad_drop import nn

    class Net(nn.Module):
        def forward(self, x):
            return F.dropout(x, 0.5)

    F._warned_call_sites.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(calls):
            Net().eval()(td.ones(2, 2))
    return caught


def test_the_eval_mode_warning_says_what_to_pass():
    caught = _eval_mode_warnings(1)
    (warning,) = caught
    assert warning.category is UserWarning
    # the op's name and the call site come from the stack, which scripts/mutation.sh's wrappers change
    assert re.fullmatch(r"F\.\w+\(\.\.\., training=True\) at .+:\d+ runs inside Net\.forward while that module "
                        r"is in eval mode, so it stays on at evaluation; pass training=self\.training \(warned once "
                        r"per call site\)", str(warning.message))


OP_ERRORS = {
    "mask_storage": (lambda: F.dropout(td.ones(2), 0.5, mask_storage="bits"),
                     "mask_storage must be 'bool' or 'recompute', got 'bits'"),
    "linear shapes": (lambda: F.linear(td.ones(2, 3), td.ones(4, 2)),
                      "linear: input of shape (2, 3) does not fit weight of shape (4, 2) (expected input shape "
                      "(..., 2) and a 2-D weight (out, in))"),
    "linear 1-D weight": (lambda: F.linear(td.ones(2, 3), td.ones(3)),
                          "linear: input of shape (2, 3) does not fit weight of shape (3,) (expected input shape "
                          "(..., 3) and a 2-D weight (out, in))"),
    "linear 0-d input": (lambda: F.linear(td.tensor(1.0), td.ones(4, 1)),
                         "linear: input of shape () does not fit weight of shape (4, 1) (expected input shape "
                         "(..., 1) and a 2-D weight (out, in))"),
    "linear bias": (lambda: F.linear(td.ones(2, 3), td.ones(4, 3), td.ones(3)),
                    "linear: bias of shape (3,) does not fit weight of shape (4, 3)"),
    "matmul 0-d": (lambda: td.tensor(1.0) @ td.ones(2),
                   "matmul needs operands with at least 1 dimension, got shapes () and (2,)"),
    "matmul 0-d right": (lambda: td.ones(2) @ td.tensor(1.0),
                         "matmul needs operands with at least 1 dimension, got shapes (2,) and ()"),
    "matmul inner": (lambda: td.ones(2, 3) @ td.ones(2, 3),
                     "matmul shape mismatch: (2, 3) @ (2, 3) (inner sizes 3 and 2 differ)"),
    "matmul inner, 1-D right": (lambda: td.ones(2, 3) @ td.ones(2),
                                "matmul shape mismatch: (2, 3) @ (2,) (inner sizes 3 and 2 differ)"),
    "matmul batch": (lambda: td.ones(2, 2, 3) @ td.ones(3, 3, 4),
                     "matmul shape mismatch: (2, 2, 3) @ (3, 3, 4) (batch shapes (2,) and (3,) cannot be broadcast "
                     "together)"),
    "axis": (lambda: td.ones(2).sum(axis=3), "axis 3 is out of range for a tensor with 1 dimensions"),
    "empty max": (lambda: td.ones(0).max(), "max of an empty tensor of shape (0,) is undefined"),
}


@pytest.mark.parametrize("case", OP_ERRORS, ids=list(OP_ERRORS))
def test_each_error_of_the_ops_says_exactly_this(case):
    call, message = OP_ERRORS[case]
    with pytest.raises(ValueError) as info:
        call()
    assert str(info.value) == message


def test_matmul_batch_axes_of_size_one_broadcast():
    a, b = randn((1, 2, 3), seed=1), randn((4, 3, 5), seed=2)
    np.testing.assert_allclose((td.tensor(a) @ td.tensor(b)).numpy(), a @ b, rtol=1e-12)
    np.testing.assert_allclose((td.tensor(b[:1]) @ td.tensor(randn((5, 2), seed=3))).numpy(),
                               b[:1] @ randn((5, 2), seed=3), rtol=1e-12)


# ---------------------------------------------------------------- dtypes of intermediate gradients, op defaults


@pytest.mark.parametrize("op", [
    lambda h: h.mean(), lambda h: h.mean(axis=0).sum(), lambda h: h.max(), lambda h: h.max(axis=1).sum(),
    lambda h: h[0].sum(), lambda h: h[[0, 0]].sum(), lambda h: h.to(dtype=td.float64).sum(),
    lambda h: h.sigmoid().sum(),
], ids=["mean", "mean axis", "max", "max axis", "index", "repeated index", "cast", "sigmoid"])
def test_gradients_inside_a_float32_graph_stay_float32(op):
    x = td.tensor(randn((3, 4), seed=6).astype(np.float32), requires_grad=True)
    h = x * 1.0
    seen = []
    h.register_hook(lambda g: seen.append(g.dtype))  # the gradient reaching h, before any cast into a .grad
    op(h).backward()
    assert seen == [td.float32] and x.grad.dtype == td.float32


def test_the_ops_defaults_reduce_everything_without_keeping_axes():
    from tinygrad_drop.ops.loss import CrossEntropy
    from tinygrad_drop.ops.reduce import Max, Mean, Sum

    x = td.tensor(randn((2, 3), seed=8))
    for op in (Sum, Mean, Max):
        assert op.apply(x).shape == ()
    logits, target = td.tensor(randn((4, 3), seed=9)), td.tensor([0, 2, 1, 1])
    np.testing.assert_allclose(CrossEntropy.apply(logits, target).item(), F.cross_entropy(logits, target).item(),
                               rtol=1e-12)


# ---------------------------------------------------------------- more of F's arguments


def test_functional_softmaxes_pass_axis_and_dim_on():
    x = td.tensor(randn((2, 3), seed=10))
    for f, method in ((F.softmax, "softmax"), (F.log_softmax, "log_softmax")):
        for axis in (0, 1):
            expected = getattr(x, method)(axis=axis).numpy()
            np.testing.assert_array_equal(f(x, axis).numpy(), expected)
            np.testing.assert_array_equal(f(x, dim=axis).numpy(), expected)


def test_functional_arguments_that_are_not_tensors_are_named():
    w = td.ones(2, 3)
    cases = [
        (lambda: F.linear(td.ones(1, 3), w, [0.0, 0.0]), "linear: bias must be a Tensor, got list"),
        (lambda: F.dropconnect_linear([[1.0, 2.0, 3.0]], w), "dropconnect_linear: input must be a Tensor, got list"),
        (lambda: F.dropconnect_linear(td.ones(1, 3), np.ones((2, 3))),
         "dropconnect_linear: weight must be a Tensor, got ndarray"),
    ]
    for call, message in cases:
        with pytest.raises(TypeError) as info:
            call()
        assert str(info.value) == message + "; wrap it with td.tensor(...)"
    with pytest.raises(TypeError) as info:
        F.dropconnect_linear(td.ones(1, 2), td.tensor([[1, 2]]), p=0.5)
    assert str(info.value) == "dropconnect_linear needs a floating-point input, got dtype int64"


def test_a_dropout_mask_may_be_a_list_or_a_tensor():
    x = td.tensor([1.0, 2.0, 3.0])
    for mask in ([True, False, True], td.tensor([True, False, True]), np.array([True, False, True])):
        np.testing.assert_array_equal(F.dropout(x, 0.5, mask=mask).numpy(), [2.0, 0.0, 6.0])


def test_dropout3d_of_a_0d_input_names_itself():
    with pytest.warns(UserWarning, match="dropout3d"), pytest.raises(ValueError) as info:
        F.dropout3d(td.tensor(1.0), 0.5)
    assert str(info.value) == "dropout3d needs an input with a channel axis, got shape ()"


def test_feature_alpha_dropout_takes_a_2d_input():
    y = F.feature_alpha_dropout(td.ones(50, 4), 0.5, training=True).numpy()
    assert y.shape == (50, 4) and len(np.unique(y)) == 2


def test_gaussian_noise_is_drawn_in_the_inputs_float_dtype():
    for dtype in (td.float32, td.float64):
        td.manual_seed(3)
        y = F.gaussian_dropout(td.ones(1000, dtype=dtype), 0.2).numpy()
        td.manual_seed(3)
        noise = td.random.normal((1000,), dtype=dtype) * dtype.type(np.sqrt(0.25)) + dtype.type(1)
        assert y.dtype == dtype
        np.testing.assert_array_equal(y, noise)


@pytest.mark.mutation_unsafe  # checks a warning's call site, which mutmut's wrappers move
def test_shape_warnings_point_at_the_callers_line():
    import warnings

    calls = [lambda: F.mse_loss(td.ones(2, 3), td.ones(3)), lambda: F.dropout2d(td.ones(1, 2, 2), 0.5),
             lambda: F.dropout2d(td.ones(2, 2, 2, 2, 2), 0.5), lambda: F.dropout3d(td.ones(1, 2, 2), 0.5)]
    for call in calls:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call()
        assert caught and all(w.filename == __file__ for w in caught)


def test_p_one_zeroes_even_a_given_keep_mask():
    np.testing.assert_array_equal(F.dropout(td.ones(3), 1.0, mask=np.ones(3, bool)).numpy(), np.zeros(3))


def test_cross_entropy_names_itself_in_target_errors():
    with pytest.raises(IndexError) as info:
        F.cross_entropy(X, td.tensor([0, 3]))
    assert str(info.value) == "cross_entropy: target 3 is out of range for 3 classes (targets must be in [0, 2])"


def test_float64_probability_targets_keep_float32_logits_float32():
    loss = F.cross_entropy(td.ones(2, 3), td.tensor(np.full((2, 3), 1 / 3)))
    assert loss.dtype == td.float32


def test_the_eval_mode_warning_comes_once_per_call_site():
    caught = _eval_mode_warnings(3)
    assert len(caught) == 1
