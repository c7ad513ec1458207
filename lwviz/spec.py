"""The network spec: one immutable description from which everything else derives.

A :class:`Spec` is a stem, a tuple of stages and a head, plus global knobs
(width, depth, resolution and optional overrides). It round-trips losslessly
through a dict (for JSON files) and a compact URL-safe string such as::

    net_w1_res224-stem_c32_k3_s2_arelu6-ir_r1_k3_s1_e1_c16-...-head_c1280_arelu6

The spec is declarative: channel rounding, depth scaling and overrides are
applied by :func:`lwviz.plan.resolve`, so a spec always shows the knobs a
student set, not their consequences. It imports neither the plan nor torch.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from lwviz import limits
from lwviz.errors import Refusal
from lwviz.families import FAMILIES
from lwviz.i18n import N_, Phrase

ACTIVATIONS = ("relu", "relu6", "hswish", "silu", "none")
# how width reaches stem/head channels; "steps": only at widths that double (0.5, 1, 2), ShuffleNetV1's stem table
SCALINGS = ("scale", "floor", "fixed", "steps")
STEM_POOLS = ("none", "max", "maxceil")  # maxceil: SqueezeNet's ceil_mode pooling
# linear_nobias: ShuffleNetV1's official FC has no bias; linear_bn: MobileNetV4's hidden layer is a 1x1 conv without
# bias and with batch norm, on the pooled vector
CLASSIFIERS = ("linear", "conv", "linear_nobias", "linear_bn")
PADDINGS = ("symmetric", "tf_same")
SE_STYLES = ("efficientnet", "mobilenetv3")
KNOBS = ("width", "depth", "resolution", "block", "kernel", "expand", "se", "act")  # the global, slider-set fields


def _meta(key: str, lo: float | None = None, hi: float | None = None, choices=None, text: str = ""):
    return {"key": key, "lo": lo, "hi": hi, "choices": choices, "text": text}


@dataclass(frozen=True)
class Stem:
    """The first convolution (and optional max-pool) that turns pixels into features."""

    chs: int = field(default=32, metadata=_meta("c", 1, 4096))
    kernel: int = field(default=3, metadata=_meta("k", 1, 11))
    stride: int = field(default=2, metadata=_meta("s", 1, 4))
    act: str = field(default="relu", metadata=_meta("a", choices=ACTIVATIONS))
    pool: str = field(default="none", metadata=_meta("p", choices=STEM_POOLS))
    padded: bool = field(default=True, metadata=_meta("pad"))
    scaling: str = field(default="scale", metadata=_meta("w", choices=SCALINGS))
    # MobileOne: 0 is one plain conv; k >= 1 is its re-parameterizable stem, k KxK conv + BN branches beside a
    # 1x1 conv + BN, summed (one conv with a bias once the spec is ``reparam``)
    branches: int = field(default=0, metadata=_meta("br", 0, 8))


@dataclass(frozen=True)
class Stage:
    """``repeats`` blocks of one family; the first has ``stride`` and changes channels."""

    block: str = "ir"
    repeats: int = field(default=1, metadata=_meta("r", 1, 64))
    kernel: int = field(default=3, metadata=_meta("k", 1, 11))
    stride: int = field(default=1, metadata=_meta("s", 1, 2))
    out_chs: int = field(default=16, metadata=_meta("c", 1, 4096))
    expand: float = field(default=1.0, metadata=_meta("e", 0.05, 16))
    se: float = field(default=0.0, metadata=_meta("se", 0, 1))
    act: str = field(default="relu", metadata=_meta("a", choices=ACTIVATIONS))
    groups: int = field(default=1, metadata=_meta("g", 1, 64))
    # ShuffleNetV1: the stage's first block keeps its first 1x1 dense, because few input channels
    # would leave each group almost nothing to see (the paper's Stage 2); families without it ignore it.
    dense_first: bool = field(default=False, metadata=_meta("df"))
    # Universal inverted bottleneck (MobileNetV4): a depthwise conv of this kernel before the expansion (0: none),
    # and whether the depthwise conv of ``kernel`` after the expansion is there; families without them ignore them.
    dw_start: int = field(default=0, metadata=_meta("ka", 0, 11))
    mid_dw: bool = field(default=True, metadata=_meta("md"))
    # GhostNet: a ghost module makes 1/ratio of its maps with a 1x1 conv and the rest with cheap depthwise convs.
    ratio: int = field(default=2, metadata=_meta("gr", 2, 8))
    # MobileOne: parallel KxK conv + BN branches per conv while training (the paper's k).
    branches: int = field(default=1, metadata=_meta("br", 1, 8))


@dataclass(frozen=True)
class Head:
    """Optional 1x1 conv, global pooling, optional hidden FC (MobileNetV3) and the classifier."""

    chs: int = field(default=0, metadata=_meta("c", 0, 8192))
    act: str = field(default="relu", metadata=_meta("a", choices=ACTIVATIONS))
    scaling: str = field(default="scale", metadata=_meta("w", choices=SCALINGS))
    hidden: int = field(default=0, metadata=_meta("h", 0, 8192))
    dropout: float = field(default=0.2, metadata=_meta("drop", 0, 0.99))
    classifier: str = field(default="linear", metadata=_meta("cls", choices=CLASSIFIERS))


@dataclass(frozen=True)
class Spec:
    """A whole network. Overrides (``block``, ``kernel``, ...) apply to every stage when set."""

    stages: tuple[Stage, ...]
    stem: Stem = Stem()
    head: Head = Head()
    name: str = field(default="custom", metadata=_meta("name"))
    width: float = field(default=1.0, metadata=_meta("w", 0.1, 4.0, text=N_("width multiplier")))
    depth: float = field(default=1.0, metadata=_meta("d", 0.1, 4.0, text=N_("depth multiplier")))
    resolution: int = field(default=224, metadata=_meta("res", 8, 1024, text=N_("input resolution")))
    num_classes: int = field(default=1000, metadata=_meta("n", 1, 100000))
    in_chs: int = field(default=3, metadata=_meta("in", 1, 16))
    block: str | None = field(default=None, metadata=_meta("b", text=N_("block type override")))
    kernel: int | None = field(default=None, metadata=_meta("k", 1, 11, text=N_("kernel size override")))
    expand: float | None = field(default=None, metadata=_meta("e", 0.05, 16, text=N_("expansion override")))
    se: float | None = field(default=None, metadata=_meta("se", 0, 0.99, text=N_("SE ratio override")))
    act: str | None = field(default=None, metadata=_meta("a", choices=ACTIVATIONS, text=N_("activation override")))
    norm: bool = field(default=True, metadata=_meta("bn"))
    bn_eps: float = field(default=1e-5, metadata=_meta("eps", 1e-12, 1.0))
    padding: str = field(default="symmetric", metadata=_meta("pad", choices=PADDINGS))
    se_style: str = field(default="efficientnet", metadata=_meta("sest", choices=SE_STYLES))
    divisor: int = field(default=8, metadata=_meta("div", 1, 64))
    # MobileOne's inference form: every re-parameterizable block and stem folded into one conv with a bias
    reparam: bool = field(default=False, metadata=_meta("rp"))

    def __post_init__(self):
        # Accept lists from JSON/callers but store tuples so the spec stays hashable.
        object.__setattr__(self, "stages", tuple(self.stages))

    # ----- validation -------------------------------------------------------------------
    def validate(self) -> "Spec":
        """Check every field on its own; raise ``ValueError`` naming the field and its allowed range.

        What only the whole network can tell (a resolution too small for its downsampling, channels a
        block cannot split) is checked by :func:`lwviz.plan.resolve`, which everything that builds or
        prices a spec goes through. Returns self.
        """
        _check_fields(self, "")
        _check_fields(self.stem, "stem.")
        _check_fields(self.head, "head.")
        if not self.stages:
            raise Refusal(N_("stages: a network needs at least one stage"))
        if self.block is not None and self.block not in FAMILIES:
            raise Refusal(_UNKNOWN_BLOCK, name="block", block=repr(self.block), choices=", ".join(FAMILIES))
        for kernel, where in [(self.kernel, "kernel"), (self.stem.kernel, "stem.kernel")]:
            if kernel is not None and kernel % 2 == 0:
                raise Refusal(_EVEN_KERNEL, name=where, kernel=kernel)
        for i, stage in enumerate(self.stages):
            _check_fields(stage, f"stages[{i}].")
            if stage.block not in FAMILIES:
                raise Refusal(
                    _UNKNOWN_BLOCK, name=f"stages[{i}].block", block=repr(stage.block), choices=", ".join(FAMILIES)
                )
            if stage.kernel % 2 == 0:
                raise Refusal(_EVEN_KERNEL, name=f"stages[{i}].kernel", kernel=stage.kernel)
            if stage.dw_start and stage.dw_start % 2 == 0:
                raise Refusal(
                    N_("{name}: kernel size must be odd (1, 3, 5, 7, ...) or 0 (none), got {kernel}"),
                    name=f"stages[{i}].dw_start",
                    kernel=stage.dw_start,
                )
        return self

    # ----- dict / JSON ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Spec":
        if not isinstance(data, dict):
            raise ValueError("spec: expected a JSON object")
        data = dict(data)
        try:
            raw_stages = list(data.pop("stages"))
        except KeyError:
            raise ValueError("stages: missing") from None
        except TypeError:
            raise ValueError("stages: expected a list of stage objects") from None
        _check_stage_count(len(raw_stages))
        try:
            stages = tuple(_from_dict(Stage, s, f"stages[{i}].") for i, s in enumerate(raw_stages))
        except TypeError:
            raise ValueError("stages: expected a list of stage objects") from None
        stem = _from_dict(Stem, data.pop("stem", {}), "stem.")
        head = _from_dict(Head, data.pop("head", {}), "head.")
        spec = _from_dict(cls, data, "", stages=stages, stem=stem, head=head)
        return spec

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_json(cls, text: str) -> "Spec":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"spec: not valid JSON ({exc.msg} at line {exc.lineno})") from None
        except (ValueError, RecursionError):  # a number of thousands of digits, arrays nested thousands deep
            raise ValueError("spec: not valid JSON (a number too long or nesting too deep)") from None
        return cls.from_dict(data)

    # ----- compact string ---------------------------------------------------------------
    def to_string(self) -> str:
        """Compact URL-safe form; only fields that differ from their defaults are written."""
        parts = [_encode("net", self, skip=("stages", "stem", "head")), _encode("stem", self.stem)]
        parts += [_encode(s.block, s, skip=("block",)) for s in self.stages]
        parts.append(_encode("head", self.head))
        return "-".join(parts)

    @classmethod
    def from_string(cls, text: str) -> "Spec":
        sections = [sec.partition("_") for sec in text.strip().split("-")]
        kinds = [kind for kind, _, _ in sections]
        if len(sections) < 4 or kinds[0] != "net" or kinds[1] != "stem" or kinds[-1] != "head":
            raise ValueError("spec string: expected 'net_...-stem_...-<block>_...-...-head_...'")
        _check_stage_count(len(sections) - 3)
        stages = tuple(
            _decode(Stage, rest, f"stages[{i}].", block=kind) for i, (kind, _, rest) in enumerate(sections[2:-1])
        )
        return Spec(
            stages=stages,
            stem=_decode(Stem, sections[1][2], "stem."),
            head=_decode(Head, sections[-1][2], "head."),
            **_decode(Spec, sections[0][2], ""),
        )

    def with_(self, **changes) -> "Spec":
        """A copy with some fields changed (``dataclasses.replace`` by a friendlier name)."""
        return replace(self, **changes)


# ----- helpers --------------------------------------------------------------------------

_UNKNOWN_BLOCK = N_("{name}: unknown block type {block}; choose one of {choices}")
_EVEN_KERNEL = N_("{name}: kernel size must be odd (1, 3, 5, 7, ...), got {kernel}")
_OUT_OF_RANGE = N_("{name}: {value} is outside the allowed range {lo}..{hi}")
_OUT_OF_RANGE_NAMED = N_("{name} ({what}): {value} is outside the allowed range {lo}..{hi}")


def _check_stage_count(stages: int) -> None:
    """Refused before any stage is parsed: a hostile link or file of 200,000 stages costs nothing."""
    limits.check(limits.DESIGN, stages=stages)


def _check_fields(obj, prefix: str) -> None:
    for f in fields(obj):
        meta = f.metadata
        if not meta:
            continue
        value = getattr(obj, f.name)
        if value is None:
            continue
        name = f"{prefix}{f.name}"
        if meta["choices"] is not None and value not in meta["choices"]:
            raise Refusal(
                N_("{name}: {value} is not one of {choices}"),
                name=name,
                value=repr(value),
                choices=", ".join(meta["choices"]),
            )
        lo, hi = meta["lo"], meta["hi"]
        if lo is not None and not (lo <= value <= hi):
            if meta["text"]:
                raise Refusal(_OUT_OF_RANGE_NAMED, name=name, what=Phrase(meta["text"]), value=value, lo=lo, hi=hi)
            raise Refusal(_OUT_OF_RANGE, name=name, value=value, lo=lo, hi=hi)


_EXACT = {"int": int, "float": float, "str": str, "bool": bool}  # a field's type name -> values taken as they are


def _taken_as_is(kind: str, raw: Any) -> bool:
    """An int the general path keeps exactly (one a float holds), a finite float, any str or bool."""
    if kind == "int":
        return abs(raw) <= 2**53
    return kind != "float" or math.isfinite(raw)


def _coerce(f: dataclasses.Field, raw: Any, name: str) -> Any:
    """Convert a JSON or string value to the field's type, with an actionable error."""
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    if type(raw) is _EXACT.get(kind) and _taken_as_is(kind, raw):
        return raw  # JSON's own types, as the general path below would give them
    if raw is None:
        if "None" in kind:
            return None
        if kind.startswith("bool"):  # an unticked checkbox (a new table row) leaves its cell empty: the default
            return f.default
        raise Refusal(N_("{name}: a value is required"), name=name)
    try:
        if kind.startswith("bool"):
            if isinstance(raw, bool):
                return raw
            if str(raw) in ("1", "true", "True"):
                return True
            if str(raw) in ("0", "false", "False"):
                return False
            raise ValueError
        if kind.startswith("int"):
            value = float(raw)
            if not value.is_integer():
                raise ValueError
            return int(value)
        if kind.startswith("str") and isinstance(raw, str):
            return raw
        if kind.startswith("float"):
            value = float(raw)
            if not math.isfinite(value):
                raise ValueError
            return value
        if isinstance(raw, (str, int, float)):
            return str(raw)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an integer beyond any float
        pass
    shown = repr(raw) if len(repr(raw)) <= 40 else repr(raw)[:37] + "..."
    raise Refusal(N_("{name}: {value} is not a valid {kind}"), name=name, value=shown, kind=kind.split(" ")[0])


