"""Dropout and every alternative in the usual table, run for real on 300 digits, over 3 seeds.

    python examples/regularisers.py                  # 10 settings x 3 seeds x 100 epochs (a few minutes)
    python examples/regularisers.py --quick          # 1 seed, 8 epochs
    python examples/regularisers.py --plot docs/images/regularisers.png

Every setting trains the same MLP (64-256-256-10, lr 1e-3, batch 32) on the same 300 training
images per seed and is tested on the other 1,497:
    none                   Adam, nothing else
    dropout                p = 0.5 after each hidden layer
    weight decay           AdamW, decoupled weight decay 0.1
    batch norm             BatchNorm1d after each hidden Linear, before the ReLU
    data augmentation      each training image shifted by up to 1 pixel on each axis (td.data.RandomShift)
    residual MLP           the reference for DropPath: a Linear stem 64 -> 256, 2 pre-activation residual
                           blocks (256 -> 256 -> 256, as in examples/drop_path_depth.py), ReLU, Linear head
    DropPath               that residual MLP with each block's branch dropped per sample, at the linear
                           depth rule's rates 0.1 and 0.2
    label smoothing        cross-entropy with label_smoothing = 0.1
    early stopping         20% of the 300 images held out for validation; stop when the validation
                           loss has not improved for 10 epochs and keep the best epoch's weights
    dropout + weight decay both
The gap is train minus test accuracy (train accuracy on the images the model trained on).
"""

import argparse

import numpy as np
from drop_path_depth import ResidualMLP
from dropout_common import evaluate, pyplot, small_digits, train
from train_mlp import build_mlp

import tinygrad_drop as td
import tinygrad_drop.nn as nn
from tinygrad_drop.data import RandomShift


def setting(p=0.0, weight_decay=0.0, smoothing=0.0, early_stopping=False, batch_norm=False, augment=False,
            residual=False, drop_path=0.0):
    """One row of the table: every regulariser off unless given."""
    return {"p": p, "weight_decay": weight_decay, "smoothing": smoothing, "early_stopping": early_stopping,
            "batch_norm": batch_norm, "augment": augment, "residual": residual, "drop_path": drop_path}


SETTINGS = {
    "none": setting(),
    "dropout": setting(p=0.5),
    "weight decay": setting(weight_decay=0.1),
    "batch norm": setting(batch_norm=True),
    "data augmentation": setting(augment=True),
    "residual MLP": setting(residual=True),
    "DropPath (residual MLP)": setting(residual=True, drop_path=0.2),
    "label smoothing": setting(smoothing=0.1),
    "early stopping": setting(early_stopping=True),
    "dropout + weight decay": setting(p=0.5, weight_decay=0.1),
}
PATIENCE = 10


def build_model(config):
    """The 64-256-256-10 MLP (with batch norm if asked), or the residual MLP of the same width."""
    if config["residual"]:
        return ResidualMLP(64, 256, 10, 2, p_drop_path=config["drop_path"])
    if not config["batch_norm"]:
        return build_mlp(64, [256, 256], 10, config["p"])
    layers, width = [], 64
    for hidden in (256, 256):
        layers += [nn.Linear(width, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Dropout(config["p"])]
        width = hidden
    return nn.Sequential(*layers, nn.Linear(width, 10))


def run(name, seed, epochs, n_train):
    """Train one setting with one seed; return (train accuracy, test accuracy, epochs trained)."""
    config = SETTINGS[name]
    early_stopping = config["early_stopping"]
    X_train, y_train, X_test, y_test = small_digits(n_train, seed)
    if early_stopping:
        n_val = n_train // 5
        X_val, y_val, X_train, y_train = X_train[:n_val], y_train[:n_val], X_train[n_val:], y_train[n_val:]
    td.manual_seed(seed)
    model = build_model(config)
    optimizer = td.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=config["weight_decay"])
    best = {"loss": float("inf"), "epoch": epochs, "state": None}

    def stop_early(epoch):
        """Keep the weights of the best validation epoch; True once PATIENCE epochs passed without one."""
        loss, _ = evaluate(model, X_val, y_val)
        if loss < best["loss"]:
            best.update(loss=loss, epoch=epoch, state={k: v.numpy().copy() for k, v in model.state_dict().items()})
        return epoch - best["epoch"] >= PATIENCE

    train(model, X_train, y_train, epochs, optimizer, seed=seed, label_smoothing=config["smoothing"],
          on_epoch=stop_early if early_stopping else None, transform=RandomShift(1) if config["augment"] else None)
    if early_stopping:
        model.load_state_dict(best["state"])
    return evaluate(model, X_train, y_train)[1], evaluate(model, X_test, y_test)[1], best["epoch"]


def save_plot(table, path):
    """Test accuracy (mean and each seed) and gap per setting, as horizontal bars."""
    plt = pyplot()
    if plt is None:
        return
    names = list(table)
    fig, (ax_acc, ax_gap) = plt.subplots(1, 2, figsize=(10, 3.4), sharey=True)
    rows = np.arange(len(names))
    ax_acc.barh(rows, [table[n]["test_acc"] for n in names], xerr=[table[n]["test_std"] for n in names],
                color="tab:blue")
    ax_acc.set(yticks=rows, yticklabels=names, xlabel="test accuracy (mean +- std over seeds)",
               xlim=(min(table[n]["test_acc"] for n in names) - 0.03, 1.0))
    ax_gap.barh(rows, [table[n]["gap"] for n in names], color="tab:orange")
    ax_gap.set(xlabel="generalisation gap: train - test accuracy")
    ax_acc.invert_yaxis()  # the first setting on top (the y axis is shared)
    for ax in (ax_acc, ax_gap):
        ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    print(f"saved {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-train", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="1 seed and 8 epochs, for a smoke test")
    parser.add_argument("--plot", metavar="PATH", help="save the table as a bar chart PNG")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.seeds = 8, 1

    print(f"{args.n_train} training digits, {args.epochs} epochs at most, {args.seeds} seed(s)")
    print(f"{'setting':<24}{'test accuracy':>18}{'train accuracy':>16}{'gap':>8}")
    table = {}
    for setting in SETTINGS:
        runs = np.array([run(setting, seed, args.epochs, args.n_train) for seed in range(args.seeds)])
        train_acc, test_acc = runs[:, 0], runs[:, 1]
        table[setting] = {"test_acc": float(test_acc.mean()), "test_std": float(test_acc.std()),
                          "train_acc": float(train_acc.mean()), "gap": float((train_acc - test_acc).mean())}
        row = table[setting]
        stopped = (f"  (best epochs {', '.join(str(int(e)) for e in runs[:, 2])})"
                   if SETTINGS[setting]["early_stopping"] else "")
        print(f"{setting:<24}{row['test_acc']:>10.4f} +- {row['test_std']:.4f}{row['train_acc']:>16.4f}"
              f"{row['gap']:>8.4f}{stopped}")
    if args.plot:
        save_plot(table, args.plot)
    return table


if __name__ == "__main__":
    main()
