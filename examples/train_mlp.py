"""Train an MLP with dropout on the bundled 8x8 digits, after checking its gradients by finite differences.

    python examples/train_mlp.py                  # defaults: 64-256-256-10, dropout 0.5, Adam
    python examples/train_mlp.py --dropout 0 --epochs 10 --plot curves.png

Steps: (1) build the model, (2) gradcheck a float64 copy of it on a small batch with dropout
active, one line per parameter, (3) train, evaluating in eval() mode after every epoch,
(4) optionally save the training curves as a PNG.

It runs NumPy's BLAS on one thread unless you set OMP_NUM_THREADS, OPENBLAS_NUM_THREADS or
MKL_NUM_THREADS yourself: this model's matrix products are small (32 x 256 x 256), so extra BLAS
threads only wait for each other, and on a busy machine they make training up to 20 times slower.
"""

import argparse
import os
import time
from copy import deepcopy

BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
if __name__ == "__main__" and not any(name in os.environ for name in BLAS_THREAD_VARIABLES):
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = "1"  # read once, when NumPy loads BLAS

import numpy as np

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tinygrad_drop import nn
from tinygrad_drop.data import DataLoader, load_digits, train_test_split


def build_mlp(in_features, hidden, out_features, dropout):
    """Linear -> ReLU -> Dropout for each hidden width, then a Linear classifier."""
    layers, width = [], in_features
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(dropout)]
        width = h
    layers.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers)


def check_gradients(model, x, y, max_elements=64):
    """Gradcheck a float64 copy of `model` in training mode (dropout on), one line per tensor."""
    copy = deepcopy(model).double().train()
    x64 = td.Tensor(x.numpy(), dtype=td.float64, requires_grad=True)
    loss = lambda inp: F.cross_entropy(copy(inp), y)  # noqa: E731
    print(f"gradcheck (float64, dropout active, central differences, up to {max_elements} elements per tensor):")
    all_ok = True
    for name, tensor in [("input", None)] + list(copy.named_parameters()):
        params = None if tensor is None else {name: tensor}
        inputs = [x64] if tensor is None else [x64.detach()]
        try:
            td.gradcheck(loss, inputs, params=params, max_elements=max_elements)
            status = "pass"
        except td.GradcheckError as err:
            status, all_ok = "FAIL\n" + str(err), False
        shape = x64.shape if tensor is None else tensor.shape
        print(f"  {name:<10} {str(shape):<12} {status}")
    return all_ok


def evaluate(model, loader, device):
    """Mean loss and accuracy over a loader, in eval mode and without building a graph."""
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with td.no_grad():
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            logits = model(xb)
            total_loss += F.cross_entropy(logits, yb, reduction="sum").item()
            correct += int((logits.argmax(axis=1) == yb).sum().item())
            count += len(yb)
    return total_loss / count, correct / count


def progress(iterable, enabled, desc):
    """Wrap with a tqdm bar when tqdm is installed and the output is a terminal; otherwise return the iterable.

    disable=None turns the bar off when stderr is not a terminal (piped or redirected to a file),
    where each redraw would leave a stale line before every epoch's summary.
    """
    if not enabled:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, desc=desc, leave=False, disable=None)


def save_plot(history, path):
    """Save loss and accuracy curves, if matplotlib is installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print('matplotlib is not installed, so no plot was saved: pip install "tinygrad_drop[examples]"')
        return
    epochs = range(1, len(history["train_loss"]) + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(epochs, history["train_loss"], label="train")
    ax_loss.plot(epochs, history["test_loss"], label="test")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    ax_acc.plot(epochs, history["train_acc"], label="train")
    ax_acc.plot(epochs, history["test_acc"], label="test")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"saved training curves to {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--lr", type=float, default=2e-3, help="Adam step size (x0.1 in the last quarter)")
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--hidden", type=int, nargs="+", default=[256, 256], help="hidden widths: --hidden 256 256")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--no-gradcheck", action="store_true", help="skip the gradient check before training")
    parser.add_argument("--plot", metavar="PATH", help="save the training curves as a PNG (needs matplotlib)")
    parser.add_argument("--no-progress", action="store_true", help="plain per-epoch lines, no progress bar")
    args = parser.parse_args(argv)

    td.manual_seed(args.seed)
    X, y = load_digits()
    X = X / np.float32(16.0)  # pixels 0..16 -> [0, 1]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=args.seed)
    train_loader = DataLoader(X_train, y_train, batch_size=args.batch_size, shuffle=True, seed=args.seed)
    train_eval_loader = DataLoader(X_train, y_train, batch_size=512)
    test_loader = DataLoader(X_test, y_test, batch_size=512)
    print(f"digits: {len(X_train)} training and {len(X_test)} test images of 8x8 pixels, 10 classes")

    model = build_mlp(64, args.hidden, 10, args.dropout)
    print(model)
    print(f"{sum(p.size for p in model.parameters()):,} parameters")

    if not args.no_gradcheck:
        xb, yb = next(iter(DataLoader(X_train, y_train, batch_size=8)))
        if not check_gradients(model, xb, yb):
            raise SystemExit("gradient check failed: see the report above")

    model.to(args.device)
    optimizer = td.optim.Adam(model.parameters(), lr=args.lr)
    history = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": []}
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        if epoch == int(0.75 * args.epochs) + 1:  # a smaller step for the last quarter steadies the result
            for group in optimizer.param_groups:
                group["lr"] = args.lr * 0.1
        model.train()
        for xb, yb in progress(train_loader, not args.no_progress, f"epoch {epoch}/{args.epochs}"):
            xb, yb = xb.to(args.device), yb.to(args.device)
            loss = F.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        for split, loader in (("train", train_eval_loader), ("test", test_loader)):
            split_loss, split_acc = evaluate(model, loader, args.device)
            history[f"{split}_loss"].append(split_loss)
            history[f"{split}_acc"].append(split_acc)
        print(f"epoch {epoch:3d}  train loss {history['train_loss'][-1]:.4f}  acc {history['train_acc'][-1]:.4f}"
              f"  |  test loss {history['test_loss'][-1]:.4f}  acc {history['test_acc'][-1]:.4f}")
    elapsed = time.perf_counter() - start
    print(f"final test accuracy: {history['test_acc'][-1]:.4f}  (training took {elapsed:.1f} s)")
    if args.plot:
        save_plot(history, args.plot)
    return history


if __name__ == "__main__":
    main()
