"""Every piece of text a page shows a person, read from AppTest's element tree (for the language tests)."""

from __future__ import annotations

import json
import re

# Names that stay in Latin letters in Chinese text too (networks, datasets, tools, units, symbols).
NAMES = re.compile(
    r"lwviz|Mobile\w*|Efficient\w*|Shuffle\w*|Squeeze\w*|MnasNet\w*|Ghost\w*|ResNet-?\w*|VGG-?\w*|ImageNet\w*|CIFAR\w*|"
    r"Hugging Face Hub|Hugging Face|"
    r"Grad-CAM|ONNX|Netron|ReLU6?|h-swish|swish|SiLU|PyTorch|torchvision|timm|Captum|Streamlit|WebAssembly|WebGPU|"
    r"HTTPS?|URL|QR|CPU|GPU|SIMD|JSON|CSV|PNG|SE|MACs?|GMACs?|FLOPs?|FP32|fp32|int8|float32|MiB|MB|ms|FPS|"
    r"top-\d|Top-\d|Lite\d|B\d|V\d|[A-Z]\w*Net\w*|\w+_\w+|\w+\.py",
)
# Three Latin words in a row (after the names are taken out) is an English phrase that missed the catalog.
ENGLISH = re.compile(r"[A-Za-z]{2,}(?:[ ,'’-]+[A-Za-z]{2,}){2,}")


def _plotly_words(spec: str) -> list[str]:
    fig = json.loads(spec)
    layout, words = fig.get("layout", {}), []
    title = layout.get("title")
    words.append(title.get("text", "") if isinstance(title, dict) else title or "")
    for key, axis in layout.items():
        if key.startswith(("xaxis", "yaxis")) and isinstance(axis.get("title"), dict):
            words.append(axis["title"].get("text", ""))
    words += [a.get("text", "") for a in layout.get("annotations", [])]
    words += [t.get("name", "") for t in fig.get("data", [])]
    return [w for w in words if w]


def shown_text(at) -> list[str]:
    """Headings, Markdown, captions, alerts, widget labels, options and help, metric labels, expander labels,
    the words of Plotly charts (titles, axes, legends, annotations) and tables' column names and text cells.
    Not the values that are data (metric values, numbers)."""
    texts: list[str] = []

    def walk(node):
        for element in getattr(node, "children", {}).values():
            kind = getattr(element, "type", "")
            proto = getattr(element, "proto", None)
            if proto is not None and proto.DESCRIPTOR.name == "PlotlyChart":
                texts.extend(_plotly_words(proto.spec))
            elif proto is not None and proto.DESCRIPTOR.name == "GraphVizChart":
                texts.extend("".join(m) for m in re.findall(r'label=<(.*?)>[,\]]|label="(.*?)"', proto.spec))
            for attr in ("label", "help", "placeholder"):
                value = getattr(element, attr, None)
                if isinstance(value, str):
                    texts.append(value)
            if kind in ("title", "header", "subheader", "markdown", "caption", "text", "info", "warning", "error",
                        "success", "latex"):  # fmt: skip
                texts.append(str(element.value))
            if kind == "dataframe":
                frame = element.value
                texts.extend(str(c) for c in frame.columns)
                texts.extend(v for c in frame.columns for v in frame[c] if isinstance(v, str))
            options = getattr(element, "options", None)
            if kind in ("selectbox", "radio", "multiselect", "button_group", "select_slider") and options:
                texts.extend(str(o) for o in options)
            walk(element)

    walk(at._tree)
    return texts


def english_in(texts: list[str]) -> list[str]:
    """The texts holding an English phrase once names, numbers and Markdown/HTML syntax are removed."""
    found = []
    for text in texts:
        bare = re.sub(r"`[^`]*`|https?://\S+|<[^>]+>|%\{[^}]*\}", " ", text.replace("\\`", "`"))  # code, links
        bare = NAMES.sub(" ", bare)
        if ENGLISH.search(bare):
            found.append(text)
    return found
