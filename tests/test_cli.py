import json
import subprocess
import sys

import pytest

from lwviz.cli import main
from lwviz.cost import analyze
from lwviz.presets import PRESETS, get_preset


def test_presets_lists_every_preset(capsys):
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in PRESETS)
    assert "300.8M MACs" in out


def test_cost_json_matches_the_library(capsys):
    assert main(["cost", "mobilenet_v2", "--width", "0.5", "--resolution", "160", "--kernel", "5", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    table = analyze(get_preset("mobilenet_v2").with_(width=0.5, resolution=160, kernel=5))
    for key in ("params", "macs", "baseline_params", "baseline_macs"):
        assert got[key] == getattr(table, key)
    assert [l["name"] for l in got["layers"]] == [l.name for l in table.layers]
    assert [l["macs"] for l in got["layers"]] == [l.macs for l in table.layers]


def test_cost_table_shows_totals(capsys):
    assert main(["cost", "mobilenet_v1", "--block", "conv"]) == 0
    out = capsys.readouterr().out
    assert "stages.4.1" in out and "(1.000x the MACs)" in out


def test_cost_accepts_a_spec_string(capsys):
    spec = get_preset("efficientnet_b0").with_(width=0.5)
    assert main(["cost", spec.to_string(), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["macs"] == analyze(spec).macs


@pytest.mark.parametrize("argv, message", [
    (["cost", "nope"], "preset: unknown preset 'nope'"),
    (["cost", "mobilenet_v2", "--kernel", "4"], "kernel: kernel size must be odd"),
    (["cost", "mobilenet_v2", "--width", "9"], "width (width multiplier): 9.0 is outside"),
    (["cost", "mobilenet_v2", "--resolution", "8"], "resolution: 8 is too small"),
    (["cost", "mobilenet_v2", "--block", "vit"], "block: unknown block type 'vit'"),
    (["cost", "mobilenet_v2", "--width", "abc"], "argument --width: invalid float value"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_arguments_exit_nonzero_with_one_line(argv, message):
    proc = subprocess.run([sys.executable, "-m", "lwviz", *argv], capture_output=True, text=True)
    assert proc.returncode != 0
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
