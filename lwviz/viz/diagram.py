"""A network diagram a student can read: stages, blocks, tensor shapes and skips, as Graphviz DOT.

``st.graphviz_chart`` lays a DOT string out in the browser (Graphviz compiled to
WebAssembly), so neither Graphviz nor a Python package is needed. The diagram reads
top to bottom, one stage per row, with the tensor shape (C×H×W) on every arrow.
Identical consecutive blocks collapse into one node marked ×n, so a stage is at most
"the block that downsamples or widens" followed by "its repeats": MobileNetV2's 17
blocks become 12 nodes in 7 rows. Each node shows its operations as a strip of cells
colored like the cost charts, so the blue of a depthwise conv here is the blue there.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from html import escape
from typing import Callable

from lwviz.cost.analytic import CostTable, LayerCost, analyze
from lwviz.families import FAMILIES, OP_KINDS, LayerArgs, OpCost
from lwviz.i18n import N_, Phrase, Translate, english, said
from lwviz.layers.activations import ACTIVATION_LABELS
from lwviz.plan import resolve
from lwviz.spec import Spec
from lwviz.viz.cost_charts import KIND_COLORS, KIND_WORDS

FONT = "Helvetica"  # Graphviz knows its metrics; browsers draw it as Helvetica, Arial or a metric twin
INK = "#262730"  # Streamlit's text color; the diagram has its own white card so dark themes stay readable
MUTED = "#6b6f7b"
SKIP_COLOR = "#e377c2"
STAGE_FILL = "#f3f5f9"


class Html(str):
    """A Graphviz HTML-like label: written ``<...>`` in DOT instead of as a quoted string."""


def shape_text(shape: tuple[int, int, int]) -> str:
    """``(32, 112, 112)`` -> ``'32×112×112'``; a pooled vector ``(1000, 1, 1)`` -> ``'1000'``."""
    c, h, w = shape
    return str(c) if h == w == 1 else f"{c}×{h}×{w}"


@dataclass(frozen=True)
class Group:
    """Consecutive layers drawn as one node: identical blocks of a stage, or one stem/head/classifier."""

    args: tuple[LayerArgs, ...]
    costs: tuple[LayerCost, ...]

    first = property(lambda self: self.args[0])
    count = property(lambda self: len(self.args))
    node_id = property(lambda self: self.first.name)
    in_shape = property(lambda self: self.costs[0].in_shape)
    out_shape = property(lambda self: self.costs[-1].out_shape)


def group_layers(table: CostTable) -> tuple[Group, ...]:
    """The table's layers, identical consecutive blocks of a stage merged into one :class:`Group`."""
    plan = resolve(table.spec)

    def same_block(pair):  # blocks differing only in their module path are the same block
        a, _ = pair
        return replace(a, name="") if a.is_block else a.name

    return tuple(Group(*zip(*pairs)) for _, pairs in itertools.groupby(zip(plan.layers, table.layers), same_block))


# ----- the node labels (Graphviz HTML-like labels) ------------------------------------------

OP_TEXT: dict[str, Callable[[OpCost], str]] = {
    "standard": lambda o: f"{o.kernel}×{o.kernel}",
    "depthwise": lambda o: f"dw {o.kernel}×{o.kernel}",
    "pointwise": lambda o: "1×1",
    "grouped": lambda o: f"group {o.kernel}×{o.kernel}",
    # SqueezeNet's classifier is a 1x1 conv over the whole map; an FC sees one pooled vector
    "fc": lambda o: "SE" if o.name.endswith(".se") else "1×1" if o.in_shape[1] > 1 else "FC",
}
# the others (BN, activations) stay implicit; "Σ": a re-parameterizable conv sums its branches (MobileOne)
ELEMENTWISE_SHOWN = {"pool": "pool", "skip_add": "+", "branch_sum": "Σ"}


def _op_cell(op: OpCost) -> str | None:
    text = OP_TEXT[op.kind](op) if op.kind in OP_TEXT else ELEMENTWISE_SHOWN.get(op.name.rsplit(".", 1)[-1])
    if text is None:
        return None
    return (
        f'<TD BGCOLOR="{KIND_COLORS[op.kind]}" TITLE="{escape(op.kind)}">'
        f'<FONT COLOR="white" POINT-SIZE="10">{escape(text)}</FONT></TD>'
    )


