"""Convolution and pooling layers for (N, C, H, W) images: Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d."""

import math

from .. import random as _random
from ..tensor import default_float
from . import functional as F
from .module import Module, Parameter


class Conv2d(Module):
    """2-D convolution with PyTorch's weight layout (out_channels, in_channels, kh, kw) and default init.

    Weight and bias start U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_channels * kh * kw (what
    torch's kaiming_uniform_(a=sqrt(5)) gives). There is no `groups` argument: every output channel
    sees every input channel.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, bias=True,
                 device=None, dtype=None):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = F._positive_pair(kernel_size, "kernel_size")
        self.stride, self.dilation = F._positive_pair(stride, "stride"), F._positive_pair(dilation, "dilation")
        self.padding = F._pair(padding, "padding")
        dtype = dtype or default_float
        bound = 1.0 / math.sqrt(in_channels * self.kernel_size[0] * self.kernel_size[1])

        def uniform(*shape):  # U(-bound, bound) from the framework's generator
            return Parameter(_random.uniform(shape, dtype=dtype) * dtype.type(2 * bound) - dtype.type(bound))

        self.weight = uniform(out_channels, in_channels, *self.kernel_size)
        self.bias = uniform(out_channels) if bias else None
        if device is not None:
            self.to(device)

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}, bias={self.bias is not None}")


class _Pool2d(Module):
    """kernel_size, stride (default: kernel_size) and padding, as torch's pooling layers take them."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride or kernel_size, padding
        F._pool_args(kernel_size, stride, padding)  # fail here, not at the first forward

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """The maximum of each window; padding counts as -inf, and tied maxima send the gradient to the first one."""

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    """The mean of each window; zero padding counts in the divisor (torch's count_include_pad=True)."""

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)


class AdaptiveAvgPool2d(Module):
    """Global average pooling (N, C, H, W) -> (N, C, 1, 1); only output_size 1 is supported."""

    def __init__(self, output_size=1):
        super().__init__()
        if output_size not in (1, (1, 1), [1, 1]):
            raise ValueError(f"AdaptiveAvgPool2d supports only output_size=1 (global average pooling), "
                             f"got {output_size!r}; use AvgPool2d for other sizes")
        self.output_size = output_size

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"
