"""Optimizers: SGD, Adam, AdamW, RMSprop and Adagrad, with PyTorch's update rules, param groups and state dicts.

An optimizer reads each parameter's `.grad` and updates `.data` in place. It never writes into
`.grad`: gradient arrays may share memory between tensors. Its own state arrays (momentum
buffers, moment estimates) are updated in place with `out=` ufuncs to avoid temporaries.
"""

import math
import sys
from collections import defaultdict
from itertools import chain
from numbers import Integral

from . import backend, lr_scheduler
from .backend import get_array_module
from .tensor import Tensor

# td.optim.lr_scheduler, importable as in torch: `from tinygrad_drop.optim.lr_scheduler import StepLR`
sys.modules[__name__ + ".lr_scheduler"] = lr_scheduler


def _check_non_negative(name, value):
    """Raise ValueError unless value >= 0 (NaN fails too)."""
    if not value >= 0:
        raise ValueError(f"invalid {name} {value!r}: must be >= 0")


def _check_beta(index, value):
    """Raise ValueError unless 0 <= beta < 1."""
    if not 0 <= value < 1:
        raise ValueError(f"invalid beta parameter at index {index}: {value!r} (must be in [0, 1))")


def _signed_grad_with_decay(p, weight_decay, maximize):
    """g = (-grad if maximize else grad) + weight_decay * p; may return p.grad itself, read-only."""
    grad = p.grad
    if weight_decay == 0:
        return -grad if maximize else grad
    g = get_array_module(p.data).multiply(p.data, p.data.dtype.type(weight_decay))  # weight_decay * p
    if maximize:
        g -= grad
    else:
        g += grad
    return g


def _ordered_list(items):
    """list(items), refusing sets: their order, and so the state_dict indices, changes between runs."""
    if isinstance(items, (set, frozenset)):
        raise TypeError("optimizer parameters must be in an ordered collection such as a list, not a set")
    return list(items)


def _snapshot(value):
    """A copy of a state value (an array or a step count) that later steps will not change."""
    return value if isinstance(value, Integral) else value.copy()


