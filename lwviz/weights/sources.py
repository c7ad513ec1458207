"""The registry of pretrained weight sources, and which of them work offline right now.

Lite0 comes from an installed package and always works; every preset torchvision also has gets
torchvision's weights, which work once they are in the hub cache. Pages and the CLI ask for the
best source that works offline and carry on with it when the rest are missing.
"""

from __future__ import annotations

from lwviz.presets import PRESETS
from lwviz.registry import add
from lwviz.weights.base import WeightSource, WeightsUnavailable
from lwviz.weights.hub import TorchvisionSource
from lwviz.weights.offline import LITE0

SOURCES: dict[str, WeightSource] = {}


def register(source: WeightSource) -> WeightSource:
    return add(SOURCES, source.name, source, "weight source")


register(LITE0)
for _name, _preset in PRESETS.items():
    if _preset.torchvision:
        register(TorchvisionSource.for_preset(_name))


def get_source(name: str) -> WeightSource:
    try:
        return SOURCES[name]
    except KeyError:
        raise ValueError(f"weights: unknown source {name!r}; choose one of {', '.join(SOURCES)}") from None


def sources_for(preset: str | None = None) -> list[WeightSource]:
    """Every source (of ``preset``, when given), most accurate first."""
    found = [s for s in SOURCES.values() if preset is None or s.spec.name == preset]
    return sorted(found, key=lambda s: -(s.top1 or 0.0))


def available_sources(preset: str | None = None) -> list[WeightSource]:
    """The sources that load without a network, most accurate first."""
    return [s for s in sources_for(preset) if s.is_available()]


def best_offline_source(preset: str | None = None) -> WeightSource:
    """The most accurate source (of ``preset``) that loads offline; ``WeightsUnavailable`` says what is missing."""
    if preset is not None and preset not in PRESETS:
        raise ValueError(f"preset: unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    candidates = sources_for(preset)
    if not candidates:
        with_weights = sorted({s.spec.name for s in SOURCES.values()})
        raise WeightsUnavailable(
            f"{preset} has no pretrained weights (it is built from its spec only); "
            f"presets with weights: {', '.join(with_weights)}."
        )
    for source in candidates:
        if source.is_available():
            return source
    raise WeightsUnavailable(candidates[0].missing())
