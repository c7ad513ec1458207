"""Property-based fuzzing of every reader that takes what a student sends: spec strings, spec JSON, app links,
pictures and checkpoints.

Each reader must answer anything with a result or its own error (a ``ValueError``, subclasses allowed, with a
message), never another exception, and within a second. Inputs are arbitrary values and mutations of real ones
(preset specs, images made with PIL, checkpoints made with torch and safetensors). The runs are derandomized and
keep no example database, so CI sees the same examples every time and nothing is written into the repository.
"""

import io
import json
import math
import signal
import tempfile
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path

import pytest
import safetensors.torch
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from PIL import Image

from lwviz.cost import analyze
from lwviz.images import ImageError, load_image
from lwviz.presets import PRESETS, spec_from_text
from lwviz.spec import Spec
from lwviz.ui.state import spec_from_url
from lwviz.weights.checkpoint import CheckpointError, read_state_dict

BOUND_S = 1.0  # each call must return (or refuse) within this
HANG_S = 10.0  # a call still running after this is interrupted, so a hang fails the test instead of the CI job
# Even without an example database hypothesis caches tables (and writes patches for failures) in its home
# directory, by default .hypothesis/ in the working directory: keep the repository clean.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "lwviz-hypothesis")


def fuzz(max_examples: int):
    """Same examples on every run, no database; the time bound is checked per call by ``result_or_error``."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@contextmanager
def hang_guard(seconds: float = HANG_S):
    """SIGALRM after ``seconds``: timing a call tells only once it returns, and a hang never does."""

    def interrupt(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def result_or_error(call, *args, error=ValueError):
    """``call(*args)``, or the ``error`` it raised (checked to have a message), within BOUND_S; any other
    exception propagates, and hypothesis reports the input that caused it."""
    start = time.perf_counter()
    with hang_guard():
        try:
            result = call(*args)
        except error as exc:
            assert str(exc).strip(), f"{call.__qualname__} raised {type(exc).__name__} without a message"
            result = exc
    elapsed = time.perf_counter() - start
    assert elapsed < BOUND_S, f"{call.__qualname__} took {elapsed:.2f} s"
    return result


# --- specs: strings, dicts, JSON, links --------------------------------------------------------------------------

PRESET_STRINGS = [preset.spec.to_string() for preset in PRESETS.values()]
PRESET_DICTS = [preset.spec.to_dict() for preset in PRESETS.values()]
NASTY_TEXT = ["", "0", "-1", "1e309", "-1e309", "nan", "NaN", "inf", "-inf", "9" * 40, "9" * 5000, "1_0", "0x10"]
NASTY_TEXT += ["٣", "𝟙", "３", "é", "\x00", " ", "\u202e", "1.5", "true", "None", "[]", "_", "."]
NASTY_VALUES = [None, True, 0, -1, 2**31, 10**400, -(10**400), 1e308, math.nan, math.inf, -math.inf, "", "x"]
NASTY_VALUES += ["nan", "1e999", "٣", [], {}, [1], {"a": 1}, 0.5, 3.0]


def check_parsed(result) -> None:
    """A parsed spec must also price (or be refused) within the bound."""
    if isinstance(result, Spec):
        result_or_error(analyze, result)
    else:
        assert isinstance(result, ValueError)


@st.composite
def mutated_spec_strings(draw) -> str:
    """A preset's spec string with tokens changed, sections repeated, dropped or added, or text inserted."""
    sections = draw(st.sampled_from(PRESET_STRINGS)).split("-")
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(sections) - 1))
        op = draw(st.sampled_from(["value", "repeat", "drop", "token", "insert"]))
        tokens = sections[i].split("_")
        if op == "value" and len(tokens) > 1:  # keep a token's key (its letters), change its value
            j = draw(st.integers(1, len(tokens) - 1))
            key = tokens[j].rstrip("0123456789.e")
            tokens[j] = key + draw(st.sampled_from(NASTY_TEXT) | st.text(max_size=8))
            sections[i] = "_".join(tokens)
        elif op == "repeat":  # the same stage many times over
            sections[i:i] = [sections[i]] * draw(st.integers(1, 300))
        elif op == "drop" and len(sections) > 1:
            del sections[i]
        elif op == "token":
            sections[i] += "_" + draw(st.text(max_size=6))
        else:
            sections.insert(i, draw(st.text(max_size=12)))
    return "-".join(sections)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(10**400), 10**400), st.floats(), st.text(max_size=10))
    | st.sampled_from(NASTY_VALUES),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)


