"""The code of every network: one standalone PyTorch file per design, for students to take home.

:func:`network_code` writes a file that imports only torch (and ``math``/``typing``), defines one readable
``nn.Module`` class per block family the design uses (``InvertedResidual``, ``FusedMBConv``, ``FireModule``, ...),
the shared pieces those classes call (conv + BN + activation, squeeze-and-excitation, the channel shuffle), a stem,
head and classifier, the design's numbers as a table of stages (like torchvision's config lists) and ``build()``;
run as a script it prints the parameter count and output shape. Its modules have lwviz's names, so
``load_state_dict(strict=True)`` takes the weights of :func:`lwviz.builder.build` (pretrained ones included) and
the two give the same outputs.

Why templates, not the source of lwviz/blocks (``inspect.getsource``): lwviz's blocks take a resolved
:class:`~lwviz.families.LayerArgs`, call channel helpers from lwviz.families, route every add and multiply through
``FloatFunctional`` for eager int8 quantization, and branch on every network-wide option (TF padding, no batch norm,
two SE styles). Copying them would need those helpers copied too and their code rewritten, by a transformation that
would break silently whenever a block changes style, and the result would read as lwviz's plumbing, not as a
network. A template per family (lwviz/codegen/blocks/, one file per family, found by looking, like lwviz/blocks/) is
plain code a teacher can show, fitted to the network by dropping lines tagged for features it lacks
(:class:`~lwviz.codegen.base.Fit`). It cannot drift unnoticed: tests/test_codegen.py runs the generated code of every
preset and of every family in a fresh interpreter, loads the lwviz model's state_dict with ``strict=True`` and
compares outputs, and fails for any family without a template, saying what to add.
"""

from __future__ import annotations

from pathlib import Path

from lwviz.codegen.base import BlockCode, Fit
from lwviz.codegen.blocks import CODE
from lwviz.codegen.network import (
    HEAD,
    class_name,
    classifier_code,
    columns_for,
    file_stem,
    header,
    imports_for,
    make_stage,
    network_class,
    stage_config,
    stage_table,
    stem_code,
)
from lwviz.codegen.shared import PIECES, pieces_for
from lwviz.plan import resolve
from lwviz.spec import Spec


class NoCodeForFamily(ValueError):
    """A block family in the design has no template in lwviz/codegen/blocks/."""


def missing_code_message(family: str) -> str:
    """What to add so that ``family`` can be written as code."""
    return (
        f"block family {family!r} has no code: add lwviz/codegen/blocks/<its lwviz/blocks file name>.py defining "
        f"CODE = (BlockCode(({family!r},), 'ClassName', source),), a class whose "
        f"__init__(self, in_chs, out_chs, stride, cfg) makes the submodules of its lwviz/blocks module under the "
        f"same names (see lwviz/codegen/blocks/inverted_residual.py)"
    )


def code_for(family: str) -> BlockCode:
    try:
        return CODE[family]
    except KeyError:
        raise NoCodeForFamily(missing_code_message(family)) from None


def network_code(spec: Spec) -> str:
    """One standalone PyTorch file of ``spec``'s network; raises ``ValueError`` for a spec that does not resolve
    and :class:`NoCodeForFamily` for a block family without a template."""
    plan = resolve(spec)
    fit = Fit.of(plan)
    used = list(dict.fromkeys(a.block for a in plan.blocks))
    codes = {family: code_for(family) for family in used}
    classes = list(dict.fromkeys(codes.values()))  # ir and mbconv share one class
    blocks = [fit.keep(code.source) for code in classes]
    columns = columns_for(blocks)
    head = next((a for a in plan.layers if a.name == "head"), None)
    net = [stem_code(fit), *([HEAD] if head else []), classifier_code(fit)]
    taken = {c.class_name for c in classes} | set(PIECES) | {"Stem", "Head", "Classifier", "StageConfig"}
    name = class_name(spec, taken)
    tail = [stage_table(fit, codes, columns), make_stage(classes), network_class(fit, name)]
    pieces = pieces_for(fit, "".join(blocks + net))
    body = [stage_config(columns), *pieces, *blocks, *net, *tail]
    code = "\n\n\n".join(part.strip("\n") for part in body) + "\n"
    return header(spec, name, file_stem(spec), imports_for(code)) + "\n\n" + code


def file_name(spec: Spec) -> str:
    """The file the code is saved as: the design's name, ``mobilenet_v2.py``."""
    return file_stem(spec) + ".py"


def main_text(spec: Spec, out: str | None = None) -> str:
    """What ``lwviz code`` prints: the code itself, or, with ``out``, the code written there and a line saying so."""
    code = network_code(spec)
    if out is None:
        return code.rstrip("\n")
    Path(out).write_text(code, encoding="utf-8")
    return f"wrote {out} ({code.count(chr(10))} lines); run it with: python {out}"


__all__ = ["CODE", "BlockCode", "NoCodeForFamily", "file_name", "main_text", "missing_code_message", "network_code"]
