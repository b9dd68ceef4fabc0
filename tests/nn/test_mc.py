"""Tests for MC dropout and mode safety: stochastic_sites, mc_predict, the eval-mode warning for
functional dropout, record/replay of masks by module name, and the running-module stack."""

import math
import threading
import warnings

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tinygrad_drop import nn
from tinygrad_drop.nn.module import current_module


class Probe(nn.Module):
    """Records the training flag it sees on every call."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, x):
        self.seen.append(self.training)
        return x


def _model():
    return nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Dropout(0.5), Probe(), nn.DropConnectLinear(16, 8, p=0.2),
                         nn.ReLU(), nn.VariationalLinear(8, 4), nn.GaussianDropout(0.0))


# ---------------------------------------------------------------- stochastic_sites


def test_stochastic_sites_list_every_dropout_layer_with_p_and_activity():
    model = _model()
    sites = nn.stochastic_sites(model)
    assert [(s.name, s.layer) for s in sites] == [
        ("2", "Dropout"), ("4", "DropConnectLinear"), ("6", "VariationalLinear"), ("7", "GaussianDropout")]
    assert [s.p for s in sites[:2]] == [0.5, 0.2] and sites[2].p == pytest.approx(0.1, rel=1e-6)
    assert [s.active for s in sites] == [True, True, True, False]  # p = 0 is never active
    assert not any(s.active for s in nn.stochastic_sites(model.eval()))


# ---------------------------------------------------------------- mc_predict


def test_mc_predict_keeps_dropout_on_and_other_layers_in_eval_then_restores_modes():
    model = _model()
    model[3].eval()  # a mixed state, which must come back unchanged
    before = [m.training for m in model.modules()]
    mean, std, entropy = nn.mc_predict(model, td.randn(5, 3), n_samples=7)
    assert model[3].seen == [False] * 7  # the probe ran in eval mode every time
    assert [m.training for m in model.modules()] == before
    assert mean.shape == std.shape == (5, 4) and entropy is None
    assert np.all(std.numpy() > 0)


def test_mc_predict_is_the_sample_mean_and_std_of_the_passes():
    model = nn.Sequential(nn.Linear(2, 8), nn.Dropout(0.5), nn.Linear(8, 1)).eval()
    x = td.randn(4, 2)
    with td.random.fork_rng():
        mean, std, _ = nn.mc_predict(model, x, n_samples=5)
    model.train()
    with td.no_grad():
        outputs = np.stack([model(x).numpy() for _ in range(5)])
    np.testing.assert_allclose(mean.numpy(), outputs.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(std.numpy(), outputs.std(axis=0), rtol=1e-5)


def test_mc_predict_for_classification_gives_mean_softmax_and_its_entropy():
    model = _model()
    mean, std, entropy = nn.mc_predict(model, td.randn(6, 3), n_samples=10, classification=True)
    probs = mean.numpy()
    np.testing.assert_allclose(probs.sum(axis=1), np.ones(6), rtol=1e-5)
    np.testing.assert_allclose(entropy.numpy(), -(probs * np.log(probs)).sum(axis=1), rtol=1e-5)
    assert np.all((entropy.numpy() >= 0) & (entropy.numpy() <= math.log(4) + 1e-6))
    assert mean.grad_fn is None and not mean.requires_grad  # no graph is built


def test_mc_predict_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n_samples.*0"):
        nn.mc_predict(_model(), td.randn(2, 3), n_samples=0)
    with pytest.raises(ValueError, match="no dropout layer"):
        nn.mc_predict(nn.Linear(3, 2), td.randn(2, 3))


# ---------------------------------------------------------------- the eval-mode warning (pytorch#11999)


class FunctionalNet(nn.Module):
    def __init__(self, pass_flag=False):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.pass_flag = pass_flag

    def forward(self, x):
        training = self.training if self.pass_flag else True
        x = F.dropout(self.fc(x), 0.5, training=training)  # first call site
        return F.gaussian_dropout(x, 0.5, training=training)  # second call site


@pytest.fixture
def fresh_call_sites():
    """Forget which call sites have warned, so each test sees its first warnings."""
    saved = set(F._warned_call_sites)
    F._warned_call_sites.clear()
    yield
    F._warned_call_sites.clear()
    F._warned_call_sites.update(saved)


@pytest.mark.mutation_unsafe  # checks a warning's call site, which mutmut's wrappers move
def test_functional_dropout_in_an_eval_module_warns_once_per_call_site(fresh_call_sites):
    net = FunctionalNet().eval()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            net(td.randn(2, 4))
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2
    assert "F.dropout(" in messages[0] and "F.gaussian_dropout(" in messages[1]
    assert all("FunctionalNet.forward" in m and "eval mode" in m and "training=self.training" in m for m in messages)
    assert {w.filename for w in caught} == {__file__}  # the warning points at the call site ...
    assert len({w.lineno for w in caught}) == 2
    assert f"{__file__}:{caught[0].lineno}" in messages[0]  # ... and names it


def test_no_warning_in_training_mode_when_the_flag_is_passed_or_outside_modules(fresh_call_sites):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        FunctionalNet()(td.randn(2, 4))
        FunctionalNet(pass_flag=True).eval()(td.randn(2, 4))
        nn.Sequential(nn.Dropout2d(0.5)).eval()(td.randn(2, 4, 1, 1))
        F.dropout(td.randn(3), 0.5)  # a plain function call has no module to disagree with


@pytest.mark.mutation_unsafe  # checks a warning's call site, which mutmut's wrappers move
def test_channel_dropout_warning_names_the_users_call_not_the_framework(fresh_call_sites):
    class Net(nn.Module):
        def forward(self, x):
            return F.dropout2d(x, 0.5)

    with pytest.warns(UserWarning, match=r"F\.dropout2d\(") as caught:
        Net().eval()(td.ones(2, 3, 4, 4))
    assert caught[0].filename == __file__


# ---------------------------------------------------------------- record / replay by module name


def test_record_and_replay_reproduce_every_call_by_module_name():
    model = _model()
    x = td.randn(5, 3)
    with nn.record_masks(model) as record:
        first, second = model(x).numpy(), model(x).numpy()
    assert set(record) == {"2", "4", "6", "7"}
    assert all(len(calls) == 2 for calls in record.values())
    assert record["7"] == [[], []]  # p = 0 draws nothing
    assert not np.array_equal(first, second)
    with nn.replay_masks(model, record):
        np.testing.assert_array_equal(model(x).numpy(), first)
        np.testing.assert_array_equal(model(x).numpy(), second)
        with pytest.raises(td.random.ReplayMismatchError, match="'2' is called 3 times"):
            model(x)
    assert "forward" not in model[2].__dict__  # the layers are back to their own forward


def test_replayed_masks_hold_across_different_inputs_of_one_shape():
    # fixed-mask MC: the same recorded subnetworks evaluated on a second batch of the same shape
    model = nn.Sequential(nn.Identity(), nn.Dropout(0.5))
    with nn.record_masks(model) as record:
        first = model(td.full((6, 5), 3.0)).numpy()
    with nn.replay_masks(model, record):
        second = model(td.full((6, 5), 5.0)).numpy()
    assert 0 < (first == 0).sum() < first.size
    np.testing.assert_array_equal(first / 3.0, second / 5.0)  # the same units dropped, the same scale


def test_replay_mismatch_names_the_module():
    model = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.5))
    with nn.record_masks(model) as record:
        model(td.randn(4, 3))
    with nn.replay_masks(model, record), pytest.raises(td.random.ReplayMismatchError, match="call 1 of '1'"):
        model(td.randn(5, 3))  # another batch size asks for another mask shape


def test_nested_record_inside_replay_restores_each_wrapper():
    model = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.5))
    x = td.randn(4, 3)
    with nn.record_masks(model) as outer:
        expected = model(x).numpy()
    with nn.replay_masks(model, outer):
        with nn.record_masks(model) as inner:
            np.testing.assert_array_equal(model(x).numpy(), expected)
        assert "forward" in model[1].__dict__  # the replay's wrapper is back
    assert "forward" not in model[1].__dict__
    assert len(inner["1"]) == 1


def test_eval_mode_records_no_draws():
    model = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.5)).eval()
    with nn.record_masks(model) as record:
        model(td.randn(2, 3))
    assert record == {"1": [[]]}


# ---------------------------------------------------------------- the running-module stack


def test_current_module_is_the_innermost_running_module_per_thread():
    seen = {}

    class Inner(nn.Module):
        def forward(self, x):
            seen[threading.current_thread().name] = current_module()
            return x

    class Outer(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = Inner()

        def forward(self, x):
            assert current_module() is self
            return self.inner(x)

    outer = Outer()
    assert current_module() is None
    outer(td.ones(1))
    assert seen["MainThread"] is outer.inner and current_module() is None
    thread = threading.Thread(target=lambda: seen.setdefault("other", current_module()), name="other")
    thread.start()
    thread.join()
    assert seen["other"] is None


def test_the_stack_is_popped_when_forward_raises():
    class Broken(nn.Module):
        def forward(self, x):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        Broken()(td.ones(1))
    assert current_module() is None
