"""Named specs of the published networks, in a registry.

Every preset that torchvision also has builds a model with exactly torchvision's
parameter count and, after :func:`lwviz.weights.convert.convert_state_dict`, its outputs;
so does every preset that names a timm model (MobileNetV4, GhostNet, MobileOne), with timm's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from lwviz.i18n import N_, Phrase
from lwviz.plan import resolve
from lwviz.registry import add
from lwviz.spec import Head, Spec, Stage, Stem


@dataclass(frozen=True)
class Preset:
    name: str
    spec: Spec
    summary: str  # a catalog message or a Phrase: pages say it in their reader's language
    torchvision: str | None = None  # the torchvision builder of the same network, if any
    timm: str | None = None  # the timm model of the same network, if any (timm is needed only to convert its weights)


PRESETS: dict[str, Preset] = {}


def register(name: str, spec: Spec, summary: str, torchvision: str | None = None, timm: str | None = None) -> Preset:
    preset = Preset(name, resolve(replace(spec, name=name)).spec, summary, torchvision, timm)
    return add(PRESETS, name, preset, "preset")


def spec_from_text(text: str) -> Spec:
    """A preset name (``mobilenet_v2``) or a compact spec string (``net_...``), validated."""
    if text in PRESETS or not text.startswith("net_"):
        return get_preset(text)
    return resolve(Spec.from_string(text)).spec


def get_preset(name: str) -> Spec:
    try:
        return PRESETS[name].spec
    except KeyError:
        raise ValueError(f"preset: unknown preset {name!r}; choose one of {', '.join(PRESETS)}") from None


def _stages(block: str, rows, act: str, se: float = 0.0) -> tuple[Stage, ...]:
    """Rows of (expand, kernel, stride, out_chs, repeats[, se, act]) as in the papers' tables."""
    out = []
    for row in rows:
        e, k, s, c, n, *rest = row
        out.append(
            Stage(
                block,
                repeats=n,
                kernel=k,
                stride=s,
                out_chs=c,
                expand=float(e),
                se=rest[0] if rest else se,
                act=rest[1] if len(rest) > 1 else act,
            )
        )
    return tuple(out)


register(
    "mobilenet_v1",
    Spec(
        stem=Stem(32, 3, 2, "relu"),
        stages=_stages(
            "dws",
            [(1, 3, 1, 64, 1), (1, 3, 2, 128, 2), (1, 3, 2, 256, 2), (1, 3, 2, 512, 6), (1, 3, 2, 1024, 2)],
            "relu",
        ),
        head=Head(0, "relu", dropout=0.001),
        bn_eps=1e-3,
    ),
    N_("MobileNetV1 (Howard et al. 2017, Table 1): 13 depthwise-separable layers."),
)

_EFFICIENTNET_B0_ROWS = [
    (1, 3, 1, 16, 1),
    (6, 3, 2, 24, 2),
    (6, 5, 2, 40, 2),
    (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3),
    (6, 5, 2, 192, 4),
    (6, 3, 1, 320, 1),
]

register(
    "mobilenet_v2",
    Spec(
        stem=Stem(32, 3, 2, "relu6"),
        stages=_stages(
            "ir",
            [
                (1, 3, 1, 16, 1),
                (6, 3, 2, 24, 2),
                (6, 3, 2, 32, 3),
                (6, 3, 2, 64, 4),
                (6, 3, 1, 96, 3),
                (6, 3, 2, 160, 3),
                (6, 3, 1, 320, 1),
            ],
            "relu6",
        ),
        head=Head(1280, "relu6", scaling="floor"),
    ),
    N_("MobileNetV2 (Sandler et al. 2018): inverted residuals with linear bottlenecks."),
    "mobilenet_v2",
)

_V3 = dict(bn_eps=1e-3, se_style="mobilenetv3")
register(
    "mobilenet_v3_large",
    Spec(
        stem=Stem(16, 3, 2, "hswish"),
        stages=_stages(
            "mbconv",
            [
                (1, 3, 1, 16, 1, 0, "relu"),
                (4, 3, 2, 24, 1, 0, "relu"),
                (3, 3, 1, 24, 1, 0, "relu"),
                (3, 5, 2, 40, 3, 0.25, "relu"),
                (6, 3, 2, 80, 1, 0, "hswish"),
                (2.5, 3, 1, 80, 1, 0, "hswish"),
                (2.3, 3, 1, 80, 2, 0, "hswish"),
                (6, 3, 1, 112, 2, 0.25, "hswish"),
                (6, 5, 2, 160, 3, 0.25, "hswish"),
            ],
            "hswish",
        ),
        head=Head(960, "hswish", hidden=1280),
        **_V3,
    ),
    N_("MobileNetV3-Large (Howard et al. 2019): NAS-found MBConv blocks, SE and h-swish."),
    "mobilenet_v3_large",
)

