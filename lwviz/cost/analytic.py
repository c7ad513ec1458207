"""Analytic per-layer cost from the plan alone: no model is built, nothing runs, torch is not imported.

Each family's formula (lwviz.families) lists a layer's operations priced by the convention in
lwviz.families.ops (MACs, elementwise ops, params); this module adds them up per layer and per
network, with the output memory (float32, batch 1) and the standard-conv baseline:

* **Baseline** of a block: one dense KxK convolution (+ BN) with the same input and
  output channels, kernel, stride and output size (MobileNet paper, Table 4).
  Stem, head and classifier are already dense and are their own baseline. The
  baseline's params, MACs and peak memory are all priced from these ops
  (:func:`baseline_ops`), by the same rules as the network's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from lwviz.families import BYTES_FP32, LayerArgs, OpCost, layer_ops, peak_activation_bytes
from lwviz.families.ops import conv_op, numel
from lwviz.plan import Plan, resolve
from lwviz.spec import Spec


@dataclass(frozen=True)
class LayerCost:
    name: str
    block: str
    stage: int
    in_shape: tuple[int, int, int]
    out_shape: tuple[int, int, int]
    kernel: int
    stride: int
    ops: tuple[OpCost, ...]
    baseline_params: int
    baseline_macs: int
    peak_memory: int  # bytes live at once inside the layer (see peak_activation_bytes)
    baseline_peak_memory: int
    has_skip: bool = False
    is_block: bool = False  # a stage block, priced against a standard conv

    params = property(lambda self: sum(o.params for o in self.ops))
    macs = property(lambda self: sum(o.macs for o in self.ops))
    elementwise = property(lambda self: sum(o.elementwise for o in self.ops))
    memory = property(lambda self: numel(self.out_shape) * BYTES_FP32)

    @property
    def macs_ratio(self) -> float:
        """This layer's MACs as a fraction of its standard-conv baseline."""
        return self.macs / self.baseline_macs if self.baseline_macs else 1.0

    @property
    def theory_ratio(self) -> float:
        """Depthwise-separable theory 1/N + 1/K^2 for this layer's output channels and kernel."""
        return dws_theory_ratio(self.out_shape[0], self.kernel)


@dataclass(frozen=True)
class CostTable:
    """Per-layer costs and network totals; build it with :func:`analyze`."""

    spec: Spec
    layers: tuple[LayerCost, ...]
    params: int
    macs: int
    elementwise: int
    baseline_params: int  # the whole network with every block as a standard conv
    baseline_macs: int
    peak_memory: int
    baseline_peak_memory: int

    @property
    def flops(self) -> int:
        return 2 * self.macs

    @property
    def totals(self) -> dict[str, int]:
        return dict(
            params=self.params,
            macs=self.macs,
            flops=self.flops,
            elementwise=self.elementwise,
            baseline_params=self.baseline_params,
            baseline_macs=self.baseline_macs,
            peak_memory=self.peak_memory,
            baseline_peak_memory=self.baseline_peak_memory,
        )

    @property
    def ops(self) -> tuple[OpCost, ...]:
        return tuple(o for layer in self.layers for o in layer.ops)

    def to_dict(self) -> dict:
        """Totals and one entry per layer, for JSON (CLI, downloads)."""
        return {
            "spec": self.spec.name,
            "resolution": self.spec.resolution,
            **self.totals,
            "layers": [
                dict(
                    name=layer.name,
                    block=layer.block,
                    in_shape=list(layer.in_shape),
                    out_shape=list(layer.out_shape),
                    params=layer.params,
                    macs=layer.macs,
                    elementwise=layer.elementwise,
                    memory=layer.memory,
                    baseline_params=layer.baseline_params,
                    baseline_macs=layer.baseline_macs,
                )
                for layer in self.layers
            ],
        }

    def to_frame(self):
        """One row per layer as a pandas DataFrame, with readable shapes and ratios."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "layer": layer.name,
                    "block": layer.block,
                    "input": _shape_text(layer.in_shape),
                    "output": _shape_text(layer.out_shape),
                    "params": layer.params,
                    "MACs": layer.macs,
                    "elementwise ops": layer.elementwise,
                    "output bytes": layer.memory,
                    "std-conv params": layer.baseline_params,
                    "std-conv MACs": layer.baseline_macs,
                    "MACs / std-conv": round(layer.macs_ratio, 4),
                }
                for layer in self.layers
            ]
        )


def _shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape))


# ----- the table ---------------------------------------------------------------------


def baseline_ops(a: LayerArgs, ops: list[OpCost]) -> list[OpCost]:
    """The standard-conv version of a layer: one dense KxK conv (+ BN) for a block, the layer itself otherwise."""
    if not a.is_block:
        return ops
    return [
        conv_op(
            f"{a.name}.std_conv",
            a.in_chs,
            a.out_chs,
            a.kernel,
            a.stride,
            a.in_size,
            act=a.act,
            norm=a.norm,
            out_size=a.out_size,
        )
    ]


def layer_cost(a: LayerArgs) -> LayerCost:
    ops = layer_ops(a)
    out_size = 1 if a.block == "classifier" else a.out_size
    base = baseline_ops(a, ops)
    return LayerCost(
        a.name,
        a.block,
        a.stage,
        (a.in_chs, a.in_size, a.in_size),
        (a.out_chs, out_size, out_size),
        a.kernel,
        a.stride,
        tuple(ops),
        sum(o.params for o in base),
        sum(o.macs for o in base),
        peak_activation_bytes(a, ops, a.has_skip),
        peak_activation_bytes(a, base, False),
        a.has_skip,
        a.is_block,
    )


def analyze(spec_or_plan: Spec | Plan) -> CostTable:
    """Per-layer cost table of a spec (validated) or an already resolved plan."""
    plan = spec_or_plan if isinstance(spec_or_plan, Plan) else resolve(spec_or_plan)
    layers = tuple(layer_cost(a) for a in plan.layers)
    macs = sum(layer.macs for layer in layers)
    return CostTable(
        plan.spec,
        layers,
        params=sum(layer.params for layer in layers),
        macs=macs,
        elementwise=sum(layer.elementwise for layer in layers),
        baseline_params=sum(layer.baseline_params for layer in layers),
        baseline_macs=sum(layer.baseline_macs for layer in layers),
        peak_memory=max(layer.peak_memory for layer in layers),
        baseline_peak_memory=max(layer.baseline_peak_memory for layer in layers),
    )


def dws_theory_ratio(out_chs: int, kernel: int) -> float:
    """MobileNet's cost ratio of depthwise-separable to standard conv: 1/N + 1/K^2."""
    return 1 / out_chs + 1 / kernel**2
