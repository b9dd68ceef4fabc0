"""Hand-written NumPy baselines: the same models and ops as the benchmarks, with manual backward.

This is the speed limit for a framework that runs on NumPy: no graph, no Python objects per op,
in-place updates wherever they are safe. It shares no code with tinygrad_drop. The MLP takes an
array module, so the same hand-written code is the CuPy baseline on a GPU.
"""

import numpy as np

# ---------------------------------------------------------------- the naive NumPy dropout that most tutorials show
# Copied exactly as the usual tutorial writes it: float64 uniforms from NumPy's default generator,
# a float mask, two multiplies and a divide. The benchmark's target is to be at least twice as fast.


def dropout_forward(h, p, training=True, rng=None):
    """
    Inverted dropout.
    h: (B, d) activations
    p: drop probability (0.0 = no dropout)
    training: if False, return h unchanged
    """
    if not training or p == 0.0:
        return h, None
    rng = rng or np.random.default_rng()
    mask = (rng.random(h.shape) >= p).astype(h.dtype) # (B, d) 0s and 1s
    return (h * mask) / (1 - p), mask # (B, d) scaled


def dropout_backward(grad_out, mask, p):
    """Gradient flows only through surviving neurons."""
    return (grad_out * mask) / (1 - p) # (B, d)


def naive_dropout_fwd_bwd(x, grad, p, rng):
    """The tutorial's forward and backward, one after the other."""
    y, mask = dropout_forward(x, p, rng=rng)
    return y, dropout_backward(grad, mask, p)


# ---------------------------------------------------------------- the best NumPy dropout on the framework's bits


def keep_mask(bit_generator, shape, p):
    """Raw generator words split into 16-bit values, compared with an integer threshold: P(keep) = 1 - p."""
    size = int(np.prod(shape))
    values = bit_generator.random_raw(-(-size // 4)).view(np.uint16)[:size]
    return (values >= round(p * 2**16)).reshape(shape)


def best_dropout_fwd_bwd(x, grad, p, bit_generator):
    """Raw generator bits, a bool mask, in-place scaling."""
    mask = keep_mask(bit_generator, x.shape, p)
    scale = x.dtype.type(1 / (1 - p))
    y = x * mask
    y *= scale
    grad_x = grad * mask
    grad_x *= scale
    return y, grad_x


class NumpyMLP:
    """An MLP (Linear, ReLU, dropout) trained with SGD + momentum, forward and backward by hand.

    `xp` is the array module: numpy, or cupy for the GPU baseline (x and y must then be CuPy arrays).
    """

    def __init__(self, sizes, p_input, p_hidden, lr=0.01, momentum=0.9, seed=0, dtype=np.float32, xp=np):
        rng = np.random.default_rng(seed)
        self.bits = np.random.Philox(seed)
        self.xp = xp
        self.p_input, self.p_hidden, self.dtype = p_input, p_hidden, dtype
        self.lr, self.momentum = dtype(lr), dtype(momentum)
        self.params = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
            bound = 1 / np.sqrt(fan_in)
            self.params.append(xp.asarray(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(dtype)))
            self.params.append(xp.asarray(rng.uniform(-bound, bound, fan_out).astype(dtype)))
        self.buffers = [None] * len(self.params)

    def _dropout(self, h, p):
        """Inverted dropout in place on a fresh activation; returns the mask (None when p = 0)."""
        if p == 0:
            return None
        if self.xp is np:
            mask = keep_mask(self.bits, h.shape, p)
        else:  # CuPy: its own generator, on the GPU
            mask = self.xp.random.random(h.shape, dtype=np.float32) >= p
        h *= mask
        h *= self.dtype(1 / (1 - p))
        return mask

    def step(self, x, y):
        """One training step on a batch; returns the loss."""
        xp, n_layers = self.xp, len(self.params) // 2
        h = x.copy() if self.p_input else x
        masks = [self._dropout(h, self.p_input)]
        inputs = []
        for i in range(n_layers):
            W, b = self.params[2 * i], self.params[2 * i + 1]
            inputs.append(h)
            z = h @ W.T
            z += b
            if i < n_layers - 1:
                xp.maximum(z, 0, out=z)
                masks.append(self._dropout(z, self.p_hidden))
            h = z
        # softmax cross-entropy and its gradient (softmax - onehot) / N
        h -= h.max(axis=1, keepdims=True)
        xp.exp(h, out=h)
        h /= h.sum(axis=1, keepdims=True)
        rows = xp.arange(len(y))
        loss = -xp.log(h[rows, y]).mean()
        h[rows, y] -= 1
        grad = h
        grad /= self.dtype(len(y))
        grads = [None] * len(self.params)
        for i in reversed(range(n_layers)):
            W = self.params[2 * i]
            grads[2 * i] = grad.T @ inputs[i]
            grads[2 * i + 1] = grad.sum(axis=0)
            if i > 0:
                grad = grad @ W
                grad *= inputs[i] > 0  # ReLU: the (dropped) activation is positive where it passed
                if masks[i] is not None:
                    grad *= self.dtype(1 / (1 - self.p_hidden))
        for k, (param, g) in enumerate(zip(self.params, grads, strict=True)):
            if self.buffers[k] is None:
                self.buffers[k] = g.copy()
            else:
                self.buffers[k] *= self.momentum
                self.buffers[k] += g
            param -= self.lr * self.buffers[k]
        return loss


def linear_fwd_bwd(x, W, b, grad):
    """y = x W^T + b and its three gradients."""
    y = x @ W.T
    y += b
    return y, grad @ W, grad.T @ x, grad.sum(axis=0)
