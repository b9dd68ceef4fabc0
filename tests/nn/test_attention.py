"""Scaled dot-product attention: torch agreement for every mask kind, gradcheck (with dropout held fixed),
dropout statistics on the weights, and errors.
"""

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tests.helpers import host, leaf, randn
from tests.torch_check import matches_torch

Q, K, V = (2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 2)  # (batch, heads, L or S, E or Ev): L = 4 queries, S = 6 keys
BOOL_MASK = randn((4, 6), seed=5) > -0.5
BOOL_MASK[:, 0] = True  # every query sees at least one key (an all-False row gives NaN, in torch too)
FLOAT_MASK = randn((3, 4, 6), seed=6)

CASES = {
    "plain": dict(),
    "causal": dict(is_causal=True),
    "bool mask": dict(attn_mask=BOOL_MASK),
    "float mask": dict(attn_mask=FLOAT_MASK),
    "scale": dict(scale=0.3),
}


def _torch_kwargs(kwargs):
    import torch

    mask = kwargs.get("attn_mask")
    return {**kwargs, "attn_mask": None if mask is None else torch.from_numpy(mask)}


@pytest.mark.parametrize("dtype", [td.float32, td.float64])
@pytest.mark.parametrize("case", list(CASES))
def test_attention_matches_torch(case, dtype):
    torch = pytest.importorskip("torch")
    kwargs = CASES[case]
    if "attn_mask" in kwargs and kwargs["attn_mask"].dtype != bool:
        kwargs = {"attn_mask": kwargs["attn_mask"].astype(dtype)}
    matches_torch(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **kwargs),
                  lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(q, k, v, **_torch_kwargs(kwargs)),
                  [randn(Q, seed=1), randn(K, seed=2), randn(V, seed=3)], dtype)


@pytest.mark.parametrize("case", list(CASES))
def test_attention_gradcheck(case, device):
    q, k, v = (leaf(randn(s, seed=i)[:1, :2], device) for i, s in enumerate((Q, K, V)))  # 2 heads
    kwargs = {"attn_mask": FLOAT_MASK[:2]} if case == "float mask" else CASES[case]
    assert td.gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **kwargs), [q, k, v])


def test_attention_gradcheck_through_a_float_mask_and_with_dropout(device):
    q, k, v = (leaf(randn(s, seed=i)[:1, :2], device) for i, s in enumerate((Q, K, V)))
    mask = leaf(FLOAT_MASK[:2], device)
    assert td.gradcheck(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m), [q, k, v, mask])
    assert td.gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, dropout_p=0.3, is_causal=True),
                        [q, k, v])


def test_attention_dropout_drops_weights_with_probability_p():
    # Equal scores give weights 1/S; with V = identity the output is the weights themselves.
    S, p, rows = 8, 0.25, 4000
    q, k = td.zeros(rows, S, 3), td.zeros(rows, S, 3)
    out = host(F.scaled_dot_product_attention(q, k, td.Tensor(np.eye(S, dtype=np.float32)), dropout_p=p))
    kept = out != 0
    n = kept.size
    assert abs((1 - kept.mean()) - p) < 4 * np.sqrt(p * (1 - p) / n)  # 4 standard errors
    np.testing.assert_allclose(out[kept], 1 / S / (1 - p), rtol=1e-6)  # survivors are scaled by 1/(1 - p)


def test_attention_without_dropout_draws_nothing():
    q = td.randn(2, 3, 4)
    state = td.random.default_generator.get_state()
    F.scaled_dot_product_attention(q, q, q, dropout_p=0.0)
    assert td.random.default_generator.get_state() == state


def test_a_float_array_mask_takes_the_scores_dtype():
    q = td.randn(2, 3, 4, requires_grad=True)
    out = F.scaled_dot_product_attention(q, q, q, attn_mask=np.zeros((3, 3)))  # a float64 array
    out.sum().backward()
    assert out.dtype == td.float32 and q.grad.dtype == np.float32


