import pytest

from lwviz.data import DIGITS_CLASSES
from lwviz.presets import get_preset
from tests.pages.apptest import metrics, open_page

CATS = ("Egyptian cat", "tiger cat", "tabby")
TRAIN_TIMEOUT = 240  # the digits network trains inside the run: seconds on a laptop, longer on a busy CI machine


pytestmark = pytest.mark.usefixtures("offline_hub")


def captions(at) -> list[str]:
    return [c for image in at.get("image") for c in image.captions]


def show_view(at, view):
    """Choose the Grad-CAM ("cam") or channel attention ("se") view; the page draws only the chosen one."""
    at.segmented_control("explain_view").set_value(view).run()
    assert not at.exception, at.exception
    return at


def test_gradcam_of_lite0_at_any_layer_for_any_class():
    at = open_page("explain")
    assert at.selectbox("explain_network").value == "efficientnet_lite0:pypi"
    assert metrics(at)["Explaining"] in CATS
    shown = captions(at)
    assert shown[:2] == ["The picture", "Grad-CAM of head"]
    assert [c.split(" · ")[0] for c in shown[2:6]] == ["stages.1.1", "stages.2.1", "stages.4.2", "head"]
    assert shown[2].endswith("56×56 maps, 24 channels") and shown[5].endswith("7×7 maps, 1280 channels")
    assert shown[6].startswith("efficientnet_lite0: ") and shown[7].startswith("mobilenet_v2, untrained: ")

    at.selectbox("explain_layer_efficientnet_lite0:pypi").set_value("stages.2.1").run()
    assert captions(at)[1] == "Grad-CAM of stages.2.1"
    espresso = 967
    at.selectbox("explain_class_efficientnet_lite0:pypi").set_value(espresso).run()
    assert metrics(at)["Explaining"] == "espresso"
    shown = metrics(at)
    assert shown["The network's answer"] in CATS and shown["Probability of it"].endswith("%")
    at.slider("explain_opacity").set_value(0.8).run()
    assert not at.exception and not at.error


def test_lite0_has_no_se_and_the_page_says_why_then_trains_one_that_has():
    at = open_page("explain")
    assert not at.info and not at.get("plotly_chart")  # the Grad-CAM view: nothing of the SE view is drawn
    show_view(at, "se")
    assert "EfficientNet-Lite removed squeeze-and-excitation on purpose" in at.info[0].value
    assert not at.get("plotly_chart")
    at.button(key="explain_train").click().run(timeout=TRAIN_TIMEOUT)
    assert not at.exception
    assert at.selectbox("explain_network").value == "digits"
    assert metrics(at)["Explaining"] in DIGITS_CLASSES
    assert captions(at)[0] == "Picture A: the one chosen above"
    assert captions(show_view(at, "cam"))[0] == "Held-out picture 0: 5"  # its true label, whatever the network says
    assert not at.get("plotly_chart")
    show_view(at, "se")
    assert len(at.get("plotly_chart")) == 5  # heatmap, gate bars, feature maps, A - B, spread per block
    assert at.selectbox("explain_block_digits").value == "stages.2.1"  # the deepest SE block by default
    assert at.selectbox("explain_block_digits").options[-1] == "stages.2.1 · gates 120 channels"
    at.selectbox("explain_block_digits").set_value("stages.0.0").run()
    at.toggle("explain_sort").set_value(True).run()
    at.slider("explain_digit_b_digits").set_value(5).run()
    assert not at.exception and len(at.get("plotly_chart")) == 5

    at.toggle("explain_ablate").set_value(True).run()
    shown = metrics(at)
    assert {"With SE", "Gates forced to 1"} <= set(shown)
    with_se, ablated = (next(m for m in at.metric if m.label == label) for label in ("With SE", "Gates forced to 1"))
    assert with_se.value == f"{shown['Explaining']} ({shown['Probability of it']})"  # as on the Grad-CAM tab
    assert ablated.value != with_se.value  # the gates mattered: another answer, or the same one less or more sure
    trained = at.session_state["explain_digits"]
    explainer, ablated = at.session_state["explain_ablated_digits"]
    assert explainer.has_se and explainer.spec == trained.model.spec and ablated is not explainer

    at.slider("explain_digit_digits").set_value(10).run()  # the trained network stays for the session
    assert not at.exception and at.session_state["explain_digits"] is trained


def test_the_untrained_design_without_se():
    at = open_page("explain", spec="mobilenet_v2")
    at.selectbox("explain_network").set_value("design").run()
    assert not at.exception
    assert "Random weights" in at.caption[0].value
    shown = captions(at)
    assert shown[6].startswith("mobilenet_v2, untrained: ") and shown[7].startswith("efficientnet_lite0: ")
    assert "mobilenet\\_v2, untrained has no squeeze-and-excitation blocks" in show_view(at, "se").info[0].value


def test_a_design_with_ten_classes_names_them_class_0_to_9():
    spec = get_preset("mobilenet_v3_small").with_(width=0.25, resolution=96, num_classes=10)
    at = open_page("explain", spec=spec.to_string())
    at.selectbox("explain_network").set_value("design").run()
    assert not at.exception
    classes = at.selectbox("explain_class_design")
    assert classes.options[1:] == [f"class {i}" for i in range(10)]
    assert metrics(at)["Explaining"] in classes.options[1:]
    assert show_view(at, "se").get("plotly_chart")  # it has SE: its gates are shown


def test_a_design_too_big_to_run_says_so_instead_of_building_it():
    big = get_preset("mobilenet_v2").with_(width=4.0, depth=4.0, resolution=1024)
    at = open_page("explain", spec=big.to_string())
    at.selectbox("explain_network").set_value("design").run()
    assert not at.exception
    assert at.error[0].value.startswith("Your design cannot run here: this design has 172M parameters")


def test_in_chinese_and_the_controls_keep_their_values():
    at = open_page("explain", lang="zh")
    assert at.title[0].value == "网络内部"
    assert set(metrics(at)) == {"正在解释", "该类别的概率", "网络的回答"}
    assert metrics(at)["正在解释"] in CATS  # ImageNet's class names stay English
    assert captions(at)[:2] == ["原图", "head 的 Grad-CAM"]
    assert captions(at)[5] == "head · 7×7 特征图，1280 个通道"
    assert captions(at)[7].startswith("mobilenet_v2，未训练：")
    assert at.selectbox("explain_layer_efficientnet_lite0:pypi").label == "层"
    assert at.selectbox("explain_class_efficientnet_lite0:pypi").options[0] == "网络的回答（Top-1）"
    assert at.segmented_control("explain_view").options == ["Grad-CAM", "通道注意力 (SE)"]
    assert [s.value for s in at.subheader] == ["同一张图片，不同深度", "两个网络，同一张图片"]
    assert "ImageNet 的类别名称以英文显示：离线环境中没有可靠的中文类别列表。" in [c.value for c in at.caption]
    show_view(at, "se")  # offline, no pretrained network with SE: the page offers to train one
    assert at.button(key="explain_train").label == "训练并显示一个 SE 网络"

    show_view(at, "cam")
    at.slider("explain_opacity").set_value(0.8).run()
    at.session_state["lang"] = "en"  # what the sidebar switch sets
    at.run()
    assert captions(at)[:2] == ["The picture", "Grad-CAM of head"]
    assert (
        at.slider("explain_opacity").value == 0.8 and at.selectbox("explain_network").value == "efficientnet_lite0:pypi"
    )
