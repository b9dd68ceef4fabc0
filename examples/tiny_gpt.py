"""A tiny GPT on Tiny Shakespeare, character by character, in the spirit of nanoGPT.

    python examples/tiny_gpt.py                  # about 5 minutes on 2 CPU cores
    python examples/tiny_gpt.py --quick          # a smoke run in seconds
    python examples/tiny_gpt.py --plot docs/images/tiny_gpt_attention.png

Token and position embeddings, pre-LayerNorm blocks of causal multi-head attention and a GELU
feed-forward network, and a head tied to the token embedding. Dropout sits in the three places
GPT-2 and BERT put it (marked "dropout site"). The script gradchecks one small block in float64
with dropout on, then trains with AdamW, linear warm-up then cosine decay, and gradient clipping.
"""

import argparse
import math
import time

import numpy as np
from dropout_common import pyplot
from tqdm import tqdm

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tinygrad_drop import nn
from tinygrad_drop.optim import lr_scheduler


class CausalSelfAttention(nn.Module):
    def __init__(self, width, heads, p):
        super().__init__()
        self.qkv, self.proj, self.heads, self.p = nn.Linear(width, 3 * width), nn.Linear(width, width), heads, p

    def split_heads(self, x):
        """Queries, keys and values, each (B, heads, T, width / heads)."""
        B, T, C = x.shape
        return [t.reshape(B, T, self.heads, C // self.heads).permute(0, 2, 1, 3) for t in self.qkv(x).split(C, 2)]

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.split_heads(x)
        # dropout site 1: on the attention weights, before they multiply V (inside the attention function)
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.p if self.training else 0.0, is_causal=True)
        y = y.permute(0, 2, 1, 3).reshape(B, T, C)  # heads side by side again
        return F.dropout(self.proj(y), self.p, self.training)  # dropout site 2: after the output projection


class Block(nn.Module):
    def __init__(self, width, heads, p):
        super().__init__()
        self.ln1, self.attn, self.ln2 = nn.LayerNorm(width), CausalSelfAttention(width, heads, p), nn.LayerNorm(width)
        self.fc, self.gelu, self.proj = nn.Linear(width, 4 * width), nn.GELU("tanh"), nn.Linear(4 * width, width)
        self.p = p

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        ffn = self.proj(self.gelu(self.fc(self.ln2(x))))
        return x + F.dropout(ffn, self.p, self.training)  # dropout site 3: after the feed-forward network


class GPT(nn.Module):
    def __init__(self, vocab, context, width=128, layers=4, heads=4, p=0.0):
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, width), nn.Embedding(context, width)
        self.blocks = nn.ModuleList(Block(width, heads, p) for _ in range(layers))
        self.ln = nn.LayerNorm(width)
        self.apply(init_weights)
        for block in self.blocks:  # GPT-2: scale the projections into the residual stream by 1/sqrt(2 * layers)
            for proj in (block.attn.proj, block.proj):
                nn.init.normal_(proj.weight, std=0.02 / math.sqrt(2 * layers))

    def forward(self, ids):
        x = self.tok(ids) + self.pos(np.arange(ids.shape[-1]))
        for block in self.blocks:
            x = block(x)
        return F.linear(self.ln(x), self.tok.weight)  # logits; the head shares the token embedding


