"""Two moons with one logit: an MLP trained with BCE-with-logits, and its decision boundary.

    python examples/moons_bce.py
    python examples/moons_bce.py --quick                          # fewer points and steps
    python examples/moons_bce.py --plot docs/images/moons_bce.png

A binary classifier needs one output, not two: the logit z, with p(class 1) = sigmoid(z).
`nn.BCEWithLogitsLoss` takes z directly and computes -[y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))]
in one stable op, so a confident wrong answer (|z| of a thousand) gives a large, finite loss instead
of log(0). The decision boundary is where z = 0, that is p = 0.5.
"""

import argparse

import numpy as np
from dropout_common import pyplot

import tinygrad_drop as td
from tinygrad_drop import nn
from tinygrad_drop.data import make_moons, train_test_split


def build_model(hidden=32):
    """2 inputs -> two SiLU hidden layers -> 1 logit."""
    return nn.Sequential(nn.Linear(2, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, 1))


def accuracy(model, X, y):
    """Fraction of points on the right side of the boundary z = 0."""
    with td.no_grad():
        z = model(td.tensor(X))[:, 0].numpy()
    return float(((z > 0) == (y == 1)).mean())


def train(n_samples, steps, seed=0):
    """Full-batch Adam on BCE-with-logits; returns (model, data split, loss per step)."""
    X, y = make_moons(n_samples, noise=0.2, seed=seed)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, seed=seed, stratify=y)
    td.manual_seed(seed)
    model = build_model()
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = td.optim.Adam(model.parameters(), lr=1e-2)
    x, target = td.tensor(X_train), td.tensor(y_train[:, None], dtype=td.float32)
    losses = []
    for _ in range(steps):
        loss = loss_fn(model(x), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return model, (X_train, X_test, y_train, y_test), losses


def plot_boundary(model, X, y, path):
    """p(class 1) over the plane, the boundary p = 0.5, and the points; saved to path."""
    plt = pyplot()
    if plt is None:
        return
    xs, ys = np.meshgrid(np.linspace(-1.6, 2.6, 200), np.linspace(-1.2, 1.7, 150))
    grid = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)
    with td.no_grad():
        p = model(td.tensor(grid)).sigmoid().numpy().reshape(xs.shape)
    fig, ax = plt.subplots(figsize=(6, 4.2))
    filled = ax.contourf(xs, ys, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
    ax.contour(xs, ys, p, levels=[0.5], colors="k", linewidths=1.5)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", edgecolors="k", s=18)
    fig.colorbar(filled, ax=ax, label="sigmoid(logit) = p(class 1)")
    ax.set_title("Two moons, one logit: the black line is logit = 0")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    print(f"saved {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 points and 150 steps (for CI)")
    parser.add_argument("--samples", type=int, default=None, help="number of points (default 1000)")
    parser.add_argument("--steps", type=int, default=None, help="full-batch Adam steps (default 600)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", help="save the decision boundary to this PNG file")
    args = parser.parse_args(argv)
    samples = args.samples or (300 if args.quick else 1000)
    steps = args.steps or (150 if args.quick else 600)
    model, (X_train, X_test, y_train, y_test), losses = train(samples, steps, args.seed)
    result = {"loss_first": losses[0], "loss_last": losses[-1],
              "train_acc": accuracy(model, X_train, y_train), "test_acc": accuracy(model, X_test, y_test)}
    print(f"{samples} points, {steps} steps: BCE-with-logits {losses[0]:.3f} -> {losses[-1]:.3f}, "
          f"train accuracy {result['train_acc']:.3f}, test accuracy {result['test_acc']:.3f}")
    if args.plot:
        plot_boundary(model, np.concatenate([X_train, X_test]), np.concatenate([y_train, y_test]), args.plot)
    return result


if __name__ == "__main__":
    main()
