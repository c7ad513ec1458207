"""lwviz: an interactive visual explainer for lightweight CNN design.

Specs, presets and analytic costs import without torch; ``Net`` and ``build`` load it on first use.
"""

from lwviz.cost import analyze
from lwviz.families import make_divisible
from lwviz.presets import PRESETS, get_preset
from lwviz.spec import Head, Spec, Stage, Stem

__all__ = ["Net", "build", "analyze", "PRESETS", "get_preset", "Spec", "Stage", "Stem", "Head", "make_divisible"]
__version__ = "0.1.0"


def __getattr__(name: str):
    if name in ("Net", "build"):
        from lwviz import builder

        return getattr(builder, name)
    raise AttributeError(f"module 'lwviz' has no attribute {name!r}")
