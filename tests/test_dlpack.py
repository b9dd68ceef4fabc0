"""DLPack interop: Tensor.__dlpack__ and td.from_dlpack share memory with NumPy, PyTorch and CuPy, and the
PyTorch export recipe of docs/checkpoints.md gives the same outputs."""

import numpy as np
import pytest

import tinygrad_drop as td
from tinygrad_drop import nn


def test_numpy_round_trip_shares_memory():
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = td.from_dlpack(array)
    assert t.shape == (2, 3) and t.dtype == td.float32 and not t.requires_grad
    array[0, 0] = 42.0
    assert t.data[0, 0] == 42.0  # no copy
    back = np.from_dlpack(t)
    assert np.shares_memory(back, array)


def test_exporting_a_tensor_that_requires_grad_asks_for_detach():
    t = td.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"use tensor.detach\(\)"):
        np.from_dlpack(t)
    assert np.from_dlpack(t.detach()).tolist() == [1.0, 1.0]


def test_dlpack_device_is_the_cpu():
    assert td.ones(1).__dlpack_device__() == (1, 0)


def test_torch_round_trip_shares_memory():
    torch = pytest.importorskip("torch")
    t = td.Tensor([[1.0, 2.0], [3.0, 4.0]])
    as_torch = torch.from_dlpack(t)
    as_torch[0, 0] = -1.0
    assert t.data[0, 0] == -1.0
    back = td.from_dlpack(torch.arange(4.0))
    assert back.tolist() == [0.0, 1.0, 2.0, 3.0] and back.dtype == td.float32


@pytest.mark.skipif(not td.backend.cuda_is_available(), reason="needs CuPy and a GPU")
def test_gpu_tensors_cross_without_leaving_the_gpu():
    import cupy

    t = td.ones(3, device="cuda")
    on_cupy = cupy.from_dlpack(t)
    on_cupy[0] = 5.0
    assert t.data[0].item() == 5.0
    back = td.from_dlpack(on_cupy)
    assert back.device == "cuda:0" and back.tolist() == [5.0, 1.0, 1.0]


def test_pytorch_export_recipe_gives_the_same_outputs():
    torch = pytest.importorskip("torch")
    td.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 10)).eval()
    # the recipe in docs/checkpoints.md
    state_dict = {name: torch.from_dlpack(t).clone() for name, t in model.state_dict().items()}
    torch_model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Dropout(0.5),
                                      torch.nn.Linear(32, 10)).eval()
    torch_model.load_state_dict(state_dict)
    x = td.randn(8, 64)
    with torch.no_grad():
        expected = torch_model(torch.from_dlpack(x)).numpy()
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-5, atol=1e-6)
