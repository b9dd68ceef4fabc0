"""One training step of examples/tiny_gpt.py's model (4 layers, 4 heads, width 128, context 64, batch 32)
against the same model in PyTorch eager, in the same process and on the same BLAS threads.

    python -m benchmarks.transformer          # prints the rows (run it with OMP_NUM_THREADS=1)

The step is what tiny_gpt.py's training loop does: forward, cross-entropy, backward, gradient clipping to
norm 1, and an AdamW update. Both models have the same architecture (pre-LayerNorm blocks, causal
attention, tanh GELU, a head tied to the token embedding) and dropout p at the same three sites.
"""

import importlib.util
import sys
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
VOCAB, CONTEXT, BATCH, WIDTH, LAYERS, HEADS = 65, 64, 32, 128, 4, 4


def _tiny_gpt():
    """examples/tiny_gpt.py as a module."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        spec = importlib.util.spec_from_file_location("tiny_gpt", EXAMPLES / "tiny_gpt.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(EXAMPLES))
    return module


def _batch(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, VOCAB, (BATCH, CONTEXT + 1))
    return x[:, :-1], x[:, 1:]


def td_gpt_step(p):
    """The tinygrad_drop training step of tiny_gpt.py's model."""
    import tinygrad_drop as td
    import tinygrad_drop.nn.functional as F

    gpt = _tiny_gpt()
    td.manual_seed(0)
    model = gpt.GPT(VOCAB, CONTEXT, WIDTH, LAYERS, HEADS, p)
    optimizer = td.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)
    x, y = _batch()

    def step():
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        td.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    return step


def torch_gpt_step(p):
    """The same step in PyTorch eager, or None when torch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    nn, F = torch.nn, torch.nn.functional

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(WIDTH), nn.LayerNorm(WIDTH)
            self.qkv, self.attn_proj = nn.Linear(WIDTH, 3 * WIDTH), nn.Linear(WIDTH, WIDTH)
            self.fc, self.proj = nn.Linear(WIDTH, 4 * WIDTH), nn.Linear(4 * WIDTH, WIDTH)

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = (t.view(B, T, HEADS, C // HEADS).transpose(1, 2) for t in self.qkv(self.ln1(x)).split(C, 2))
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True).transpose(1, 2).reshape(B, T, C)
            x = x + F.dropout(self.attn_proj(y), p)
            return x + F.dropout(self.proj(F.gelu(self.fc(self.ln2(x)), approximate="tanh")), p)

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok, self.pos = nn.Embedding(VOCAB, WIDTH), nn.Embedding(CONTEXT, WIDTH)
            self.blocks, self.ln = nn.ModuleList(Block() for _ in range(LAYERS)), nn.LayerNorm(WIDTH)

        def forward(self, ids):
            x = self.tok(ids) + self.pos(torch.arange(ids.shape[1]))
            for block in self.blocks:
                x = block(x)
            return F.linear(self.ln(x), self.tok.weight)

    torch.manual_seed(0)
    model = GPT()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)
    x, y = (torch.from_numpy(a) for a in _batch())

    def step():
        loss = F.cross_entropy(model(x).reshape(-1, VOCAB), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    return step


def report(time_interleaved, rounds):
    """Rows {workload, median_s, ratio_to_torch} for p = 0 and p = 0.1; torch runs on one intra-op thread."""
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    rows = []
    for p in (0.0, 0.1):
        candidates = {"tinygrad_drop": td_gpt_step(p)}
        torch_step = torch_gpt_step(p)
        if torch_step:
            candidates["torch"] = torch_step
        medians = time_interleaved(candidates, rounds)
        ratio = {k: v / medians["torch"] for k, v in medians.items()} if torch_step else {}
        rows.append({"workload": f"GPT step {LAYERS}x{WIDTH}, {HEADS} heads, b{BATCH} x {CONTEXT}, dropout {p}",
                     "median_s": medians, "ratio_to_torch": ratio})
    return rows


def format_rows(rows):
    """Markdown rows: each implementation's median and its ratio to PyTorch."""
    lines = ["| workload | tinygrad_drop | torch | tinygrad_drop / torch |", "|---|---|---|---|"]
    for r in rows:
        m = r["median_s"]
        torch_cell = f"{m['torch'] * 1e3:.1f} ms" if "torch" in m else "n/a"
        ratio = f"{r['ratio_to_torch']['tinygrad_drop']:.2f}x" if r["ratio_to_torch"] else "n/a"
        lines.append(f"| {r['workload']} | {m['tinygrad_drop'] * 1e3:.1f} ms | {torch_cell} | {ratio} |")
    return "\n".join(lines)


if __name__ == "__main__":
    from .run import time_interleaved

    print(format_rows(report(time_interleaved, rounds=10)))
