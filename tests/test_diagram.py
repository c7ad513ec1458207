"""The network diagram: valid DOT, the plan's shapes on its arrows, every block drawn exactly once.

No DOT parser is installed, so a small reader of the DOT grammar (IDs, HTML strings,
attribute lists, subgraphs, node and edge statements) checks the structure here.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import pytest

from lwviz.cost import analyze
from lwviz.families import FAMILIES
from lwviz.limits import DesignTooLarge
from lwviz.plan import resolve
from lwviz.presets import PRESETS, get_preset
from lwviz.viz.cost_charts import KIND_COLORS
from lwviz.viz.diagram import network_dot, shape_text

# ----- a reader for the DOT language ----------------------------------------------------------

TOKEN = re.compile(r'\s+|(?P<str>"(?:[^"\\]|\\.)*")|(?P<arrow>->)|(?P<punct>[{}\[\];,=])|(?P<id>[\w.]+)')


def tokenize(text: str) -> list[tuple[str, str]]:
    """(kind, value) pairs; an HTML string ``<...>`` is one token (its angle brackets nest)."""
    tokens, i = [], 0
    while i < len(text):
        if text[i] == "<":
            depth, j = 0, i
            while True:
                depth += {"<": 1, ">": -1}.get(text[j], 0)
                j += 1
                if depth == 0:
                    break
                assert j < len(text), "unterminated HTML string"
            tokens.append(("html", text[i + 1 : j - 1]))
            i = j
            continue
        m = TOKEN.match(text, i)
        assert m, f"unexpected character {text[i]!r} at {i}"
        if m.lastgroup:
            value = m.group()
            tokens.append(("id", value[1:-1].replace('\\"', '"')) if m.lastgroup == "str" else (m.lastgroup, value))
        i = m.end()
    return tokens


@dataclass
class Dot:
    nodes: dict[str, dict] = field(default_factory=dict)  # every node statement's attributes, merged
    edges: list[tuple[str, str, dict]] = field(default_factory=list)  # in the order written
    clusters: dict[str, list[str]] = field(default_factory=dict)  # cluster name -> nodes declared inside
    graph: dict = field(default_factory=dict)


def parse(text: str) -> Dot:
    tokens, dot, pos = tokenize(text), Dot(), 0

    def peek(offset=0):
        return tokens[pos + offset] if pos + offset < len(tokens) else ("eof", "")

    def take(kind=None, value=None):
        nonlocal pos
        tok = peek()
        assert kind in (None, tok[0]) and value in (None, tok[1]), f"expected {value or kind}, got {tok}"
        pos += 1
        return tok[1]

    def attr_list() -> dict:
        attrs = {}
        while peek()[1] == "[":
            take("punct", "[")
            while peek()[1] != "]":
                key = take("id")
                take("punct", "=")
                assert peek()[0] in ("id", "html"), f"{key}: expected a value, got {peek()}"
                attrs[key] = take()
                if peek()[1] in (",", ";"):
                    take()
            take("punct", "]")
        return attrs

    def stmt_list(scopes: list[str]) -> None:
        take("punct", "{")
        while peek()[1] != "}":
            kind, value = peek()
            if value in ("graph", "node", "edge") and peek(1)[1] == "[":
                take()
                attrs = attr_list()
                if value == "graph" and not scopes:
                    dot.graph.update(attrs)
            elif value == "subgraph" or value == "{":
                name = ""
                if value == "subgraph":
                    take()
                    name = take("id") if peek()[0] == "id" else ""
                stmt_list(scopes + [name] if name.startswith("cluster") else scopes)
            elif peek(1)[1] == "=":
                take("id"), take("punct", "="), take()
            else:
                chain = [take("id")]
                while peek()[0] == "arrow":
                    take("arrow")
                    chain.append(take("id"))
                attrs = attr_list()
                if len(chain) == 1:
                    dot.nodes.setdefault(chain[0], {}).update(attrs)
                    for cluster in scopes:
                        dot.clusters.setdefault(cluster, []).append(chain[0])
                dot.edges += [(a, b, attrs) for a, b in zip(chain, chain[1:])]
            if peek()[1] == ";":
                take()
        take("punct", "}")

    take("id", "digraph")
    if peek()[0] == "id":
        take()
    stmt_list([])
    assert peek()[0] == "eof", f"text after the graph: {peek()}"
    return dot


def html(label: str) -> ET.Element:
    """A Graphviz HTML label as XML (it must be well formed, or Graphviz draws nothing)."""
    return ET.fromstring(label)


def text_of(label: str) -> str:
    return " ".join(t.strip() for t in html(label).itertext() if t.strip())


def badge_count(label: str) -> int:
    """The ×n on a block node; a lone ×n, not part of 3×3 or 'expand 6×'."""
    counts = re.findall(r"(?<![\w×])×(\d+)", text_of(label))
    assert len(counts) <= 1, label
    return int(counts[0]) if counts else 1


def main_path(dot: Dot) -> list[tuple[str, str, str]]:
    """(tail, head, shape label) from input to output along the labelled edges."""
    labelled = {a: (b, attrs["label"].strip()) for a, b, attrs in dot.edges if "label" in attrs}
    path, node = [], "input"
    while node != "output":
        head, label = labelled[node]
        path.append((node, head, label))
        node = head
    assert len(path) == len(labelled), "a labelled edge off the main path"
    return path


# ----- the diagram ------------------------------------------------------------------------

CASES = [pytest.param(name, block, id=f"{name}-{block or 'preset'}") for name in PRESETS for block in (None, *FAMILIES)]


# Designs over the app's limits, refused with a message rather than drawn: fused-MBConv's dense 3x3 at its
# default expansion 4 on ShuffleNetV1 g=8's 1,536 channels comes to 500.1M parameters.
TOO_LARGE = {("shufflenet_v1_g8", "fused")}


def _spec(name, block):
    spec = get_preset(name)
    return spec.with_(block=block) if block else spec


@pytest.mark.parametrize("name, block", CASES)
def test_diagram_is_valid_dot_with_the_plans_shapes_and_blocks(name, block):
    spec = _spec(name, block)
    if (name, block) in TOO_LARGE:
        with pytest.raises(DesignTooLarge, match="500.1M parameters, but a design may have at most 500M"):
            resolve(spec)
        return
    plan, table = resolve(spec), analyze(spec)
    source = network_dot(spec)
    assert source.count("{") == source.count("}")
    dot = parse(source)

    labelled = {n for n, attrs in dot.nodes.items() if "label" in attrs}
    assert {n for a, b, _ in dot.edges for n in (a, b)} <= labelled, "an edge to an undeclared node"
    for attrs in [*dot.nodes.values(), dot.graph]:
        if "label" in attrs:
            html(attrs["label"])  # well-formed

    path = main_path(dot)
    assert path[0][0] == "input" and path[-1][1] == "output"
    assert text_of(dot.nodes["input"]["label"]) == f"input image {spec.in_chs}×{spec.resolution}×{spec.resolution}"
    assert text_of(dot.nodes["output"]["label"]) == f"{spec.num_classes} class scores"

    # each arrow carries the shape leaving its tail, once per block the tail stands for
    counts = {n: badge_count(dot.nodes[n]["label"]) for n in labelled if n.startswith("stages.")}
    shown = [label for tail, _, label in path for _ in range(counts.get(tail, 1))]
    assert shown == [shape_text((spec.in_chs, spec.resolution, spec.resolution))] + [
        shape_text((a.out_chs, a.out_size, a.out_size)) for a in plan.layers
    ]
    assert sum(counts.values()) == len(plan.blocks)
    assert [head for _, head, _ in path][:-1] == [n for n in dot.nodes if n not in ("input", "output")]

    for i in range(len(spec.stages)):  # each stage is one cluster holding its blocks, and says how many
        members = dot.clusters[f"cluster_stage_{i}"]
        assert all(n.startswith(f"stages.{i}.") for n in members)
        assert sum(counts[n] for n in set(members)) == sum(1 for a in plan.blocks if a.stage == i)

    has_skip = {layer.name: layer.has_skip for layer in table.layers}
    skips = {a for a, b, attrs in dot.edges if a == b and attrs.get("style") == "dashed"}
    assert skips == {n for n in counts if has_skip[n]}


def test_mobilenet_v2_collapses_17_blocks_into_12_nodes():
    dot = parse(network_dot(get_preset("mobilenet_v2")))
    blocks = {n: badge_count(a["label"]) for n, a in dot.nodes.items() if n.startswith("stages.")}
    assert blocks == {
        "stages.0.0": 1,
        "stages.1.0": 1,
        "stages.1.1": 1,
        "stages.2.0": 1,
        "stages.2.1": 2,
        "stages.3.0": 1,
        "stages.3.1": 3,
        "stages.4.0": 1,
        "stages.4.1": 2,
        "stages.5.0": 1,
        "stages.5.1": 2,
        "stages.6.0": 1,
    }
    assert [label for *_, label in main_path(dot)] == [
        "3×224×224",
        "32×112×112",
        "16×112×112",
        "24×56×56",
        "24×56×56",
        "32×28×28",
        "32×28×28",
        "64×14×14",
        "64×14×14",
        "96×14×14",
        "96×14×14",
        "160×7×7",
        "160×7×7",
        "320×7×7",
        "1280×7×7",
        "1000",
    ]
    skips = sorted(a for a, b, _ in dot.edges if a == b)
    assert skips == ["stages.1.1", "stages.2.1", "stages.3.1", "stages.4.1", "stages.5.1"]
    downsampling = sorted(n for n in blocks if "stride 2" in text_of(dot.nodes[n]["label"]))
    assert downsampling == ["stages.1.0", "stages.2.0", "stages.3.0", "stages.5.0"]
    assert (
        text_of(dot.nodes["stages.3.1"]["label"]) == "inverted residual ×3 expand 6× · 3×3 kernels · ReLU6 "
        "1×1 dw 3×3 1×1 +"
    )


def test_op_cells_use_the_cost_chart_colors():
    dot = parse(network_dot(get_preset("efficientnet_b0")))
    tds = html(dot.nodes["stages.1.1"]["label"]).iter("TD")
    cells = [(td.get("BGCOLOR"), "".join(td.itertext())) for td in tds if td.get("BGCOLOR")]
    assert cells == [
        (KIND_COLORS["pointwise"], "1×1"),
        (KIND_COLORS["depthwise"], "dw 3×3"),
        (KIND_COLORS["fc"], "SE"),
        (KIND_COLORS["pointwise"], "1×1"),
        (KIND_COLORS["elementwise"], "+"),
    ]
    legend = [td.get("BGCOLOR") for td in html(dot.graph["label"]).iter("TD") if td.get("BGCOLOR")]
    assert legend == [KIND_COLORS[k] for k in ("standard", "depthwise", "pointwise", "fc", "elementwise")]


TITLES = {
    "conv": "standard conv",
    "dws": "depthwise-separable",
    "ir": "inverted residual",
    "mbconv": "MBConv + SE",
    "shuffle": "ShuffleNet unit",
    "shufflev1": "ShuffleNetV1 unit",
    "fire": "Fire module",
    "fused": "fused-MBConv",
    "uib": "UIB (IB)",
    "ghost": "ghost bottleneck",
    "mobileone": "MobileOne block",
}


def test_every_block_family_is_named_in_words():
    assert set(TITLES) == set(FAMILIES)


@pytest.mark.parametrize("block, title", TITLES.items())
def test_each_block_family_is_named_in_words(block, title):
    dot = parse(network_dot(get_preset("mobilenet_v2").with_(block=block)))
    assert html(dot.nodes["stages.1.0"]["label"]).find("TR/TD/B").text == title


def test_squeezenet_has_no_fully_connected_layer_and_fire_says_its_widths():
    dot = parse(network_dot(get_preset("squeezenet1_1")))
    assert "FC" not in text_of(dot.nodes["classifier"]["label"]).split()
    assert "squeeze to 32, expand to 128 (1×1) + 128 (3×3)" in text_of(dot.nodes["stages.1.0"]["label"])
    assert "max-pool first" in text_of(dot.nodes["stages.1.0"]["label"])


def test_a_cost_table_gives_the_same_diagram_as_its_spec():
    spec = get_preset("mobilenet_v3_small").with_(width=0.5, resolution=160)
    assert network_dot(analyze(spec)) == network_dot(spec)


def test_shape_text():
    assert shape_text((32, 112, 112)) == "32×112×112"
    assert shape_text((1000, 1, 1)) == "1000"


def _cells(dot, node):
    return ["".join(td.itertext()) for td in html(dot.nodes[node]["label"]).iter("TD") if td.get("BGCOLOR")]


def test_mobileone_draws_its_branches_and_their_sum_then_one_conv_once_folded():
    from lwviz.reparam import inference_spec

    spec = get_preset("mobileone_s0")
    trained, folded = parse(network_dot(spec)), parse(network_dot(inference_spec(spec)))
    # the first block downsamples, so its depthwise conv has no identity branch: four 3x3 branches and a 1x1 one,
    # summed; then the pointwise conv's four 1x1 branches, summed (it keeps 48 channels, so its BN-only identity
    # branch is there too: priced, but a batch norm draws no cell)
    assert _cells(trained, "stages.0.0") == ["dw 3×3"] * 4 + ["dw 1×1", "Σ"] + ["1×1"] * 4 + ["Σ"]
    assert _cells(folded, "stages.0.0") == ["dw 3×3", "1×1"]
    assert html(folded.nodes["stages.0.0"]["label"]).find("TR/TD/B").text == "MobileOne block, folded"
    assert "3×3 conv, stride 2 · 1 branch + 1×1, summed" in text_of(trained.nodes["stem"]["label"])
    assert "3×3 conv, stride 2 · folded" in text_of(folded.nodes["stem"]["label"])


def test_ghost_and_uib_nodes_show_their_parts():
    ghost = parse(network_dot(get_preset("ghostnet_100")))
    assert _cells(ghost, "stages.1.0") == ["1×1", "dw 3×3", "dw 3×3", "1×1", "dw 3×3", "dw 3×3", "1×1", "+"]
    assert "1/2 of the maps by 1×1 conv, the rest cheap" in text_of(ghost.nodes["stages.1.0"]["label"])
    uib = parse(network_dot(get_preset("mobilenetv4_conv_medium")))
    assert _cells(uib, "stages.1.0") == ["dw 3×3", "1×1", "dw 5×5", "1×1"]
    classifier = text_of(uib.nodes["classifier"]["label"])
    assert "FC to 1280 + BN · ReLU" in classifier


def test_the_diagram_speaks_the_readers_language():
    from lwviz.i18n import translator

    zh = network_dot(get_preset("mobilenet_v2"), translator("zh"))
    for words in ("倒残差", "扩展 6×", "3×3 卷积核", "输入图片", "1000 个类别得分", "阶段 1", "深度卷积", "分类器"):
        assert words in zh, words
    assert "inverted residual" not in zh and "kernels" not in zh