@st.composite
def mutated_spec_dicts(draw) -> dict:
    """A preset's dict with fields replaced by odd values, unknown fields added, stages repeated or replaced."""
    data = json.loads(json.dumps(draw(st.sampled_from(PRESET_DICTS))))  # a deep copy
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["top", "stage", "nested", "repeat", "extra"]))
        value = draw(st.sampled_from(NASTY_VALUES) | json_values)
        if op == "top":
            data[draw(st.sampled_from(sorted(data)))] = value
        elif op == "stage" and isinstance(data.get("stages"), list) and data["stages"]:
            stage = draw(st.sampled_from(data["stages"]))
            if isinstance(stage, dict):
                stage[draw(st.sampled_from(sorted(stage) or ["block"]))] = value
        elif op == "nested" and isinstance(data.get("stem"), dict) and isinstance(data.get("head"), dict):
            part = data[draw(st.sampled_from(["stem", "head"]))]
            part[draw(st.sampled_from(sorted(part) or ["chs"]))] = value
        elif op == "repeat" and isinstance(data.get("stages"), list) and data["stages"]:
            data["stages"] = data["stages"] * draw(st.integers(2, 60))
        else:
            data[draw(st.text(max_size=8))] = value
    return data


@fuzz(300)
@given(st.text(max_size=200) | st.text(max_size=200).map("net_".__add__) | mutated_spec_strings())
def test_spec_strings_give_a_spec_or_a_value_error(text):
    check_parsed(result_or_error(spec_from_text, text))
    check_parsed(result_or_error(Spec.from_string, text))


@fuzz(200)
@given(mutated_spec_strings() | st.text(max_size=200))
def test_a_link_always_opens_a_design(text):
    spec, warning = result_or_error(spec_from_url, text, error=())
    assert isinstance(spec, Spec) and (warning is None or (isinstance(warning, ValueError) and str(warning)))
    check_parsed(spec)


@fuzz(300)
@given(json_values | mutated_spec_dicts())
def test_spec_dicts_give_a_spec_or_a_value_error(data):
    check_parsed(result_or_error(Spec.from_dict, data))


@fuzz(200)
@given(
    st.text(max_size=200)
    | json_values.map(json.dumps)
    | mutated_spec_dicts().map(json.dumps)
    | st.sampled_from(["1" * 5000, '{"stages": [], "width": 1e999}', '{"stages": [{"block": "ir"}], "width": NaN}'])
)
def test_spec_json_gives_a_spec_or_a_value_error(text):
    check_parsed(result_or_error(Spec.from_json, text))


# --- pictures ----------------------------------------------------------------------------------------------------


def _picture(fmt: str, mode: str = "RGB") -> bytes:
    image = Image.linear_gradient("L").resize((24, 16)).convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


