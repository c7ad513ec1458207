"""``lwviz compress``: which weights it measures, what it prints, how it refuses."""

import json
import subprocess
import sys

import pytest
import torch

from lwviz.cli import format_compression, main
from lwviz.compress import measure
from lwviz.compress.measure import VARIANTS, VariantReport
from lwviz.presets import get_preset
from lwviz.weights import LITE0

TINY_SPEC = get_preset("mobilenet_v3_small").with_(width=0.5, resolution=32).to_string()

ROWS = [
    VariantReport("float", 20_000_000, 5_000_000, 24.0, 1.0),
    VariantReport("int8 dynamic", 16_000_000, 4_990_000, 24.0, 1.0),
    VariantReport("int8 static", 5_000_000, 4_900_000, 12.0, 0.75, ("stem.conv.act", "head.conv.act")),
]


@pytest.fixture
def measured(monkeypatch):
    """Replaces the measurement (tested in test_measure.py) by ROWS; records what it was given."""
    seen = {}

    def fake(model, preprocess, runs=20):
        seen.update(model=model, preprocess=preprocess)
        return ROWS

    monkeypatch.setattr(measure, "compare_quantized", fake)
    return seen


def test_a_spec_string_is_measured_for_real_with_random_weights(capsys):
    assert main(["compress", TINY_SPEC, "--json"]) == 0
    out, err = capsys.readouterr()
    rows = json.loads(out)
    assert [r["variant"] for r in rows] == list(VARIANTS)
    assert all(
        {"variant", "size_bytes", "params_nonzero", "latency_ms", "agreement", "float_layers"} <= r.keys() for r in rows
    )
    plain, dynamic, static = rows
    assert plain["agreement"] == 1.0 and static["size_bytes"] * 3 < plain["size_bytes"]
    assert dynamic["size_bytes"] < plain["size_bytes"] and all(r["latency_ms"] > 0 for r in rows)
    assert "a spec string has no pretrained weights" in err.lower() and "random weights" in err


def test_lite0_is_measured_with_its_offline_weights(capsys, measured):
    assert main(["compress", "efficientnet_lite0"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and measured["preprocess"] == LITE0.preprocess
    reference = LITE0.load().state_dict()
    assert all(torch.equal(v, reference[k]) for k, v in measured["model"].state_dict().items())
    assert out.splitlines()[0] == LITE0.label


def test_a_preset_without_offline_weights_gets_random_ones_and_says_so(capsys, measured):
    assert main(["compress", "mobilenet_v1", "--json"]) == 0
    out, err = capsys.readouterr()
    assert [r["variant"] for r in json.loads(out)] == [r.variant for r in ROWS]
    assert "mobilenet_v1 has no pretrained weights" in err and "Measuring random weights instead" in err
    model = measured["model"]
    assert not model.training and model.spec == get_preset("mobilenet_v1")
    assert measured["preprocess"].crop == 224
    assert model.stem.conv.bn.running_var.min() != 1.0  # statistics measured on the photos, not the fresh 1s


def test_the_table_shows_ratios_to_float_and_what_stayed_float():
    lines = format_compression(ROWS, "a label").splitlines()
    assert lines[0] == "a label"
    assert lines[4].split() == ["float", "20.00", "MB", "5,000,000", "24.0", "ms", "100.0%", "1.00x", "1.00x"]
    assert lines[6].split() == ["int8", "static", "5.00", "MB", "4,900,000", "12.0", "ms", "75.0%", "4.00x", "2.00x"]
    assert lines[7] == "int8 static: 2 layers stayed float (no int8 kernel): stem.conv.act, head.conv.act"


@pytest.mark.parametrize(
    "preset, message",
    [
        ("nope", "preset: unknown preset 'nope'"),
        ("net_bogus", "spec string: expected"),
    ],
)
def test_a_bad_preset_exits_nonzero_with_one_line(preset, message):
    proc = subprocess.run([sys.executable, "-m", "lwviz", "compress", preset], capture_output=True, text=True)
    assert proc.returncode != 0 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
