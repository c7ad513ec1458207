"""EfficientNet's compound scaling (Tan & Le 2019), priced by lwviz's cost model.

The paper scales B0's depth by α^φ, width by β^φ and resolution by γ^φ with α = 1.2, β = 1.1, γ = 1.15,
chosen so that α·β²·γ² ≈ 2: MACs grow as depth × width² × resolution², so each step of φ doubles them.
The released B1 ... B7 round those factors (and B1 scales depth and resolution only); their multipliers
below are the ones torchvision builds them with, and the models they give have torchvision's parameter
counts and MACs exactly (tests/test_lesson.py). Against each, B0 scaled in one dimension alone to the
same MACs: what the paper compared compound scaling with (as far as a spec's ranges reach: width
and depth up to 4x, resolution up to 1024).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from functools import cache

from lwviz.cost import analyze
from lwviz.presets import PRESETS, get_preset
from lwviz.spec import Spec

ALPHA, BETA, GAMMA = 1.2, 1.1, 1.15  # depth, width, resolution per step of φ
# B0 ... B7: (width, depth, resolution) as torchvision builds them (efficientnet.py) and the paper's Table 2 lists.
MODELS = {
    0: (1.0, 1.0, 224),
    1: (1.0, 1.1, 240),
    2: (1.1, 1.2, 260),
    3: (1.2, 1.4, 300),
    4: (1.4, 1.8, 380),
    5: (1.6, 2.2, 456),
    6: (1.8, 2.6, 528),
    7: (2.0, 3.1, 600),
}
DIMENSIONS = ("width", "depth", "resolution")


def rule() -> float:
    """α·β²·γ² (≈ 2)."""
    return ALPHA * BETA**2 * GAMMA**2


def efficientnet(b: int) -> Spec:
    """EfficientNet-B``b``: the preset when lwviz registers it, else B0 scaled by torchvision's multipliers."""
    name = f"efficientnet_b{b}"
    if name in PRESETS:
        return get_preset(name)
    width, depth, resolution = MODELS[b]
    return replace(get_preset("efficientnet_b0"), name=name, width=width, depth=depth, resolution=resolution)


def fitted_phi(b: int) -> float:
    """The φ that B``b``'s own multipliers come closest to: least squares on the logarithms."""
    width, depth, resolution = MODELS[b]
    logs = (math.log(depth), math.log(width), math.log(resolution / 224))
    bases = (math.log(ALPHA), math.log(BETA), math.log(GAMMA))
    return sum(v * k for v, k in zip(logs, bases)) / sum(k * k for k in bases)


@dataclass(frozen=True)
class Scaled:
    dimension: str  # "compound", "width", "depth" or "resolution"
    width: float
    depth: float
    resolution: int
    params: int
    macs: int


def _scaled(dimension: str, spec: Spec) -> Scaled:
    table = analyze(spec)
    return Scaled(dimension, spec.width, spec.depth, spec.resolution, table.params, table.macs)


def _alone(dimension: str, value: float) -> Spec:
    b0 = get_preset("efficientnet_b0")
    if dimension == "resolution":
        return replace(b0, resolution=round(value))
    return replace(b0, **{dimension: value})


def highest(dimension: str) -> float:
    """The largest value of ``dimension`` a spec allows (its field's range)."""
    return next(f.metadata["hi"] for f in fields(Spec) if f.name == dimension)


def alone_to(dimension: str, macs: int) -> Scaled | None:
    """B0 scaled in ``dimension`` only, as little as possible to reach ``macs``: the smallest width or depth on a
    0.01 grid (channels round to multiples of 8, sometimes up by a step, so MACs do not grow smoothly with
    width: a scan, not a bisection), the smallest resolution in pixels. None when even the spec's largest value
    of ``dimension`` does not reach it."""
    reaches = lambda value: analyze(_alone(dimension, value)).macs >= macs  # noqa: E731
    if not reaches(highest(dimension)):
        return None
    if dimension == "resolution":  # feature-map sizes grow with the input: MACs do too, so bisect
        low, high = 224, int(highest(dimension))
        while low < high:
            middle = (low + high) // 2
            low, high = (low, middle) if reaches(middle) else (middle + 1, high)
        return _scaled(dimension, _alone(dimension, low))
    value = next(v for v in (round(1 + i / 100, 2) for i in range(int(highest(dimension) * 100) - 99)) if reaches(v))
    return _scaled(dimension, _alone(dimension, value))


@cache
def comparison(b: int) -> tuple[Scaled | None, ...]:
    """B``b`` (compound) beside B0 scaled by width, depth or resolution alone to at least the same MACs."""
    compound = _scaled("compound", efficientnet(b))
    return (compound, *(alone_to(d, compound.macs) for d in DIMENSIONS))


@cache
def family() -> tuple[Scaled, ...]:
    """B0 ... B7, compound-scaled."""
    return tuple(_scaled("compound", efficientnet(b)) for b in MODELS)
