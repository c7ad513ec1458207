"""Small building layers shared by the block families."""

from lwviz.layers.activations import make_act
from lwviz.layers.conv import ChannelShuffle, Conv2dSame, ConvNormAct
from lwviz.layers.se import SqueezeExcite

__all__ = ["make_act", "ChannelShuffle", "Conv2dSame", "ConvNormAct", "SqueezeExcite"]
