"""Does dropout narrow the generalisation gap? The same MLP with p = 0 and p = 0.5 on 300 digits.

    python examples/dropout_overfitting.py                    # 3 seeds, 100 epochs (about a minute)
    python examples/dropout_overfitting.py --quick            # 1 seed, 10 epochs
    python examples/dropout_overfitting.py --plot docs/images/dropout_overfitting.png

Both networks (64-256-256-10, Adam) see the same 300 training images and are tested on the other
1,497. After every epoch both are evaluated in eval mode on both sets. The gap is train minus test
accuracy, and test minus train cross-entropy, at the last epoch, averaged over the seeds.
"""

import argparse

import numpy as np
from dropout_common import evaluate, pyplot, small_digits, train
from train_mlp import build_mlp

import tinygrad_drop as td


def run(p, seed, epochs, n_train):
    """Train one MLP with dropout p; return its per-epoch history of train/test loss and accuracy."""
    X_train, y_train, X_test, y_test = small_digits(n_train, seed)
    td.manual_seed(seed)
    model = build_mlp(64, [256, 256], 10, p)
    history = {key: [] for key in ("train_loss", "train_acc", "test_loss", "test_acc")}

    def record(epoch):
        for split, X, y in (("train", X_train, y_train), ("test", X_test, y_test)):
            loss, acc = evaluate(model, X, y)
            history[f"{split}_loss"].append(loss)
            history[f"{split}_acc"].append(acc)

    train(model, X_train, y_train, epochs, td.optim.Adam(model.parameters(), lr=1e-3), seed=seed, on_epoch=record)
    return history


def save_plot(histories, path):
    """Accuracy and loss curves, train dashed and test solid, p = 0 and p = 0.5 side by side."""
    plt = pyplot()
    if plt is None:
        return
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for p, color in zip(histories, ("tab:red", "tab:blue"), strict=True):
        history = {key: np.mean([h[key] for h in histories[p]], axis=0) for key in histories[p][0]}
        epochs = np.arange(1, len(history["train_acc"]) + 1)
        for ax, metric in zip(axes, ("acc", "loss"), strict=True):
            ax.plot(epochs, history[f"train_{metric}"], "--", color=color, label=f"p = {p}, train")
            ax.plot(epochs, history[f"test_{metric}"], "-", color=color, label=f"p = {p}, test")
    axes[0].set(xlabel="epoch", ylabel="accuracy", title="accuracy (mean over seeds)", ylim=(0.8, 1.005))
    axes[1].set(xlabel="epoch", ylabel="cross-entropy", title="loss", yscale="log")
    for ax in axes:
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    print(f"saved {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=3, help="repeat with seeds 0 .. seeds-1 and average")
    parser.add_argument("--n-train", type=int, default=300, help="training images (the rest are the test set)")
    parser.add_argument("--quick", action="store_true", help="1 seed and 10 epochs, for a smoke test")
    parser.add_argument("--plot", metavar="PATH", help="save the curves as a PNG (needs matplotlib)")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.seeds = 10, 1

    histories = {p: [run(p, seed, args.epochs, args.n_train) for seed in range(args.seeds)] for p in (0.0, 0.5)}
    print(f"{args.n_train} training digits, {args.epochs} epochs, mean over {args.seeds} seed(s), last epoch:")
    print(f"{'dropout':>8} {'train acc':>10} {'test acc':>9} {'acc gap':>8} {'train loss':>11} {'test loss':>10}"
          f" {'loss gap':>9}")
    results = {}
    for p, runs in histories.items():
        last = {key: float(np.mean([h[key][-1] for h in runs])) for key in runs[0]}
        last["acc_gap"] = last["train_acc"] - last["test_acc"]
        last["loss_gap"] = last["test_loss"] - last["train_loss"]
        results[p] = last
        print(f"{p:>8} {last['train_acc']:>10.4f} {last['test_acc']:>9.4f} {last['acc_gap']:>8.4f} "
              f"{last['train_loss']:>11.4f} {last['test_loss']:>10.4f} {last['loss_gap']:>9.4f}")
    for p, runs in histories.items():
        gaps = ", ".join(f"{h['train_acc'][-1] - h['test_acc'][-1]:.4f}" for h in runs)
        print(f"p = {p}: accuracy gap per seed: {gaps}")
    narrower = results[0.5]["acc_gap"] < results[0.0]["acc_gap"]
    print(f"dropout {'narrows' if narrower else 'does NOT narrow'} the accuracy gap: "
          f"{results[0.0]['acc_gap']:.4f} -> {results[0.5]['acc_gap']:.4f}")
    if args.plot:
        save_plot(histories, args.plot)
    return results


if __name__ == "__main__":
    main()
