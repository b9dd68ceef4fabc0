"""Version counters: an in-place write between forward and backward is an error, not a wrong gradient."""

import numpy as np
import pytest

import tinygrad_drop as td
from tinygrad_drop import nn


def _linear_graph():
    td.manual_seed(0)
    x = td.Tensor([[1.0, 2.0]], requires_grad=True)
    lin = nn.Linear(2, 1)
    return x, lin, lin(x).sum()


def test_an_optimizer_step_between_forward_and_backward_is_caught():
    x, lin, y = _linear_graph()
    y.backward(retain_graph=True)
    td.optim.SGD(lin.parameters(), lr=1.0).step()
    x.grad = None
    with pytest.raises(RuntimeError) as info:
        y.backward()
    message = str(info.value)
    assert "Linear's input 1, a tensor of shape (1, 2)" in message
    assert "was modified by an in-place operation: version 1, expected 0" in message
    assert x.grad is None


@pytest.mark.parametrize("make", [lambda ps: td.optim.Adam(ps, lr=0.1), lambda ps: td.optim.AdamW(ps, lr=0.1),
                                  lambda ps: td.optim.SGD(ps, lr=0.1, momentum=0.9)])
def test_every_optimizer_step_bumps_the_version(make):
    _, lin, y = _linear_graph()
    y.backward()
    make(lin.parameters()).step()
    assert lin.weight._version == 1 and lin.bias._version == 1


def test_load_state_dict_bumps_the_version():
    x, lin, y = _linear_graph()
    lin.load_state_dict({"weight": np.zeros((1, 2)), "bias": np.zeros(1)})
    assert lin.weight._version == 1
    with pytest.raises(RuntimeError, match="version 1, expected 0"):
        y.backward()


def test_a_fresh_forward_after_the_step_is_fine():
    x, lin, y = _linear_graph()
    y.backward()
    td.optim.SGD(lin.parameters(), lr=1.0).step()
    x.grad = None
    lin(x).sum().backward()
    np.testing.assert_allclose(x.grad, lin.weight.data, rtol=1e-6)


def test_an_op_that_saved_nothing_is_not_flagged():
    w = td.Tensor([1.0, 2.0], requires_grad=True)
    y = (w + 1.0).sum()  # Add saves no array, so a change to w cannot make its gradient wrong
    w.grad = np.ones(2, dtype=np.float32)
    td.optim.SGD([w], lr=1.0).step()
    w.grad = None
    y.backward()
    np.testing.assert_array_equal(w.grad, [1.0, 1.0])


def test_the_gan_pattern_is_caught():
    """A discriminator step between the generator's forward and its backward."""
    td.manual_seed(0)
    gen, disc = nn.Linear(2, 2), nn.Linear(2, 1)
    fake = gen(td.randn(4, 2))
    d_loss = disc(fake.detach()).mean()
    g_loss = -disc(fake).mean()
    d_opt = td.optim.SGD(disc.parameters(), lr=0.1)
    d_opt.zero_grad()
    d_loss.backward()
    d_opt.step()
    with pytest.raises(RuntimeError, match=r"Linear's input 1, a tensor of shape \(1, 2\).*version 1, expected 0"):
        g_loss.backward()


def test_an_op_that_saved_another_array_is_not_flagged():
    w = td.Tensor([0.0, 1.0], requires_grad=True)
    y = w.exp().sum()  # Exp saves its output, not w: a later change to w leaves this gradient right
    w.grad = np.ones(2, dtype=np.float32)
    td.optim.SGD([w], lr=1.0).step()
    w.grad = None
    y.backward()
    np.testing.assert_allclose(w.grad, np.exp([0.0, 1.0]), rtol=1e-6)


def test_the_version_error_says_what_to_do():
    x, lin, y = _linear_graph()
    y.backward(retain_graph=True)
    td.optim.SGD(lin.parameters(), lr=1.0).step()
    with pytest.raises(RuntimeError) as info:
        y.backward()
    assert str(info.value).endswith(
        "version 1, expected 0. Call backward before changing it (an optimizer step, load_state_dict), "
        "or run the forward pass again.")