PICTURES = [_picture(f) for f in ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")] + [_picture("PNG", "RGBA")]


@st.composite
def mutated(draw, originals: list[bytes]) -> bytes:
    """A real file with bytes flipped, overwritten by extreme integers, cut short, repeated or inserted."""
    data = bytearray(draw(st.sampled_from(originals)))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(0, len(data) - 1)))
        op = draw(st.sampled_from(["flip", "int", "cut", "insert", "repeat"]))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "int":  # sizes, lengths and offsets in headers are 2- to 8-byte integers
            width = draw(st.sampled_from([2, 4, 8]))
            value = draw(st.sampled_from([0, 1, 2**15, 2**16 - 1, 2**31 - 1, 2**32 - 1, 2**63 - 1]))
            data[at : at + width] = (value % 2 ** (8 * width)).to_bytes(width, draw(st.sampled_from(["little", "big"])))
        elif op == "cut":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(st.binary(max_size=16))
        else:
            data[at:at] = data[at : at + draw(st.integers(1, 64))] * draw(st.integers(1, 8))
    return bytes(data)


@pytest.mark.filterwarnings("ignore::UserWarning")  # PIL warns about the damaged metadata it skips
@fuzz(300)
@given(st.binary(max_size=512) | mutated(PICTURES))
def test_image_bytes_give_an_rgb_picture_or_an_image_error(data):
    image = result_or_error(load_image, data, error=ImageError)
    if isinstance(image, Image.Image):
        assert image.mode == "RGB" and image.width * image.height > 0


# --- checkpoints -------------------------------------------------------------------------------------------------

STATE = {"conv.weight": torch.randn(4, 3, 3, 3), "bn.running_var": torch.ones(4), "fc.bias": torch.zeros(2)}


def _saved(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def _deflated(data: bytes) -> bytes:
    """The same zip with every member deflated: the reader must cope with compression as well."""
    original, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info in original.infolist():
            archive.writestr(info.filename, original.read(info))
    return out.getvalue()


CHECKPOINTS = [
    _saved(STATE),
    _deflated(_saved(STATE)),
    _saved({"epoch": 3, "state_dict": STATE}),
    safetensors.torch.save(STATE),
    safetensors.torch.save({"x": torch.arange(6, dtype=torch.int64).reshape(2, 3)}),
]


@fuzz(300)
@given(st.binary(max_size=512) | st.binary(max_size=512).map(b"PK\x03\x04".__add__) | mutated(CHECKPOINTS))
def test_checkpoint_bytes_give_tensors_or_a_checkpoint_error(data):
    state = result_or_error(read_state_dict, data, error=CheckpointError)
    if not isinstance(state, CheckpointError):
        assert state and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items())


def test_the_real_files_behind_the_mutations_are_read():
    """The mutations start from valid inputs: each of them is read (else the fuzzing would only test refusals)."""
    for data in PICTURES:
        assert load_image(data).size == (24, 16)
    for data in CHECKPOINTS:
        assert read_state_dict(data)
    for text in PRESET_STRINGS:
        assert isinstance(spec_from_text(text), Spec)


def test_the_hang_guard_interrupts():
    with pytest.raises(TimeoutError), hang_guard(0.05):
        while True:
            pass


# --- what fuzzing found in the spec readers, fixed -----------------------------------------------------------------

DEEP_JSON = "[" * 100_000  # nested arrays: the JSON reader recurses once per level
HUGE_INT_JSON = '{"stages": [{"block": "dws", "repeats": 1' + "0" * 400 + "}]}"  # 10**400: beyond any float


@pytest.mark.parametrize(
    "call, value, message",
    [
        (Spec.from_json, DEEP_JSON, "spec: not valid JSON (a number too long or nesting too deep)"),
        (Spec.from_json, "1" * 5000, "spec: not valid JSON (a number too long or nesting too deep)"),
        (
            Spec.from_json,
            HUGE_INT_JSON,
            "stages[0].repeats: 1000000000000000000000000000000000000... is not a valid int",
        ),
        (Spec.from_dict, {"stages": [{"block": "dws"}], "width": 10**400}, "width: 10000000000000000000000"),
    ],
    ids=["deep", "long-number", "huge-int-json", "huge-int-dict"],
)
def test_nesting_and_numbers_beyond_any_float_are_a_value_error(call, value, message):
    with pytest.raises(ValueError) as info:
        call(value)
    assert str(info.value).startswith(message)