def init_weights(module):
    """GPT-2's initialisation: N(0, 0.02) weights, zero biases."""
    if isinstance(module, (nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, std=0.02)
    if isinstance(module, nn.Linear) and module.bias is not None:
        nn.init.zeros_(module.bias)


def loss_on(model, ids, batch, context):
    x, y = td.data.random_windows(ids, batch, context)
    logits = model(x)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


def evaluate(model, ids, context, windows=256, batch=64):
    """Mean validation loss in nats per character on `windows` evenly spaced windows (eval mode, no graph)."""
    starts = np.linspace(0, len(ids) - context - 1, windows).astype(np.int64)
    model.eval()
    losses = []
    with td.no_grad():
        for chunk in np.array_split(starts, max(1, windows // batch)):
            x, y = ids[chunk[:, None] + np.arange(context)], ids[chunk[:, None] + np.arange(1, context + 1)]
            logits = model(x)
            losses.append(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)).item() * len(chunk))
    model.train()
    return sum(losses) / windows


def train(model, train_ids, iters, batch, context, lr, on_eval=None, eval_every=0, progress=True):
    """AdamW, linear warm-up over the first 5% then cosine decay to lr / 10, gradients clipped to norm 1."""
    optimizer = td.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.99), weight_decay=0.1)
    warmup = max(1, iters // 20)
    warm_up = lr_scheduler.LinearLR(optimizer, start_factor=0.01, total_iters=warmup)
    decay = lr_scheduler.CosineAnnealingLR(optimizer, T_max=iters - warmup, eta_min=lr / 10)
    schedule = lr_scheduler.SequentialLR(optimizer, [warm_up, decay], milestones=[warmup])
    bar = tqdm(range(1, iters + 1), disable=None if progress else True, desc="training")
    for step in bar:
        loss = loss_on(model, train_ids, batch, context)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
        if on_eval is not None and eval_every and (step % eval_every == 0 or step == iters):
            on_eval(step, model)


def sample(model, tokenizer, context, length, prompt="\n", temperature=0.8):
    """Continue `prompt` by `length` characters, each drawn from the model's softmax at `temperature`."""
    model.eval()
    ids = list(tokenizer.encode(prompt))
    with td.no_grad():
        for _ in range(length):
            logits = model(np.array([ids[-context:]]))[0, -1].numpy().astype(np.float64) / temperature
            probs = np.exp(logits - logits.max())
            u = td.random.uniform((1,), dtype=td.float64)[0] * probs.sum()
            ids.append(min(int(np.searchsorted(np.cumsum(probs), u)), len(probs) - 1))
    return tokenizer.decode(ids[len(prompt):])


def gradcheck_block(p=0.1):
    """A float64 finite-difference check of one small block (width 8, 2 heads) with all three dropouts on."""
    td.manual_seed(0)
    block = Block(8, 2, p).double()
    x = td.randn(2, 5, 8, dtype=td.float64, requires_grad=True)
    td.gradcheck(block, [x], params=block)
    n = sum(t.size for t in block.parameters()) + x.size
    print(f"gradcheck of one block (float64, dropout p={p} at all three sites): passed, {n} values checked")


def plot_attention(model, tokenizer, text, path, layer=0, head=0):
    """Save the attention weights of one head on `text` (softmax(QK^T/sqrt(d)) = attention with V = identity)."""
    plt = pyplot()
    if plt is None:
        return
    model.eval()
    with td.no_grad():
        x = model.tok(tokenizer.encode(text)[None]) + model.pos(np.arange(len(text)))
        for block in model.blocks[:layer]:
            x = block(x)
        attn = model.blocks[layer].attn
        q, k, _ = attn.split_heads(model.blocks[layer].ln1(x))
        eye = td.Tensor(np.eye(len(text), dtype=q.dtype))
        weights = F.scaled_dot_product_attention(q[:, head], k[:, head], eye, is_causal=True)[0].numpy()
    fig, ax = plt.subplots(figsize=(5.8, 4.8), dpi=80)
    image = ax.imshow(weights, cmap="viridis", vmin=0)
    fig.colorbar(image, ax=ax, label="attention weight")
    labels = ["\u2423" if c == " " else repr(c)[1:-1] for c in text]  # a visible space
    ax.set_xticks(range(len(text)), labels, fontsize=7)
    ax.set_yticks(range(len(text)), labels, fontsize=7)
    ax.set(xlabel="key (attended to)", ylabel="query", title=f"tiny GPT: layer {layer}, head {head}")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    print(f"saved the attention map to {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tiny model for a few steps (CI)")
    parser.add_argument("--iters", type=int, default=None)
    parser.add_argument("--dropout", type=float, default=0.0, help="p at all three dropout sites")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--eval-every", type=int, default=0, help="print a validation loss every N steps")
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--batch", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", default="tiny_gpt_attention.png", help="where to save the attention picture")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    size = dict(width=32, layers=1, heads=2) if args.quick else dict(width=args.width, layers=args.layers, heads=4)
    iters = args.iters or (30 if args.quick else 2000)
    batch, context = (8, 32) if args.quick else (args.batch, 64)

    gradcheck_block()
    text = td.data.load_shakespeare()
    tokenizer = td.data.CharTokenizer(text)
    ids = tokenizer.encode(text)
    train_ids, val_ids = ids[: int(0.9 * len(ids))], ids[int(0.9 * len(ids)):]  # nanoGPT's split
    td.manual_seed(args.seed)
    model = GPT(tokenizer.vocab_size, context, p=args.dropout, **size)
    start = time.perf_counter()

    def report(step, model):
        loss = evaluate(model, val_ids, context, windows=128)
        tqdm.write(f"step {step}: validation loss {loss:.3f} ({time.perf_counter() - start:.0f} s)")

    train(model, train_ids, iters, batch, context, lr=args.lr, on_eval=report, eval_every=args.eval_every,
          progress=not args.no_progress)
    seconds = time.perf_counter() - start
    val_loss = evaluate(model, val_ids, context, windows=64 if args.quick else 2048)
    print(f"validation loss {val_loss:.3f} nats/char after {iters} steps in {seconds:.0f} s")
    text_sample = sample(model, tokenizer, context, 40 if args.quick else 200)
    print(f"sample:\n{text_sample}")
    plot_attention(model, tokenizer, "ROMEO:\nO, she doth teach"[: 12 if args.quick else 24], args.plot)
    return {"val_loss": val_loss, "seconds": seconds, "sample": text_sample}


if __name__ == "__main__":
    main()