register(
    "mobilenet_v3_small",
    Spec(
        stem=Stem(16, 3, 2, "hswish"),
        stages=_stages(
            "mbconv",
            [
                (1, 3, 2, 16, 1, 0.25, "relu"),
                (4.5, 3, 2, 24, 1, 0, "relu"),
                (3.67, 3, 1, 24, 1, 0, "relu"),
                (4, 5, 2, 40, 1, 0.25, "hswish"),
                (6, 5, 1, 40, 2, 0.25, "hswish"),
                (3, 5, 1, 48, 2, 0.25, "hswish"),
                (6, 5, 2, 96, 3, 0.25, "hswish"),
            ],
            "hswish",
        ),
        head=Head(576, "hswish", hidden=1024),
        **_V3,
    ),
    N_("MobileNetV3-Small (Howard et al. 2019): the low-resource MobileNetV3."),
    "mobilenet_v3_small",
)

for _name, _chs, _last in [
    ("x0_5", (48, 96, 192), 1024),
    ("x1_0", (116, 232, 464), 1024),
    ("x1_5", (176, 352, 704), 1024),
    ("x2_0", (244, 488, 976), 2048),
]:
    register(
        f"shufflenet_v2_{_name}",
        Spec(
            stem=Stem(24, 3, 2, "relu", pool="max", scaling="fixed"),
            stages=tuple(
                Stage("shuffle", repeats=n, kernel=3, stride=2, out_chs=c, act="relu") for n, c in zip((4, 8, 4), _chs)
            ),
            head=Head(_last, "relu", scaling="fixed", dropout=0.0),
            divisor=2,
        ),
        Phrase("ShuffleNetV2 {width} (Ma et al. 2018): channel split and shuffle.", width=_name.replace("_", ".")),
        f"shufflenet_v2_{_name}",
    )

# ShuffleNetV1 (Zhang et al. 2018) as its authors' ShuffleNet-Series code builds it: at 1x, stages of 240/480/960
# channels (g=3) or 384/768/1536 (g=8); the width knob scales them (0.5x..2x are the published models), while the
# stem follows the authors' table: 24 channels, 12 or 16 at 0.5x, 48 at 2x ("steps"). divisor = groups keeps
# every width divisible by the groups. The first unit's first 1x1 stays dense; the classifier has no bias.
for _g, _chs in [(3, (240, 480, 960)), (8, (384, 768, 1536))]:
    register(
        f"shufflenet_v1_g{_g}",
        Spec(
            stem=Stem(24, 3, 2, "relu", pool="max", scaling="steps"),
            stages=tuple(
                Stage(
                    "shufflev1",
                    repeats=n,
                    kernel=3,
                    stride=2,
                    out_chs=c,
                    expand=0.25,
                    act="relu",
                    groups=_g,
                    dense_first=i == 0,
                )
                for i, (n, c) in enumerate(zip((4, 8, 4), _chs))
            ),
            head=Head(0, "relu", dropout=0.0, classifier="linear_nobias"),
            divisor=_g,
        ),
        Phrase("ShuffleNetV1 g={groups} (Zhang et al. 2018): grouped 1x1 convolutions and channel shuffle.", groups=_g),
    )

_FIRE = dict(norm=False, head=Head(0, "relu", dropout=0.5, classifier="conv"))
register(
    "squeezenet1_0",
    Spec(
        stem=Stem(96, 7, 2, "relu", pool="maxceil", padded=False),
        stages=_stages(
            "fire",
            [
                (8, 3, 1, 128, 2),
                (8, 3, 1, 256, 1),
                (8, 3, 2, 256, 1),
                (8, 3, 1, 384, 2),
                (8, 3, 1, 512, 1),
                (8, 3, 2, 512, 1),
            ],
            "relu",
        ),
        **_FIRE,
    ),
    N_("SqueezeNet 1.0 (Iandola et al. 2016): Fire modules, AlexNet accuracy with 50x fewer parameters."),
    "squeezenet1_0",
)

