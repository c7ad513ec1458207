"""The operations a layer is made of, each priced by the counting convention we teach.

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
"""

from __future__ import annotations

from dataclasses import dataclass

from lwviz.families.shapes import conv_out

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


def numel(shape: tuple[int, int, int]) -> int:
    c, h, w = shape
    return c * h * w


def conv_kind(in_chs: int, out_chs: int, kernel: int, groups: int) -> str:
    if groups > 1 and groups == in_chs == out_chs:
        return "depthwise"
    if groups > 1:
        return "grouped"
    return "pointwise" if kernel == 1 else "standard"


def conv_op(
    name: str,
    in_chs: int,
    out_chs: int,
    kernel: int,
    stride: int,
    in_size: int,
    *,
    groups: int = 1,
    act: str = "none",
    norm: bool = True,
    padded: bool = True,
    out_size: int | None = None,
) -> OpCost:
    """A ConvNormAct: conv (bias only without norm) -> BN -> activation.

    ``out_size`` overrides the conv's own output size, for a stand-in conv that must match a block
    whose pooling sets the size (Fire's ceil-mode max-pool).
    """
    out_size = conv_out(in_size, kernel, stride, padded) if out_size is None else out_size
    out = (out_chs, out_size, out_size)
    n = numel(out)
    params = out_chs * (in_chs // groups) * kernel * kernel + (2 * out_chs if norm else out_chs)
    macs = n * (in_chs // groups) * kernel * kernel
    elementwise = n * (1 + (act != "none"))  # BN or bias, then activation
    return OpCost(
        name,
        conv_kind(in_chs, out_chs, kernel, groups),
        (in_chs, in_size, in_size),
        out,
        params,
        macs,
        elementwise,
        kernel,
    )


def fc_op(name: str, in_features: int, out_features: int, act: str = "none", bias: bool = True) -> OpCost:
    """A fully connected layer on a pooled vector (bias add if any, then the activation if any)."""
    return OpCost(
        name,
        "fc",
        (in_features, 1, 1),
        (out_features, 1, 1),
        in_features * out_features + out_features * bias,
        in_features * out_features,
        out_features * (bias + (act != "none")),
    )


def elementwise_op(name: str, shape_in, shape_out, ops: int) -> OpCost:
    return OpCost(name, "elementwise", shape_in, shape_out, 0, 0, ops)


def add_op(name: str, shape: tuple[int, int, int]) -> OpCost:
    """A residual add: one op per output element."""
    return elementwise_op(name, shape, shape, numel(shape))


def se_op(name: str, chs: int, rd: int, size: int) -> OpCost:
    """Squeeze (global pool), two 1x1 convs with bias, gate, and scale the input."""
    shape = (chs, size, size)
    return OpCost(
        name,
        "fc",
        shape,
        shape,
        params=2 * chs * rd + rd + chs,
        macs=2 * chs * rd,
        elementwise=chs * size * size + rd + chs + chs * size * size,
    )


def pool_op(name: str, chs: int, in_size: int, out_size: int, window: int = 9) -> OpCost:
    return elementwise_op(name, (chs, in_size, in_size), (chs, out_size, out_size), chs * out_size**2 * window)
