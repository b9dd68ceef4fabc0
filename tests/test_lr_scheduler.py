"""td.optim.lr_scheduler against torch.optim.lr_scheduler: the learning rate at every step, several groups."""

import numpy as np
import pytest

import tinygrad_drop as td
from tinygrad_drop.optim import lr_scheduler


def _optimizers(lrs=(0.1, 0.01)):
    torch = pytest.importorskip("torch")
    ours = td.optim.SGD([{"params": [td.nn.Parameter(np.zeros(1, np.float32))], "lr": lr} for lr in lrs], lr=lrs[0])
    theirs = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs], lr=lrs[0])
    return ours, theirs, torch.optim.lr_scheduler


def _build(name, optimizer, module):
    if name == "LambdaLR":
        return module.LambdaLR(optimizer, [lambda e: 0.9**e, lambda e: 1 / (1 + e)])
    if name == "StepLR":
        return module.StepLR(optimizer, step_size=3, gamma=0.5)
    if name == "LinearLR":
        return module.LinearLR(optimizer, start_factor=0.2, end_factor=0.9, total_iters=7)
    if name == "CosineAnnealingLR":
        return module.CosineAnnealingLR(optimizer, T_max=10, eta_min=0.001)
    warm = module.LinearLR(optimizer, start_factor=0.01, total_iters=5)
    cosine = module.CosineAnnealingLR(optimizer, T_max=15, eta_min=1e-4)
    return module.SequentialLR(optimizer, [warm, cosine], milestones=[5])


@pytest.mark.parametrize("name", ["LambdaLR", "StepLR", "LinearLR", "CosineAnnealingLR", "SequentialLR"])
def test_schedule_matches_torch(name):
    ours_opt, theirs_opt, torch_module = _optimizers()
    ours, theirs = _build(name, ours_opt, lr_scheduler), _build(name, theirs_opt, torch_module)
    for _ in range(25):  # past the end of every schedule
        np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose([g["lr"] for g in ours_opt.param_groups],
                                   [g["lr"] for g in theirs_opt.param_groups], rtol=1e-12, atol=1e-15)
        theirs_opt.step()
        ours.step()
        theirs.step()


def test_state_dict_round_trip():
    opt, _, _ = _optimizers()
    sched = lr_scheduler.StepLR(opt, step_size=2)
    for _ in range(3):
        sched.step()
    state = sched.state_dict()
    assert state["last_epoch"] == 3 and "optimizer" not in state
    other = lr_scheduler.StepLR(_optimizers()[0], step_size=2)
    other.load_state_dict(state)
    assert other.last_epoch == 3 and other.get_last_lr() == sched.get_last_lr()


def test_scheduler_errors():
    opt, _, _ = _optimizers()
    with pytest.raises(TypeError, match="list is not an optimizer"):
        lr_scheduler.StepLR([], step_size=1)
    with pytest.raises(ValueError, match="step_size must be a positive int"):
        lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="expected 2 lr_lambdas"):
        lr_scheduler.LambdaLR(opt, [lambda e: 1.0])
    with pytest.raises(ValueError, match="start_factor must be in"):
        lr_scheduler.LinearLR(opt, start_factor=0.0)
    with pytest.raises(ValueError, match="T_max must be positive"):
        lr_scheduler.CosineAnnealingLR(opt, T_max=0)
    warm = lr_scheduler.LinearLR(opt)
    with pytest.raises(ValueError, match="expected 1 milestones for 2 schedulers"):
        lr_scheduler.SequentialLR(opt, [warm, lr_scheduler.StepLR(opt, 2)], milestones=[])
    with pytest.raises(ValueError, match="every scheduler must belong"):
        lr_scheduler.SequentialLR(opt, [warm, lr_scheduler.StepLR(_optimizers()[0], 2)], milestones=[3])
    with pytest.raises(ValueError, match="milestones must increase"):
        lr_scheduler.SequentialLR(opt, [warm, warm, warm], milestones=[5, 2])


def test_importable_as_in_torch():
    from tinygrad_drop.optim.lr_scheduler import CosineAnnealingLR

    assert td.optim.lr_scheduler.CosineAnnealingLR is CosineAnnealingLR
