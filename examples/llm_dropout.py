"""Does dropout help a small GPT on little text, and stop helping when there is a lot? The seed's claim, tested.

    python examples/llm_dropout.py                # 3 values of p x 2 data sizes x 3 seeds (under 30 minutes)
    python examples/llm_dropout.py --quick        # a smoke run in seconds
    python examples/llm_dropout.py --plot docs/images/llm_dropout.png

The same small GPT (examples/tiny_gpt.py) is trained with dropout p in {0, 0.1, 0.2} at its three sites,
for the same number of steps, on two training sets: a 50,000-character slice of the text, seen about 20
times, and the whole training text, each character seen about once. The validation text (the last 10%)
is the same for both. The table gives, in nats per character, the best validation loss of each run (as
with early stopping) and the one at its last step, averaged over the seeds, with the range across seeds.
"""

import argparse
import time

import numpy as np
from dropout_common import pyplot
from tiny_gpt import GPT, evaluate, train

import tinygrad_drop as td

PS = (0.0, 0.1, 0.2)


def run(p, train_ids, val_ids, seed, cfg):
    """Train one model with dropout p; return its validation curve [(step, loss), ...]."""
    td.manual_seed(seed)
    model = GPT(cfg["vocab"], cfg["context"], width=cfg["width"], layers=cfg["layers"], heads=4, p=p)
    curve = []

    def record(step, model):
        curve.append((step, evaluate(model, val_ids, cfg["context"], windows=cfg["val_windows"])))

    train(model, train_ids, cfg["steps"], cfg["batch"], cfg["context"], cfg["lr"], on_eval=record,
          eval_every=cfg["eval_every"], progress=False)
    return curve


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tiny model, a few steps, one seed (CI)")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--slice", type=int, default=50_000, help="characters in the small training set")
    parser.add_argument("--plot", default=None, help="save the validation curves to this file")
    args = parser.parse_args(argv)
    text = td.data.load_shakespeare()
    tokenizer = td.data.CharTokenizer(text)
    ids = tokenizer.encode(text)
    split = int(0.9 * len(ids))
    train_ids, val_ids = ids[:split], ids[split:]
    cfg = dict(vocab=tokenizer.vocab_size, context=64, width=64, layers=2, batch=16, lr=2e-3,
               val_windows=256, eval_every=100)
    cfg["steps"] = len(train_ids) // (cfg["batch"] * cfg["context"])  # the whole text about once
    seeds = args.seeds or 3
    if args.quick:
        cfg.update(context=32, width=32, layers=1, batch=8, steps=40, val_windows=32, eval_every=20)
        seeds = args.seeds or 1
    data = {"slice": train_ids[: args.slice], "whole": train_ids}
    epochs = {name: cfg["steps"] * cfg["batch"] * cfg["context"] / len(d) for name, d in data.items()}
    print(f"{cfg['steps']} steps of {cfg['batch']} x {cfg['context']} characters: the {args.slice:,}-character "
          f"slice is seen {epochs['slice']:.1f} times, the whole training text ({len(train_ids):,}) "
          f"{epochs['whole']:.1f} times")
    start = time.perf_counter()
    curves = {}
    for name, d in data.items():
        for p in PS:
            curves[name, p] = []
            for seed in range(seeds):
                curves[name, p].append(run(p, d, val_ids, seed, cfg))
                print(f"  {name:>5}, p = {p}, seed {seed}: best validation loss "
                      f"{min(loss for _, loss in curves[name, p][-1]):.3f} ({time.perf_counter() - start:.0f} s)")
    best = {key: [min(loss for _, loss in curve) for curve in runs] for key, runs in curves.items()}
    final = {key: [curve[-1][1] for curve in runs] for key, runs in curves.items()}
    print(f"\nvalidation loss (nats/char): the best of each run and the one at its last step, mean over {seeds} "
          f"seed(s) [range], {time.perf_counter() - start:.0f} s")
    slice_name = "50k slice" if args.slice == 50_000 else "slice"
    print(f"{'p':>5} | {slice_name + ', best':>21} | {slice_name + ', last':>21} | {'whole text, best':>21} | "
          f"{'whole text, last':>21}")
    for p in PS:
        cells = [f"{np.mean(table[name, p]):.3f} [{min(table[name, p]):.3f}, {max(table[name, p]):.3f}]"
                 for name in data for table in (best, final)]
        print(f"{p:>5} | " + " | ".join(f"{cell:>21}" for cell in cells))
    if args.plot:
        plot(curves, args.plot)
    return {"best": best, "final": final, "curves": curves, "epochs": epochs}


def plot(curves, path):
    """Validation loss against step, one panel per training set, one line per p (mean over seeds)."""
    plt = pyplot()
    if plt is None:
        return
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.4), dpi=80, sharey=True)
    for ax, name, title in zip(axes, ("slice", "whole"), ("small slice (many epochs)", "whole text (one epoch)"),
                               strict=True):
        for p in PS:
            runs = curves[name, p]
            steps = [s for s, _ in runs[0]]
            ax.plot(steps, np.mean([[loss for _, loss in c] for c in runs], axis=0), label=f"p = {p}")
        ax.set(title=title, xlabel="step")
    axes[0].set_ylabel("validation loss (nats/char)")
    axes[1].legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    print(f"saved the plot to {path}")


if __name__ == "__main__":
    main()
