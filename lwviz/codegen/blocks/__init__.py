"""The generated code of every block family, one file per family (named as its module in lwviz/blocks/), found by
looking in this package.

Each file defines ``CODE``, a tuple of :class:`~lwviz.codegen.base.BlockCode`; a family without one cannot be
written as code, and tests/test_codegen.py fails for it, saying what to add.
"""

from __future__ import annotations

from lwviz.codegen.base import BlockCode
from lwviz.registry import add, from_each_module

CODE: dict[str, BlockCode] = {}
for found in from_each_module(__name__, __path__, "CODE", default=()):
    for code in found:
        for family in code.families:
            add(CODE, family, code, "block code")

__all__ = ["CODE"]
