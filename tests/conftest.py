"""Shared fixtures: every test that takes `device` runs on the CPU, and on CUDA when a GPU is present."""

import importlib.util
from pathlib import Path

import pytest

import tinygrad_drop as td

DEVICES = ["cpu"] + (["cuda"] if td.backend.cuda_is_available() else [])


@pytest.fixture(params=DEVICES)
def device(request):
    """The device to run on: "cpu", plus "cuda" when CuPy and a GPU are available."""
    return request.param


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same framework seed."""
    td.manual_seed(0)


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture
def load(monkeypatch):
    """Import an example by name, with examples/ on sys.path for the helpers it shares."""
    monkeypatch.syspath_prepend(str(EXAMPLES))

    def _load(name):
        spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return _load
