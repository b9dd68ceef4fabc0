"""MC dropout (Gal & Ghahramani 2016): does the spread of dropout predictions grow where the model knows less?

    python examples/mc_dropout_uncertainty.py
    python examples/mc_dropout_uncertainty.py --quick       # 1 seed, 15 epochs, 20 MC samples
    python examples/mc_dropout_uncertainty.py --plot docs/images/mc_dropout_uncertainty.png

1. Regression: an MLP with dropout learns y = sin(x) + noise from x in [-3, 3]. `nn.mc_predict`
   keeps dropout on and returns the mean and std of 100 predictions on x in [-6, 6]; compare the
   std inside the training range with the std far outside it, for 3 seeds (the plot shows the first).
2. Classification: a dropout MLP trained on digits scores test digits and images of uniform noise
   by the predictive entropy of its mean softmax. AUROC is the probability that a random noise
   image gets a higher entropy than a random digit (0.5 = no better than chance), with MC dropout
   and with the single eval-mode softmax.
"""

import argparse

import numpy as np
from dropout_common import pyplot, small_digits, train
from train_mlp import build_mlp

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tinygrad_drop import nn
from tinygrad_drop.data import DataLoader

TRAIN_RANGE = 3.0


def regression(epochs, n_samples, seed):
    """Fit sin(x) on [-3, 3] with dropout, then MC-predict on [-6, 6]: (grid, mean, std, x_train, y_train)."""
    rng = np.random.default_rng(seed)
    x_train = rng.uniform(-TRAIN_RANGE, TRAIN_RANGE, (200, 1)).astype(np.float32)
    y_train = (np.sin(x_train) + 0.1 * rng.standard_normal(x_train.shape)).astype(np.float32)
    td.manual_seed(seed)
    model = build_mlp(1, [128, 128], 1, 0.1)
    optimizer = td.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(epochs):
        model.train()
        for xb, yb in DataLoader(x_train, y_train, batch_size=32, shuffle=True, seed=seed):
            loss = F.mse_loss(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    grid = np.linspace(-2 * TRAIN_RANGE, 2 * TRAIN_RANGE, 241, dtype=np.float32)[:, None]
    mean, std, _ = nn.mc_predict(model, td.Tensor(grid), n_samples)
    return grid[:, 0], mean.numpy()[:, 0], std.numpy()[:, 0], x_train[:, 0], y_train[:, 0]


def auroc(negatives, positives):
    """P(a random positive scores above a random negative), ties counting one half."""
    diff = np.asarray(positives)[:, None] - np.asarray(negatives)[None, :]
    return float((diff > 0).mean() + 0.5 * (diff == 0).mean())


def entropy(probs):
    return -(probs * np.log(np.maximum(probs, 1e-30))).sum(axis=1)


def classification(epochs, n_samples, seed):
    """Train a dropout MLP on digits; entropies (MC and eval-mode) on test digits and on noise images."""
    X_train, y_train, X_test, y_test = small_digits(1347, seed)
    td.manual_seed(seed)
    model = build_mlp(64, [256, 256], 10, 0.5)
    train(model, X_train, y_train, epochs, td.optim.Adam(model.parameters(), lr=1e-3), seed=seed)
    noise = np.random.default_rng(seed).uniform(0, 1, X_test.shape).astype(np.float32)
    scores = {}
    for name, X in (("digits", X_test), ("noise", noise)):
        mc = nn.mc_predict(model, td.Tensor(X), n_samples, classification=True)
        with td.no_grad():
            single = model.eval()(td.Tensor(X)).softmax(axis=-1).numpy()
        scores[name] = {"mc": mc.entropy.numpy(), "eval": entropy(single)}
        if name == "digits":
            scores["mc_accuracy"] = float((mc.mean.numpy().argmax(axis=1) == y_test).mean())
    return scores


def save_plot(reg, scores, path):
    plt = pyplot()
    if plt is None:
        return
    grid, mean, std, x_train, y_train = reg
    fig, (ax_reg, ax_cls) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax_reg.axvspan(-TRAIN_RANGE, TRAIN_RANGE, color="0.92", label="training range")
    ax_reg.scatter(x_train, y_train, s=5, color="0.5", label="training data")
    ax_reg.plot(grid, np.sin(grid), "k:", label="sin(x)")
    ax_reg.plot(grid, mean, color="tab:blue", label="MC mean")
    ax_reg.fill_between(grid, mean - 2 * std, mean + 2 * std, color="tab:blue", alpha=0.25, label="mean +- 2 std")
    ax_reg.set(xlabel="x", ylabel="y", title="regression: MC dropout, 100 samples", ylim=(-3, 3))
    ax_reg.legend(fontsize=7, loc="lower left")
    bins = np.linspace(0, np.log(10), 30)
    ax_cls.hist(scores["digits"]["mc"], bins=bins, alpha=0.6, label="test digits")
    ax_cls.hist(scores["noise"]["mc"], bins=bins, alpha=0.6, label="uniform noise images")
    ax_cls.set(xlabel="predictive entropy (nats; log 10 = 2.30 is uniform)", ylabel="images",
               title="classification: entropy of the MC mean softmax")
    ax_cls.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    print(f"saved {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=150, help="regression epochs (digits use a fifth)")
    parser.add_argument("--samples", type=int, default=100, help="MC forward passes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, default=3, help="regression runs, with seeds seed .. seed+seeds-1")
    parser.add_argument("--quick", action="store_true", help="15 epochs, 20 MC samples, 1 regression seed")
    parser.add_argument("--plot", metavar="PATH", help="save both panels as a PNG")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.samples, args.seeds = 15, 20, 1

    seeds = range(args.seed, args.seed + args.seeds)
    runs = [regression(args.epochs, args.samples, seed) for seed in seeds]
    result = {"std_inside": [], "std_outside": [], "rmse_inside": []}
    for seed, (grid, mean, std, _, _) in zip(seeds, runs, strict=True):
        inside, outside = np.abs(grid) <= TRAIN_RANGE, np.abs(grid) >= 1.5 * TRAIN_RANGE
        result["std_inside"].append(float(std[inside].mean()))
        result["std_outside"].append(float(std[outside].mean()))
        result["rmse_inside"].append(float(np.sqrt(np.mean((mean[inside] - np.sin(grid[inside])) ** 2))))
        print(f"regression, seed {seed} (trained on |x| <= {TRAIN_RANGE:g}): RMSE of the MC mean inside "
              f"{result['rmse_inside'][-1]:.3f}; mean MC std inside {result['std_inside'][-1]:.3f}, far outside "
              f"(|x| >= {1.5 * TRAIN_RANGE:g}) {result['std_outside'][-1]:.3f} "
              f"({result['std_outside'][-1] / result['std_inside'][-1]:.1f}x)")

    scores = classification(max(1, args.epochs // 5), args.samples, args.seed)
    result["mc_accuracy"] = scores["mc_accuracy"]
    for kind in ("mc", "eval"):
        result[f"entropy_digits_{kind}"] = float(scores["digits"][kind].mean())
        result[f"entropy_noise_{kind}"] = float(scores["noise"][kind].mean())
        result[f"auroc_{kind}"] = auroc(scores["digits"][kind], scores["noise"][kind])
    print(f"digits: MC accuracy {result['mc_accuracy']:.4f}; mean predictive entropy (nats) on test digits "
          f"{result['entropy_digits_mc']:.3f}, on noise images {result['entropy_noise_mc']:.3f}")
    print(f"noise-vs-digit AUROC from entropy: MC dropout {result['auroc_mc']:.3f}, "
          f"single eval-mode softmax {result['auroc_eval']:.3f}")
    if args.plot:
        save_plot(runs[0], scores, args.plot)
    return result


if __name__ == "__main__":
    main()
