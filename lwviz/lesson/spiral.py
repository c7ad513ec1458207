"""Why MobileNetV2's bottleneck is linear: the MobileNetV2 paper's spiral experiment (Sandler et al. 2018, Fig. 1).

A 2-D spiral is embedded into ``n`` dimensions by a random matrix T, passed through ReLU and projected back
to 2-D with T's pseudo-inverse. With few dimensions (n = 2, 3) ReLU zeroes whole regions of the spiral and
they cannot come back; with many (15, 30) every point keeps enough positive coordinates and the spiral
survives. The picture is the paper's (projected back with T⁺). The error is that of the best linear
read-out of ``ReLU(T x)`` (least squares), the question the next, linear, layer of a network faces: is the
information still there? It falls with n and is zero to rounding once n is large. (T⁺ itself brings the
spiral back at about half its size, since ReLU zeroes about half of the coordinates; its error never reaches
zero even where nothing is lost, so it would not answer that question.) Seeded: the same picture for
everyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

DIMENSIONS = (2, 3, 5, 15, 30)  # the paper's figure: n = 2, 3, 5, 15, 30
POINTS = 400
TURNS = 2.0
SEED = 0


@dataclass(frozen=True, eq=False)
class SpiralResult:
    n: int
    recovered: np.ndarray  # [POINTS, 2]: T⁺ ReLU(T x), the paper's picture
    error: float  # relative squared error of the best linear read-out of ReLU(T x): 0 = nothing lost


def spiral(points: int = POINTS, turns: float = TURNS) -> np.ndarray:
    """An Archimedean spiral in the plane, radius growing from 0 to 1: [points, 2]."""
    t = np.linspace(0.0, 2 * np.pi * turns, points)
    radius = t / t[-1]
    return np.stack([radius * np.cos(t), radius * np.sin(t)], axis=1)


def embed_relu_project(x: np.ndarray, n: int, seed: int = SEED) -> SpiralResult:
    """Embed ``x`` [points, 2] into ``n`` dimensions with a seeded Gaussian T, ReLU, and project back."""
    if n < 1:
        raise ValueError(f"n: at least 1 dimension, got {n}")
    transform = np.random.default_rng(seed + n).standard_normal((n, x.shape[1]))
    hidden = np.maximum(x @ transform.T, 0.0)
    recovered = hidden @ np.linalg.pinv(transform).T
    readout, *_ = np.linalg.lstsq(hidden, x, rcond=None)
    error = float(np.sum((x - hidden @ readout) ** 2) / np.sum(x**2))
    return SpiralResult(n, recovered, error)


@cache
def experiment(dimensions: tuple[int, ...] = DIMENSIONS, seed: int = SEED) -> tuple[SpiralResult, ...]:
    """The spiral through every ``n`` of ``dimensions``: cached, it is the same for everyone."""
    x = spiral()
    return tuple(embed_relu_project(x, n, seed) for n in dimensions)
