import io
import os

import numpy as np
import pytest
import skimage.data
import torch
from PIL import Image

from lwviz.builder import build
from lwviz.presets import get_preset
from lwviz.ui.cache import pretrained_model
from lwviz.weights import LITE0, get_source
from tests.pages.apptest import open_page, with_damaged_weights
from tests.weights_fakes import serve_torchvision_file

pytestmark = pytest.mark.usefixtures("offline_hub")


CATS = ("Egyptian cat", "tiger cat", "tabby")


def answer(at) -> str:
    return next(m.value for m in at.metric if m.label == "The network says")


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


def test_offline_lite0_names_the_sample_photos():
    at = open_page("classify")
    assert at.selectbox("classify_source").value == "efficientnet_lite0:pypi"
    assert answer(at) in CATS
    at.selectbox("classify_photo").set_value("A cup of coffee").run()
    assert answer(at) == "espresso"
    assert len(at.get("plotly_chart")) == 1 and "ms for one forward pass" in at.caption[-1].value
    assert not at.error and not at.exception


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b"%PDF-1.7 not a picture", "not an image"),
    ],
)
def test_bad_upload_is_a_message(content, message):
    at = open_page("classify")
    at.segmented_control("classify_mode").set_value("Upload").run()
    at.file_uploader("classify_upload").upload("photo.jpg", content).run()
    assert not at.exception
    assert message in at.error[0].value.lower()


@pytest.mark.parametrize(
    "array",
    [
        np.random.default_rng(0).integers(0, 255, (64, 80), dtype=np.uint8),  # grayscale
        np.random.default_rng(0).integers(0, 255, (64, 80, 4), dtype=np.uint8),  # RGBA
    ],
    ids=["gray", "rgba"],
)
def test_odd_images_are_converted(array):
    at = open_page("classify")
    at.segmented_control("classify_mode").set_value("Upload").run()
    at.file_uploader("classify_upload").upload("odd.png", png(array), "image/png").run()
    assert not at.exception and not at.error
    assert answer(at)


def test_missing_torchvision_weights_say_how_to_get_them_and_the_download_fails_cleanly():
    at = open_page("classify")
    at.selectbox("classify_source").set_value("mobilenet_v2:torchvision").run()
    assert "is missing from" in at.warning[0].value and "TORCH\\_HOME" in at.warning[0].value
    at.button(key="classify_download").click().run()
    assert not at.exception
    assert at.error and not at.metric  # the message, and nothing pretends to classify


def test_camera_snapshot_is_classified():
    at = open_page("classify")
    at.segmented_control("classify_mode").set_value("Camera").run()
    assert not at.metric  # nothing to classify before the snapshot
    jpeg = io.BytesIO()
    Image.fromarray(skimage.data.coffee()).save(jpeg, "JPEG")
    at.camera_input("classify_camera").set_value(("snapshot.jpg", jpeg.getvalue(), "image/jpeg")).run()
    assert not at.exception and not at.error
    assert answer(at) == "espresso"


@pytest.fixture
def forget_loaded_models():
    """Models loaded from the test's own cache (random weights) must not outlive it in the server-wide cache."""
    yield
    pretrained_model.clear()


@pytest.mark.usefixtures("forget_loaded_models")
def test_download_with_progress_then_the_network_is_ready_and_classifies(monkeypatch):
    source = get_source("squeezenet1_1:torchvision")
    body = serve_torchvision_file(monkeypatch, "squeezenet1_1")  # random weights, as if from torchvision
    at = open_page("classify")
    at.selectbox("classify_source").set_value(source.name).run()
    assert at.button(key="classify_download") and not at.metric
    at.button(key="classify_download").click().run()
    assert not at.exception and not at.error and not at.warning
    assert at.success[0].value == "Downloaded and cached: squeezenet1\\_1 works offline from now on."
    assert source.cache_path.read_bytes() == body
    network = at.selectbox("classify_source")
    assert network.value == source.name and network.options[1] == source.label  # ready, after Lite0 (more accurate)
    assert f"ImageNet top-1 accuracy {source.top1:.1f}%." in [c.value for c in at.caption]
    assert answer(at) in source.categories  # random weights: any ImageNet class
    at.run()
    assert not at.success  # said once


def test_a_damaged_weights_file_is_a_message_and_lite0_carries_on():
    at = with_damaged_weights("classify", "classify_source")
    assert answer(at) in CATS  # Lite0 classifies the cat
    assert f"ImageNet top-1 accuracy {LITE0.top1:.1f}%." in [c.value for c in at.caption]


def test_own_checkpoint_for_the_current_design(tmp_path):
    spec = get_preset("mobilenet_v3_small").with_(resolution=96)
    buffer = io.BytesIO()
    torch.save(build(spec).state_dict(), buffer)
    at = open_page("classify", spec=spec.to_string())
    at.selectbox("classify_source").set_value("own").run()
    at.file_uploader("classify_checkpoint").upload("mine.pt", buffer.getvalue()).run()
    assert not at.exception and not at.error
    assert answer(at)  # an untrained design still answers (randomly)
    assert "(96×96 input)" in at.caption[-1].value  # the design's own resolution


def test_checkpoint_that_runs_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    buffer = io.BytesIO()
    torch.save({"weight": Evil()}, buffer)
    at = open_page("classify")
    at.selectbox("classify_source").set_value("own").run()
    at.file_uploader("classify_checkpoint").upload("evil.pt", buffer.getvalue()).run()
    assert not at.exception and at.error
    assert not marker.exists()


def test_in_chinese_with_imagenet_class_names_in_english():
    at = open_page("classify", lang="zh")
    assert not at.exception and not at.error
    assert at.title[0].value == "给一张图片分类"
    network = at.selectbox("classify_source")
    assert network.label == "网络" and network.value == "efficientnet_lite0:pypi"
    assert next(m.value for m in at.metric if m.label == "网络的回答") in CATS  # ImageNet's own (English) names
    captions = [c.value for c in at.caption]
    assert f"ImageNet Top-1 准确率 {LITE0.top1:.1f}%。" in captions
    assert "ImageNet 的类别名称以英文显示：离线环境中没有可靠的中文类别列表。" in captions  # said in Chinese
    assert captions[-1].startswith("在这台 CPU 上一次前向传播用时 ") and captions[-1].endswith(" ms（输入 224×224）。")
    english = " ".join(c.value for c in open_page("classify").caption)
    assert "ImageNet" in english and "class names" not in english  # an English page needs no such note
