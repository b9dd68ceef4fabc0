"""The "forgot model.eval()" bug, as numbers: test accuracy with dropout left on against eval mode.

    python examples/train_eval_bug.py
    python examples/train_eval_bug.py --quick
    python examples/train_eval_bug.py --plot docs/images/train_eval_bug.png

1. A dropout MLP (p = 0.5) is trained on digits, then tested three ways: in eval mode (right),
   in training mode (forgot model.eval(): every evaluation is a different random subnetwork),
   and in training mode twice on the same images, counting the predictions that change.
2. The functional form of the same bug: a module that calls F.dropout(x, p) in forward without
   `training=self.training`. model.eval() cannot reach it; nn.stochastic_sites does not list it
   (it is not a layer), and the framework warns once at the call site.
"""

import argparse
import warnings

import numpy as np
from dropout_common import evaluate, pyplot, small_digits, train
from train_mlp import build_mlp

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tinygrad_drop import nn


class FunctionalDropoutMLP(nn.Module):
    """The bug: F.dropout's training flag defaults to True, so eval() does not turn this dropout off."""

    def __init__(self, p):
        super().__init__()
        self.p = p
        self.fc1, self.fc2, self.fc3 = nn.Linear(64, 256), nn.Linear(256, 256), nn.Linear(256, 10)

    def forward(self, x):
        x = F.dropout(self.fc1(x).relu(), self.p)  # should be F.dropout(..., self.p, training=self.training)
        x = F.dropout(self.fc2(x).relu(), self.p)
        return self.fc3(x)


def accuracy_in_train_mode(model, X, y, repeats):
    """Accuracies of `repeats` evaluations with dropout on, as the bug runs them."""
    model.train()
    with td.no_grad():
        return np.array([(model(td.Tensor(X)).argmax(axis=1).numpy() == y).mean() for _ in range(repeats)])


def save_plot(eval_acc, buggy, path):
    """The accuracies of the runs with dropout left on, against the one eval-mode accuracy."""
    plt = pyplot()
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.hist(buggy, bins=10, color="tab:orange", label=f"dropout left on ({len(buggy)} runs)")
    ax.axvline(eval_acc, color="tab:blue", lw=2, label="model.eval()")
    ax.set(xlabel="test accuracy", ylabel="runs", title="forgetting model.eval()")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    print(f"saved {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--p", type=float, default=0.5)
    parser.add_argument("--repeats", type=int, default=20, help="evaluations with dropout left on")
    parser.add_argument("--quick", action="store_true", help="3 epochs, 5 repeats")
    parser.add_argument("--plot", metavar="PATH", help="save the accuracies as a PNG (needs matplotlib)")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.repeats = 3, 5

    X_train, y_train, X_test, y_test = small_digits(1347)
    td.manual_seed(0)
    model = build_mlp(64, [256, 256], 10, args.p)
    train(model, X_train, y_train, args.epochs, td.optim.Adam(model.parameters(), lr=1e-3))
    print("dropout sites after model.eval():", nn.stochastic_sites(model.eval()))
    eval_acc = evaluate(model, X_test, y_test)[1]
    buggy = accuracy_in_train_mode(model, X_test, y_test, args.repeats)
    with td.no_grad():
        first, second = (model(td.Tensor(X_test)).argmax(axis=1).numpy() for _ in range(2))  # still train mode
    result = {"eval_acc": eval_acc, "train_mode_acc": float(buggy.mean()), "train_mode_std": float(buggy.std()),
              "train_mode_min": float(buggy.min()), "flipped": float((first != second).mean())}
    print(f"test accuracy in eval mode (right):       {eval_acc:.4f}")
    print(f"test accuracy with dropout left on:       {buggy.mean():.4f} +- {buggy.std():.4f} over {args.repeats} "
          f"runs (worst {buggy.min():.4f})")
    print(f"predictions that change between two runs with dropout on: {result['flipped']:.2%}")

    td.manual_seed(0)
    functional = FunctionalDropoutMLP(args.p)
    train(functional, X_train, y_train, args.epochs, td.optim.Adam(functional.parameters(), lr=1e-3))
    print("functional dropout: nn.stochastic_sites lists", nn.stochastic_sites(functional))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        functional.eval()
        accs = [evaluate(functional, X_test, y_test)[1] for _ in range(3)]
    result["functional_eval_accs"] = accs
    result["warnings"] = [str(w.message) for w in caught]
    print(f"functional dropout after model.eval(): test accuracy {', '.join(f'{a:.4f}' for a in accs)} "
          f"(three evaluations, all with dropout on); {len(caught)} warnings, one per call site:")
    for w in caught:
        print(f"  {w.message}")
    if args.plot:
        save_plot(eval_acc, buggy, args.plot)
    return result


if __name__ == "__main__":
    main()
