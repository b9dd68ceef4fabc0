"""Array backends: NumPy on the CPU, CuPy on the GPU. The only module that imports cupy.

Ops never import numpy or cupy directly for array maths: they ask `get_array_module(array)`
for the module `xp` that owns their inputs, so the same code runs on both.
"""

import numpy as np

try:  # CuPy is optional: `pip install "tinygrad_drop[cuda12]"` (or [cuda13]).
    import cupy as _cupy
except ImportError:  # pragma: no cover - depends on the machine
    _cupy = None

CUDA_INSTALL_HINT = 'install CuPy with `pip install "tinygrad_drop[cuda12]"` (or "[cuda13]" for CUDA 13)'


def cuda_is_available():
    """True when CuPy is installed and can see at least one GPU."""
    if _cupy is None:
        return False
    try:
        return _cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # noqa: BLE001 - any CUDA driver error means "no usable GPU"
        return False


def get_array_module(array):
    """Return numpy or cupy, whichever owns `array` (numpy for anything that is not a CuPy array)."""
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return _cupy
    return np


def parse_device(device):
    """Normalise a device spec ("cpu", "cuda", "cuda:N" or None) to a canonical string."""
    if device is None:
        return "cpu"
    if not isinstance(device, str):
        raise TypeError(f"device must be a string like 'cpu' or 'cuda:0', got {type(device).__name__}")
    if device == "cpu":
        return "cpu"
    if device == "cuda" or (device.startswith("cuda:") and device[5:].isdigit()):
        if not cuda_is_available():
            reason = "CuPy is not installed" if _cupy is None else "no GPU is visible to CuPy"
            raise RuntimeError(f"device {device!r} was requested but {reason}: {CUDA_INSTALL_HINT}")
        return "cuda:0" if device == "cuda" else device
    raise ValueError(f"unknown device {device!r}: expected 'cpu', 'cuda' or 'cuda:N'")


def device_of(array):
    """Return the canonical device string of a backend array."""
    if get_array_module(array) is np:
        return "cpu"
    return f"cuda:{array.device.id}"


def to_device(array, device):
    """Copy `array` to `device` (a canonical device string); a no-op when it is already there."""
    if device_of(array) == device:
        return array
    if device == "cpu":
        return _cupy.asnumpy(array)
    with _cupy.cuda.Device(int(device.split(":")[1])):
        return _cupy.asarray(array)


def array_module_for(device):
    """Return the array module that holds arrays on `device`."""
    return np if device == "cpu" else _cupy


def to_numpy(array):
    """Return `array` as a NumPy array (a host copy for GPU arrays, the array itself on the CPU)."""
    return array if get_array_module(array) is np else _cupy.asnumpy(array)


def scatter_add(target, index, values):
    """In place: target[index] += values, where repeated indices accumulate (np.add.at)."""
    if get_array_module(target) is np:
        np.add.at(target, index, values)
    else:  # pragma: no cover - needs a GPU
        import cupyx

        cupyx.scatter_add(target, index, values)
