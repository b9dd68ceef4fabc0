"""td.cuda: whether tensors can go to a GPU (PyTorch's torch.cuda.is_available and device_count)."""

from . import backend


def is_available():
    """True when CuPy is installed and sees at least one GPU."""
    return backend.cuda_is_available()


def device_count():
    """How many GPUs CuPy sees (0 without CuPy)."""
    return backend.device_count()
