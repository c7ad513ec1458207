"""A resolved layer (:class:`LayerArgs`) and the record every block family fills in (:class:`Family`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from lwviz.families.ops import OpCost, numel
from lwviz.families.shapes import conv_out, pool_out
from lwviz.i18n import Phrase


@dataclass(frozen=True)
class LayerArgs:
    """Everything needed to build or price one layer (stem, block, head or classifier), all numbers concrete."""

    name: str  # module path in the built model: 'stem', 'stages.2.0', 'head', 'classifier'
    block: str  # family name in lwviz.families.FAMILIES, or 'stem' / 'classifier'
    stage: int  # stage index; -1 for stem, len(stages) for head and classifier
    in_chs: int
    out_chs: int
    kernel: int
    stride: int
    in_size: int  # square feature map side
    out_size: int
    expand: float = 1.0
    se: float = 0.0
    act: str = "relu"
    groups: int = 1
    dense_pw: bool = False  # the first 1x1 is dense despite ``groups`` (ShuffleNetV1's first unit)
    dw_start: int = 0  # UIB: kernel of the depthwise conv before the expansion, 0 for none
    mid_dw: bool = True  # UIB: the depthwise conv after the expansion is there
    ratio: int = 2  # ghost module: 1/ratio of its maps come from the primary conv
    branches: int = 0  # MobileOne: KxK branches while training (a stem with 0 is a plain conv)
    folded: bool = False  # MobileOne: re-parameterized into one conv with a bias (the spec's inference form)
    has_skip: bool = False  # the block adds its input to its output (decided once, by the family, when resolved)
    # network-wide conventions every layer needs
    norm: bool = True
    bn_eps: float = 1e-5
    tf_same: bool = False
    se_style: str = "efficientnet"
    divisor: int = 8
    # stem / classifier specifics
    pool: str = "none"
    padded: bool = True
    hidden: int = 0
    dropout: float = 0.0
    classifier: str = "linear"

    @property
    def is_block(self) -> bool:
        """A block of a stage (not the stem, the head conv or the classifier)."""
        return self.block not in ("stem", "classifier") and self.name != "head"


def kernel_facts(a: LayerArgs) -> list[str]:
    return [Phrase("{k}×{k} kernels", k=a.kernel)]


def no_check(a: LayerArgs, where: str) -> None:
    """Families whose every channel count works."""


@dataclass(frozen=True)
class Family:
    """Everything about one block family except its ``nn.Module`` (lwviz/blocks/ builds that from the same name).

    ``formula`` lists the layer's operations with their cost (lwviz.families.ops); ``title`` and ``facts`` are the
    diagram's words for one block; ``check`` raises ``ValueError`` naming ``where`` for channel counts the block
    cannot take. Menus list families by ``year``, the year of their paper, so they read as the field's history.
    """

    name: str
    label: str
    year: int
    formula: Callable[[LayerArgs], list[OpCost]]
    title: Callable[[LayerArgs], str]
    facts: Callable[[LayerArgs], list[str]] = kernel_facts
    check: Callable[[LayerArgs, str], None] = no_check
    default_expand: float = 1.0
    default_se: float = 0.0
    default_groups: int = 1
    uses_expand: bool = False
    uses_se: bool = False
    residual: bool = False  # adds its input when the stride is 1 and the channels stay
    pooled_stride: bool = False  # downsamples with a 3x3 ceil-mode max-pool (Fire)

    def out_size(self, size: int, kernel: int, stride: int) -> int:
        if stride == 1:
            return size
        return pool_out(size, ceil=True) if self.pooled_stride else conv_out(size, kernel, stride)

    def has_skip(self, in_chs: int, out_chs: int, stride: int) -> bool:
        return self.residual and stride == 1 and in_chs == out_chs


BYTES_FP32 = 4


def peak_activation_bytes(a: LayerArgs, ops: list[OpCost], has_skip: bool) -> int:
    """Largest input + output pair of any op, plus the block input a residual keeps alive.

    A lower bound for sequential execution, batch 1, float32 (frameworks may add workspace).
    """
    held = a.in_chs * a.in_size**2 if has_skip else 0
    return BYTES_FP32 * (held + max(numel(o.in_shape) + numel(o.out_shape) for o in ops))
