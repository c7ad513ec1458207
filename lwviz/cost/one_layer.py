"""One standard KxK convolution against its depthwise-separable replacement.

The MobileNet paper's argument in numbers, for a single layer: a dense KxK conv
from M to N channels versus a depthwise KxK conv (one filter per input channel,
carrying the stride) followed by a pointwise 1x1 conv from M to N channels.

Counting follows the rest of lwviz: MACs are multiply-accumulates, bias excluded.
**Params here are conv weights only** (no bias, no batch norm): the quantities in
the paper's formulas, so the page can show them with the numbers filled in. The
network tables (:mod:`lwviz.cost.analytic`) add BN parameters on top of these.

Padding is "same": ``(K - 1) / 2`` on each side, so the output side is
``ceil(size / stride)`` (:func:`lwviz.families.conv_out`). Because the pointwise conv
runs on the strided output, the MAC ratio is exactly ``1/N + 1/K^2`` for every
stride and size, and so is the weight ratio.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from numbers import Integral

from lwviz.cost.analytic import dws_theory_ratio
from lwviz.errors import Refusal
from lwviz.families import conv_out
from lwviz.i18n import N_, Phrase


@dataclass(frozen=True)
class Limit:
    label: str  # what a student calls the field (a catalog message: the page shows it translated)
    low: int
    high: int
    odd: bool = False

    def check(self, field: str, value) -> None:
        """Raise a :class:`~lwviz.errors.Refusal` naming the field and its allowed range unless ``value`` is
        allowed."""
        ok = isinstance(value, Integral) and not isinstance(value, bool) and self.low <= value <= self.high
        if not ok or (self.odd and value % 2 == 0):
            raise Refusal(
                N_("{label} ({field}) must be an odd integer in {low}..{high}, got {value}")
                if self.odd
                else N_("{label} ({field}) must be an integer in {low}..{high}, got {value}"),
                label=Phrase(self.label),
                field=field,
                low=self.low,
                high=self.high,
                value=repr(value),
            )


LIMITS: dict[str, Limit] = {
    "in_chs": Limit(N_("Input channels M"), 1, 4096),
    "out_chs": Limit(N_("Output channels N"), 1, 4096),
    "kernel": Limit(N_("Kernel size K"), 1, 11, odd=True),  # odd: "same" padding keeps the window centred
    "height": Limit(N_("Input height H"), 1, 1024),
    "width": Limit(N_("Input width W"), 1, 1024),
    "stride": Limit(N_("Stride"), 1, 4),
}


@dataclass(frozen=True)
class ConvCost:
    """One convolution's weights and MACs; ``groups == in_chs`` makes it depthwise."""

    in_chs: int
    out_chs: int
    kernel: int
    groups: int
    out_height: int
    out_width: int

    @property
    def macs_per_output(self) -> int:
        """Weights one output value reads: K * K * (input channels it sees)."""
        return self.kernel**2 * (self.in_chs // self.groups)

    @property
    def outputs(self) -> int:
        """Output values computed: channels * height * width."""
        return self.out_chs * self.out_height * self.out_width

    @property
    def params(self) -> int:
        return self.out_chs * self.macs_per_output

    @property
    def macs(self) -> int:
        return self.outputs * self.macs_per_output


@dataclass(frozen=True)
class OneLayer:
    """A standard conv and its depthwise + pointwise replacement; validated on creation."""

    in_chs: int
    out_chs: int
    kernel: int
    height: int
    width: int
    stride: int = 1

    def __post_init__(self):
        for field, limit in LIMITS.items():
            limit.check(field, getattr(self, field))

    @property
    def out_height(self) -> int:
        return conv_out(self.height, self.kernel, self.stride)

    @property
    def out_width(self) -> int:
        return conv_out(self.width, self.kernel, self.stride)

    def _conv(self, in_chs: int, out_chs: int, kernel: int, groups: int = 1) -> ConvCost:
        return ConvCost(in_chs, out_chs, kernel, groups, self.out_height, self.out_width)

    @property
    def standard(self) -> ConvCost:
        return self._conv(self.in_chs, self.out_chs, self.kernel)

    @property
    def depthwise(self) -> ConvCost:
        return self._conv(self.in_chs, self.in_chs, self.kernel, groups=self.in_chs)

    @property
    def pointwise(self) -> ConvCost:
        return self._conv(self.in_chs, self.out_chs, 1)

    @property
    def separable_params(self) -> int:
        return self.depthwise.params + self.pointwise.params

    @property
    def separable_macs(self) -> int:
        return self.depthwise.macs + self.pointwise.macs

    @property
    def macs_ratio(self) -> Fraction:
        """Separable MACs / standard MACs, exact (a float would hide whether it equals the theory)."""
        return Fraction(self.separable_macs, self.standard.macs)

    @property
    def params_ratio(self) -> Fraction:
        return Fraction(self.separable_params, self.standard.params)

    @property
    def theory_ratio(self) -> float:
        """The paper's 1/N + 1/K^2."""
        return dws_theory_ratio(self.out_chs, self.kernel)