def _label(_: Translate, title: str, facts: list[str], ops: tuple[OpCost, ...] = (), badge: list[str] = ()) -> Html:
    """Bold title with a badge on its right (stride, ×n), a line of facts, and the strip of operations, their
    words (catalog messages and :class:`~lwviz.i18n.Phrase`) said in ``_``'s language."""
    badge = " ".join(said(b, _) for b in badge)
    badge = f'<B><FONT POINT-SIZE="13">{escape(badge)}</FONT></B>' if badge else ""  # an empty FONT blanks a label
    rows = [f'<TR><TD ALIGN="LEFT"><B>{escape(said(title, _))}</B></TD><TD ALIGN="RIGHT">{badge}</TD></TR>']
    if facts:
        rows.append(
            f'<TR><TD COLSPAN="2" ALIGN="LEFT"><FONT COLOR="{MUTED}" POINT-SIZE="11">'
            f"{escape(' · '.join(said(f, _) for f in facts))}</FONT></TD></TR>"
        )
    cells = "".join(filter(None, map(_op_cell, ops)))
    if cells:
        rows.append(
            f'<TR><TD COLSPAN="2" ALIGN="LEFT"><TABLE BORDER="0" CELLSPACING="2" CELLPADDING="2">'
            f"<TR>{cells}</TR></TABLE></TD></TR>"
        )
    return Html(f'<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="1">{"".join(rows)}</TABLE>')


def _stem_label(g: Group, _: Translate) -> Html:
    a = g.first
    facts = [Phrase("{k}×{k} conv, stride {s}", k=a.kernel, s=a.stride)]
    if a.branches:  # MobileOne's stem: re-parameterizable
        many = Phrase("{n} branches + 1×1, summed", n=a.branches)
        facts.append(N_("folded") if a.folded else many if a.branches > 1 else N_("1 branch + 1×1, summed"))
    facts.append(ACTIVATION_LABELS[a.act])
    if a.pool != "none":
        facts.append(N_("3×3 max-pool, stride 2"))
    return _label(_, N_("stem"), facts, g.costs[0].ops)


def _head_label(g: Group, _: Translate) -> Html:
    a = g.first
    facts = [Phrase("1×1 conv to {n} channels", n=a.out_chs), ACTIVATION_LABELS[a.act]]
    return _label(_, N_("head"), facts, g.costs[0].ops)


def _classifier_label(g: Group, _: Translate) -> Html:
    a = g.first
    if a.classifier == "conv":  # SqueezeNet: no fully connected layer at all
        facts = [Phrase("1×1 conv to {n} classes", n=a.out_chs), N_("global average pool")]
    else:
        hidden = []
        if a.hidden:  # MobileNetV4's hidden layer has batch norm
            fc = (
                Phrase("FC to {n} + BN", n=a.hidden) if a.classifier == "linear_bn" else Phrase("FC to {n}", n=a.hidden)
            )
            hidden = [fc, ACTIVATION_LABELS[a.act]]
        facts = [N_("global average pool"), *hidden, Phrase("FC to {n} classes", n=a.out_chs)]
    return _label(_, N_("classifier"), facts, g.costs[0].ops)


def _block_label(g: Group, _: Translate) -> Html:
    """The badge says what changes the shape (stride) and how often the block repeats (×n)."""
    a = g.first
    family = FAMILIES[a.block]
    badge = [Phrase("stride {s} ↓", s=a.stride)] * (a.stride > 1) + [f"×{g.count}"] * (g.count > 1)
    return _label(_, family.title(a), [*family.facts(a), ACTIVATION_LABELS[a.act]], g.costs[0].ops, badge)


LABELS: dict[str, Callable[[Group, Translate], Html]] = {
    "stem": _stem_label,
    "head": _head_label,
    "classifier": _classifier_label,
}


def _group_label(g: Group, _: Translate) -> Html:
    return LABELS.get(g.node_id, _block_label)(g, _)


# ----- DOT ----------------------------------------------------------------------------------


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _attrs(**attrs) -> str:
    """``[k="v", ...]``, with :class:`Html` values as ``<...>``."""
    return "[" + ", ".join(f"{k}={_value(v)}" for k, v in attrs.items()) + "]"


def _value(v) -> str:
    return f"<{v}>" if isinstance(v, Html) else _quote(str(v))


