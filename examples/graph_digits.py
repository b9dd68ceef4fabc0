"""Draw the graph of the digits MLP for one batch: each op, its output's shape and dtype, the bytes it
saves for backward (a dropout mask: one byte per element) and the gradient norm after backward.

    python examples/graph_digits.py                   # writes digits_graph.svg here (digits_graph.dot without Graphviz)
    python examples/graph_digits.py --out graph.dot   # the DOT text, no Graphviz needed
    python examples/graph_digits.py --out docs/images/digits_graph.svg   # the picture in docs/visualising.md
"""

import argparse
import shutil
from pathlib import Path

import numpy as np
from train_mlp import build_mlp

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tinygrad_drop.data import DataLoader, load_digits


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="digits_graph.svg",
                        help="where to draw it: .svg, .png or .pdf (needs Graphviz), or .dot (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--hidden", type=int, nargs="+", default=[256, 256], help="hidden widths: --hidden 256 256")
    args = parser.parse_args(argv)

    td.manual_seed(0)
    X, y = load_digits()
    xb, yb = next(iter(DataLoader(X / np.float32(16.0), y, batch_size=args.batch_size)))
    model = build_mlp(64, args.hidden, 10, dropout=0.5)
    with td.viz.trace():  # remember what each op saves and each gradient's norm
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
    out = Path(args.out)
    if out.suffix.lower() not in (".dot", ".gv") and shutil.which("dot") is None:
        out = out.with_suffix(".dot")
        print(f"Graphviz's `dot` program is not installed, so {args.out} cannot be drawn: writing the DOT text to "
              f"{out} instead. Install Graphviz (apt-get install graphviz, brew install graphviz, conda install "
              f"graphviz or winget install graphviz) and run again, or open {out} in any Graphviz viewer.")
    path = td.viz.render(loss, out, params=model)
    print(f"loss {loss.item():.4f}; the graph is in {path}")
    return path


if __name__ == "__main__":
    main()
