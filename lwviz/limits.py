"""How big a design may be: a link, a file or a slider can ask for anything, and the server answers for all.

Every field of a spec has its own range, but fields within range can still add up to a network no one
could wait for (100 stages of 64 blocks: 6,400 blocks, billions of parameters). Two sets of limits
bound a design as a whole:

* :data:`DESIGN` bounds what may be priced, drawn or linked. :func:`lwviz.plan.resolve` counts the
  blocks before resolving any, so a hostile link is refused at once, and checks the totals after.
  The limits are generous: the largest published lightweight networks (EfficientNet-B7: 55 blocks,
  66 M parameters, 38 G MACs) fit with room to spare, and so does every slider's far corner on the
  presets. A design's baselines are numbers priced from it, never built, so they are not limited.
* :data:`RUN` bounds what the server builds and runs for a student (latency, export, training, the
  webcam): weights and activations that fit in a few hundred MB and a forward pass of a few seconds
  on one core.

The error carries what was measured and the limit, so a page can say it in any language.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lwviz.errors import Refusal
from lwviz.i18n import N_, Phrase

if TYPE_CHECKING:
    from lwviz.spec import Spec


@dataclass(frozen=True)
class Limits:
    name: str  # what the limits are for, in the message
    stages: int  # each makes at least one block; counted before any is parsed
    blocks: int
    params: int
    macs: int
    peak_memory: int  # bytes of activations alive at once, float32, batch 1


DESIGN = Limits(
    N_("a design"), stages=300, blocks=300, params=500_000_000, macs=1_000_000_000_000, peak_memory=2 * 2**30
)
RUN = Limits(
    N_("a network run on this server"),
    stages=300,
    blocks=300,
    params=50_000_000,
    macs=20_000_000_000,
    peak_memory=512 * 2**20,
)

# How much work one press may ask of the server (the pages' widgets stop there; Streamlit checks their bounds).
TIMING_SECONDS = 10.0  # a design's latency measurement ends its timed passes after this long
TIMED_RUNS = 50  # timed passes per measurement
TRAINING_STEPS = 1000  # steps of one training or distillation run

_WORDS = {  # quantity -> (how a person says it, how to show a value)
    "stages": (N_("stages"), lambda n: f"{n:,}"),
    "blocks": (N_("blocks"), lambda n: f"{n:,}"),
    "params": (N_("parameters"), lambda n: _si(n)),
    "macs": ("MACs", lambda n: _si(n)),
    "peak_memory": (N_("of peak activation memory"), lambda n: f"{n / 2**20:,.0f} MiB"),
}


_HINTS = {"stages": N_("use fewer stages"), "blocks": N_("lower the depth or the repeats")}


class DesignTooLarge(Refusal):
    """A design beyond a limit; ``quantity`` is one of ``stages``, ``blocks``, ``params``, ``macs``,
    ``peak_memory``."""

    def __init__(self, quantity: str, value: int, limits: Limits):
        self.quantity, self.value, self.limit = quantity, value, getattr(limits, quantity)
        words, show = _WORDS[quantity]
        hint = _HINTS.get(quantity, N_("lower the width, depth or resolution"))
        super().__init__(
            N_("this design has {value} {words}, but {limits} may have at most {limit} ({hint})"),
            value=show(value),
            words=Phrase(words),
            limits=Phrase(limits.name),
            limit=show(self.limit),
            hint=Phrase(hint),
        )


def block_count(spec: Spec) -> int:
    """How many blocks resolving ``spec`` would make: ``ceil(repeats x depth)`` per stage, from the spec alone."""
    return sum(math.ceil(stage.repeats * spec.depth - 1e-9) for stage in spec.stages)


def check(limits: Limits, **measured: int) -> None:
    """Raise :class:`DesignTooLarge` for the first measured quantity (``blocks=...``, ...) beyond ``limits``."""
    for quantity, value in measured.items():
        if value > getattr(limits, quantity):
            raise DesignTooLarge(quantity, value, limits)


def check_runnable(priced) -> None:
    """Raise :class:`DesignTooLarge` when a priced design (a :class:`~lwviz.plan.Plan` or a
    :class:`~lwviz.cost.CostTable`) is beyond :data:`RUN`."""
    check(RUN, params=priced.params, macs=priced.macs, peak_memory=priced.peak_memory)


def _si(n: float) -> str:
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= scale:
            return f"{n / scale:,.1f}".removesuffix(".0") + unit
    return f"{n:,.0f}"
