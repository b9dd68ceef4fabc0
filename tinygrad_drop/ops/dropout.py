"""Inverted dropout.

Training:  keep ~ Bernoulli(1 - p) per element,  scale = 1 / (1 - p),   y = x * keep * scale
Backward:  y is linear in x for a fixed mask, so   dL/dx = dL/dy * keep * scale,
           and a dropped unit gets exactly zero gradient.
Since E[keep * scale] = 1, E[y] = x, so evaluation needs no change: y = x.
"""

import numpy as np

from .. import random
from ..autograd import Function
from ..backend import device_of, get_array_module


class Dropout(Function):
    """y = x * keep * scale;  dL/dx = dL/dy * keep * scale.  Saves the bool mask: one byte per element.

    `keep` (True = keep) is drawn by the caller (`nn.functional.dropout`) and may have any shape
    that broadcasts to x, to share one mask value along some axes. scale is 1/(1 - p), or 0 at p = 1.
    """

    @staticmethod
    def forward(ctx, x, keep, scale):
        ctx.save_for_backward(keep)
        ctx.scale = scale
        return masked_scale(x, keep, scale)

    @staticmethod
    def backward(ctx, grad):
        (keep,) = ctx.saved_tensors
        return masked_scale(grad, keep, ctx.scale), None, None


def masked_scale(v, keep, scale):
    """v * keep * scale, computed fast: two passes over v, both writing one new array."""
    y = v * keep.view(np.uint8)  # the same 0/1 bytes as bool, which NumPy multiplies about twice as fast
    y *= scale  # in place: a second new array would cost page faults on every call
    return y


class DropoutRecompute(Function):
    """Dropout that saves only where its mask sits in the random stream, and draws the mask again in backward.

    `draw` is the mask's `random.Draw` (seed, offset and shape: 0 bytes per element). Forward and
    backward both compute v * keep * scale with keep drawn from it, so outputs and gradients are
    byte-identical to `Dropout`'s. On CuPy one kernel draws the bits, forms the mask and scales.
    """

    @staticmethod
    def forward(ctx, x, draw, p, scale):
        ctx.save_for_backward(draw)
        ctx.p, ctx.scale = p, scale
        return masked_scale_at(x, draw, p, scale)

    @staticmethod
    def backward(ctx, grad):
        (draw,) = ctx.saved_tensors
        return masked_scale_at(grad, draw, ctx.p, ctx.scale), None, None, None


def masked_scale_at(v, draw, p, scale):
    """v * keep * scale, with keep the mask at `draw` drawn again: one fused kernel on CuPy when keep has v's shape."""
    xp = get_array_module(v)
    if xp is np or draw.shape != v.shape:
        return masked_scale(v, random.keep_mask_at(draw, p, device_of(v)), scale)  # as Dropout computes it
    with v.device:
        v = xp.ascontiguousarray(v)  # so that element j of the stream is element j of v in memory
        y = xp.empty_like(v)
        k0, k1 = random.seed_to_key(draw.seed)
        _fused_kernel(xp)(v, np.uint64(k0), np.uint64(k1), np.uint64(draw.offset), np.uint32(random.mask_threshold(p)),
                          v.dtype.type(scale), np.int64(v.size), y, size=random.mask_blocks(v.size))
        return y


# Thread i scales elements 16 i .. 16 i + 15 with the keep bits of block offset + i (random.PHILOX_CUDA).
_FUSED_BODY = """
unsigned int bits = keep_bits16(k0, k1, offset + i, threshold);
for (long long j = 16 * (long long)i, e = 0; e < 16 && j < n_values; j++, e++)
    y[j] = x[j] * (T)((bits >> e) & 1) * scale;
"""
_kernels = {}


def _fused_kernel(cupy):
    """The CuPy kernel y = x * keep * scale that draws keep itself, compiled on first use."""
    if "fused" not in _kernels:
        _kernels["fused"] = cupy.ElementwiseKernel(
            "raw T x, uint64 k0, uint64 k1, uint64 offset, uint32 threshold, T scale, int64 n_values", "raw T y",
            _FUSED_BODY, "tinygrad_drop_dropout_recompute", preamble=random.PHILOX_CUDA)
    return _kernels["fused"]
