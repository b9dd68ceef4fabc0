"""Tests for the backends: devices, moving data, errors without CuPy, and CPU/GPU agreement of every op."""

import pathlib
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tests import host_cupy
from tinygrad_drop import backend, nn

needs_gpu = pytest.mark.skipif(not td.cuda.is_available(), reason="needs CuPy and a GPU")


# ---------------------------------------------------------------- without CuPy


@pytest.fixture
def no_cupy(monkeypatch):
    """Run a test as if CuPy were not installed."""
    monkeypatch.setattr(backend, "_cupy", None)


@pytest.mark.parametrize("make", [
    lambda: td.Tensor([1.0], device="cuda"),
    lambda: td.zeros(2, device="cuda:0"),
    lambda: td.randn(2, device="cuda"),
    lambda: td.ones(2).to("cuda"),
    lambda: td.ones(2).cuda(),
    lambda: nn.Linear(2, 3).to("cuda"),
])
def test_asking_for_cuda_without_cupy_names_the_extra_to_install(make, no_cupy):
    with pytest.raises(RuntimeError, match="CuPy is not installed") as info:
        make()
    assert 'pip install "tinygrad_drop[cuda12]"' in str(info.value) and "[cuda13]" in str(info.value)


def test_cuda_is_unavailable_without_cupy(no_cupy):
    assert td.cuda.is_available() is False and td.cuda.device_count() == 0
    assert td.ones(2, device="cpu").device == "cpu"


def test_the_package_imports_when_cupy_cannot_be_imported():
    code = ("import sys; sys.modules['cupy'] = None\n"  # makes `import cupy` raise ImportError
            "import tinygrad_drop as td\n"
            "assert td.cuda.is_available() is False\n"
            "print((td.ones(2) * 3).tolist())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[3.0, 3.0]"


def test_only_the_backend_imports_cupy():
    package = pathlib.Path(td.__file__).parent
    importers = [p.name for p in package.rglob("*.py") if "import cupy" in p.read_text()]
    assert importers == ["backend.py"]


# ---------------------------------------------------------------- device strings


@pytest.mark.parametrize(("device", "error"), [("gpu", ValueError), ("cuda:x", ValueError), ("CPU", ValueError),
                                                (0, TypeError)])
def test_bad_device_specs_are_errors(device, error):
    with pytest.raises(error, match="device"):
        backend.parse_device(device)


def test_a_binary_operator_with_tensors_on_two_devices_names_the_op_and_both_devices(monkeypatch):
    monkeypatch.setattr(backend, "_cupy", host_cupy)
    a = td.Tensor._wrap(np.ones(3, dtype=np.float32))
    b = td.Tensor._wrap(host_cupy.asarray(np.ones(3, dtype=np.float32)))
    with pytest.raises(RuntimeError, match=r"Mul: inputs are on different devices \(cpu and cuda:0\)"):
        a * b


@needs_gpu
def test_cuda_index_beyond_the_visible_gpus_is_a_value_error():
    with pytest.raises(ValueError, match="sees only"):
        td.ones(2, device=f"cuda:{td.cuda.device_count()}")


# ---------------------------------------------------------------- moving between devices


def test_to_cpu_and_back_keeps_values_and_gradients(device):
    x = td.randn(3, 4, dtype=td.float64, requires_grad=True)
    y = x.to(device)
    assert y.device == backend.parse_device(device) and y.to("cpu").device == "cpu"
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    (y * y).sum().backward()
    assert x.grad.__class__ is np.ndarray  # the gradient came back to x's device
    np.testing.assert_allclose(x.grad, 2 * x.numpy())


def test_factories_put_data_on_the_device(device):
    for t in (td.zeros(2, device=device), td.ones(2, device=device), td.rand(2, device=device),
              td.randn(2, device=device), td.full((2,), 3.0, device=device), td.arange(3, device=device),
              td.tensor([1.0], device=device), td.zeros_like(td.ones(2, device=device))):
        assert t.device == backend.parse_device(device)


def test_random_factories_give_the_same_numbers_on_every_device(device):
    td.manual_seed(6)
    on_device = td.randn(4, 5, device=device).numpy()
    td.manual_seed(6)
    np.testing.assert_array_equal(on_device, td.randn(4, 5).numpy())


def test_module_to_moves_parameters_gradients_and_optimizer_state(device):
    def train(move_after_first_step):
        td.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3))
        optimizer = td.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        x, y = td.randn(16, 4), td.tensor(np.arange(16) % 3)
        for step in range(3):
            if step == 1 and move_after_first_step:
                model.to(device)
            xb, yb = x.to(next(model.parameters()).device), y.to(next(model.parameters()).device)
            optimizer.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            optimizer.step()
        return model, optimizer

    model, optimizer = train(move_after_first_step=True)
    reference, _ = train(move_after_first_step=False)
    for p in model.parameters():
        assert p.device == backend.parse_device(device)
        assert all(backend.device_of(v) == p.device for v in optimizer.state[p].values() if hasattr(v, "shape"))
    for p, q in zip(model.parameters(), reference.parameters(), strict=True):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- mixing devices


