"""Functions of two tensors with torch's names: td.maximum and td.minimum."""

from .tensor import Tensor


def _check_tensors(name, a, b):
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"td.{name} expects two Tensors, got {type(a).__name__} and {type(b).__name__}; "
                        f"for a number use x.clamp(...)")


def maximum(input, other):  # noqa: A002 - torch's name
    """Elementwise max of two tensors (broadcasting); a tie sends half of the gradient to each, as torch."""
    _check_tensors("maximum", input, other)
    return input.maximum(other)


def minimum(input, other):  # noqa: A002 - torch's name
    """Elementwise min of two tensors (broadcasting); a tie sends half of the gradient to each, as torch."""
    _check_tensors("minimum", input, other)
    return input.minimum(other)
