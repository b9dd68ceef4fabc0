"""Memory stays flat over many training steps: no graph, saved array or gradient is kept alive."""

import gc
import tracemalloc

import numpy as np

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tinygrad_drop import nn


def _live_nodes():
    """How many graph nodes (Function instances) exist right now."""
    gc.collect()
    return sum(isinstance(obj, td.Function) for obj in gc.get_objects())


def test_memory_is_flat_over_2000_training_steps():
    model = nn.Sequential(nn.Dropout(0.2), nn.Linear(8, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 3))
    optimizer = td.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(0)
    x = td.Tensor(rng.standard_normal((32, 8)).astype(np.float32))
    y = td.Tensor(rng.integers(0, 3, 32))

    def step():
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    step()
    nodes_before = _live_nodes()
    tracemalloc.start()
    try:
        for _ in range(1000):  # let optimizer state and the interpreter's free lists settle
            step()
        settled, _ = tracemalloc.get_traced_memory()
        for _ in range(2000):
            step()
        final, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert _live_nodes() == nodes_before == 0  # each step's graph is gone once its loss is
    # one leaked 32x64 mask per step would be 4 MB over 2,000 steps; allow 64 kB of interpreter noise
    assert final - settled < 64 * 1024, f"memory grew by {final - settled} bytes over 2,000 steps"


def test_backward_frees_what_each_node_saved():
    x = td.randn(16, 8, requires_grad=True)
    layer = nn.Linear(8, 4)
    loss = F.dropout(layer(x).relu(), 0.5).sum()
    nodes = []
    stack = [loss]
    while stack:
        t = stack.pop()
        if t._ctx is not None:
            nodes.append(t._ctx)
            stack.extend(p for p in t._ctx.parents if isinstance(p, td.Tensor))
    assert any(getattr(n, "saved_tensors", None) for n in nodes)
    loss.backward()
    assert all(not n.saved_tensors for n in nodes)
    assert all(n.freed for n in nodes if n.saved_tensors is None)
