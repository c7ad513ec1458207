"""What a block family's code is (:class:`BlockCode`) and how a template is fitted to one network (:class:`Fit`).

A template is plain Python source. A line may end in a tag, ``#@flag`` or ``#@!flag``: it is kept only when the
network has (or lacks) that feature, so a network without squeeze-and-excitation shows no SE line at all.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

from lwviz.plan import Plan

# The stage table's columns, in the order of the papers' tables (expand, kernel, stride, channels, repeats, ...).
# ``block``, ``kernel``, ``stride``, ``out_chs``, ``repeats`` and ``act`` are in every table; the rest only when a
# block class of the network reads them (``cfg.<column>`` in its fitted source). Each is the field of the same name
# of lwviz.families.LayerArgs, but ``dense_first`` (``dense_pw`` of a stage's first block).
COLUMNS = (
    "block",
    "expand",
    "kernel",
    "stride",
    "out_chs",
    "repeats",
    "se",
    "act",
    "groups",
    "dense_first",
    "dw_start",
    "mid_dw",
    "ratio",
    "branches",
)
ALWAYS = ("block", "kernel", "stride", "out_chs", "repeats", "act")
FLAGS = ("se", "tf_same", "norm", "unpadded", "reparam")

_TAG = re.compile(r"\s*#@(!?)(\w+)$")


@dataclass(frozen=True)
class BlockCode:
    """One block class of the generated file: the families it builds, its name and its source.

    ``source`` defines ``class <class_name>(nn.Module)`` whose ``__init__(self, in_chs, out_chs, stride, cfg)``
    makes the same submodules, under the same names, as the family's module in lwviz/blocks/, from the block's
    input channels, output channels, stride and its stage's row ``cfg`` of the stage table (``cfg.<column>``, one
    of :data:`COLUMNS`). ``after_first`` is a line the stage loop runs after a stage's first block (ShuffleNetV1
    keeps only that block's first 1x1 dense).
    """

    families: tuple[str, ...]
    class_name: str
    source: str
    after_first: str = ""

    def __post_init__(self):
        unknown = set(re.findall(r"\bcfg\.(\w+)", self.source)) - set(COLUMNS) - {"_replace"}
        if unknown:
            raise ValueError(f"{self.class_name}: unknown stage-table columns {sorted(unknown)}; known: {COLUMNS}")
        for flag in _TAG.findall(self.source):
            if flag[1] not in FLAGS:
                raise ValueError(f"{self.class_name}: unknown tag #@{''.join(flag)}; known flags: {FLAGS}")


@dataclass(frozen=True)
class Fit:
    """The features of one network that templates are fitted to."""

    plan: Plan
    flags: frozenset[str]

    @classmethod
    def of(cls, plan: Plan) -> "Fit":
        spec = plan.spec
        flags = {
            "se": any(a.se > 0 for a in plan.blocks),
            "tf_same": spec.padding == "tf_same",
            "norm": spec.norm,
            "unpadded": not spec.stem.padded,
            "reparam": getattr(spec, "reparam", False),
        }
        return cls(plan, frozenset(name for name, on in flags.items() if on))

    def keep(self, source: str) -> str:
        """``source`` dedented, with the lines whose tag does not hold removed and the tags themselves stripped."""
        lines = []
        for line in textwrap.dedent(source).strip("\n").splitlines():
            match = _TAG.search(line)
            if match:
                negated, flag = match.groups()
                if (flag in self.flags) == bool(negated):
                    continue
                line = line[: match.start()]
            lines.append(line.rstrip())
        return "\n".join(lines) + "\n"
