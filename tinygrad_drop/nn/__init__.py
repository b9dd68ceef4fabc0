"""Neural-network building blocks with PyTorch's names: Module, layers, losses and `functional`."""

from . import functional
from .layers import Dropout, Flatten, Identity, Linear, ReLU, Sequential, Sigmoid, Tanh
from .loss import CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module, Parameter
