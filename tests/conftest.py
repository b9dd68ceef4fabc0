"""Shared fixtures: every test that takes `device` runs on the CPU, and on CUDA when a GPU is present."""

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
