"""The pieces blocks share in the generated file: channel rounding, activations, conv + BN + activation,
TensorFlow "same" padding, squeeze-and-excitation and the channel shuffle.

Each piece is written for one network (its batch-norm epsilon, its SE style, whether it has batch norm at all) and
for the code that uses it, and the file gets only the pieces its code calls: :func:`pieces_for` follows the names
used until nothing new is needed.
"""

from __future__ import annotations

import re

from lwviz.codegen.base import Fit
from lwviz.layers.activations import ACTIVATION_LAYERS


def _make_divisible(fit: Fit, text: str) -> str:
    return f'''
def make_divisible(value: float, divisor: int = {fit.plan.spec.divisor}) -> int:
    """Round a channel count to a multiple of ``divisor``, never more than 10% down (TensorFlow's and torchvision's
    rule)."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded
'''


def used_activations(fit: Fit, text: str) -> list[str]:
    """The activation names the network's layers and ``text`` use, in the registry's order; "none" (linear)
    always."""
    plan = fit.plan
    names = {a.act for a in plan.layers if a.block != "classifier"}
    cls = plan.layers[-1]
    if cls.hidden or cls.classifier == "conv":
        names.add(cls.act)
    names |= set(re.findall(r'"(\w+)"', text))
    return [name for name in ACTIVATION_LAYERS if name in names or name == "none"]


def _activations(fit: Fit, text: str) -> str:
    rows = []
    for name in used_activations(fit, text):
        layer = ACTIVATION_LAYERS[name]
        if not layer.__module__.startswith("torch.nn"):
            raise ValueError(f"activation {name!r}: {layer.__name__} is not a torch.nn class; give it code here")
        rows.append(f'    "{name}": nn.{layer.__name__},' + ("  # linear: no activation" if name == "none" else ""))
    table = "\n".join(rows)
    return f"""
# The activations, by the names the stage table uses.
ACTIVATIONS = {{
{table}
}}


def make_act(name: str) -> nn.Module:
    return ACTIVATIONS[name]()
"""


def _conv2d_same(fit: Fit, text: str) -> str:
    return '''
class Conv2dSame(nn.Conv2d):
    """A convolution with TensorFlow's "SAME" padding: for even sizes the extra pixel goes right and bottom.

    These weights were trained in TensorFlow that way; symmetric padding would shift the stride-2 sampling grid by
    one pixel and cost accuracy.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size, k, s in zip(reversed(x.shape[-2:]), reversed(self.kernel_size), reversed(self.stride)):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return super().forward(F.pad(x, pads))
'''


def _conv_bn_act(fit: Fit, text: str) -> str:
    spec = fit.plan.spec
    eps = "" if spec.bn_eps == 1e-5 else f", eps={spec.bn_eps!r}"
    bias = "False" if spec.norm else "True"
    text = f'''
class ConvBNAct(nn.Sequential):
    """Convolution -> batch norm -> activation, the unit every block is made of.  #@norm
    """Convolution (with a bias: no batch norm in this network) -> activation, what every block is made of.  #@!norm

    The padding keeps the size at stride 1 (and divides it by the stride otherwise).
    """

    def __init__(self, in_chs: int, out_chs: int, kernel: int, stride: int, act: str, groups: int = 1):  #@!unpadded
    def __init__(  #@unpadded
        self, in_chs: int, out_chs: int, kernel: int, stride: int, act: str, groups: int = 1, padded=True  #@unpadded
    ):  #@unpadded
        super().__init__()
        padding = (kernel - 1) // 2  #@!unpadded
        padding = (kernel - 1) // 2 if padded else 0  #@unpadded
        if stride > 1:  # TensorFlow's "SAME" padding where the convolution downsamples  #@tf_same
            self.conv = Conv2dSame(in_chs, out_chs, kernel, stride, 0, groups=groups, bias={bias})  #@tf_same
        else:  #@tf_same
            self.conv = nn.Conv2d(in_chs, out_chs, kernel, stride, padding, groups=groups, bias={bias})  #@tf_same
        self.conv = nn.Conv2d(in_chs, out_chs, kernel, stride, padding, groups=groups, bias={bias})  #@!tf_same
        self.bn = nn.BatchNorm2d(out_chs{eps})  #@norm
        self.act = make_act(act)
'''
    return fit.keep(text)


