import io
import os

import numpy as np
import pytest
import torch
from PIL import Image

from lwviz.builder import build
from lwviz.presets import get_preset
from tests.pages.apptest import open_page


pytestmark = pytest.mark.usefixtures("offline_hub")


def answer(at) -> str:
    return next(m.value for m in at.metric if m.label == "The network says")


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


def test_offline_lite0_names_the_sample_photos():
    at = open_page("classify")
    assert at.selectbox("classify_source").value == "efficientnet_lite0:pypi"
    assert answer(at) in ("Egyptian cat", "tiger cat", "tabby")
    at.selectbox("classify_photo").set_value("A cup of coffee").run()
    assert answer(at) == "espresso"
    assert len(at.get("plotly_chart")) == 1 and "ms for one forward pass" in at.caption[-1].value
    assert not at.error and not at.exception


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"%PDF-1.7 not a picture", "not an image"),
])
def test_bad_upload_is_a_message(content, message):
    at = open_page("classify")
    at.segmented_control("classify_mode").set_value("Upload").run()
    at.file_uploader("classify_upload").upload("photo.jpg", content).run()
    assert not at.exception
    assert message in at.error[0].value.lower()


@pytest.mark.parametrize("array", [
    np.random.default_rng(0).integers(0, 255, (64, 80), dtype=np.uint8),  # grayscale
    np.random.default_rng(0).integers(0, 255, (64, 80, 4), dtype=np.uint8),  # RGBA
], ids=["gray", "rgba"])
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


def test_own_checkpoint_for_the_current_design(tmp_path):
    spec = get_preset("mobilenet_v3_small").with_(resolution=96)
    buffer = io.BytesIO()
    torch.save(build(spec).state_dict(), buffer)
    at = open_page("classify", spec=spec.to_string())
    at.selectbox("classify_source").set_value("own").run()
    at.file_uploader("classify_checkpoint").upload("mine.pt", buffer.getvalue()).run()
    assert not at.exception and not at.error
    assert answer(at)  # an untrained design still answers (randomly)


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