def test_an_op_with_inputs_on_two_devices_names_the_op_and_both_devices(monkeypatch):
    monkeypatch.setattr(backend, "_cupy", host_cupy)
    x = td.Tensor._wrap(np.ones((2, 3), dtype=np.float32))
    weight = td.Tensor._wrap(host_cupy.asarray(np.ones((4, 3), dtype=np.float32)))
    with pytest.raises(RuntimeError, match=r"Linear: inputs are on different devices \(cpu and cuda:0\)"):
        F.linear(x, weight)


@needs_gpu
def test_linear_with_weight_on_the_gpu_and_input_on_the_cpu_raises():
    with pytest.raises(RuntimeError, match=r"Linear: .*\(cpu and cuda:0\)"):
        F.linear(td.ones(2, 3), td.ones(4, 3, device="cuda"))


# ---------------------------------------------------------------- every op agrees with the CPU

_rng = np.random.default_rng(0)
_A, _B = _rng.standard_normal((4, 5)), _rng.standard_normal((4, 5))
_W, _BIAS = _rng.standard_normal((3, 5)), _rng.standard_normal(3)
_LABELS = np.array([0, 2, 1, 2])

OPS = {  # name: fn(a, b, w, bias, labels) of tensors on one device, returning a tensor
    "add": lambda a, b, *_: a + b,
    "sub": lambda a, b, *_: a - b,
    "mul": lambda a, b, *_: a * b,
    "div": lambda a, b, *_: a / (b * b + 1.0),
    "pow": lambda a, *_: (a * a + 1.0) ** 1.5,
    "neg": lambda a, *_: -a,
    "matmul": lambda a, b, w, *_: a @ w.T,
    "sum": lambda a, *_: a.sum(axis=0),
    "mean": lambda a, *_: a.mean(axis=1, keepdims=True),
    "max": lambda a, *_: a.max(axis=1),
    "min": lambda a, *_: a.min(),
    "reshape": lambda a, *_: a.reshape(2, 10),
    "transpose": lambda a, *_: a.T,
    "getitem": lambda a, *_: a[1:3, ::2],
    "getitem_repeated": lambda a, b, w, bias, labels: a[labels],  # rows 0, 2, 1, 2: row 2 twice
    "exp": lambda a, *_: a.exp(),
    "log": lambda a, *_: (a * a + 1.0).log(),
    "sqrt": lambda a, *_: (a * a + 1.0).sqrt(),
    "relu": lambda a, *_: a.relu(),
    "sigmoid": lambda a, *_: a.sigmoid(),
    "tanh": lambda a, *_: a.tanh(),
    "softmax": lambda a, *_: a.softmax(axis=-1),
    "log_softmax": lambda a, *_: a.log_softmax(axis=-1),
    "linear": lambda a, b, w, bias, _: F.linear(a, w, bias),
    "dropout": lambda a, *_: F.dropout(a, p=0.3),
    "dropout_recompute": lambda a, *_: F.dropout(a, p=0.3, mask_storage="recompute"),
    "dropout_broadcast": lambda a, *_: F.dropout(a, p=0.3, broadcast_dims=0),
    "cross_entropy": lambda a, b, w, bias, labels: F.cross_entropy(a, labels, label_smoothing=0.1),
    "nll_loss": lambda a, b, w, bias, labels: F.nll_loss(a.log_softmax(), labels),
    "mse_loss": lambda a, b, *_: F.mse_loss(a, b),
}


def _run(name, device):
    """Forward and backward of OPS[name] on `device`: the output and the inputs' gradients, on the host."""
    td.manual_seed(0)
    leaves = [td.tensor(v, requires_grad=True, device=device) for v in (_A, _B, _W, _BIAS)]
    out = OPS[name](*leaves, td.tensor(_LABELS, device=device))
    out.backward(np.random.default_rng(1).standard_normal(out.shape))
    grads = [np.zeros(t.shape) if t.grad is None else backend.to_numpy(t.grad) for t in leaves]
    return [out.numpy()] + grads


@pytest.mark.parametrize("name", list(OPS))
def test_every_op_gives_the_cpu_result_forward_and_backward(name, device):
    for got, expected in zip(_run(name, device), _run(name, "cpu"), strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_scatter_add_accumulates_repeated_indices(device):
    xp = backend.array_module_for(device)
    target = xp.zeros(4)
    backend.scatter_add(target, xp.array([0, 2, 0, 0]), xp.array([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(backend.to_numpy(target), [8.0, 0.0, 2.0, 0.0])


def test_the_gpu_step_benchmark_runs_on_whatever_is_available():
    root = pathlib.Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "benchmarks/gpu_step.py", "--steps", "1", "--warmup", "0"],
                         cwd=root, capture_output=True, text=True, check=True)
    assert "tinygrad_drop cpu" in out.stdout
