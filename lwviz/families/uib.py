"""Universal inverted bottleneck, UIB (MobileNetV4): an inverted residual with two optional depthwise convs.

An optional KxK depthwise conv *before* the 1x1 expansion (``dw_start``, 0: none) and an optional one *after*
it (``mid_dw``, kernel ``kernel``), then the linear 1x1 projection. The two switches give four blocks, so one
search space holds them all (Qin et al. 2024, Fig. 4):

* **IB**, after only: MobileNetV2's inverted residual;
* **ExtraDW**, both: a larger receptive field for a few more MACs, spent on spatial mixing where it is cheap;
* **ConvNeXt-like**, before only: the spatial mixing on the narrow side, before the expansion;
* **FFN**, neither: two 1x1 convs, a transformer's feed-forward layer, fast on accelerators.

The stride goes to the depthwise conv after the expansion if there is one, else to the one before (timm's
``UniversalInvertedResidual``); a block with neither cannot downsample. The expansion is always its own 1x1
conv (even at ratio 1), the input is added when the stride is 1 and the channels stay. MobileNetV4's conv
models use no SE and no layer scale (timm gives layer scale to the hybrid models only).

Also here: MobileNetV4's classifier (``linear_bn``): global pooling, then a 1x1 conv without bias + batch norm +
activation to the hidden width on the pooled vector, then the FC.
"""

from __future__ import annotations

from dataclasses import replace

from lwviz.errors import Refusal
from lwviz.families.base import Family, LayerArgs
from lwviz.families.conv import conv
from lwviz.families.ops import OpCost, add_op, conv_op, elementwise_op, fc_op
from lwviz.families.shapes import conv_out, make_divisible
from lwviz.i18n import N_, Phrase


def uib_mid_chs(a: LayerArgs) -> int:
    """Expanded channels: ``in_chs * expand`` rounded to the divisor (timm's ``make_divisible``), at any ratio."""
    return make_divisible(a.in_chs * a.expand, a.divisor)


def uib_strides(a: LayerArgs) -> tuple[int, int]:
    """(stride of the conv before the expansion, stride of the one after): the one after takes it if present."""
    return (1, a.stride) if a.mid_dw else (a.stride, 1)


def uib_ops(a: LayerArgs) -> list[OpCost]:
    mid = uib_mid_chs(a)
    start_stride, mid_stride = uib_strides(a)
    ops, size = [], a.in_size
    if a.dw_start:
        ops.append(conv(a, "dw_start", a.in_chs, a.in_chs, a.dw_start, start_stride, groups=a.in_chs, act="none"))
        size = conv_out(size, a.dw_start, start_stride)
    ops.append(conv(a, "pw_exp", a.in_chs, mid, size=size))
    if a.mid_dw:
        ops.append(conv(a, "dw_mid", mid, mid, a.kernel, mid_stride, size=size, groups=mid))
    ops.append(conv(a, "pw_proj", mid, a.out_chs, size=a.out_size, act="none"))
    if a.has_skip:
        ops.append(add_op(f"{a.name}.skip_add", (a.out_chs, a.out_size, a.out_size)))
    return ops


def check_uib(a: LayerArgs, where: str) -> None:
    if a.stride > 1 and not (a.dw_start or a.mid_dw):
        raise Refusal(
            N_(
                "{where}.stride: a UIB block without depthwise convs (FFN) cannot downsample; give it a depthwise "
                "conv before the expansion (dw_start) or after it (mid_dw), or stride 1"
            ),
            where=where,
        )


VARIANTS = {  # (depthwise before the expansion, after it) -> the paper's name for the block
    (True, True): N_("UIB (ExtraDW)"),
    (False, True): N_("UIB (IB)"),
    (True, False): N_("UIB (ConvNeXt-like)"),
    (False, False): N_("UIB (FFN)"),
}


def uib_title(a: LayerArgs) -> str:
    return VARIANTS[bool(a.dw_start), a.mid_dw]


def uib_facts(a: LayerArgs) -> list[str]:
    before = [Phrase("dw {k}×{k} before", k=a.dw_start)] if a.dw_start else []
    after = [Phrase("dw {k}×{k} after", k=a.kernel)] if a.mid_dw else []
    return [*before, Phrase("expand {ratio}×", ratio=f"{a.expand:g}"), *after]


FAMILIES = (
    Family(
        "uib",
        N_("universal inverted bottleneck (MobileNetV4)"),
        2024,
        formula=uib_ops,
        title=uib_title,
        facts=uib_facts,
        check=check_uib,
        default_expand=4.0,
        uses_expand=True,
        residual=True,
    ),
)


# ----- MobileNetV4's classifier ---------------------------------------------------------------------------------


def normed_classifier_ops(a: LayerArgs) -> list[OpCost]:
    """Pool, a 1x1 conv without bias + BN + activation on the pooled vector (a fully connected layer with batch
    norm), then the FC to the classes."""
    c, s, n = a.in_chs, a.in_size, a.out_chs
    hidden = replace(conv_op("classifier.fc_hidden", c, a.hidden, 1, 1, 1, act=a.act), kind="fc")
    return [
        elementwise_op("classifier.pool", (c, s, s), (c, 1, 1), c * s * s),
        hidden,
        fc_op("classifier.fc", a.hidden, n),
    ]
