"""``lwviz onnx``: the file a device runs, from the command line: which weights, what it prints, how it refuses."""

import json

import numpy as np
import onnx
import pytest
import torch

from lwviz.cli import main
from lwviz.cost import analyze
from lwviz.export import metadata, run_device_file
from lwviz.networks import design_preprocess, untrained_model
from lwviz.presets import get_preset
from lwviz.spec import Spec
from lwviz.weights import LITE0, class_names_for

RNG = np.random.default_rng(0)


def shapes(data: bytes) -> tuple[list[int], list[int]]:
    graph = onnx.load_from_string(data).graph
    return tuple([d.dim_value for d in t.type.tensor_type.shape.dim] for t in (graph.input[0], graph.output[0]))


def reference(model, preprocess, images: np.ndarray) -> np.ndarray:
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in (preprocess.mean, preprocess.std))
    with torch.no_grad():
        return torch.softmax(model((torch.from_numpy(images) - mean) / std), 1).numpy()


def test_lite0_is_written_with_its_offline_weights(tmp_path, capsys):
    out = tmp_path / "lite0.onnx"
    assert main(["onnx", "efficientnet_lite0", "--out", str(out)]) == 0
    printed, err = capsys.readouterr()
    data = out.read_bytes()
    assert err == ""
    assert shapes(data) == ([1, 3, 224, 224], [1, 1000])
    assert json.loads(metadata(data)["labels"]) == list(LITE0.categories) and metadata(data)["resolution"] == "224"
    images = RNG.random((2, 3, 224, 224), dtype=np.float32)
    assert np.abs(run_device_file(data, images) - reference(LITE0.load(), LITE0.preprocess, images)).max() < 1e-4
    table = analyze(LITE0.spec)
    lines = printed.splitlines()
    assert lines[0] == f"{LITE0.label} -> {out}"
    assert lines[1] == (
        "input image float32 [1, 3, 224, 224] (RGB in [0, 1]); output probs [1, 1000] (softmax); float32"
    )
    assert lines[2].startswith(
        f"{len(data) / 2**20:.2f} MB, {table.params:,} params, {table.macs / 1e6:.2f}M MACs at 224x224; made in "
    )
    assert len(lines) == 3  # no agreement line without --int8


def test_int8_at_another_resolution_prints_its_agreement_with_float(tmp_path, capsys):
    out = tmp_path / "lite0-int8.onnx"
    assert main(["onnx", "efficientnet_lite0", "--int8", "--resolution", "160", "--out", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    data = out.read_bytes()
    assert shapes(data) == ([1, 3, 160, 160], [1, 1000]) and metadata(data)["resolution"] == "160"
    assert printed[1].endswith("; int8 (QDQ, per-channel weights)")
    assert f"{analyze(LITE0.spec.with_(resolution=160)).macs / 1e6:.2f}M MACs at 160x160" in printed[2]
    assert printed[3].startswith("int8 top-1 agreement with float32: ") and printed[3].endswith(
        "% of 28 photos (scikit-image samples and their mirror images, the calibration set)"
    )
    share = float(printed[3].split(": ")[1].split("%")[0]) / 100
    assert 0.6 <= share <= 1.0
    ops = {node.op_type for node in onnx.load_from_string(data).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops


@pytest.mark.parametrize(
    "model, why",
    [
        ("mobilenet_v1", "mobilenet_v1 has no pretrained weights."),
        (get_preset("mobilenet_v2").with_(width=0.5, resolution=96).to_string(), "mobilenet_v2 has no pretrained"),
    ],
    ids=["preset-without-weights", "spec-string"],
)
def test_a_design_is_exported_with_the_apps_random_weights_and_says_so(model, why, tmp_path, capsys):
    out = tmp_path / "design.onnx"
    assert main(["onnx", model, "--out", str(out)]) == 0
    printed, err = capsys.readouterr()
    assert err.startswith(f"lwviz: note: {why}") and "its answers mean nothing" in err
    spec = get_preset("mobilenet_v1") if model == "mobilenet_v1" else Spec.from_string(model)
    assert printed.startswith(f"{spec.name}, random weights -> {out}\n")
    r = spec.resolution
    images = RNG.random((2, 3, r, r), dtype=np.float32)
    expected = reference(untrained_model(spec), design_preprocess(spec), images)  # the app's design: seed 0
    assert np.abs(run_device_file(out.read_bytes(), images) - expected).max() < 1e-4
    assert json.loads(metadata(out.read_bytes())["labels"]) == list(class_names_for(1000))


def test_random_weights_on_request_for_weights_not_downloaded(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # nothing cached
    out = tmp_path / "v3.onnx"
    assert main(["onnx", "mobilenet_v3_small", "--random-weights", "--resolution", "96", "--out", str(out)]) == 0
    printed, err = capsys.readouterr()
    assert err.startswith("lwviz: note: --random-weights asked for. Exporting random weights")
    assert printed.startswith(f"mobilenet_v3_small, random weights -> {out}\n")
    assert shapes(out.read_bytes()) == ([1, 3, 96, 96], [1, 1000])


def test_weights_not_downloaded_give_the_message_lwviz_classify_gives(tmp_path, capsys, monkeypatch):
    from PIL import Image

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # the machine's own cache cannot matter
    Image.new("RGB", (64, 64)).save(tmp_path / "a.png")
    assert main(["classify", str(tmp_path / "a.png"), "--model", "mobilenet_v2"]) == 2
    classify_says = capsys.readouterr().err
    assert main(["onnx", "mobilenet_v2", "--out", str(tmp_path / "v2.onnx")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == classify_says and "mobilenet_v2 weights are not on this machine" in err
    assert not (tmp_path / "v2.onnx").exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["nope", "--out", "{tmp}/x.onnx"], "preset: unknown preset 'nope'"),
        (["efficientnet_lite0", "--out", "{tmp}/no/such/x.onnx"], "--out: the folder {tmp}/no/such does not exist"),
        (["efficientnet_lite0", "--out", "{tmp}"], "--out: {tmp} is a directory, not a file name"),
        (["efficientnet_lite0", "--resolution", "4", "--out", "{tmp}/x.onnx"], "resolution: 4 is outside 8..1024"),
        (["efficientnet_lite0"], "the following arguments are required: --out"),
    ],
    ids=["unknown", "no-folder", "out-is-folder", "resolution", "no-out"],
)
def test_failures_exit_2_with_one_line(argv, message, tmp_path, capsys):
    argv = [a.format(tmp=tmp_path) for a in argv]
    try:
        code = main(["onnx", *argv])
    except SystemExit as exc:  # argparse's own errors exit from inside
        code = exc.code
    assert code == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 1 and lines[0].startswith("lwviz: error: ")
    assert message.format(tmp=tmp_path) in lines[0], err


def test_the_output_path_is_checked_before_the_network_is_loaded(tmp_path, capsys, monkeypatch):
    import lwviz.weights

    def no_network(*args, **kwargs):
        raise AssertionError("the network was loaded before the output path was checked")

    monkeypatch.setattr(lwviz.weights, "best_offline_source", no_network)
    assert main(["onnx", "efficientnet_lite0", "--out", str(tmp_path / "gone" / "x.onnx")]) == 2
    assert capsys.readouterr() == ("", f"lwviz: error: --out: the folder {tmp_path / 'gone'} does not exist\n")
