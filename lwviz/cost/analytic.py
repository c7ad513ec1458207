"""Analytic per-layer cost from the plan alone: no model is built, nothing runs, torch is not imported.

Each family's formula (lwviz.families) lists a layer's operations priced by the convention in
lwviz.families.ops (MACs, elementwise ops, params); this module adds them up per layer and per
network, with the output memory (float32, batch 1) and two baselines, each answering its own question:

* **Dense** ("what do depthwise and group convolutions save?"): the same network with every
  depthwise and grouped convolution made dense (groups = 1), everything else unchanged
  (:func:`dense_op`). Shapes stay, so its activation memory is the network's own.
* **Per block** ("what if this block were one plain convolution?"), the ``baseline_*`` fields:
  one dense KxK convolution (+ BN) with the block's input and output channels, kernel, stride and
  output size (MobileNet paper, Table 4). Stem, head and classifier are already dense and are their
  own baseline. Its params, MACs and peak memory are priced from these ops (:func:`baseline_ops`),
  by the same rules as the network's own.

They differ most for inverted residuals, which expand inside the block: MobileNetV2 is 1.17x its
per-block baseline's MACs but 1/18 of its dense version's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from lwviz.families import BYTES_FP32, LayerArgs, OpCost, layer_ops, peak_activation_bytes
from lwviz.families.ops import conv_op, numel
from lwviz.i18n import N_
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
    dense_params: int
    dense_macs: int
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
    dense_params: int  # the whole network with every depthwise and grouped conv made dense
    dense_macs: int
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
            dense_params=self.dense_params,
            dense_macs=self.dense_macs,
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
                    dense_params=layer.dense_params,
                    dense_macs=layer.dense_macs,
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
                    N_("layer"): layer.name,
                    N_("block"): layer.block,
                    N_("input"): _shape_text(layer.in_shape),
                    N_("output"): _shape_text(layer.out_shape),
                    N_("params"): layer.params,
                    "MACs": layer.macs,
                    N_("elementwise ops"): layer.elementwise,
                    N_("output bytes"): layer.memory,
                    N_("dense params"): layer.dense_params,
                    N_("dense MACs"): layer.dense_macs,
                    N_("std-conv params"): layer.baseline_params,
                    N_("std-conv MACs"): layer.baseline_macs,
                    N_("MACs / std-conv"): round(layer.macs_ratio, 4),
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


def dense_op(op: OpCost) -> OpCost:
    """``op`` with its depthwise or grouped convolution made dense (groups = 1); any other op as it is.

    A conv's MACs are ``H_out * W_out`` times its weights, ``C_out * C_in / groups * K * K``: the dense
    conv has ``C_out * C_in * K * K`` of them. Bias and batch norm do not change.
    """
    if op.kind not in ("depthwise", "grouped"):
        return op
    c_out, h, w = op.out_shape
    weights, dense = op.macs // (h * w), c_out * op.in_shape[0] * op.kernel**2
    kind = "standard" if op.kernel > 1 else "pointwise"
    return replace(op, kind=kind, params=op.params - weights + dense, macs=h * w * dense)


def layer_cost(a: LayerArgs) -> LayerCost:
    ops = layer_ops(a)
    out_size = 1 if a.block == "classifier" else a.out_size
    base, dense = baseline_ops(a, ops), [dense_op(o) for o in ops]
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
        sum(o.params for o in dense),
        sum(o.macs for o in dense),
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
        dense_params=sum(layer.dense_params for layer in layers),
        dense_macs=sum(layer.dense_macs for layer in layers),
        peak_memory=max(layer.peak_memory for layer in layers),
        baseline_peak_memory=max(layer.baseline_peak_memory for layer in layers),
    )


def dws_theory_ratio(out_chs: int, kernel: int) -> float:
    """MobileNet's cost ratio of depthwise-separable to standard conv: 1/N + 1/K^2."""
    return 1 / out_chs + 1 / kernel**2