def _legend(table: CostTable, _: Translate) -> Html:
    """The op-kind colors this network uses, and what the dashed loop means if it has one."""
    kinds = [k for k in OP_KINDS if any(o.kind == k for o in table.ops)]
    cells = "".join(
        f'<TD BGCOLOR="{KIND_COLORS[k]}"><FONT COLOR="white" POINT-SIZE="10">{escape(_(KIND_WORDS[k]))}</FONT></TD>'
        for k in kinds
    )
    if any(layer.has_skip for layer in table.layers):
        skip = escape(_("╌╌ skip: the block adds its input"))
        cells += f'<TD><FONT COLOR="{SKIP_COLOR}">{skip}</FONT></TD>'
    operations = escape(_("operations:"))
    return Html(f'<TABLE BORDER="0" CELLSPACING="3" CELLPADDING="2"><TR><TD>{operations}</TD>{cells}</TR></TABLE>')


def _node(node_id: str, label: Html, indent: str = "  ", **attrs) -> str:
    return f"{indent}{_quote(node_id)} {_attrs(label=label, **attrs)};"


def _edge(tail: str, head: str, **attrs) -> str:
    return f"  {_quote(tail)} -> {_quote(head)} {_attrs(**attrs)};"


def _stage_cluster(stage: int, row: list[Group], _: Translate) -> list[str]:
    """A stage as a shaded box, its groups side by side: the block that changes the shape, then its repeats."""
    blocks = sum(g.count for g in row)
    title = (
        _("stage {n} · {blocks} blocks", n=stage, blocks=blocks) if blocks > 1 else _("stage {n} · 1 block", n=stage)
    )
    return [
        f"  subgraph {_quote(f'cluster_stage_{stage}')} {{",
        "    graph " + _attrs(label=title, style="rounded,filled", fillcolor=STAGE_FILL, color="#d5d9e2") + ";",
        "    { rank=same; " + " ".join(_quote(g.node_id) for g in row) + " }",
        *(_node(g.node_id, _group_label(g, _), "    ") for g in row),
        "  }",
    ]


def network_dot(source: Spec | CostTable, _: Translate = english) -> str:
    """The DOT source of the diagram of a spec (or of its cost table), for ``st.graphviz_chart``.

    Nodes are named by module path (``stem``, ``stages.2.1``, ``head``, ``classifier``) plus
    ``input`` and ``output``; the main path's edges carry the tensor shape leaving each node.
    """
    table = source if isinstance(source, CostTable) else analyze(source)
    groups = group_layers(table)
    rows = [
        list(row) for _, row in itertools.groupby(groups, lambda g: g.first.stage if g.first.is_block else g.node_id)
    ]
    io = dict(shape="box", style="filled", fillcolor="#e8eef8")
    lines = [
        "digraph network {",
        "  graph "
        + _attrs(
            rankdir="TB",
            bgcolor="white",
            fontname=FONT,
            fontcolor=INK,
            fontsize=12,
            nodesep=0.35,
            ranksep=0.3,
            labeljust="l",
            labelloc="t",
            pad=0.2,
            label=_legend(table, _),
        )
        + ";",
        "  node "
        + _attrs(
            shape="box",
            style="rounded,filled",
            fillcolor="white",
            color="#9aa0ac",
            fontname=FONT,
            fontcolor=INK,
            fontsize=12,
            margin="0.1,0.05",
        )
        + ";",
        "  edge " + _attrs(color="#555a66", fontname=FONT, fontcolor=INK, fontsize=11, arrowsize=0.7) + ";",
        _node("input", _label(_, N_("input image"), [shape_text(groups[0].in_shape)]), **io),
    ]
    for row in rows:
        first = row[0].first
        lines += _stage_cluster(first.stage, row, _) if first.is_block else [_node(first.name, _group_label(row[0], _))]
    lines.append(_node("output", _label(_, Phrase("{n} class scores", n=table.spec.num_classes), []), **io))

    path = ["input", *(g.node_id for g in groups), "output"]
    shapes = [groups[0].in_shape, *(g.out_shape for g in groups)]
    lines += [_edge(a, b, label=f" {shape_text(s)} ") for a, b, s in zip(path, path[1:], shapes)]
    # An invisible spine through each row's first node keeps the rows left-aligned, read like lines of text.
    spine = ["input", *(row[0].node_id for row in rows), "output"]
    drawn = set(zip(path, path[1:]))
    lines += [_edge(a, b, style="invis", weight=10) for a, b in zip(spine, spine[1:]) if (a, b) not in drawn]
    lines += [
        _edge(
            g.node_id,
            g.node_id,
            style="dashed",
            color=SKIP_COLOR,
            arrowsize=0.6,
            tooltip=_("skip connection: the block adds its input to its output"),
        )
        for g in groups
        if g.costs[0].has_skip
    ]
    lines.append("}")
    return "\n".join(lines) + "\n"
