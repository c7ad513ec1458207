import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from lwviz.builder import build
from lwviz.export import ExportError, to_onnx
from lwviz.presets import get_preset


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
