"""Alpha dropout keeps a deep SELU network self-normalising; plain dropout does not. Per-layer statistics, 3 seeds.

    python examples/selu_alpha_dropout.py               # 16 SELU layers, 2 kinds of dropout x 3 seeds
    python examples/selu_alpha_dropout.py --quick       # 1 seed, 2 epochs
    python examples/selu_alpha_dropout.py --plot docs/images/selu_alpha_dropout.png

A self-normalising network (Klambauer et al. 2017): 16 blocks Linear -> SELU -> dropout (64 -> 128,
then 128 -> 128), a Linear head 128 -> 10, LeCun normal weights (N(0, 1 / fan_in)) and zero biases,
inputs standardised. SELU's fixed point is mean 0 and variance 1: a layer whose inputs have them
gives outputs that have them too. The dropout after each SELU is either
    AlphaDropout  dropped units take SELU's negative saturation value, then an affine map restores
                  mean 0 and variance 1 (nn.AlphaDropout)
    Dropout       dropped units become 0 and the rest are scaled by 1 / (1 - p) (nn.Dropout)
with p = 0.1. The statistics are the mean and variance over the test images and the units of each
block's output, in train mode (dropout on) and eval mode (dropout off), at initialisation and after
training (Adam, lr 1e-3, batches of 32, on a stratified 75/25 split of the 1,797 digits).
"""

import argparse

import numpy as np
from cnn_digits import step_down
from dropout_common import evaluate, pyplot, train

import tinygrad_drop as td
import tinygrad_drop.nn as nn
from tinygrad_drop.data import load_digits, train_test_split

DROPOUTS = {"AlphaDropout": nn.AlphaDropout, "Dropout": nn.Dropout}
MODES = ("train", "eval")


def build_snn(kind, p, depth=16, width=128):
    """depth blocks Linear -> SELU -> dropout of `kind`, then a Linear head, with LeCun normal weights."""
    blocks, fan_in = [], 64
    for _ in range(depth):
        blocks.append(nn.Sequential(nn.Linear(fan_in, width), nn.SELU(), DROPOUTS[kind](p)))
        fan_in = width
    model = nn.Sequential(*blocks, nn.Linear(width, 10))
    for layer in model.modules():
        if isinstance(layer, nn.Linear):  # LeCun normal: the weights SELU's fixed point assumes
            fan_in = layer.weight.shape[1]
            layer.weight.data[...] = td.randn(*layer.weight.shape).data / np.float32(np.sqrt(fan_in))
            layer.bias.data[...] = 0
    return model


def standardised_digits(seed):
    """A stratified 75/25 split of the digits, each pixel standardised with the training set's mean and std."""
    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=seed, stratify=y)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std[std == 0] = 1  # pixels that are blank in every training image stay 0
    return (X_train - mean) / std, y_train, (X_test - mean) / std, y_test


def layer_statistics(model, X, mode):
    """(means, variances): of each block's output over all images and units, with the model in `mode`."""
    getattr(model, mode)()
    means, variances = [], []
    with td.no_grad():
        h = td.Tensor(X)
        for block in list(model)[:-1]:
            h = block(h)
            means.append(float(h.numpy().mean()))
            variances.append(float(h.numpy().var()))
    return np.array(means), np.array(variances)


def run(kind, seed, epochs, p, lr):
    """Statistics per stage ("init", "trained") and mode, and the test accuracy, for one seed."""
    X_train, y_train, X_test, y_test = standardised_digits(seed)
    td.manual_seed(seed)
    model = build_snn(kind, p)
    stats = {("init", mode): layer_statistics(model, X_test, mode) for mode in MODES}
    optimizer = td.optim.Adam(model.parameters(), lr=lr)
    train(model, X_train, y_train, epochs, optimizer, seed=seed, on_epoch=step_down(optimizer, epochs))
    stats.update({("trained", mode): layer_statistics(model, X_test, mode) for mode in MODES})
    return stats, evaluate(model, X_test, y_test)[1]