class Optimizer:
    """Base class: holds param groups and per-parameter state; subclasses implement step()."""

    def __init__(self, params, defaults):
        if isinstance(params, Tensor):
            raise TypeError(
                "params should be an iterable of Tensors or dicts, got a single Tensor: wrap it in a list"
            )
        self._check_hyperparameters(defaults)
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        groups = _ordered_list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Add a group {"params": [...], "lr": ..., ...}; missing hyperparameters take the defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"a parameter group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"a parameter group needs a 'params' entry, got keys {sorted(param_group)}")
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else _ordered_list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but one of the params is a {type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError(
                    "can't optimize a non-leaf Tensor: pass a leaf, e.g. tensor.detach().requires_grad_()"
                )
        ids = {id(p) for p in params}  # by identity: == on Tensors compares elementwise
        if len(ids) != len(params):
            raise ValueError("a parameter group contains the same parameter more than once")
        if any(id(p) in ids for group in self.param_groups for p in group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        group = {**self.defaults, **param_group, "params": params}
        self._check_hyperparameters(group)
        self.param_groups.append(group)

    def _check_hyperparameters(self, group):
        """Raise ValueError for an invalid hyperparameter value (subclasses check their own)."""
        raise NotImplementedError

    def _params_with_grad(self, group):
        """The parameters of `group` that have a gradient (those whose .grad is None are skipped)."""
        return [p for p in group["params"] if p.grad is not None]

    def _state_of(self, p):
        """p's state, its arrays converted first if the model has moved or changed dtype (Module.to, .double())."""
        state = self.state[p]
        for key, value in state.items():
            if isinstance(value, int):  # a step count
                continue
            if value.dtype != p.data.dtype:
                state[key] = value = value.astype(p.data.dtype)
            if backend.cuda_is_installed():  # without CuPy everything is on the CPU: nothing can have moved
                state[key] = backend.to_device(value, backend.device_of(p.data))
        return state

    def zero_grad(self, set_to_none=True):
        """Reset gradients: to None (the default), or to a fresh zero array when set_to_none=False."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                p.grad = None if set_to_none else get_array_module(p.grad).zeros_like(p.grad)

    def step(self):
        """Update every parameter that has a gradient."""
        raise NotImplementedError

    def state_dict(self):
        """A copy of {"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]}."""
        all_params = [p for group in self.param_groups for p in group["params"]]
        index_of = {id(p): i for i, p in enumerate(all_params)}
        state = {
            index_of[id(p)]: {key: _snapshot(value) for key, value in param_state.items()}
            for p, param_state in self.state.items()
        }
        param_groups = [
            {
                **{k: v for k, v in group.items() if k != "params"},
                "params": [index_of[id(p)] for p in group["params"]],
            }
            for group in self.param_groups
        ]
        return {"state": state, "param_groups": param_groups}

    def load_state_dict(self, state_dict):
        """Load a state_dict() from an optimizer with the same groups; arrays are copied to each parameter."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(saved_groups)} parameter groups, "
                f"but the optimizer has {len(self.param_groups)}"
            )
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups, strict=True)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"loaded parameter group {i} has {len(saved['params'])} parameters, "
                    f"but the optimizer's group {i} has {len(group['params'])}"
                )
            missing = sorted(set(self.defaults) - set(saved))
            if missing:
                raise ValueError(f"loaded parameter group {i} lacks the hyperparameters {missing}")
        param_at = dict(
            zip(
                chain.from_iterable(g["params"] for g in saved_groups),
                chain.from_iterable(g["params"] for g in self.param_groups),
                strict=True,
            )
        )
        state = defaultdict(dict)
        for index, saved_state in state_dict["state"].items():
            if index not in param_at:
                raise ValueError(f"loaded state refers to parameter {index}, which no parameter group lists")
            p = param_at[index]
            state[p] = {key: self._load_state_value(p, index, key, v) for key, v in saved_state.items()}
        new_groups = [
            {**saved, "params": group["params"]}
            for saved, group in zip(saved_groups, self.param_groups, strict=True)
        ]
        for group in new_groups:
            self._check_hyperparameters(group)
        self.state, self.param_groups = state, new_groups

    @staticmethod
    def _load_state_value(p, index, key, value):
        """A step count as an int; an array as a copy on p's device with p's dtype, after a shape check."""
        if isinstance(value, Integral):
            return int(value)
        if value.shape != p.data.shape:
            raise ValueError(
                f"loaded state {key!r} of parameter {index} has shape {value.shape}, "
                f"but the parameter has shape {p.data.shape}"
            )
        return backend.to_device(value, backend.device_of(p.data)).astype(p.data.dtype)

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group) if key != "params")
        return "\n".join(lines) + "\n)"


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and weight decay.

    g = -grad if maximize else grad;  g = g + weight_decay * p
    buf = g (first step), else buf = momentum * buf + (1 - dampening) * g      [if momentum != 0]
    g = g + momentum * buf if nesterov else buf                                 [if momentum != 0]
    p = p - lr * g
    """

    def __init__(
        self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False
    ):
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group):
        _check_non_negative("learning rate", group["lr"])
        _check_non_negative("momentum", group["momentum"])
        _check_non_negative("weight_decay", group["weight_decay"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "Nesterov momentum requires a momentum > 0 and zero dampening, "
                f"got momentum={group['momentum']!r}, dampening={group['dampening']!r}"
            )

    def step(self):
        """Apply one SGD update to every parameter that has a gradient."""
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            weight_decay, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
            for p in self._params_with_grad(group):
                xp, cast = get_array_module(p.data), p.data.dtype.type
                g = _signed_grad_with_decay(p, weight_decay, maximize)
                if momentum != 0:
                    state = self._state_of(p)
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = g.copy()  # buf = g on the first step
                    else:
                        buf *= cast(momentum)  # buf = momentum * buf + (1 - dampening) * g
                        buf += g if dampening == 0 else cast(1 - dampening) * g
                    if nesterov:
                        nesterov_g = xp.multiply(buf, cast(momentum))  # g = g + momentum * buf
                        nesterov_g += g
                        g = nesterov_g
                    else:
                        g = buf
                p.data -= cast(lr) * g  # p = p - lr * g
                p._version += 1  # an in-place write: backward through an older graph would be wrong


class Adam(Optimizer):
    """Adam (with optional AMSGrad); weight decay adds weight_decay * p to the gradient.

    g = -grad if maximize else grad;  g = g + weight_decay * p;  t = t + 1
    m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g**2
    v_max = max(v_max, v) and v_max replaces v below                            [if amsgrad]
    p = p - lr * (m / (1 - beta1**t)) / (sqrt(v / (1 - beta2**t)) + eps)
    """

    _decoupled_weight_decay = False

    def __init__(
        self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *, maximize=False
    ):
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group):
        _check_non_negative("learning rate", group["lr"])
        _check_non_negative("epsilon value", group["eps"])
        betas = group["betas"]
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        _check_beta(0, betas[0])
        _check_beta(1, betas[1])
        _check_non_negative("weight_decay", group["weight_decay"])

    def step(self):
        """Apply one Adam (or AdamW) update to every parameter that has a gradient."""
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            weight_decay, amsgrad, maximize = group["weight_decay"], group["amsgrad"], group["maximize"]
            for p in self._params_with_grad(group):
                xp, cast = get_array_module(p.data), p.data.dtype.type
                state = self._state_of(p)
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = xp.zeros_like(p.data)
                    state["exp_avg_sq"] = xp.zeros_like(p.data)
                    if amsgrad:
                        state["max_exp_avg_sq"] = xp.zeros_like(p.data)
                state["step"] += 1
                t = state["step"]
                if self._decoupled_weight_decay:
                    if weight_decay != 0:
                        p.data *= cast(1 - lr * weight_decay)  # p = p - lr * weight_decay * p
                    g = _signed_grad_with_decay(p, 0, maximize)
                else:
                    g = _signed_grad_with_decay(p, weight_decay, maximize)
                m, v = state["exp_avg"], state["exp_avg_sq"]
                scratch = xp.multiply(g, cast(1 - beta1))  # m = beta1 * m + (1 - beta1) * g
                m *= cast(beta1)
                m += scratch
                xp.multiply(g, g, out=scratch)  # v = beta2 * v + (1 - beta2) * g**2
                scratch *= cast(1 - beta2)
                v *= cast(beta2)
                v += scratch
                if amsgrad:
                    v_max = state["max_exp_avg_sq"]
                    v = xp.maximum(v_max, v, out=v_max)  # v_max = max(v_max, v)
                denom = xp.sqrt(v, out=scratch)  # denom = sqrt(v) / sqrt(1 - beta2**t) + eps
                denom /= cast(math.sqrt(1 - beta2**t))
                denom += cast(eps)
                update = xp.divide(m, denom, out=scratch)  # p = p - lr / (1 - beta1**t) * m / denom
                update *= cast(lr / (1 - beta1**t))
                p.data -= update
                p._version += 1  # an in-place write: backward through an older graph would be wrong


class AdamW(Adam):
    """Adam with decoupled weight decay: p = p * (1 - lr * weight_decay) before the Adam update.

    g = -grad if maximize else grad;  p = p - lr * weight_decay * p;  t = t + 1
    m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g**2
    v_max = max(v_max, v) and v_max replaces v below                            [if amsgrad]
    p = p - lr * (m / (1 - beta1**t)) / (sqrt(v / (1 - beta2**t)) + eps)
    """

    _decoupled_weight_decay = True

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=1e-2,
        amsgrad=False,
        *,
        maximize=False,
    ):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root mean square of recent gradients (torch's update).

    g = -grad if maximize else grad;  g = g + weight_decay * p
    v = alpha * v + (1 - alpha) * g**2
    m = m + (1 - alpha) * (g - m);  denom = sqrt(v - m**2) + eps    [if centered, else denom = sqrt(v) + eps]
    buf = momentum * buf + g / denom;  p = p - lr * buf              [if momentum > 0]
    p = p - lr * g / denom                                           [otherwise]
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *,
                 maximize=False):
        defaults = {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay, "momentum": momentum,
                    "centered": centered, "maximize": maximize}
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group):
        for name in ("lr", "eps", "momentum", "weight_decay", "alpha"):
            _check_non_negative({"lr": "learning rate", "eps": "epsilon value"}.get(name, name), group[name])

    def step(self):
        """Apply one RMSprop update to every parameter that has a gradient."""
        for group in self.param_groups:
            lr, alpha, eps, momentum = group["lr"], group["alpha"], group["eps"], group["momentum"]
            for p in self._params_with_grad(group):
                xp, cast = get_array_module(p.data), p.data.dtype.type
                state = self._state_of(p)
                if not state:
                    state["step"] = 0
                    state["square_avg"] = xp.zeros_like(p.data)
                    if momentum > 0:
                        state["momentum_buffer"] = xp.zeros_like(p.data)
                    if group["centered"]:
                        state["grad_avg"] = xp.zeros_like(p.data)
                state["step"] += 1
                g = _signed_grad_with_decay(p, group["weight_decay"], group["maximize"])
                v = state["square_avg"]
                v *= cast(alpha)  # v = alpha * v + (1 - alpha) * g**2
                v += cast(1 - alpha) * g * g
                if group["centered"]:
                    m = state["grad_avg"]
                    m += cast(1 - alpha) * (g - m)  # m = m + (1 - alpha) * (g - m)
                    denom = xp.sqrt(v - m * m)
                else:
                    denom = xp.sqrt(v)
                denom += cast(eps)
                if momentum > 0:
                    buf = state["momentum_buffer"]
                    buf *= cast(momentum)  # buf = momentum * buf + g / denom
                    buf += g / denom
                    p.data -= cast(lr) * buf
                else:
                    p.data -= cast(lr) * g / denom


class Adagrad(Optimizer):
    """Adagrad: each coordinate's step shrinks with the sum of its squared gradients (torch's update).

    g = -grad if maximize else grad;  g = g + weight_decay * p;  t = t + 1
    s = s + g**2   (s starts at initial_accumulator_value)
    p = p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *,
                 maximize=False):
        defaults = {"lr": lr, "lr_decay": lr_decay, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "eps": eps, "maximize": maximize}
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group):
        for name in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            _check_non_negative({"lr": "learning rate", "eps": "epsilon value"}.get(name, name), group[name])

    def step(self):
        """Apply one Adagrad update to every parameter that has a gradient."""
        for group in self.param_groups:
            for p in self._params_with_grad(group):
                xp, cast = get_array_module(p.data), p.data.dtype.type
                state = self._state_of(p)
                if not state:
                    state["step"] = 0
                    state["sum"] = xp.full_like(p.data, group["initial_accumulator_value"])
                state["step"] += 1
                g = _signed_grad_with_decay(p, group["weight_decay"], group["maximize"])
                state["sum"] += g * g  # s = s + g**2
                clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
                p.data -= cast(clr) * g / (xp.sqrt(state["sum"]) + cast(group["eps"]))
