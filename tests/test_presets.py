import pytest
import torch
import torchvision.models as tvm
from skimage import data

from lwviz.builder import build
from lwviz.presets import PRESETS, get_preset
from lwviz.weights.convert import convert_state_dict
from lwviz.weights.offline import LITE0, imagenet_categories
from lwviz.weights.preprocess import LITE0_PREPROCESS
from tests.reference import randomize_bn

TORCHVISION_PRESETS = [n for n, p in PRESETS.items() if p.torchvision]


def test_registry_has_the_issue_presets():
    expected = {
        "mobilenet_v1",
        "mobilenet_v2",
        "mobilenet_v3_small",
        "mobilenet_v3_large",
        "shufflenet_v2_x0_5",
        "shufflenet_v2_x1_0",
        "shufflenet_v2_x1_5",
        "shufflenet_v2_x2_0",
        "squeezenet1_0",
        "squeezenet1_1",
        "efficientnet_b0",
        "efficientnet_lite0",
        "mnasnet1_0",
        "efficientnet_v2_s",
        "mobilenetv4_conv_small",
        "mobilenetv4_conv_medium",
        "ghostnet_100",
        "mobileone_s0",
    }
    assert expected <= set(PRESETS)
    assert len(TORCHVISION_PRESETS) == 12
    # the presets after 2019 name the timm model they equal (tests/test_uib.py, test_ghost.py, test_mobileone.py)
    assert {n: p.timm for n, p in PRESETS.items() if p.timm} == {
        "mobilenetv4_conv_small": "mobilenetv4_conv_small",
        "mobilenetv4_conv_medium": "mobilenetv4_conv_medium",
        "ghostnet_100": "ghostnet_100",
        "mobileone_s0": "mobileone_s0",
    }


@pytest.mark.parametrize("name", TORCHVISION_PRESETS)
def test_preset_equals_torchvision(name):
    ref = tvm.get_model(PRESETS[name].torchvision).eval()  # random init: nothing is downloaded
    randomize_bn(ref)
    weights_meta = tvm.get_model_weights(PRESETS[name].torchvision).DEFAULT.meta
    model = build(get_preset(name))
    assert sum(p.numel() for p in model.parameters()) == weights_meta["num_params"]
    model.load_state_dict(convert_state_dict(ref.state_dict(), model))
    model.eval()
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(model(x), ref(x), atol=1e-5, rtol=0)


def test_mobilenet_v1_follows_the_paper():
    """Table 1 / Table 4 of Howard et al.: 4.2M params, 569M mult-adds, 13 dw-separable layers."""
    model = build(get_preset("mobilenet_v1"))
    assert sum(p.numel() for p in model.parameters()) == 4_231_976  # Keras MobileNet trainable params
    assert len([m for m in model.stages.modules() if type(m).__name__ == "DepthwiseSeparable"]) == 13
    assert model.forward_features(torch.zeros(1, 3, 224, 224)).shape == (1, 1024, 7, 7)


def test_conversion_refuses_a_wrong_architecture():
    src = tvm.mobilenet_v2().state_dict()
    with pytest.raises(ValueError, match="state_dict has .* tensors but the model expects"):
        convert_state_dict(src, build(get_preset("squeezenet1_1")))
    wrong = build(get_preset("mobilenet_v2").with_(width=0.5))
    with pytest.raises(ValueError, match="shape mismatches, first: features.0.0.weight"):
        convert_state_dict(src, wrong)


@pytest.fixture(scope="module")
def lite0():
    return LITE0.load()


def _top(model, image, k):
    with torch.no_grad():
        probs = model(LITE0_PREPROCESS(image)).softmax(1)[0]
    cats = imagenet_categories()
    return [cats[i] for i in probs.topk(k).indices]


def test_lite0_sees_the_cat(lite0):
    assert {"tabby", "tiger cat", "Egyptian cat"} & set(_top(lite0, data.chelsea(), 3))


def test_lite0_sees_the_espresso(lite0):
    assert _top(lite0, data.coffee(), 1)[0] in ("espresso", "cup")
