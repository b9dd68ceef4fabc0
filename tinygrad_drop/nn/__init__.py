"""Neural-network building blocks with PyTorch's names: Module, layers, losses and `functional`."""

from . import functional, init, utils
from .activation import ELU, SELU, LeakyReLU, LogSoftmax, Sigmoid, SiLU, Softmax, Softplus, Tanh
from .batchnorm import BatchNorm1d, BatchNorm2d
from .conv import AdaptiveAvgPool2d, AvgPool2d, Conv2d, MaxPool2d
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
from .layers import Dropout, Flatten, Identity, Linear, ModuleDict, ModuleList, ReLU, Sequential
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss, NLLLoss, SmoothL1Loss
from .mc import MCPrediction, mc_predict, record_masks, replay_masks, stochastic_sites
from .module import Module, Parameter
from .summary import summary
from .transformer import GELU, Embedding, LayerNorm
from .variational import VariationalLinear, variational_kl
