"""lwviz: an interactive visual explainer for lightweight CNN design."""
from lwviz.builder import Net, build
from lwviz.cost import analyze
from lwviz.presets import PRESETS, get_preset
from lwviz.spec import Head, Spec, Stage, Stem, make_divisible

__all__ = ["Net", "build", "analyze", "PRESETS", "get_preset", "Spec", "Stage", "Stem", "Head", "make_divisible"]
__version__ = "0.1.0"
