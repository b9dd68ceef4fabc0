"""Matrix product with NumPy's rules: batched (leading axes broadcast) and 1-D operands."""

from ..autograd import Function, unbroadcast


class MatMul(Function):
    """y = a @ b;  dL/da = dL/dy @ b^T,  dL/db = a^T @ dL/dy (1-D operands as rows/columns)."""

    @staticmethod
    def forward(ctx, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul needs operands with at least 1 dimension, got shapes {a.shape} and {b.shape}")
        inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if a.shape[-1] != inner_b:
            raise ValueError(
                f"matmul shape mismatch: {a.shape} @ {b.shape} (inner sizes {a.shape[-1]} and {inner_b} differ)"
            )
        batch_a, batch_b = a.shape[:-2], b.shape[:-2]  # 1-D operands have no batch axes
        if any(m != n and 1 not in (m, n) for m, n in zip(batch_a[::-1], batch_b[::-1], strict=False)):
            raise ValueError(
                f"matmul shape mismatch: {a.shape} @ {b.shape} (batch shapes {batch_a} and {batch_b} "
                "cannot be broadcast together)"
            )
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        a2 = a[None, :] if a.ndim == 1 else a  # a row vector (1, n)
        b2 = b[:, None] if b.ndim == 1 else b  # a column vector (n, 1)
        g2 = grad[..., None] if b.ndim == 1 else grad
        g2 = g2[..., None, :] if a.ndim == 1 else g2
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = unbroadcast(g2 @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            grad_b = unbroadcast(a2.swapaxes(-1, -2) @ g2, b2.shape).reshape(b.shape)
        return grad_a, grad_b
