"""Neural-network building blocks with PyTorch's names: Module, layers, losses and `functional`."""

from . import functional, init, utils
from .dropout import (
    AlphaDropout,
    DropConnectLinear,
    Dropout1d,
    Dropout2d,
    Dropout3d,
    DropPath,
    FeatureAlphaDropout,
    GaussianDropout,
    LockedDropout,
    drop_path_schedule,
)
from .layers import Dropout, Flatten, Identity, Linear, ModuleDict, ModuleList, ReLU, Sequential, Sigmoid, Tanh
from .loss import CrossEntropyLoss, MSELoss, NLLLoss
from .mc import MCPrediction, mc_predict, record_masks, replay_masks, stochastic_sites
from .module import Module, Parameter
from .transformer import GELU, Embedding, LayerNorm
from .variational import VariationalLinear, variational_kl