register(
    "squeezenet1_1",
    Spec(
        stem=Stem(64, 3, 2, "relu", pool="maxceil", padded=False),
        stages=_stages("fire", [(8, 3, 1, 128, 2), (8, 3, 2, 256, 2), (8, 3, 2, 384, 2), (8, 3, 1, 512, 2)], "relu"),
        **_FIRE,
    ),
    N_("SqueezeNet 1.1: SqueezeNet 1.0's accuracy with 2.4x less computation."),
    "squeezenet1_1",
)

register(
    "efficientnet_b0",
    Spec(
        stem=Stem(32, 3, 2, "silu"),
        stages=_stages("mbconv", _EFFICIENTNET_B0_ROWS, "silu", se=0.25),
        head=Head(1280, "silu"),
    ),
    N_("EfficientNet-B0 (Tan & Le 2019): the compound-scaling baseline, MBConv + SE + swish."),
    "efficientnet_b0",
)

register(
    "efficientnet_v2_s",
    Spec(
        stem=Stem(24, 3, 2, "silu"),
        # fused-MBConv where depthwise convs are slow (early, high resolution), MBConv + SE later (Table 4)
        stages=_stages("fused", [(1, 3, 1, 24, 2), (4, 3, 2, 48, 4), (4, 3, 2, 64, 4)], "silu")
        + _stages("mbconv", [(4, 3, 2, 128, 6), (6, 3, 1, 160, 9), (6, 3, 2, 256, 15)], "silu", se=0.25),
        head=Head(1280, "silu"),
        bn_eps=1e-3,
        resolution=384,  # torchvision's weights are trained and evaluated at 384 (its _ops and top-1 are there)
    ),
    N_("EfficientNetV2-S (Tan & Le 2021): fused-MBConv early, MBConv + SE late, found for training speed."),
    "efficientnet_v2_s",
)

register(
    "efficientnet_lite0",
    Spec(
        stem=Stem(32, 3, 2, "relu6", scaling="fixed"),
        stages=_stages("mbconv", _EFFICIENTNET_B0_ROWS, "relu6"),
        head=Head(1280, "relu6", scaling="fixed"),
        bn_eps=1e-3,
        padding="tf_same",
    ),
    N_("EfficientNet-Lite0: B0 without SE and with ReLU6, for int8 on mobile accelerators."),
)

register(
    "mnasnet1_0",
    Spec(
        stem=Stem(32, 3, 2, "relu"),
        stages=_stages(
            "ir",
            [
                (1, 3, 1, 16, 1),
                (3, 3, 2, 24, 3),
                (3, 5, 2, 40, 3),
                (6, 5, 2, 80, 3),
                (6, 3, 1, 96, 2),
                (6, 5, 2, 192, 4),
                (6, 3, 1, 320, 1),
            ],
            "relu",
        ),
        head=Head(1280, "relu", scaling="fixed"),
    ),
    N_("MnasNet-B1 1.0 (Tan et al. 2019): platform-aware architecture search."),
    "mnasnet1_0",
)


# ----- the families after 2019, exact to timm's models of the same names ----------------------------------------


def _uib(rows, act: str = "relu") -> tuple[Stage, ...]:
    """Rows of (dw before, dw after, stride, expand, out_chs, repeats) as timm's MobileNetV4 block strings
    ``uir_r{repeats}_a{before}_k{after}_s{stride}_e{expand}_c{out_chs}``; 0 = that depthwise conv is absent."""
    return tuple(
        Stage("uib", repeats=n, kernel=k or 3, stride=s, out_chs=c, expand=float(e), act=act, dw_start=a, mid_dw=k > 0)
        for a, k, s, e, c, n in rows
    )


# MobileNetV4's conv models end as timm builds them: a 1x1 conv to 960 channels, global pooling, a 1x1 conv
# without bias + BN + ReLU to 1280 on the pooled vector, the classifier.
_MNV4_HEAD = Head(960, "relu", hidden=1280, classifier="linear_bn")

