"""The Conv2d benchmark's hand-written NumPy baseline computes what F.conv2d computes (so the race is fair)."""

import numpy as np

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from benchmarks import conv


def test_numpy_im2col_baseline_matches_tinygrad_drop():
    rng = np.random.default_rng(1)
    x, w, b, grad = (rng.standard_normal(shape) for shape in [(2, 3, 9, 7), (4, 3, 3, 3), (4,), (2, 4, 9, 7)])
    y, grad_x, grad_w, grad_b = conv.numpy_conv2d_fwd_bwd(x, w, b, grad, padding=1)
    tx, tw, tb = (td.Tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.conv2d(tx, tw, tb, padding=1)
    out.backward(grad)
    for ours, theirs in ((out.numpy(), y), (tx.grad, grad_x), (tw.grad, grad_w), (tb.grad, grad_b)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_candidates_run_one_step_each():
    candidates = conv.conv2d_candidates()
    assert {"numpy", "tinygrad_drop"} <= set(candidates)
    for fn in candidates.values():
        fn()


def test_main_prints_each_candidates_ratio(capsys):
    medians = conv.main(["--rounds", "1"])
    out = capsys.readouterr().out
    assert medians["numpy"] > 0 and "tinygrad_drop" in out and "1.00x" in out
