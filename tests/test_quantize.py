"""int8 static quantization of builder models: right answers, the float model untouched, clear refusals."""
import copy

import pytest
import skimage.data
import torch
from torch.ao.nn import quantized as nnq

from lwviz.builder import build
from lwviz.classify import classify
from lwviz.compress import QuantizationUnsupported, calibration_images, default_engine, quantize_int8
from lwviz.compress.quantize import CALIBRATION_PHOTOS, _fix_same_padding
from lwviz.presets import get_preset
from lwviz.weights import LITE0


@pytest.fixture(scope="module")
def lite0():
    return LITE0.load()


@pytest.fixture(scope="module")
def lite0_int8(lite0):
    return quantize_int8(lite0, calibration_images(LITE0.preprocess))


def test_lite0_int8_names_the_coffee_like_float(lite0, lite0_int8):
    for photo in (skimage.data.coffee(), skimage.data.chelsea()):
        fp32 = classify(lite0, photo, LITE0.preprocess, LITE0.categories, 3)
        int8 = classify(lite0_int8, photo, LITE0.preprocess, LITE0.categories, 3)
        assert int8.top.label in [p.label for p in fp32.predictions]
    assert classify(lite0_int8, skimage.data.coffee(), LITE0.preprocess, LITE0.categories).top.label == "espresso"


def test_int8_copy_is_quantized_and_the_float_model_untouched(lite0, lite0_int8):
    assert not any(isinstance(m, (nnq.Conv2d, nnq.Linear, nnq.QFunctional)) for m in lite0.modules())
    convs = [m for m in lite0_int8.modules() if isinstance(m, nnq.Conv2d)]  # ReLU-fused convs are subclasses
    assert len(convs) == sum(isinstance(m, torch.nn.Conv2d) for m in lite0.modules())
    linears = [m for m in lite0_int8.modules() if isinstance(m, nnq.Linear)]
    assert len(linears) == 1 and all(m.weight().dtype == torch.qint8 for m in convs + linears)


def test_same_padding_becomes_an_exact_fixed_pad(lite0):
    x = calibration_images(LITE0.preprocess)[:2]
    fixed = copy.deepcopy(lite0)
    _fix_same_padding(fixed, x[:1])
    with torch.inference_mode():
        assert torch.equal(fixed(x), lite0(x))


@pytest.mark.parametrize("preset, where", [("mobilenet_v3_small", "stages.0.0.se (SqueezeExcite)"),
                                           ("efficientnet_b0", "stem.conv.act (SiLU)")])
def test_what_eager_int8_cannot_run_is_named(preset, where):
    model = build(get_preset(preset).with_(width=0.25, resolution=32)).eval()
    with pytest.raises(QuantizationUnsupported, match=f"cannot run {where.replace('(', '[(]').replace(')', '[)]')}"):
        quantize_int8(model, torch.randn(2, 3, 32, 32))


def test_refuses_training_models_and_unknown_engines():
    model = build(get_preset("mobilenet_v2").with_(width=0.25, resolution=32))
    with pytest.raises(ValueError, match="training mode"):
        quantize_int8(model, torch.randn(1, 3, 32, 32))
    with pytest.raises(ValueError, match="engine: 'tpu'"):
        quantize_int8(model.eval(), torch.randn(1, 3, 32, 32), engine="tpu")


def test_calibration_set_and_engine():
    images = calibration_images(LITE0.preprocess)
    assert images.shape == (2 * len(CALIBRATION_PHOTOS), 3, 224, 224)
    assert default_engine() in torch.backends.quantized.supported_engines
    before = torch.backends.quantized.engine
    quantize_int8(build(get_preset("mobilenet_v2").with_(width=0.25, resolution=32)).eval(), torch.randn(2, 3, 32, 32))
    assert torch.backends.quantized.engine == before  # packing for another engine leaves the global alone
