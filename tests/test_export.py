import json
from collections import Counter

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import numpy_helper

from lwviz.builder import build
from lwviz.export import (
    ExportError,
    camera_square,
    device_onnx,
    device_photos,
    metadata,
    run_device_file,
    to_onnx,
    top1_agreement,
)
from lwviz.families import FAMILIES
from lwviz.networks import design_preprocess, untrained_model
from lwviz.presets import PRESETS, get_preset
from lwviz.samples import SAMPLE_PHOTOS, sample_photo
from lwviz.spec import Spec
from lwviz.weights import LITE0, class_names_for


@pytest.mark.parametrize(
    "spec",
    [
        get_preset("mobilenet_v3_small").with_(resolution=96),  # SE, h-swish, hidden FC
        get_preset("efficientnet_lite0").with_(resolution=96, width=0.5),  # TF "same" padding
        get_preset("shufflenet_v2_x0_5").with_(resolution=96),  # split, concat, channel shuffle
        get_preset("squeezenet1_1").with_(resolution=96),  # Fire, ceil-mode pooling, conv classifier
    ],
    ids=lambda s: s.name,
)
def test_onnx_runs_and_matches_torch(spec):
    model = build(spec).eval()
    data = to_onnx(model)
    onnx.checker.check_model(onnx.load_from_string(data))
    x = torch.randn(1, 3, spec.resolution, spec.resolution)
    with torch.no_grad():
        expected = model(x).numpy()
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    (got,) = session.run(["logits"], {"image": x.numpy()})
    assert got.shape == (1, spec.num_classes)
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-4)


def test_export_failure_is_a_clear_message(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("unsupported operator")

    monkeypatch.setattr(torch.onnx, "export", broken)
    with pytest.raises(ExportError, match="ONNX export failed: unsupported operator"):
        to_onnx(build(get_preset("mobilenet_v3_small").with_(resolution=64)))


def test_missing_onnx_package_says_what_to_install(monkeypatch):
    def missing(*args, **kwargs):
        raise ModuleNotFoundError("No module named 'onnx'", name="onnx")

    monkeypatch.setattr(torch.onnx, "export", missing)
    with pytest.raises(ExportError, match="pip install onnx"):
        to_onnx(build(get_preset("mobilenet_v3_small").with_(resolution=64)))


# ----- the file a device runs -------------------------------------------------------------------------------------


def one_spec_per_family() -> dict[str, Spec]:
    """For every block family, the first preset built of it (mobilenet_v1 with every block replaced when no
    preset is), with random weights, at 96 pixels and half width (to keep the test quick): the export must
    hold for every kind of block, not only for Lite0's."""
    specs = {}
    for family in FAMILIES:
        preset = next((p for p in PRESETS.values() if family in {s.block for s in p.spec.stages}), None)
        spec = preset.spec if preset is not None else get_preset("mobilenet_v1").with_(block=family)
        specs[family] = spec.with_(resolution=96, width=0.5)
    return specs


def check_contract(data: bytes, resolution: int, categories) -> onnx.ModelProto:
    """Names, element types, shapes and metadata as the device contract says; returns the loaded file."""
    proto = onnx.load_from_string(data)
    onnx.checker.check_model(proto)
    (given,), (output,) = proto.graph.input, proto.graph.output
    assert given.name == "image" and output.name == "probs"
    assert given.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert output.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert [d.dim_value for d in given.type.tensor_type.shape.dim] == [1, 3, resolution, resolution]
    assert [d.dim_value for d in output.type.tensor_type.shape.dim] == [1, len(categories)]
    meta = metadata(data)
    assert json.loads(meta["labels"]) == list(categories) and meta["resolution"] == str(resolution)
    assert {o.domain: o.version for o in proto.opset_import}[""] == 17
    return proto


def torch_probs(model, preprocess, images: np.ndarray) -> np.ndarray:
    """What the builder model says: softmax of its logits on the normalized input."""
    mean = torch.tensor(preprocess.mean).view(1, 3, 1, 1)
    std = torch.tensor(preprocess.std).view(1, 3, 1, 1)
    with torch.no_grad():
        return torch.softmax(model((torch.from_numpy(images) - mean) / std), dim=1).numpy()


FAMILY_SPECS = one_spec_per_family()


@pytest.mark.parametrize("spec", FAMILY_SPECS.values(), ids=FAMILY_SPECS.keys())
def test_the_device_file_gives_the_builder_models_probabilities(spec):
    model = untrained_model(spec)
    preprocess = design_preprocess(spec)
    categories = class_names_for(spec.num_classes)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    data = device_onnx(model, preprocess=preprocess, categories=categories)
    check_contract(data, 96, categories)
    images = np.random.default_rng(0).random((3, 3, 96, 96), dtype=np.float32)  # RGB in [0, 1]
    got, expected = run_device_file(data, images), torch_probs(model, preprocess, images)
    assert got.shape == (3, spec.num_classes)
    assert np.abs(got - expected).max() < 1e-4
    np.testing.assert_allclose(got.sum(1), 1, atol=1e-5)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())  # a shared model is not touched


