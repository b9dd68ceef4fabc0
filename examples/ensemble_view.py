"""The ensemble view of dropout, made exact: every one of the 2^8 subnetworks of a tiny network.

    python examples/ensemble_view.py                 # two nets, p = 0.2 and 0.5, T up to 1024
    python examples/ensemble_view.py --quick         # p = 0.5, 5 epochs, T up to 64
    python examples/ensemble_view.py --plot docs/images/ensemble_view.png

Dropout with p on 8 hidden units samples one of 2^8 = 256 masks m, each with probability
P(m) = (1 - p)^kept * p^dropped. So the "implicit ensemble" can be enumerated exactly:
    arithmetic mean   AM(x) = sum_m P(m) softmax(f_m(x))
    geometric mean    GM(x) = exp(sum_m P(m) log softmax(f_m(x))), renormalised to sum to 1
and compared with weight-scaling inference (eval mode: one pass with no mask, which inverted
dropout's 1/(1 - p) has already scaled) and with MC averages of T random masks.
Net A has dropout right before the output layer: its logits are linear in m, so weight scaling
equals the geometric mean exactly. Net B has a ReLU layer after the dropout: then it is only close.
The error is the mean total-variation distance 0.5 * sum_c |q_c - AM_c| over the test images.
"""

import argparse
import itertools

import numpy as np
from dropout_common import pyplot, small_digits, train

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tinygrad_drop import nn

HIDDEN = 8
NETS = {"net A: dropout -> output layer": False, "net B: dropout -> ReLU layer -> output": True}


def build(after_dropout, p):
    """64 -> 8 (ReLU) -> Dropout(p) -> 10, with an extra 16-unit ReLU layer after the dropout if asked."""
    head = [nn.Linear(HIDDEN, 16), nn.ReLU(), nn.Linear(16, 10)] if after_dropout else [nn.Linear(HIDDEN, 10)]
    return nn.Sequential(nn.Linear(64, HIDDEN), nn.ReLU(), nn.Dropout(p), *head)


def exact_means(model, X, p):
    """The exact arithmetic and geometric means of the softmax over all 2^HIDDEN masks (float64)."""
    with td.no_grad():
        features = model[:2](td.Tensor(X))  # everything before the dropout
        head = model[3:]
        arithmetic, log_geometric = 0.0, 0.0
        for bits in itertools.product((False, True), repeat=HIDDEN):
            mask = np.array([bits])  # (1, HIDDEN): one mask shared by every image
            weight = (1 - p) ** mask.sum() * p ** (HIDDEN - mask.sum())
            log_probs = head(F.dropout(features, p, mask=mask)).log_softmax(axis=-1).numpy()
            arithmetic = arithmetic + weight * np.exp(log_probs)
            log_geometric = log_geometric + weight * log_probs
    geometric = np.exp(log_geometric)
    return arithmetic, geometric / geometric.sum(axis=1, keepdims=True)


def tv(q, r):
    """Mean total-variation distance between two sets of class distributions (rows)."""
    return float(0.5 * np.abs(q - r).sum(axis=1).mean())


def study(after_dropout, p, epochs, sample_counts, repeats, seed=0):
    """Train one tiny net, then compare weight scaling and MC averages with the exact ensemble."""
    X_train, y_train, X_test, y_test = small_digits(1347, seed)
    td.manual_seed(seed)
    model = build(after_dropout, p)
    train(model, X_train, y_train, epochs, td.optim.Adam(model.parameters(), lr=1e-2), seed=seed)
    model.double()
    X64 = X_test.astype(np.float64)
    arithmetic, geometric = exact_means(model, X64, p)
    with td.no_grad():
        scaled = model.eval()(td.Tensor(X64)).softmax(axis=-1).numpy()
    mc_error = {T: np.mean([tv(nn.mc_predict(model, td.Tensor(X64), T, classification=True).mean.numpy(),
                                arithmetic) for _ in range(repeats)]) for T in sample_counts}
    return {
        "ws_vs_am": tv(scaled, arithmetic), "ws_vs_gm": tv(scaled, geometric), "gm_vs_am": tv(geometric, arithmetic),
        "mc_vs_am": mc_error,
        "accuracy": {name: float((q.argmax(axis=1) == y_test).mean())
                     for name, q in (("AM", arithmetic), ("GM", geometric), ("weight scaling", scaled))},
    }


def save_plot(results, sample_counts, path):
    """MC error against T (log-log), with weight scaling's error as a dashed line, one panel per net."""
    plt = pyplot()
    if plt is None:
        return
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, net in zip(axes, NETS, strict=True):
        for (name, p), r in results.items():
            if name != net:
                continue
            line, = ax.loglog(sample_counts, [r["mc_vs_am"][T] for T in sample_counts], "o-", ms=3,
                              label=f"p = {p}: MC average of T masks")
            ax.axhline(r["ws_vs_am"], color=line.get_color(), ls="--", label=f"p = {p}: weight scaling (eval)")
        ax.set(xlabel="T (forward passes)", title=net)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    axes[0].set_ylabel("distance to exact ensemble mean (TV)")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    print(f"saved {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--p", type=float, nargs="+", default=[0.2, 0.5], help="drop probabilities to study")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--max-samples", type=int, default=1024, help="largest T, a power of 2")
    parser.add_argument("--repeats", type=int, default=5, help="MC runs averaged per T")
    parser.add_argument("--quick", action="store_true", help="p = 0.5 only, 5 epochs, T up to 64, 2 repeats")
    parser.add_argument("--plot", metavar="PATH", help="save the error-against-T plot as a PNG")
    args = parser.parse_args(argv)
    if args.quick:
        args.p, args.epochs, args.max_samples, args.repeats = [0.5], 5, 64, 2
    sample_counts = [2**k for k in range(int(np.log2(args.max_samples)) + 1)]

    results = {}
    for (net, after), p in itertools.product(NETS.items(), args.p):
        r = results[net, p] = study(after, p, args.epochs, sample_counts, args.repeats)
        print(f"{net}, p = {p}  ({2**HIDDEN} subnetworks)")
        print(f"  weight scaling vs exact arithmetic mean: {r['ws_vs_am']:.2e}   "
              f"vs exact geometric mean: {r['ws_vs_gm']:.2e}   (geometric vs arithmetic: {r['gm_vs_am']:.2e})")
        beaten = [T for T in sample_counts if r["mc_vs_am"][T] < r["ws_vs_am"]]
        print("  MC average of T masks vs exact arithmetic mean: "
              + ", ".join(f"T={T}: {r['mc_vs_am'][T]:.2e}" for T in sample_counts))
        print(f"  MC needs T >= {beaten[0]} to beat weight scaling" if beaten
              else f"  no T up to {sample_counts[-1]} beats weight scaling")
        print("  test accuracy: " + ", ".join(f"{k} {v:.4f}" for k, v in r["accuracy"].items()))
    if args.plot:
        save_plot(results, sample_counts, args.plot)
    return results


if __name__ == "__main__":
    main()