@functools.cache
def _fields_by_name(cls) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in fields(cls)}


def _from_dict(cls, data, prefix: str, **given):
    if not isinstance(data, dict):
        raise ValueError(f"{prefix.rstrip('.') or 'spec'}: expected an object")
    known = _fields_by_name(cls)
    unknown = set(data) - set(known)
    if unknown:
        raise ValueError(f"{prefix}{sorted(unknown)[0]}: unknown field; known fields are {', '.join(known)}")
    values = {k: _coerce(known[k], v, prefix + k) for k, v in data.items()}
    values.update(given)
    return cls(**values)


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        # shortest exact digits, never an exponent ('-' separates sections)
        text = np.format_float_positional(value, trim="-")
        return text
    return str(value).replace("_", ".")  # names like mobilenet_v2; '_' separates tokens


def _encode(kind: str, obj, skip: tuple[str, ...] = ()) -> str:
    tokens = [kind]
    for f in fields(obj):
        if f.name in skip:
            continue
        value = getattr(obj, f.name)
        default = f.default
        if value == default and type(value) is type(default):
            continue
        text = _fmt(value)
        if value is None or any(c in text for c in "-_ "):
            raise ValueError(f"{f.name}: {text!r} cannot be written in a spec string")
        tokens.append(f.metadata["key"] + text)
    return "_".join(tokens)


def _decode(cls, section: str, prefix: str, **given):
    flds = {f.metadata["key"]: f for f in fields(cls) if f.metadata}
    keys = sorted(flds, key=len, reverse=True)  # longest prefix wins: 'se0.25' before 's2'
    values: dict[str, Any] = {}
    for token in filter(None, section.split("_")):
        key = next((k for k in keys if token.startswith(k)), None)
        if key is None:
            raise ValueError(f"{prefix or 'net '}token {token!r}: unknown; expected one of {', '.join(sorted(flds))}")
        f = flds[key]
        raw = token[len(key) :]
        if f.type.startswith("str"):
            raw = raw.replace(".", "_")
        values[f.name] = _coerce(f, raw, prefix + f.name)
    if cls is Spec:  # the top-level knobs, applied by the caller around the nested parts
        return values
    return cls(**values, **given)
