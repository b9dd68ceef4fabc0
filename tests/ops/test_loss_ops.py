"""Tests for the loss ops themselves: BCE at the ends of [0, 1], constant targets, and the exact BCE error."""

import re
import warnings

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tinygrad_drop.ops.loss import BinaryCrossEntropy, BinaryCrossEntropyWithLogits


def test_bce_rejects_values_outside_0_1_with_the_full_message():
    message = ("binary_cross_entropy: all elements of input must be probabilities in [0, 1]; "
               "for logits use binary_cross_entropy_with_logits")
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        F.binary_cross_entropy(td.tensor([0.5, -0.1]), td.tensor([1.0, 0.0]))


def test_bce_at_probabilities_0_and_1_matches_torch_without_warnings():
    """log(0) is clamped in forward and gives +-inf for the target in backward, silently, as in torch."""
    torch = pytest.importorskip("torch")
    x_np, y_np, g_np = np.array([0.0, 1.0, 0.5]), np.array([1.0, 0.0, 0.3]), np.array([1.0, 2.0, -0.5])
    x, y = td.tensor(x_np, requires_grad=True), td.tensor(y_np, requires_grad=True)
    xt, yt = torch.tensor(x_np, requires_grad=True), torch.tensor(y_np, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.binary_cross_entropy(x, y, reduction="none")
        loss.backward(g_np)
    loss_t = torch.nn.functional.binary_cross_entropy(xt, yt, reduction="none")
    loss_t.backward(torch.tensor(g_np))
    np.testing.assert_allclose(loss.numpy(), loss_t.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_array_equal(y.grad, yt.grad.numpy())  # [inf, -inf, 0]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_input_gradient_with_a_constant_target_matches_torch(reduction):
    torch = pytest.importorskip("torch")
    x_np, y_np = np.array([[0.1, 0.7], [0.95, 0.4]]), np.array([[0.0, 1.0], [1.0, 0.25]])
    x = td.tensor(x_np, requires_grad=True)
    xt = torch.tensor(x_np, requires_grad=True)
    loss = F.binary_cross_entropy(x, td.tensor(y_np), reduction=reduction)
    loss_t = torch.nn.functional.binary_cross_entropy(xt, torch.tensor(y_np), reduction=reduction)
    g = np.array([[1.5, -2.0], [0.5, 3.0]]) if reduction == "none" else np.array(-1.5)
    loss.backward(g)
    loss_t.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("op", [BinaryCrossEntropy, BinaryCrossEntropyWithLogits])
def test_bce_backward_gives_none_for_a_constant_target(op):
    x = td.tensor([0.2, 0.6], requires_grad=True)
    loss = op.apply(x, td.tensor([0.0, 1.0]))
    grad_x, grad_y = op.backward(loss._ctx, np.ones(2))
    assert grad_x.shape == (2,) and grad_y is None
