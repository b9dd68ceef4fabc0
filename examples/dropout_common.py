"""Helpers shared by the dropout examples: a small digits split, a training loop, accuracy and plotting."""

import numpy as np

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tinygrad_drop.data import DataLoader, load_digits, train_test_split


def small_digits(n_train, seed=0):
    """A stratified training set of n_train digits and a test set of all the others, pixels in [0, 1]."""
    X, y = load_digits()
    X = X / np.float32(16.0)
    # the split's small "test" part of n_train images is our training set
    X_test, X_train, y_test, y_train = train_test_split(X, y, test_size=n_train, seed=seed, stratify=y)
    return X_train, y_train, X_test, y_test


def evaluate(model, X, y):
    """(mean cross-entropy, accuracy) of a classifier in eval mode, without building a graph."""
    model.eval()
    with td.no_grad():
        logits = model(td.Tensor(X))
        loss = F.cross_entropy(logits, y).item()
    return loss, float((logits.argmax(axis=1).numpy() == y).mean())


def train(model, X, y, epochs, optimizer, batch_size=32, seed=0, label_smoothing=0.0, on_epoch=None, transform=None):
    """Mini-batch training with cross-entropy; `transform` (e.g. data augmentation) changes each input batch.

    on_epoch(epoch) runs after every epoch, with the model in eval mode; returning True stops training.
    """
    loader = DataLoader(X, y, batch_size=batch_size, shuffle=True, seed=seed, transform=transform)
    for epoch in range(1, epochs + 1):
        model.train()
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb, label_smoothing=label_smoothing)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        if on_epoch is not None and on_epoch(epoch):
            break
    return model


def pyplot():
    """matplotlib.pyplot with a file-only backend, or None (with a hint) when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print('matplotlib is not installed, so no plot was saved: pip install "tinygrad_drop[examples]"')
        return None
    return plt
