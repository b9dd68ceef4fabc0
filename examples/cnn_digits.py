"""A small CNN on the 8x8 digits: dropout before the final FC layer, Dropout2d, batch norm and augmentation.

    python examples/cnn_digits.py                 # 6 variants x 3 seeds x 20 epochs (several minutes)
    python examples/cnn_digits.py --quick         # 1 seed, 5 epochs, 500 training images
    python examples/cnn_digits.py --plot docs/images/cnn_digits.png

Every variant trains the same network on a stratified 75/25 split of the 1,797 digits (1,347
training images, 450 test images; a new split per seed), with Adam (lr 2e-3, x0.1 for the last
quarter of the epochs) and batches of 32:

    conv 3x3 1->16, ReLU, conv 3x3 16->32, ReLU, max-pool 2 -> 32 x 4 x 4
    conv 3x3 32->64, ReLU, max-pool 2 -> 64 x 2 x 2, flatten, FC 256->128, ReLU, FC 128->10

    none                      the network as it is
    dropout before FC         p = 0.5 before the final FC layer (the VGG / AlexNet habit)
    Dropout2d                 whole channels dropped (p = 0.2) after each max-pool
    batch norm                BatchNorm2d after every convolution
    augmentation              each training image shifted by up to 1 pixel on each axis
    batch norm + augmentation both
The gap is train minus test accuracy (train accuracy without augmentation, in eval mode).
"""

import argparse

import numpy as np
from dropout_common import evaluate, train
from regularisers import save_plot

import tinygrad_drop as td
import tinygrad_drop.nn as nn
from tinygrad_drop.data import RandomShift, load_digits, train_test_split

VARIANTS = {  # name: (dropout before the final FC, Dropout2d, batch norm, augmentation)
    "none": (0.0, 0.0, False, False),
    "dropout before FC": (0.5, 0.0, False, False),
    "Dropout2d": (0.0, 0.2, False, False),
    "batch norm": (0.0, 0.0, True, False),
    "augmentation": (0.0, 0.0, False, True),
    "batch norm + augmentation": (0.0, 0.0, True, True),
}


def conv_block(in_channels, out_channels, batch_norm):
    """3x3 convolution (padding 1, so the size stays), optional batch norm, ReLU."""
    norm = [nn.BatchNorm2d(out_channels)] if batch_norm else []
    return [nn.Conv2d(in_channels, out_channels, 3, padding=1), *norm, nn.ReLU()]


def build_cnn(p_fc=0.0, p_channels=0.0, batch_norm=False):
    """The small CNN of this example for (N, 1, 8, 8) images; identity layers where a variant is off."""
    return nn.Sequential(
        *conv_block(1, 16, batch_norm), *conv_block(16, 32, batch_norm), nn.MaxPool2d(2), nn.Dropout2d(p_channels),
        *conv_block(32, 64, batch_norm), nn.MaxPool2d(2), nn.Dropout2d(p_channels),
        nn.Flatten(), nn.Linear(64 * 2 * 2, 128), nn.ReLU(), nn.Dropout(p_fc), nn.Linear(128, 10),
    )


def digits_split(seed, n_train=None):
    """(X_train, y_train, X_test, y_test): a stratified 75/25 split, images (N, 1, 8, 8) in [0, 1].

    n_train, if given, keeps only that many of the training images (for quick runs).
    """
    X, y = load_digits()
    X = (X / np.float32(16.0)).reshape(-1, 1, 8, 8)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=seed, stratify=y)
    return X_train[:n_train], y_train[:n_train], X_test, y_test


def step_down(optimizer, epochs):
    """An on_epoch callback that multiplies the learning rate by 0.1 after three quarters of the epochs."""
    def on_epoch(epoch):
        if epoch == int(0.75 * epochs):
            for group in optimizer.param_groups:
                group["lr"] *= 0.1
        return False
    return on_epoch


def run(variant, seed, epochs, n_train=None):
    """Train one variant with one seed; return (train accuracy, test accuracy)."""
    p_fc, p_channels, batch_norm, augment = VARIANTS[variant]
    X_train, y_train, X_test, y_test = digits_split(seed, n_train)
    td.manual_seed(seed)
    model = build_cnn(p_fc, p_channels, batch_norm)
    optimizer = td.optim.Adam(model.parameters(), lr=2e-3)
    train(model, X_train, y_train, epochs, optimizer, seed=seed, on_epoch=step_down(optimizer, epochs),
          transform=RandomShift(1) if augment else None)
    return evaluate(model, X_train, y_train)[1], evaluate(model, X_test, y_test)[1]


def summarise(runs):
    """Mean and spread of the (train, test) accuracies of the seeds."""
    train_acc, test_acc = runs[:, 0], runs[:, 1]
    return {"test_acc": float(test_acc.mean()), "test_std": float(test_acc.std()),
            "train_acc": float(train_acc.mean()), "gap": float((train_acc - test_acc).mean()),
            "per_seed": [float(a) for a in test_acc]}


def print_row(name, row, width=28):
    print(f"{name:<{width}}{row['test_acc']:>10.4f} +- {row['test_std']:.4f}"
          f"{row['train_acc']:>16.4f}{row['gap']:>8.4f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="1 seed, 5 epochs and 500 training images")
    parser.add_argument("--plot", metavar="PATH", help="save the table as a bar chart PNG")
    args = parser.parse_args(argv)
    n_train = None
    if args.quick:
        args.epochs, args.seeds, n_train = min(args.epochs, 5), 1, 500

    print(f"CNN on 8x8 digits, {args.epochs} epochs, {args.seeds} seed(s)")
    print(f"{'variant':<28}{'test accuracy':>18}{'train accuracy':>16}{'gap':>8}")
    table = {}
    for variant in VARIANTS:
        table[variant] = summarise(np.array([run(variant, seed, args.epochs, n_train) for seed in range(args.seeds)]))
        print_row(variant, table[variant])
    best = max(table, key=lambda name: table[name]["test_acc"])
    print(f"best: {best}, test accuracy {table[best]['test_acc']:.4f} "
          f"(seeds: {', '.join(f'{a:.4f}' for a in table[best]['per_seed'])})")
    modern = max(["batch norm", "augmentation", "batch norm + augmentation"], key=lambda n: table[n]["test_acc"])
    difference = table[modern]["test_acc"] - table["dropout before FC"]["test_acc"]
    spread = max(table[modern]["test_std"], table["dropout before FC"]["test_std"])
    verdict = ("holds here" if difference > spread else "does not hold here" if difference < -spread
               else "is not decided here (the difference is within the spread over seeds)")
    print(f"'dropout before FC, replaced by batch norm and augmentation' {verdict}: {modern} "
          f"{table[modern]['test_acc']:.4f} vs dropout before FC {table['dropout before FC']['test_acc']:.4f} "
          f"(difference {difference:+.4f}, spread {spread:.4f})")
    if args.plot:
        save_plot(table, args.plot)
    return table


if __name__ == "__main__":
    main()
