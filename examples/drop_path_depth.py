"""DropPath against dropout in deep residual MLPs: test accuracy against depth, on 300 digits, over 3 seeds.

    python examples/drop_path_depth.py                # depths 2..32, 3 settings x 3 seeds (a few minutes)
    python examples/drop_path_depth.py --quick        # depths 2 and 16, 1 seed, 5 epochs
    python examples/drop_path_depth.py --plot docs/images/drop_path_depth.png

The network: a Linear stem 64 -> 128, `depth` pre-activation residual blocks
x + branch(x) with branch(x) = fc2(dropout(relu(fc1(relu(x))))) (128 -> 128 -> 128), then ReLU and a
Linear head 128 -> 10. Adam, lr 1e-3, batches of 32, on 300 training digits, tested on the other 1,497.
    none      plain residual blocks
    dropout   p = 0.2 inside every branch, after its first ReLU
    DropPath  the whole branch dropped per sample, with the linear depth rule of Huang et al. (2016):
              block l of L drops with probability 0.3 * l / L, so the last block is dropped most
"""

import argparse

import numpy as np
from dropout_common import evaluate, pyplot, small_digits, train

import tinygrad_drop as td
import tinygrad_drop.nn as nn
import tinygrad_drop.nn.functional as F

SETTINGS = {  # name: (dropout p inside each branch, DropPath p of the last block)
    "none": (0.0, 0.0),
    "dropout": (0.2, 0.0),
    "DropPath": (0.0, 0.3),
}
DEPTHS = [2, 4, 8, 16, 32]


class ResidualBlock(nn.Module):
    """x + drop_path(fc2(dropout(relu(fc1(relu(x)))))): a pre-activation residual block of an MLP."""

    def __init__(self, width, p_dropout=0.0, p_drop_path=0.0):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(width, width), nn.Linear(width, width)
        self.dropout, self.drop_path = nn.Dropout(p_dropout), nn.DropPath(p_drop_path)

    def forward(self, x):
        return x + self.drop_path(self.fc2(self.dropout(F.relu(self.fc1(F.relu(x))))))


class ResidualMLP(nn.Module):
    """Linear stem, `depth` ResidualBlocks (DropPath rates by the linear depth rule), ReLU, Linear head."""

    def __init__(self, in_features, width, out_features, depth, p_dropout=0.0, p_drop_path=0.0):
        super().__init__()
        self.stem = nn.Linear(in_features, width)
        rates = nn.drop_path_schedule(depth, p_drop_path)
        self.blocks = nn.Sequential(*(ResidualBlock(width, p_dropout, p) for p in rates))
        self.head = nn.Linear(width, out_features)

    def forward(self, x):
        return self.head(F.relu(self.blocks(self.stem(x))))


def run(setting, depth, seed, epochs, n_train):
    """Train one setting at one depth with one seed; return (train accuracy, test accuracy)."""
    p_dropout, p_drop_path = SETTINGS[setting]
    X_train, y_train, X_test, y_test = small_digits(n_train, seed)
    td.manual_seed(seed)
    model = ResidualMLP(64, 128, 10, depth, p_dropout, p_drop_path)
    train(model, X_train, y_train, epochs, td.optim.Adam(model.parameters(), lr=1e-3), seed=seed)
    return evaluate(model, X_train, y_train)[1], evaluate(model, X_test, y_test)[1]


def save_plot(table, depths, path):
    """Test accuracy against depth, one line per setting, with the spread over seeds as error bars."""
    plt = pyplot()
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for setting in SETTINGS:
        ax.errorbar(depths, [table[setting, d]["test_acc"] for d in depths],
                    yerr=[table[setting, d]["test_std"] for d in depths], marker="o", capsize=3, label=setting)
    ax.set_xscale("log", base=2)
    ax.minorticks_off()
    ax.set(xticks=depths, xticklabels=[str(d) for d in depths], xlabel="residual blocks",
           ylabel="test accuracy (mean +- std)", title="residual MLP on 300 digits")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    print(f"saved {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-train", type=int, default=300)
    parser.add_argument("--depths", type=int, nargs="+", default=DEPTHS)
    parser.add_argument("--quick", action="store_true", help="depths 2 and 16, 1 seed, 5 epochs")
    parser.add_argument("--plot", metavar="PATH", help="save accuracy against depth as a PNG")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.seeds, args.depths = min(args.epochs, 5), 1, [2, 16]

    print(f"{args.n_train} training digits, {args.epochs} epochs, {args.seeds} seed(s); test accuracy (mean +- std)")
    print(f"{'blocks':>6}" + "".join(f"{s:>20}" for s in SETTINGS) + f"{'DropPath - none':>18}")
    table = {}
    for depth in args.depths:
        cells = []
        for setting in SETTINGS:
            runs = np.array([run(setting, depth, seed, args.epochs, args.n_train) for seed in range(args.seeds)])
            table[setting, depth] = {"test_acc": float(runs[:, 1].mean()), "test_std": float(runs[:, 1].std()),
                                     "train_acc": float(runs[:, 0].mean())}
            cells.append(f"{table[setting, depth]['test_acc']:.4f} +- {table[setting, depth]['test_std']:.4f}")
        advantage = table["DropPath", depth]["test_acc"] - table["none", depth]["test_acc"]
        print(f"{depth:>6}" + "".join(f"{c:>20}" for c in cells) + f"{advantage:>+18.4f}")
    if args.plot:
        save_plot(table, args.depths, args.plot)
    return table


if __name__ == "__main__":
    main()
