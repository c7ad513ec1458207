"""The code of every network (lwviz.codegen): run in a fresh interpreter where lwviz cannot be imported, it builds a
model that takes the lwviz model's state_dict with ``strict=True`` and gives the same outputs.

The generated files run in a few subprocesses, each a batch of designs: every preset (so a preset added to
lwviz.presets is covered the moment it lands), knob settings, every block family in the registry, and the
pretrained EfficientNet-Lite0 weights on a real photo.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from lwviz.builder import build
from lwviz.codegen import CODE, NoCodeForFamily, file_name, main_text, missing_code_message, network_code
from lwviz.families import FAMILIES
from lwviz.plan import resolve
from lwviz.presets import PRESETS, get_preset
from lwviz.spec import Spec, Stage, Stem

REPO = Path(__file__).resolve().parents[1]
ALLOWED_IMPORTS = {"torch", "torch.nn", "torch.nn.functional", "math", "typing"}

# Runs in the fresh interpreter (``python -I``, cwd outside the repository). First it makes sure lwviz cannot be
# imported: ``-I`` drops the script's folder, PYTHONPATH and the user's site-packages, but an editable install of
# lwviz hooks into sys.meta_path (or a .pth puts the repository on sys.path), so those are removed too; if lwviz
# still imports, the parent test fails. Then each case: run the file as a script (its printout), build() again,
# record the state_dict's keys and shapes, load the lwviz weights with strict=True and compare the outputs.
RUNNER = r"""
import contextlib, importlib, importlib.machinery, io, json, runpy, sys

for finder in list(sys.meta_path):
    if finder is not importlib.machinery.PathFinder and hasattr(finder, "find_spec"):
        try:
            found = finder.find_spec("lwviz", None)
        except Exception:
            found = None
        if found is not None:
            sys.meta_path.remove(finder)
sys.path[:] = [p for p in sys.path if importlib.machinery.PathFinder.find_spec("lwviz", [p]) is None]
importlib.invalidate_caches()
try:
    import lwviz  # noqa: F401
    lwviz_error = None
except ImportError as exc:
    lwviz_error = repr(exc)

import torch

torch.set_num_threads(1)  # several of these run beside other work on two cores: threads would only wait for each other
torch.manual_seed(0)
results = []
for case in json.loads(open(sys.argv[1]).read()):
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        namespace = runpy.run_path(case["code"], run_name="__main__")
    model = namespace["build"]().eval()
    keys = [[k, list(v.shape)] for k, v in model.state_dict().items()]
    saved = torch.load(case["data"], weights_only=True)
    model.load_state_dict(saved["state_dict"], strict=True)
    with torch.no_grad():
        out = model(saved["x"])
    results.append(
        {
            "printed": printed.getvalue(),
            "keys": keys,
            "diff": (out - saved["y"]).abs().max().item(),
            "scale": saved["y"].abs().max().item(),
            "top1": int(out.argmax(1)[0]),
        }
    )