def _squeeze_excite(fit: Fit, text: str) -> str:
    if fit.plan.spec.se_style == "mobilenetv3":
        act = "nn.ReLU()  # MobileNetV3 squeezes with ReLU, whatever the block uses"
        gate = "nn.Hardsigmoid"
        rd = '''
def se_chs(in_chs: int, mid_chs: int, ratio: float) -> int:
    """MobileNetV3 squeezes to a fraction of the block's expanded channels, rounded to a multiple of 8."""
    return make_divisible(int(mid_chs * ratio), 8)
'''
    else:
        act = "make_act(act)"
        gate = "nn.Sigmoid"
        rd = '''
def se_chs(in_chs: int, mid_chs: int, ratio: float) -> int:
    """EfficientNet squeezes to a fraction of the block's input channels."""
    return max(1, int(in_chs * ratio))
'''
    return f'''
class SqueezeExcite(nn.Module):
    """Channel attention: pool each channel to one number, turn them into a gate in [0, 1] per channel with two 1x1
    convolutions, and multiply every channel by its gate."""

    def __init__(self, chs: int, rd_chs: int, act: str, gate: type = {gate}):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(chs, rd_chs, 1)
        self.act = {act}
        self.fc2 = nn.Conv2d(rd_chs, chs, 1)
        self.gate = gate()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(self.fc2(self.act(self.fc1(self.pool(x)))))

{rd if _calls(text, "se_chs") else ""}'''


def _reparam_conv(fit: Fit, text: str) -> str:
    eps = fit.plan.spec.bn_eps
    eps = "" if eps == 1e-5 else f", eps={eps!r}"
    if "reparam" in fit.flags:
        return '''
class ReparamConv(nn.Module):
    """MobileOne's re-parameterizable convolution in its inference form: the training branches (KxK convolutions,
    a 1x1 one and an identity, each with batch norm, summed) folded into one KxK convolution with a bias."""

    def __init__(self, in_chs: int, out_chs: int, kernel: int, stride: int, groups: int, act: str):
        super().__init__()
        self.reparam_conv = nn.Conv2d(in_chs, out_chs, kernel, stride, (kernel - 1) // 2, groups=groups)
        self.act = make_act(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.reparam_conv(x))
'''
    return f'''
def conv_bn(in_chs: int, out_chs: int, kernel: int, stride: int, groups: int) -> nn.Sequential:
    """One branch of a re-parameterizable convolution: a convolution without bias and its batch norm."""
    branch = nn.Sequential()
    branch.conv = nn.Conv2d(in_chs, out_chs, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False)
    branch.bn = nn.BatchNorm2d(out_chs{eps})
    return branch


class ReparamConv(nn.Module):
    """MobileOne's re-parameterizable convolution, in its training form: ``branches`` KxK convolutions, a 1x1 one
    (for K > 1) and, where the input can be added as it is, a batch norm alone, each with its own batch norm,
    summed. All are linear, so after training they fold into one KxK convolution with a bias (lwviz's "reparam").
    """

    def __init__(self, in_chs: int, out_chs: int, kernel: int, stride: int, groups: int, act: str, branches: int):
        super().__init__()
        self.identity = nn.BatchNorm2d(out_chs{eps}) if in_chs == out_chs and stride == 1 else None
        self.conv_kxk = nn.ModuleList(conv_bn(in_chs, out_chs, kernel, stride, groups) for _ in range(branches))
        self.conv_scale = conv_bn(in_chs, out_chs, 1, stride, groups) if kernel > 1 else None
        self.act = make_act(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = ([self.conv_scale] if self.conv_scale is not None else []) + list(self.conv_kxk)
        out = branches[0](x)
        for branch in branches[1:]:
            out = out + branch(x)
        if self.identity is not None:
            out = out + self.identity(x)
        return self.act(out)
'''


def _channel_shuffle(fit: Fit, text: str) -> str:
    return '''
def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """See the channels as a ``groups x (C / groups)`` grid and transpose it, so that the next grouped convolution
    gets channels from every group."""
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)
'''


# name -> its code, in the order the file defines them (a piece before the pieces that use it)
PIECES = {
    "make_divisible": _make_divisible,
    "make_act": _activations,
    "Conv2dSame": _conv2d_same,
    "ConvBNAct": _conv_bn_act,
    "SqueezeExcite": _squeeze_excite,
    "channel_shuffle": _channel_shuffle,
    "ReparamConv": _reparam_conv,
}


def _calls(text: str, name: str) -> bool:
    return re.search(rf"\b{name}\b", text) is not None


def pieces_for(fit: Fit, code: str) -> list[str]:
    """The shared pieces ``code`` needs, and those they need in turn, each written once, in :data:`PIECES` order."""
    chosen: dict[str, str] = {}
    pending = [code]
    while pending:
        text = pending.pop()
        for name, write in PIECES.items():
            if name not in chosen and _calls(text, name):
                chosen[name] = write(fit, code)
                pending.append(chosen[name])
    return [chosen[name] for name in PIECES if name in chosen]