def save_plot(curves, path):
    """Mean and variance against depth, at init and after training, for each dropout kind and mode."""
    plt = pyplot()
    if plt is None:
        return
    fig, axes = plt.subplots(2, 2, figsize=(10, 6), sharex=True)
    styles = {("AlphaDropout", "train"): ("tab:blue", "-"), ("AlphaDropout", "eval"): ("tab:blue", "--"),
              ("Dropout", "train"): ("tab:red", "-"), ("Dropout", "eval"): ("tab:red", "--")}
    for col, stage in enumerate(("init", "trained")):
        for (kind, mode), (color, line) in styles.items():
            means, variances = curves[kind, stage, mode]
            layers = np.arange(1, len(means) + 1)
            axes[0, col].plot(layers, means, color=color, ls=line, marker=".", label=f"{kind}, {mode} mode")
            axes[1, col].plot(layers, variances, color=color, ls=line, marker=".")
        axes[0, col].axhline(0.0, color="grey", lw=0.8)
        axes[1, col].axhline(1.0, color="grey", lw=0.8)
        axes[0, col].set_title("at initialisation" if stage == "init" else "after training")
        axes[1, col].set_xlabel("SELU layer")
    axes[0, 0].set_ylabel("activation mean")
    axes[1, 0].set_ylabel("activation variance")
    axes[0, 0].legend(fontsize=8)
    for ax in axes.ravel():
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    print(f"saved {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--p", type=float, default=0.1, help="drop probability of both kinds of dropout")
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam's learning rate")
    parser.add_argument("--quick", action="store_true", help="1 seed, 2 epochs")
    parser.add_argument("--plot", metavar="PATH", help="save the per-layer curves as a PNG")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.seeds = min(args.epochs, 2), 1

    print(f"16 SELU layers, p = {args.p}, {args.epochs} epochs, {args.seeds} seed(s); mean +- std over seeds")
    print(f"{'dropout':<14}{'stage':<9}{'mode':<7}{'last mean':>18}{'last variance':>18}"
          f"{'max |mean|':>12}{'max |var - 1|':>15}")
    curves, summary = {}, {}
    for kind in DROPOUTS:
        runs = [run(kind, seed, args.epochs, args.p, args.lr) for seed in range(args.seeds)]
        for stage in ("init", "trained"):
            for mode in MODES:
                means = np.array([stats[stage, mode][0] for stats, _ in runs])
                variances = np.array([stats[stage, mode][1] for stats, _ in runs])
                curves[kind, stage, mode] = (means.mean(axis=0), variances.mean(axis=0))
                row = summary[kind, stage, mode] = {
                    "last_mean": float(means[:, -1].mean()), "last_mean_std": float(means[:, -1].std()),
                    "last_var": float(variances[:, -1].mean()), "last_var_std": float(variances[:, -1].std()),
                    "max_abs_mean": float(np.abs(means).max(axis=1).mean()),
                    "max_var_error": float(np.abs(variances - 1).max(axis=1).mean())}
                print(f"{kind:<14}{stage:<9}{mode:<7}{row['last_mean']:>+10.3f} +- {row['last_mean_std']:.3f}"
                      f"{row['last_var']:>10.3f} +- {row['last_var_std']:.3f}{row['max_abs_mean']:>12.3f}"
                      f"{row['max_var_error']:>15.3f}")
        accuracy = np.array([acc for _, acc in runs])
        summary[kind, "test_acc"] = (float(accuracy.mean()), float(accuracy.std()))
    for kind in DROPOUTS:
        mean, std = summary[kind, "test_acc"]
        print(f"test accuracy with {kind}: {mean:.4f} +- {std:.4f}")
    if args.plot:
        save_plot(curves, args.plot)
    return summary


if __name__ == "__main__":
    main()