def test_the_resolution_can_differ_from_the_networks_own():
    spec = get_preset("mobilenet_v3_small").with_(width=0.5)
    model, preprocess = untrained_model(spec), design_preprocess(spec)
    data = device_onnx(model, preprocess=preprocess, categories=class_names_for(1000), resolution=128)
    check_contract(data, 128, class_names_for(1000))
    images = np.random.default_rng(1).random((2, 3, 128, 128), dtype=np.float32)
    assert np.abs(run_device_file(data, images) - torch_probs(model, preprocess, images)).max() < 1e-4


@pytest.fixture(scope="module")
def lite0_files():
    """Lite0 with its offline ImageNet weights as a device runs it: float and int8."""
    model = LITE0.load()
    files = {
        int8: device_onnx(model, preprocess=LITE0.preprocess, categories=LITE0.categories, int8=int8)
        for int8 in (False, True)
    }
    return files[False], files[True]


def test_int8_keeps_the_contract_and_is_a_quarter_of_the_size(lite0_files):
    plain, int8 = lite0_files
    proto = check_contract(int8, 224, LITE0.categories)
    ops = Counter(node.op_type for node in proto.graph.node)
    assert ops["QuantizeLinear"] > 50 and ops["DequantizeLinear"] > 100 and ops["Softmax"] == 1
    assert len(int8) < 0.3 * len(plain)  # 5.1 MB against 18.6 MB
    weights = {t.name: t for t in proto.graph.initializer}
    scales = [
        numpy_helper.to_array(weights[node.input[1]])
        for node in proto.graph.node
        if node.op_type == "DequantizeLinear"
        and node.input[0] in weights
        and weights[node.input[0]].dims[0] > 1
        and len(weights[node.input[0]].dims) == 4
    ]
    assert len(scales) == 49 and all(s.ndim == 1 and s.size > 1 for s in scales)  # every conv weight per channel
    zero_points = [weights[n.input[2]] for n in proto.graph.node if n.op_type == "QuantizeLinear" and len(n.input) > 2]
    assert {z.data_type for z in zero_points} == {onnx.TensorProto.UINT8}  # uint8 activations (U8S8)


def test_int8_names_what_float_names_on_the_sample_photos(lite0_files):
    plain, int8 = lite0_files
    crop = LITE0.preprocess.crop / LITE0.preprocess.resize
    photos = device_photos(224, crop)  # the calibration photos, as the browser crops them
    agreement = top1_agreement(plain, int8, photos)
    assert agreement >= 0.7  # measured 20 of 28 (71%); the misses are near-ties of float's top two
    # Held out: the four sample photos cropped where calibration never looked (corners, tighter squares).
    shifts = [(-1, -1), (1, 1), (0, 0), (-1, 1), (1, -1)]
    held = np.stack(
        [
            camera_square(np.ascontiguousarray(sample_photo(name)), 224, share, shift)
            for name in SAMPLE_PHOTOS
            for share in (1.0, 0.8, 0.6)
            for shift in shifts
        ]
    )
    assert top1_agreement(plain, int8, held) >= 0.75  # measured 48 of 60
    probs = run_device_file(
        int8,
        np.stack(
            [
                camera_square(np.ascontiguousarray(sample_photo(n)), 224, crop)
                for n in ("Chelsea the cat", "A cup of coffee")
            ]
        ),
    )
    cat, coffee = (LITE0.categories[i] for i in probs.argmax(1))
    assert cat in {"tabby", "tiger cat", "Egyptian cat"} and coffee == "espresso"
    np.testing.assert_allclose(probs.sum(1), 1, atol=1e-5)


def test_the_camera_square_is_what_the_browser_crops():
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[:, 80:560] = 255  # the centre 480x480 square white, the sides black
    square = camera_square(frame, 32)
    assert square[:, :, 1:-1].min() == 1.0  # all of the square; its outer pixels blend in a little of the
    assert 0.8 < square.min() < 1.0  # sides, as a canvas's drawImage does (the filter may read past the box)
    assert camera_square(frame, 32, 0.5).shape == (3, 32, 32)
    left = camera_square(frame, 32, 0.5, shift=(-1, 0))  # a 240-pixel square at the left edge: its first third black
    assert left[:, :, :10].max() == 0 and left[:, :, 12:].min() == 1.0  # white from 80 / 240 * 32 = 10.7


def test_a_wrong_number_of_class_names_is_refused():
    spec = get_preset("mobilenet_v3_small").with_(resolution=64, num_classes=10)
    with pytest.raises(ExportError, match="categories: the network gives 10 classes, but 1000 names were given"):
        device_onnx(untrained_model(spec), preprocess=design_preprocess(spec), categories=class_names_for(1000))


def test_a_failed_quantization_is_an_export_error(monkeypatch):
    import onnxruntime.quantization

    def broken(*args, **kwargs):
        raise RuntimeError("no calibration data")

    monkeypatch.setattr(onnxruntime.quantization, "quantize_static", broken)
    spec = get_preset("mobilenet_v3_small").with_(resolution=64, width=0.5)
    with pytest.raises(ExportError, match="int8 quantization failed: no calibration data"):
        device_onnx(
            untrained_model(spec), preprocess=design_preprocess(spec), categories=class_names_for(1000), int8=True
        )
