"""Analytic per-layer cost from the plan alone: no model is built, nothing runs.

Counting convention (the papers' "mult-adds", torchvision's ``_ops``):

* **MACs** are the multiply-accumulates of convolutions and fully connected layers,
  bias excluded: ``H_out * W_out * C_out * (C_in / groups) * K * K`` for a conv,
  ``in * out`` for a linear layer. FLOPs = 2 x MACs.
* **Elementwise ops** are counted separately, one per output element for batch norm,
  bias adds, activations, residual adds and SE scaling; pooling counts one per
  window element (global pooling: one per input element). Channel shuffles and
  concatenations only move data and count zero.
* **Params** are all trainable parameters (conv/FC weights and biases, BN scale and
  shift), as torchvision's ``num_params``; BN running statistics are buffers.
* **Memory** is the output activation in bytes (float32, batch 1).
* **Baseline** of a block: one dense KxK convolution (+ BN) with the same input and
  output channels, kernel, stride and output size (MobileNet paper, Table 4).
  Stem, head and classifier are already dense and are their own baseline. The
  baseline's params, MACs and peak memory are all priced from these ops
  (:func:`baseline_ops`), by the same rules as the network's own.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from lwviz.blocks import fire_chs, ir_mid_chs, v1_branch_chs, v1_concat, v1_mid_chs
from lwviz.layers.se import se_channels
from lwviz.plan import LayerArgs, Plan, conv_out, resolve
from lwviz.registry import add
from lwviz.spec import Spec

BYTES_FP32 = 4
OP_KINDS = ("standard", "depthwise", "pointwise", "grouped", "fc", "elementwise")


@dataclass(frozen=True)
class OpCost:
    name: str  # module path in the built model
    kind: str  # one of OP_KINDS
    in_shape: tuple[int, int, int]  # (C, H, W)
    out_shape: tuple[int, int, int]
    params: int
    macs: int
    elementwise: int
    kernel: int = 1


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
    memory = property(lambda self: _numel(self.out_shape) * BYTES_FP32)

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
        return dict(params=self.params, macs=self.macs, flops=self.flops, elementwise=self.elementwise,
                    baseline_params=self.baseline_params, baseline_macs=self.baseline_macs,
                    peak_memory=self.peak_memory, baseline_peak_memory=self.baseline_peak_memory)

    @property
    def ops(self) -> tuple[OpCost, ...]:
        return tuple(o for l in self.layers for o in l.ops)

    def to_dict(self) -> dict:
        """Totals and one entry per layer, for JSON (CLI, downloads)."""
        return {
            "spec": self.spec.name,
            "resolution": self.spec.resolution,
            **self.totals,
            "layers": [
                dict(name=l.name, block=l.block, in_shape=list(l.in_shape), out_shape=list(l.out_shape),
                     params=l.params, macs=l.macs, elementwise=l.elementwise, memory=l.memory,
                     baseline_params=l.baseline_params, baseline_macs=l.baseline_macs)
                for l in self.layers
            ],
        }

    def to_frame(self):
        """One row per layer as a pandas DataFrame, with readable shapes and ratios."""
        import pandas as pd

        shape = lambda s: "×".join(map(str, s))  # noqa: E731
        return pd.DataFrame([
            {"layer": l.name, "block": l.block, "input": shape(l.in_shape), "output": shape(l.out_shape),
             "params": l.params, "MACs": l.macs, "elementwise ops": l.elementwise, "output bytes": l.memory,
             "std-conv params": l.baseline_params, "std-conv MACs": l.baseline_macs,
             "MACs / std-conv": round(l.macs_ratio, 4)}
            for l in self.layers
        ])


# ----- op helpers --------------------------------------------------------------------

def _numel(shape) -> int:
    c, h, w = shape
    return c * h * w


def conv_kind(in_chs: int, out_chs: int, kernel: int, groups: int) -> str:
    if groups > 1 and groups == in_chs == out_chs:
        return "depthwise"
    if groups > 1:
        return "grouped"
    return "pointwise" if kernel == 1 else "standard"


def conv_op(name: str, in_chs: int, out_chs: int, kernel: int, stride: int, in_size: int, *, groups: int = 1,
            act: str = "none", norm: bool = True, padded: bool = True, out_size: int | None = None) -> OpCost:
    """A ConvNormAct: conv (bias only without norm) -> BN -> activation.

    ``out_size`` overrides the conv's own output size, for a stand-in conv that must match a block
    whose pooling sets the size (Fire's ceil-mode max-pool).
    """
    out_size = conv_out(in_size, kernel, stride, padded) if out_size is None else out_size
    out = (out_chs, out_size, out_size)
    n = _numel(out)
    params = out_chs * (in_chs // groups) * kernel * kernel + (2 * out_chs if norm else out_chs)
    macs = n * (in_chs // groups) * kernel * kernel
    elementwise = n * (1 + (act != "none"))  # BN or bias, then activation
    return OpCost(name, conv_kind(in_chs, out_chs, kernel, groups), (in_chs, in_size, in_size), out, params, macs,
                  elementwise, kernel)


def elementwise_op(name: str, shape_in, shape_out, ops: int) -> OpCost:
    return OpCost(name, "elementwise", shape_in, shape_out, 0, 0, ops)


def se_op(name: str, chs: int, rd: int, size: int) -> OpCost:
    """Squeeze (global pool), two 1x1 convs with bias, gate, and scale the input."""
    shape = (chs, size, size)
    return OpCost(name, "fc", shape, shape, params=2 * chs * rd + rd + chs, macs=2 * chs * rd,
                  elementwise=chs * size * size + rd + chs + chs * size * size)


def pool_op(name: str, chs: int, in_size: int, out_size: int, window: int = 9) -> OpCost:
    return elementwise_op(name, (chs, in_size, in_size), (chs, out_size, out_size), chs * out_size**2 * window)


# ----- formulas per family ---------------------------------------------------------------

FORMULAS: dict[str, Callable[[LayerArgs], list[OpCost]]] = {}


def formula(name: str):
    return lambda fn: add(FORMULAS, name, fn, "cost formula")


def _conv(a: LayerArgs, suffix: str, in_chs: int, out_chs: int, kernel: int = 1, stride: int = 1,
          size: int | None = None, groups: int = 1, act: str | None = None) -> OpCost:
    return conv_op(f"{a.name}.{suffix}", in_chs, out_chs, kernel, stride, a.in_size if size is None else size,
                   groups=groups, act=a.act if act is None else act, norm=a.norm)


@formula("stem")
def _stem(a: LayerArgs) -> list[OpCost]:
    conv = conv_op("stem.conv", a.in_chs, a.out_chs, a.kernel, a.stride, a.in_size, act=a.act, norm=a.norm,
                   padded=a.padded)
    if a.pool == "none":
        return [conv]
    return [conv, pool_op("stem.pool", a.out_chs, conv.out_shape[1], a.out_size)]


@formula("conv")
def _standard(a: LayerArgs) -> list[OpCost]:
    return [_conv(a, "conv", a.in_chs, a.out_chs, a.kernel, a.stride)]


@formula("dws")
def _dws(a: LayerArgs) -> list[OpCost]:
    ops = [_conv(a, "conv_dw", a.in_chs, a.in_chs, a.kernel, a.stride, groups=a.in_chs)]
    if a.se > 0:
        ops.append(se_op(f"{a.name}.se", a.in_chs, se_channels(a.se_style, a.in_chs, a.in_chs, a.se), a.out_size))
    return ops + [_conv(a, "conv_pw", a.in_chs, a.out_chs, size=a.out_size)]


def _inverted_residual(a: LayerArgs) -> list[OpCost]:
    mid = ir_mid_chs(a.in_chs, a.expand, a.divisor)
    ops = [_conv(a, "conv_pw", a.in_chs, mid)] if mid != a.in_chs else []
    ops.append(_conv(a, "conv_dw", mid, mid, a.kernel, a.stride, groups=mid))
    if a.se > 0:
        ops.append(se_op(f"{a.name}.se", mid, se_channels(a.se_style, a.in_chs, mid, a.se), a.out_size))
    ops.append(_conv(a, "conv_pwl", mid, a.out_chs, size=a.out_size, act="none"))
    if a.stride == 1 and a.in_chs == a.out_chs:
        out = (a.out_chs, a.out_size, a.out_size)
        ops.append(elementwise_op(f"{a.name}.skip_add", out, out, _numel(out)))
    return ops


FORMULAS["ir"] = FORMULAS["mbconv"] = _inverted_residual


@formula("shuffle")
def _shuffle(a: LayerArgs) -> list[OpCost]:
    half = a.out_chs // 2
    if a.stride == 1 and a.in_chs == a.out_chs:
        main_in, ops = half, []
    else:
        main_in = a.in_chs
        ops = [_conv(a, "branch_proj.0", a.in_chs, a.in_chs, a.kernel, a.stride, groups=a.in_chs, act="none"),
               _conv(a, "branch_proj.1", a.in_chs, half, size=a.out_size)]
    return ops + [
        _conv(a, "branch_main.0", main_in, half),
        _conv(a, "branch_main.1", half, half, a.kernel, a.stride, groups=half, act="none"),
        _conv(a, "branch_main.2", half, half, size=a.out_size),
    ]


@formula("shufflev1")
def _shuffle_v1(a: LayerArgs) -> list[OpCost]:
    mid = v1_mid_chs(a.out_chs, a.expand, a.groups)
    out = (a.out_chs, a.out_size, a.out_size)
    ops = [
        _conv(a, "conv_pw", a.in_chs, mid, groups=a.groups),
        _conv(a, "conv_dw", mid, mid, a.kernel, a.stride, groups=mid, act="none"),
        _conv(a, "conv_pwl", mid, v1_branch_chs(a.in_chs, a.out_chs, a.stride), size=a.out_size, groups=a.groups,
              act="none"),
    ]
    if v1_concat(a.in_chs, a.out_chs, a.stride):
        ops.append(pool_op(f"{a.name}.pool", a.in_chs, a.in_size, a.out_size))
    elif a.in_chs == a.out_chs:
        ops.append(elementwise_op(f"{a.name}.skip_add", out, out, _numel(out)))
    return ops + [elementwise_op(f"{a.name}.act", out, out, _numel(out) if a.act != "none" else 0)]


@formula("fire")
def _fire(a: LayerArgs) -> list[OpCost]:
    squeeze, e1, e3 = fire_chs(a.out_chs, a.expand)
    ops = [pool_op(f"{a.name}.pool", a.in_chs, a.in_size, a.out_size)] if a.stride > 1 else []
    return ops + [
        _conv(a, "squeeze", a.in_chs, squeeze, size=a.out_size),
        _conv(a, "expand1x1", squeeze, e1, size=a.out_size),
        _conv(a, "expand3x3", squeeze, e3, a.kernel, size=a.out_size),
    ]


@formula("classifier")
def _classifier(a: LayerArgs) -> list[OpCost]:
    c, s, n = a.in_chs, a.in_size, a.out_chs
    if a.classifier == "conv":
        fc = replace(conv_op("classifier.fc", c, n, 1, 1, s, act=a.act, norm=False), kind="fc")
        return [fc, elementwise_op("classifier.pool", fc.out_shape, (n, 1, 1), n * s * s)]
    ops = [elementwise_op("classifier.pool", (c, s, s), (c, 1, 1), c * s * s)]
    if a.hidden:
        h = a.hidden
        ops.append(OpCost("classifier.fc_hidden", "fc", (c, 1, 1), (h, 1, 1), c * h + h, c * h, 2 * h))
        c = h
    ops.append(OpCost("classifier.fc", "fc", (c, 1, 1), (n, 1, 1), c * n + n, c * n, n))
    return ops


# ----- the table ---------------------------------------------------------------------

def peak_activation_bytes(a: LayerArgs, ops: list[OpCost], has_skip: bool) -> int:
    """Largest input + output pair of any op, plus the block input a residual keeps alive.

    A lower bound for sequential execution, batch 1, float32 (frameworks may add workspace).
    """
    held = a.in_chs * a.in_size**2 if has_skip else 0
    return BYTES_FP32 * (held + max(_numel(o.in_shape) + _numel(o.out_shape) for o in ops))


def baseline_ops(a: LayerArgs, ops: list[OpCost]) -> list[OpCost]:
    """The standard-conv version of a layer: one dense KxK conv (+ BN) for a block, the layer itself otherwise."""
    if not a.is_block:
        return ops
    return [conv_op(f"{a.name}.std_conv", a.in_chs, a.out_chs, a.kernel, a.stride, a.in_size, act=a.act,
                    norm=a.norm, out_size=a.out_size)]


def layer_cost(a: LayerArgs) -> LayerCost:
    ops = FORMULAS[a.block](a)
    out_size = 1 if a.block == "classifier" else a.out_size
    base = baseline_ops(a, ops)
    has_skip = any(o.name.endswith(".skip_add") for o in ops)
    return LayerCost(a.name, a.block, a.stage, (a.in_chs, a.in_size, a.in_size), (a.out_chs, out_size, out_size),
                     a.kernel, a.stride, tuple(ops), sum(o.params for o in base), sum(o.macs for o in base),
                     peak_activation_bytes(a, ops, has_skip), peak_activation_bytes(a, base, False), has_skip,
                     a.is_block)


def analyze(spec_or_plan: Spec | Plan) -> CostTable:
    """Per-layer cost table of a spec (validated) or an already resolved plan."""
    plan = spec_or_plan if isinstance(spec_or_plan, Plan) else resolve(spec_or_plan.validate())
    layers = tuple(layer_cost(a) for a in plan.layers)
    macs = sum(l.macs for l in layers)
    return CostTable(plan.spec, layers, params=sum(l.params for l in layers), macs=macs,
                     elementwise=sum(l.elementwise for l in layers),
                     baseline_params=sum(l.baseline_params for l in layers),
                     baseline_macs=sum(l.baseline_macs for l in layers),
                     peak_memory=max(l.peak_memory for l in layers),
                     baseline_peak_memory=max(l.baseline_peak_memory for l in layers))


def dws_theory_ratio(out_chs: int, kernel: int) -> float:
    """MobileNet's cost ratio of depthwise-separable to standard conv: 1/N + 1/K^2."""
    return 1 / out_chs + 1 / kernel**2
