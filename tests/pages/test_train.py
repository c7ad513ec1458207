"""Train page in AppTest: a real (short) training run in the background, stopping, CIFAR-10 offline, distillation,
and the trained network on the Look inside and Webcam pages."""

import time
from unittest import mock

import av
import numpy as np

from lwviz import data as data_module
from lwviz.presets import get_preset
from lwviz.ui import training
from tests.pages.apptest import open_page

STEPS = 100  # the small SE network reaches ~97% on held-out digits in that (tests/test_train.py)


def start_training(at, steps=STEPS):
    at.radio("train_network").set_value("digits_se").run()
    at.slider("train_steps").set_value(steps).run()
    at.button("train_start").click().run()
    return at.session_state.train_job


def finish(at, job):
    assert job.wait(240), "training did not end"
    at.run()  # what the fragment's rerun would show
    assert not at.exception, at.exception
    return job.result


def test_training_shows_live_progress_then_accuracy_and_keeps_the_network():
    at = open_page("train")
    assert "mobilenet_v2 fitted to digits: 32×32 pictures, 10 classes" in at.caption[0].value
    job = start_training(at)
    assert at.button("train_start").disabled  # one run at a time
    trained = finish(at, job)
    assert job.error is None and trained.history.steps == STEPS
    assert at.session_state.trained is trained
    shown = {m.label: m.value for m in at.metric}
    assert shown["Held-out accuracy"] == f"{trained.history.test_accuracy:.1%}"
    assert shown["Steps"] == str(STEPS)
    assert trained.history.test_accuracy > 0.9  # chance is 10%
    assert len(job.state().losses) == len(job.state().accuracies) == STEPS
    assert f"digits\\_se trained on digits ({STEPS} steps" in at.success[0].value  # Markdown-escaped
    assert not at.button("train_start").disabled


def test_stop_ends_training_early_and_keeps_what_it_learned():
    at = open_page("train")
    job = start_training(at, steps=1000)
    deadline = time.monotonic() + 120
    while job.state().step == 0 and time.monotonic() < deadline:  # stop a run that has started learning
        time.sleep(0.05)
    at.run()
    at.button("train_stop").click().run()
    trained = finish(at, job)
    assert job.stopping and 0 < trained.history.steps < 1000
    assert at.session_state.trained is trained


def test_cifar10_offline_says_what_is_missing_and_the_failed_download_keeps_the_page():
    at = open_page("train")
    with (
        mock.patch.object(training, "cifar10_missing", return_value="CIFAR-10 is not on this machine: x"),
        mock.patch.object(data_module, "cifar10_missing", return_value="CIFAR-10 is not on this machine: x"),
        mock.patch.object(data_module, "download", side_effect=OSError("no route to host")),
    ):
        at.segmented_control("train_dataset").set_value("cifar10").run()
        assert "CIFAR-10 is not on this machine" in at.info[0].value
        at.button("train_download").click().run()
    assert any("The download failed" in e.value and "no route to host" in e.value for e in at.error)
    assert not at.exception
    at.segmented_control("train_dataset").set_value("digits").run()
    assert not at.error and at.button("train_start")


def test_distillation_compares_the_student_with_and_without_the_teacher():
    at = open_page("train")
    at.radio("train_network").set_value("digits_se").run()
    at.slider("train_steps").set_value(STEPS).run()
    with mock.patch.object(training, "TEACHER_STEPS", 60):
        at.button("distill_start").click().run()
        job = at.session_state.train_job
        result = finish(at, job)
    assert job.error is None and job.kind == "distill"
    c = result.comparison
    shown = {m.label: m.value for m in at.metric}
    assert shown["Teacher"] == f"{c.teacher_accuracy:.1%}"
    assert shown["Student from the labels"] == f"{c.plain.test_accuracy:.1%}"
    assert shown["Student distilled"] == f"{c.distilled.test_accuracy:.1%}"
    assert c.plain.steps == c.distilled.steps == STEPS
    assert at.session_state.distilled is result and not result.teacher.training


def test_the_trained_network_runs_on_look_inside_and_webcam(monkeypatch):
    import streamlit_webrtc

    from tests.pages.test_webcam import FakeStreamer

    at = open_page("train")
    trained = finish(at, start_training(at))

    at.switch_page("pages/explain.py").run()
    at.selectbox("explain_network").set_value(training.TRAINED).run()
    assert not at.exception, at.exception
    shown = {m.label: m.value for m in at.metric}
    assert shown["The network's answer"] in trained.data.classes
    assert at.slider("explain_digit_digits").value == 0  # its own held-out pictures, not photos

    streamer = FakeStreamer()
    monkeypatch.setattr(streamlit_webrtc, "webrtc_streamer", streamer)
    at.switch_page("pages/webcam.py").run()
    at.selectbox("webcam_network").set_value(training.TRAINED).run()
    assert not at.exception, at.exception
    model = at.session_state.webcam_processor.model
    assert model.categories == trained.data.classes and model.preprocess.crop == 32
    assert model.preprocess.std[0] < 0  # dark ink on white paper, inverted to the digits' bright ink on black
    assert any("handwritten digits" in info.value for info in at.info)  # the hint: how to show it a digit
    paper = np.full((480, 640, 3), 255, np.uint8)
    paper[140:340, 310:330] = 0  # a thick "1"
    streamer.send(av.VideoFrame.from_ndarray(paper, format="rgb24"))
    assert at.session_state.webcam_processor.stats.snapshot().predictions[0].label in trained.data.classes


def test_a_design_too_big_to_train_says_so():
    big = get_preset("mobilenet_v2").with_(width=4.0, depth=4.0)  # 125M parameters, fitted to the digits
    at = open_page("train", spec=big.to_string())
    assert not at.exception and not at.button
    assert at.error[0].value.startswith("This design is too big to train here: this design has ")


def test_in_chinese_and_a_switch_keeps_the_controls():
    at = open_page("train", lang="zh")
    assert not at.exception and not at.error
    assert at.title[0].value == "训练"
    assert [t.label for t in at.tabs] == ["训练", "知识蒸馏"]
    assert at.segmented_control("train_dataset").options == ["手写数字（离线）", "CIFAR-10 照片（需下载一次，170 MB）"]
    assert at.radio("train_network").options == ["你的设计（mobilenet_v2）", "一个带 SE 的小网络（digits_se）"]
    assert at.caption[0].value.startswith("mobilenet_v2 适配手写数字：32×32 图片，10 个类别 → 参数量 ")
    assert at.slider("train_steps").label == "训练步数（每步 64 张图片）"
    assert at.slider("distill_alpha").label == "alpha：教师网络所占比例"
    assert at.button("train_start").label == "训练" and at.button("distill_start").label == "蒸馏并比较"

    trained = finish(at, start_training(at, steps=50))
    shown = {m.label: m.value for m in at.metric}
    assert shown["测试准确率"] == f"{trained.history.test_accuracy:.1%}" and shown["步数"] == "50"
    accuracy = f"{trained.history.test_accuracy:.1%}"
    assert at.success[0].value.startswith(
        f"本次会话中：在手写数字上训练的 digits\\_se（50 步，测试图片准确率 {accuracy}）。"
    )

    at.session_state["lang"] = "en"  # what the sidebar switch sets
    at.run()
    assert at.title[0].value == "Train" and at.slider("train_steps").value == 50
    assert at.radio("train_network").value == "digits_se" and at.session_state.trained is trained
    assert f"digits\\_se trained on digits (50 steps, {accuracy} on held-out pictures)" in at.success[0].value
