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


def device_count():
    """How many GPUs CuPy can see (0 without CuPy, a driver or a GPU)."""
    if _cupy is None:
        return 0
    try:
        return _cupy.cuda.runtime.getDeviceCount()
    except Exception:  # noqa: BLE001 - any CUDA driver error means "no usable GPU"
        return 0


def cuda_is_installed():
    """True when CuPy could be imported (a GPU may still be missing)."""
    return _cupy is not None


def cuda_is_available():
    """True when CuPy is installed and can see at least one GPU."""
    return device_count() > 0


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
        count = device_count()
        if count == 0:
            reason = "CuPy is not installed" if _cupy is None else "no GPU is visible to CuPy"
            raise RuntimeError(f"device {device!r} was requested but {reason}: {CUDA_INSTALL_HINT}")
        index = 0 if device == "cuda" else int(device[5:])
        if index >= count:
            raise ValueError(f"device {device!r} was requested but CuPy sees only {count} GPU(s)")
        return f"cuda:{index}"
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
        return _cupy.array(array)  # copies onto the current device, from the host or another GPU


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


def check_same_device(arrays, op_name):
    """Raise a RuntimeError naming the op and the devices when its input arrays sit on different devices."""
    if _cupy is None:  # NumPy only: everything is on the CPU
        return
    devices = {device_of(a) for a in arrays if isinstance(a, (np.ndarray, _cupy.ndarray))}
    if len(devices) > 1:
        raise RuntimeError(
            f"{op_name}: inputs are on different devices ({' and '.join(sorted(devices))}); "
            "move them to one device with .to(device)"
        )
