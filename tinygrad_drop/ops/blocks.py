"""Many-pass formulas run block by block, so that their temporaries stay in the CPU cache.

A formula such as GELU's makes a dozen passes over its input. On a large array each pass streams the
whole array through memory (and a fresh temporary costs page faults); on a block of 64 K elements
the temporaries fit in the cache and every pass after the first is several times faster.
"""

import numpy as np

from ..backend import get_array_module

BLOCK_ELEMENTS = 65536  # 256 KiB of float32 per temporary: the few a formula keeps fit in a core's L2 cache


def blockwise(fn, *rows):
    """fn(*blocks) -> tuple of arrays, run on blocks of rows of the 2-D arrays `rows` (all with n rows),
    results joined: each result has one row per input row, so fn must treat rows independently.

    Blocks hold about BLOCK_ELEMENTS elements of the first array. On a GPU, or when the arrays fit in one
    block, fn runs once on the whole arrays.
    """
    n = rows[0].shape[0]
    step = max(1, BLOCK_ELEMENTS // max(rows[0].shape[1], 1))
    if get_array_module(rows[0]) is not np or n <= step:
        return fn(*rows)
    outs = None
    for start in range(0, n, step):
        results = fn(*(r[start:start + step] for r in rows))
        if outs is None:
            outs = tuple(np.empty((n, *r.shape[1:]), dtype=r.dtype) for r in results)
        for out, r in zip(outs, results, strict=True):
            out[start:start + step] = r
    return outs