print(json.dumps({"lwviz_error": lwviz_error, "lwviz_loaded": "lwviz" in sys.modules, "results": results}))
"""


def _family_base() -> Spec:
    """A small design every family can take (channels divisible by 2, 3, 4 and 8) with every kind of block: stride 2
    that widens, stride 1 that widens, stride 1 that keeps the shape (a residual)."""
    return Spec(
        stages=(
            Stage("ir", repeats=2, stride=2, out_chs=48),
            Stage("ir", repeats=2, stride=1, out_chs=72),
            Stage("ir", repeats=2, stride=2, out_chs=96),
        ),
        stem=Stem(24, 3, 2, "relu"),
        name="family_sweep",
        resolution=64,
        num_classes=10,
    )


def preset_cases() -> list[tuple[str, Spec]]:
    return [(name, preset.spec) for name, preset in PRESETS.items()]


def knob_cases() -> list[tuple[str, Spec]]:
    p = get_preset
    return [
        ("mobilenet_v2 width 0.5", p("mobilenet_v2").with_(width=0.5, resolution=160)),
        ("mobilenet_v3_small width 1.5 kernel 5", p("mobilenet_v3_small").with_(width=1.5, kernel=5)),
        ("efficientnet_b0 SE off kernel 7", p("efficientnet_b0").with_(se=0.0, kernel=7, resolution=160)),
        ("mobilenet_v2 SE on", p("mobilenet_v2").with_(se=0.25, resolution=160)),
        ("efficientnet_lite0 width 1.5 kernel 5", p("efficientnet_lite0").with_(width=1.5, kernel=5, resolution=160)),
        ("mobilenet_v1 as inverted residuals", p("mobilenet_v1").with_(block="ir", width=0.5, resolution=160)),
        ("shufflenet_v2 as depthwise-separable", p("shufflenet_v2_x1_0").with_(block="dws", resolution=160)),
        ("squeezenet1_1 as fused-MBConv", p("squeezenet1_1").with_(block="fused", resolution=160)),
        ("mnasnet1_0 width 0.75 depth 1.3 act hswish", p("mnasnet1_0").with_(width=0.75, depth=1.3, act="hswish")),
        ("shufflenet_v1_g8 width 0.5", p("shufflenet_v1_g8").with_(width=0.5, resolution=160)),
        ("mobileone_s0 folded for inference", p("mobileone_s0").with_(reparam=True, resolution=160)),
        ("ghostnet_100 width 0.5 kernel 5", p("ghostnet_100").with_(width=0.5, kernel=5, resolution=160)),
    ]


def family_cases() -> list[tuple[str, Spec]]:
    """Every registered block family, plain, and with every network-wide option flipped at once."""
    base = _family_base()
    flipped = dict(
        se=0.25, padding="tf_same", norm=False, se_style="mobilenetv3", bn_eps=1e-3, act="hswish", reparam=True
    )
    cases = []
    for family in FAMILIES:
        cases.append((f"family {family}", base.with_(block=family)))
        cases.append((f"family {family}, options flipped", base.with_(block=family, **flipped)))
    return cases


def _randomized(spec: Spec, seed: int) -> torch.nn.Module:
    """The lwviz model with every weight and batch-norm statistic random, so a weight that does not load shows."""
    torch.manual_seed(seed)
    model = build(spec)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if name.endswith("running_var"):
                t.uniform_(0.5, 2.0)
            elif t.dtype.is_floating_point:
                t.normal_(0, 0.05 if t.ndim > 1 else 0.5)
    return model.eval()


def _run(cases: list[tuple[str, Spec, torch.nn.Module, torch.Tensor]], tmp_path: Path) -> list[dict]:
    """Save each case's code, lwviz weights, input and output; run them all in one fresh interpreter."""
    jobs = []
    for i, (_, spec, model, x) in enumerate(cases):
        folder = tmp_path / f"case{i}"
        folder.mkdir()
        code_path = folder / file_name(spec)
        code_path.write_text(network_code(spec), encoding="utf-8")
        with torch.no_grad():
            y = model(x)
        torch.save({"state_dict": model.state_dict(), "x": x, "y": y}, folder / "data.pt")
        jobs.append({"code": str(code_path), "data": str(folder / "data.pt")})
    (tmp_path / "cases.json").write_text(json.dumps(jobs))
    (tmp_path / "runner.py").write_text(RUNNER)
    proc = subprocess.run(
        [sys.executable, "-I", str(tmp_path / "runner.py"), str(tmp_path / "cases.json")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["lwviz_error"] is not None, "lwviz was importable in the fresh interpreter"
    assert "No module named 'lwviz'" in report["lwviz_error"]
    assert not report["lwviz_loaded"], "the generated code imported lwviz"
    return report["results"]


def _check(label: str, spec: Spec, model: torch.nn.Module, result: dict) -> None:
    expected_keys = [[k, list(v.shape)] for k, v in model.state_dict().items()]
    assert result["keys"] == expected_keys, f"{label}: state_dict keys or shapes differ"
    assert result["diff"] <= 1e-5, f"{label}: outputs differ by {result['diff']} (largest output {result['scale']})"
    assert result["scale"] > 0.1, f"{label}: outputs too small for the comparison to say anything"
    params = sum(p.numel() for p in model.parameters())
    assert params == resolve(spec).params
    printed = re.fullmatch(r"(\w+): ([\d,]+) parameters, output shape \((\d+), (\d+)\)\n", result["printed"])
    assert printed, f"{label}: the script printed {result['printed']!r}"
    assert int(printed[2].replace(",", "")) == params, label
    assert (int(printed[3]), int(printed[4])) == (1, spec.num_classes), label


@pytest.fixture(autouse=True)
def one_thread():
    """One thread, as in the fresh interpreter: on two shared cores, more threads wait for each other."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _batch(specs: list[tuple[str, Spec]], tmp_path: Path, extra=()) -> list[dict]:
    """Random lwviz weights and a random input for each spec (and ``extra`` cases with their own), run in one
    fresh interpreter, each result checked."""
    cases = []
    for i, (label, spec) in enumerate(specs):
        x = torch.randn(1, spec.in_chs, spec.resolution, spec.resolution, generator=torch.Generator().manual_seed(i))
        cases.append((label, spec, _randomized(spec, i), x))
    cases += extra
    results = _run(cases, tmp_path)
    for (label, spec, model, _), result in zip(cases, results):
        _check(label, spec, model, result)
    return results


def test_every_preset_runs_standalone_with_lwviz_weights(tmp_path):
    _batch(preset_cases(), tmp_path)


def test_knobs_families_and_pretrained_weights_run_standalone(tmp_path):
    """Knob settings, every registered block family, and EfficientNet-Lite0's pretrained weights classifying a
    photo, in one fresh interpreter (each costs a torch import)."""
    from skimage import data

    from lwviz.weights import LITE0, imagenet_categories

    pretrained = LITE0.load()
    photo = LITE0.preprocess(data.coffee())
    photo = photo if photo.ndim == 4 else photo.unsqueeze(0)
    results = _batch(
        knob_cases() + family_cases(),
        tmp_path,
        extra=[("efficientnet_lite0 pretrained", LITE0.spec, pretrained, photo)],
    )
    assert imagenet_categories()[results[-1]["top1"]] == "espresso"


def test_every_family_has_code():
    missing = [family for family in FAMILIES if family not in CODE]
    assert not missing, "\n".join(missing_code_message(family) for family in missing)


def test_every_preset_and_family_is_written():
    """Fails the moment a preset or family lands whose code cannot be written, naming what to add."""
    for label, spec in preset_cases() + family_cases():
        try:
            network_code(spec)
        except NoCodeForFamily as exc:
            pytest.fail(f"{label}: {exc}")


def test_a_family_without_code_says_what_to_add(monkeypatch):
    monkeypatch.delitem(CODE, "fire")
    with pytest.raises(NoCodeForFamily, match=r"block family 'fire' has no code: add lwviz/codegen/blocks/"):
        network_code(get_preset("squeezenet1_1"))


def _imports(code: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module)
    return names


@pytest.mark.parametrize("label, spec", preset_cases() + knob_cases() + family_cases())
def test_the_file_imports_only_torch(label, spec):
    code = network_code(spec)
    assert _imports(code) <= ALLOWED_IMPORTS, label
    assert not re.search(r"__import__|importlib|(?<![.\w])(exec|eval|open)\(|lwviz\.[a-z]", code), label


def test_only_the_families_used_are_defined():
    classes = {
        n.name for n in ast.parse(network_code(get_preset("efficientnet_v2_s"))).body if isinstance(n, ast.ClassDef)
    }
    assert {"FusedMBConv", "InvertedResidual", "SqueezeExcite", "EfficientNetV2S"} <= classes
    assert not classes & {"FireModule", "ShuffleV2Unit", "ShuffleV1Unit", "DepthwiseSeparable", "ConvBlock"}
    plain = network_code(get_preset("mobilenet_v2"))
    assert "class InvertedResidual" in plain
    assert "SqueezeExcite" not in plain and "self.se" not in plain  # no SE in MobileNetV2: not a line of it
    assert "Conv2dSame" not in plain and "channel_shuffle" not in plain and "import math" not in plain


def test_the_stage_table_reads_like_the_paper():
    """MobileNetV2's Table 2 (t, c, n, s), as rows of the generated STAGES, and the top comment names the design."""
    code = network_code(get_preset("mobilenet_v2"))
    rows = re.findall(r"StageConfig\(InvertedResidual, +(\S+), +(\S+), +(\S+), +(\S+), +(\S+), +\"relu6\"\)", code)
    assert [tuple(map(int, r)) for r in rows] == [  # expand, kernel, stride, out_chs, repeats
        (1, 3, 1, 16, 1),
        (6, 3, 2, 24, 2),
        (6, 3, 2, 32, 3),
        (6, 3, 2, 64, 4),
        (6, 3, 1, 96, 3),
        (6, 3, 2, 160, 3),
        (6, 3, 1, 320, 1),
    ]
    assert code.startswith('"""MobileNetV2 (Sandler et al. 2018)')
    assert "from the preset 'mobilenet_v2', input 3 x 224 x 224" in code
    assert "class MobileNetV2(nn.Module)" in code and "def build() -> MobileNetV2:" in code
    assert get_preset("mobilenet_v2").to_string() in code
    changed = network_code(get_preset("mobilenet_v2").with_(width=0.5, kernel=5))
    assert "from the preset 'mobilenet_v2' with width 0.5, kernel 5" in changed
    assert "(channels at width multiplier 0.5)" in changed


def test_a_hostile_design_name_stays_a_name():
    """A spec's name comes from a user's JSON: it must not end the docstring or reach the code."""
    spec = replace(get_preset("mobilenet_v1"), name='x"""\nimport os  # ')
    code = network_code(spec)
    ast.parse(code)
    assert _imports(code) <= ALLOWED_IMPORTS
    assert file_name(spec) == "x_import_os.py"
    assert file_name(replace(spec, name="...")) == "network.py"


def test_main_text_prints_or_writes(tmp_path):
    spec = get_preset("squeezenet1_1")
    assert main_text(spec) == network_code(spec).rstrip("\n")
    out = tmp_path / "net.py"
    said = main_text(spec, str(out))
    assert out.read_text(encoding="utf-8") == network_code(spec)
    assert said.startswith(f"wrote {out} (") and said.endswith(f"run it with: python {out}")


def test_the_generated_code_passes_the_projects_linter(tmp_path):
    """ruff, with the project's rules (pyflakes, pycodestyle, isort, bugbear), finds nothing in the generated files.
    (Not ``ruff format``: the stage table is aligned in columns on purpose, as the papers print it.)"""
    for i, (_, spec) in enumerate(preset_cases() + knob_cases() + family_cases()):
        (tmp_path / f"net{i}.py").write_text(network_code(spec), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--config", str(REPO / "pyproject.toml"), str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _code_page(text: str) -> None:
    from lwviz.presets import spec_from_text
    from lwviz.ui.code_view import code_view

    code_view(spec_from_text(text))


def test_the_code_view_shows_the_file_and_offers_it_named_after_the_design():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_code_page, args=("mobilenet_v3_small",)).run()
    assert not at.exception
    (shown,) = at.code
    assert shown.value == network_code(get_preset("mobilenet_v3_small")).rstrip("\n")  # st.code drops the last newline
    assert shown.language == "python"
    assert "`python mobilenet_v3_small.py`" in at.caption[0].value
    (button,) = at.get("download_button")
    assert button.proto.label == "Download mobilenet_v3_small.py"


def test_the_code_view_says_why_when_a_family_has_no_code(monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.delitem(CODE, "fire")
    at = AppTest.from_function(_code_page, args=("squeezenet1_0",)).run()
    assert not at.exception and not at.code
    assert at.error[0].value.startswith("This design cannot be written as code: block family 'fire' has no code")