register(
    "mobilenetv4_conv_small",
    Spec(
        stem=Stem(32, 3, 2, "relu"),
        stages=(
            Stage("conv", kernel=3, stride=2, out_chs=32),
            Stage("conv", kernel=1, out_chs=32),
            Stage("conv", kernel=3, stride=2, out_chs=96),
            Stage("conv", kernel=1, out_chs=64),
            *_uib([(5, 5, 2, 3, 96, 1), (0, 3, 1, 2, 96, 4), (3, 0, 1, 4, 96, 1)]),
            *_uib([(3, 3, 2, 6, 128, 1), (5, 5, 1, 4, 128, 1), (0, 5, 1, 4, 128, 1), (0, 5, 1, 3, 128, 1)]),
            *_uib([(0, 3, 1, 4, 128, 2)]),
        ),
        head=_MNV4_HEAD,
    ),
    N_("MobileNetV4-Conv-S (Qin et al. 2024): plain convs early, universal inverted bottlenecks later."),
    timm="mobilenetv4_conv_small",
)

register(
    "mobilenetv4_conv_medium",
    Spec(
        stem=Stem(32, 3, 2, "relu"),
        stages=(
            Stage("fused", kernel=3, stride=2, out_chs=48, expand=4.0),  # timm's EdgeResidual: fused-MBConv
            *_uib([(3, 5, 2, 4, 80, 1), (3, 3, 1, 2, 80, 1)]),
            *_uib([(3, 5, 2, 6, 160, 1), (3, 3, 1, 4, 160, 2), (3, 5, 1, 4, 160, 1), (3, 3, 1, 4, 160, 1)]),
            *_uib([(3, 0, 1, 4, 160, 1), (0, 0, 1, 2, 160, 1), (3, 0, 1, 4, 160, 1)]),
            *_uib([(5, 5, 2, 6, 256, 1), (5, 5, 1, 4, 256, 1), (3, 5, 1, 4, 256, 2), (0, 0, 1, 4, 256, 1)]),
            *_uib([(3, 0, 1, 4, 256, 1), (3, 5, 1, 2, 256, 1), (5, 5, 1, 4, 256, 1), (0, 0, 1, 4, 256, 2)]),
            *_uib([(5, 0, 1, 2, 256, 1)]),
        ),
        head=_MNV4_HEAD,
        resolution=256,  # timm's weights are trained and evaluated at 256
    ),
    N_(
        "MobileNetV4-Conv-M (Qin et al. 2024): a fused-MBConv first, then universal inverted bottlenecks of all four "
        "kinds."
    ),
    timm="mobilenetv4_conv_medium",
)

register(
    "ghostnet_100",
    Spec(
        stem=Stem(16, 3, 2, "relu"),
        stages=tuple(
            Stage("ghost", repeats=1, kernel=k, stride=s, out_chs=c, expand=e, se=se, act="relu")
            for k, e, c, se, s in [
                (3, 1.0, 16, 0.0, 1),
                (3, 3.0, 24, 0.0, 2),
                (3, 3.0, 24, 0.0, 1),
                (5, 3.0, 40, 0.25, 2),
                (5, 3.0, 40, 0.25, 1),
                (3, 6.0, 80, 0.0, 2),
                (3, 2.5, 80, 0.0, 1),
                (3, 2.3, 80, 0.0, 1),
                (3, 2.3, 80, 0.0, 1),
                (3, 6.0, 112, 0.25, 1),
                (3, 6.0, 112, 0.25, 1),
                (5, 6.0, 160, 0.25, 2),
                (5, 6.0, 160, 0.0, 1),
                (5, 6.0, 160, 0.25, 1),
                (5, 6.0, 160, 0.0, 1),
                (5, 6.0, 160, 0.25, 1),
            ]
        ),
        head=Head(960, "relu", hidden=1280),
        divisor=4,  # GhostNet rounds every width to a multiple of 4
    ),
    N_("GhostNet 1.0x (Han et al. 2020): ghost bottlenecks, half of every feature map from cheap depthwise convs."),
    timm="ghostnet_100",
)

# MobileOne-S0: stages of 2/8/10/1 blocks at 48/128/256/1024 channels (the 64/128/256/512 of the paper's table
# times 0.75/1/1/2), k = 4 branches per conv in the blocks, one in the stem; the classifier reads the last stage.
register(
    "mobileone_s0",
    Spec(
        stem=Stem(48, 3, 2, "relu", branches=1),
        stages=tuple(
            Stage("mobileone", repeats=n, kernel=3, stride=2, out_chs=c, branches=4)
            for n, c in zip((2, 8, 10, 1), (48, 128, 256, 1024))
        ),
        head=Head(0, "relu", dropout=0.0),
    ),
    N_("MobileOne-S0 (Vasu et al. 2023): trained with 4 branches per conv, folded into a plain network to run."),
    timm="mobileone_s0",
)
