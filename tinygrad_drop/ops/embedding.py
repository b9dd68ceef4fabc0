"""Embedding: look up rows of a weight table by integer index, as one op with a scatter-add backward."""

from ..autograd import Function
from ..backend import get_array_module, scatter_add


class Embedding(Function):
    """y[..., :] = W[i[...], :] for integer indices i and a table W of shape (num_embeddings, dim).

    dL/dW[r] = sum of dL/dy over every position where i == r: a scatter-add, so an index that occurs
    several times accumulates all its gradients (np.add.at on NumPy, cupyx.scatter_add on CuPy).
    The indices get no gradient.
    """

    @staticmethod
    def forward(ctx, indices, weight):
        ctx.indices, ctx.weight_shape = indices, weight.shape
        return weight[indices]

    @staticmethod
    def backward(ctx, grad):
        if not ctx.needs_input_grad[1]:
            return None, None
        grad_weight = get_array_module(grad).zeros(ctx.weight_shape, dtype=grad.dtype)
        scatter_add(grad_weight, ctx.indices.reshape(-1), grad.reshape(-1, ctx.weight_shape[1]))
        return None, grad_weight