def test_causal_attention_ignores_the_future():
    q, k, v = td.randn(1, 5, 4), td.randn(1, 5, 4), td.randn(1, 5, 4)
    out = host(F.scaled_dot_product_attention(q, k, v, is_causal=True))
    v2 = td.Tensor(np.concatenate([host(v)[:, :3], 100 + host(v)[:, 3:]], axis=1))  # change keys 3 and 4 only
    out2 = host(F.scaled_dot_product_attention(q, k, v2, is_causal=True))
    np.testing.assert_array_equal(out[:, :3], out2[:, :3])
    np.testing.assert_allclose(out[:, 0], host(v)[:, 0], rtol=1e-6)  # the first query sees only the first key


def test_attention_errors():
    q = td.randn(2, 4, 5)
    with pytest.raises(ValueError, match="either attn_mask or is_causal=True, not both"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((4, 4), bool), is_causal=True)
    with pytest.raises(ValueError, match=r"query \(2, 4, 5\), key \(2, 4, 3\) and value \(2, 4, 5\) do not fit"):
        F.scaled_dot_product_attention(q, td.randn(2, 4, 3), q)
    with pytest.raises(ValueError, match="at least 2 axes"):
        F.scaled_dot_product_attention(td.randn(5), q, q)
    with pytest.raises(TypeError, match="attn_mask must be bool or have the query's dtype float32, got float64"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=td.zeros(4, 4, dtype=td.float64))
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        F.scaled_dot_product_attention(q, q, q, dropout_p=1.5)


def test_unbatched_2d_attention_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    q, k, v = rng.standard_normal((3, 4)), rng.standard_normal((5, 4)), rng.standard_normal((5, 2))
    out = F.scaled_dot_product_attention(td.tensor(q), td.tensor(k), td.tensor(v))
    ref = torch.nn.functional.scaled_dot_product_attention(torch.tensor(q), torch.tensor(k), torch.tensor(v))
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12, atol=1e-14)


def test_causal_attention_with_fewer_queries_than_keys_matches_torch():
    """is_causal with L != S: the triangle is aligned at the top left, as in torch."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    q, k, v = rng.standard_normal((2, 2, 4)), rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 5))
    out = F.scaled_dot_product_attention(td.tensor(q), td.tensor(k), td.tensor(v), is_causal=True)
    ref = torch.nn.functional.scaled_dot_product_attention(torch.tensor(q), torch.tensor(k), torch.tensor(v),
                                                           is_causal=True)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12, atol=1e-14)


def test_attention_with_a_bool_tensor_mask_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))
    mask = np.array([[True, False, True], [True, True, False], [False, True, True]])
    out = F.scaled_dot_product_attention(td.tensor(q), td.tensor(k), td.tensor(v), attn_mask=td.tensor(mask))
    ref = torch.nn.functional.scaled_dot_product_attention(torch.tensor(q), torch.tensor(k), torch.tensor(v),
                                                           attn_mask=torch.tensor(mask))
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12, atol=1e-14)


def test_attention_shape_errors_name_the_op():
    q = td.randn(2, 4, 5)
    with pytest.raises(ValueError, match=r"^scaled_dot_product_attention: query, key and value need at least 2 "
                                         r"axes \(\.\.\., L, E\), got shapes \(2, 4, 5\), \(5,\), \(2, 4, 5\)$"):
        F.scaled_dot_product_attention(q, td.randn(5), q)
    with pytest.raises(ValueError, match=r"^scaled_dot_product_attention: pass either attn_mask or "
                                         r"is_causal=True, not both$"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((4, 4), bool), is_causal=True)
    with pytest.raises(ValueError, match=r"^scaled_dot_product_attention: mask of shape \(3, 4\) does not "
                                         r"broadcast to the tensor's shape \(2, 4, 4\)$"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((3, 4), bool))
