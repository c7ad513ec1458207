"""Compress page in AppTest, on a network trained here (fast, and scored by real held-out accuracy)."""

from unittest import mock

import pytest

from lwviz.compress.prune import pruned_spec
from lwviz.compress.variants import Row
from lwviz.cost import analyze
from lwviz.networks import TRAINED
from lwviz.ui import training
from lwviz.ui.compressing import distillation_note
from tests.pages.apptest import metrics, open_page, with_damaged_weights
from tests.pages.shown_text import english_in, shown_text
from tests.pages.test_train import finish, start_training


@pytest.fixture(scope="module")
def measured():
    at = open_page("train")
    trained = finish(at, start_training(at))
    with mock.patch.object(training, "TEACHER_STEPS", 60):  # a distilled student joins the table
        at.button("distill_start").click().run()
        finish(at, at.session_state.train_job)
    at.switch_page("pages/compress.py").run()
    assert at.selectbox("compress_network").value == TRAINED  # the trained network comes first
    assert "10 to 60 seconds" in at.info[0].value
    at.multiselect("compress_sparsity").set_value([0.5, 0.9]).run()
    at.toggle("compress_qat").set_value(True).run()
    at.button("compress_measure").click().run(timeout=300)
    assert not at.exception, at.exception
    return at, trained


def test_every_variant_is_measured_with_exact_sizes_and_macs(measured):
    at, trained = measured
    rows = {r["variant"]: r for r in at.dataframe[0].value.to_dict("records")}
    assert list(rows) == [
        "float",
        "int8 dynamic",
        "int8 static",
        "int8 QAT",
        "50% weights zeroed",
        "90% weights zeroed",
        "50% channels kept",
        "distilled student",
        "its teacher",
    ]
    macs = round(analyze(trained.model.spec).macs / 1e6, 1)
    assert (
        rows["float"]["MACs (M)"] == rows["int8 static"]["MACs (M)"] == rows["90% weights zeroed"]["MACs (M)"] == macs
    )
    assert rows["50% channels kept"]["MACs (M)"] == round(analyze(pruned_spec(trained.model.spec, 0.5)).macs / 1e6, 1)
    assert rows["float"]["params (non-zero)"] == sum(p.numel() for p in trained.model.parameters())
    assert rows["90% weights zeroed"]["params (non-zero)"] < 0.2 * rows["float"]["params (non-zero)"]
    assert rows["90% weights zeroed"]["file MB"] == rows["float"]["file MB"]  # zeros are stored too...
    assert rows["90% weights zeroed"]["zipped MB"] < 0.5 * rows["float"]["zipped MB"]  # ...and compress well
    # 40k params: int8's per-channel scales weigh here (Lite0's file shrinks 3.6x: tests/test_quantize.py)
    assert rows["int8 static"]["file MB"] < 0.75 * rows["float"]["file MB"]
    assert rows["float"]["Held-out accuracy (%)"] == round(100 * trained.history.test_accuracy, 1)
    assert rows["int8 static"]["Held-out accuracy (%)"] > 80
    assert rows["int8 QAT"]["MACs (M)"] == macs and rows["int8 QAT"]["file MB"] == rows["int8 static"]["file MB"]
    assert rows["int8 QAT"]["Held-out accuracy (%)"] >= rows["float"]["Held-out accuracy (%)"] - 3
    assert len(at.get("plotly_chart")) == 1


def test_the_distilled_student_and_its_teacher_are_rows_too(measured):
    at, _ = measured
    rows = {r["variant"]: r for r in at.dataframe[0].value.to_dict("records")}
    distilled = at.session_state.distilled
    c = distilled.comparison
    for variant, model, accuracy in (
        ("distilled student", c.student, c.distilled.test_accuracy),
        ("its teacher", distilled.teacher, c.teacher_accuracy),
    ):
        assert rows[variant]["Held-out accuracy (%)"] == round(100 * accuracy, 1)
        assert rows[variant]["MACs (M)"] == round(analyze(model.spec).macs / 1e6, 1)
        assert rows[variant]["params (non-zero)"] == sum(p.numel() for p in model.parameters())
    assert "taught by digits_teacher" in rows["distilled student"]["note"]
    assert rows["its teacher"]["MACs (M)"] > 3 * rows["distilled student"]["MACs (M)"]


def test_the_measured_table_in_chinese_keeps_its_numbers(measured):
    """A language switch shows the same measurements (not measured again) with Chinese headers and words."""
    at, _ = measured
    english = at.dataframe[0].value.to_dict("records")
    at.session_state["lang"] = "zh"  # what the sidebar switch sets
    at.run()
    try:
        assert not at.exception, at.exception
        table = at.dataframe[0].value
        assert list(table.columns) == [
            "版本",
            "文件 MB",
            "zip 压缩后 MB",
            "参数量（非零）",
            "乘加运算 MACs (M)",
            "延迟 ms",
            "测试准确率（%）",
            "说明",
        ]
        assert list(table["版本"]) == [
            "浮点 (float32)",
            "int8 动态量化",
            "int8 静态量化",
            "int8 量化感知训练",
            "50% 权重置零",
            "90% 权重置零",
            "保留 50% 通道",
            "蒸馏的学生网络",
            "它的教师网络",
        ]
        assert [list(row.values())[1:-1] for row in table.to_dict("records")] == [
            list(row.values())[1:-1] for row in english
        ]  # the same measured numbers
        notes = dict(zip(table["版本"], table["说明"]))
        assert notes["浮点 (float32)"] == ""  # nothing to say, not the catalog's header
        assert english_in(shown_text(at)) == []
        assert notes["int8 动态量化"] == "只有 Linear（全连接）层是 int8"
        assert notes["int8 量化感知训练"].endswith(" 步量化感知训练")
        assert notes["它的教师网络"] == "digits_teacher，蒸馏时的教师网络"
        assert at.title[0].value == "模型压缩" and at.caption[0].value.startswith("准确率：在 ")
        assert any(m.value.startswith("**知识蒸馏**是得到小网络的另一条路") for m in at.markdown)
    finally:
        at.session_state["lang"] = "en"
        at.run()
    assert at.dataframe[0].value.to_dict("records") == english


def test_the_channel_pruned_design_opens_in_the_build_page(measured):
    at, trained = measured
    at.button("compress_open").click().run()
    assert not at.exception, at.exception
    assert at.session_state.spec == pruned_spec(trained.model.spec, 0.5)
    macs = analyze(at.session_state.spec).macs
    assert metrics(at)["MACs"] == f"{macs / 1e6:.1f} M"  # the Build page, showing the pruned design


@pytest.mark.usefixtures("offline_hub")
def test_a_damaged_weights_file_is_a_message_and_lite0_is_compressed_instead():
    at = with_damaged_weights("compress", "compress_network")
    assert at.button("compress_measure") and "10 to 60 seconds" in at.info[0].value


def test_the_distillation_note_says_when_the_bigger_teacher_runs_faster():
    def rows(teacher_ms):
        return [
            Row("distilled student", 1, 1, 40_000, 1_500_000, 2.2, 0.9),
            Row("its teacher", 1, 1, 160_000, 5_500_000, teacher_ms, 0.99),
        ]

    assert "3.7× the student's MACs, runs 2.0× faster" in distillation_note(rows(1.1))
    assert "faster" not in distillation_note(rows(3.0))


@pytest.mark.usefixtures("offline_hub")
def test_in_chinese_before_measuring():
    at = open_page("compress", lang="zh")
    assert not at.exception and not at.error
    assert at.title[0].value == "模型压缩"
    assert at.info[0].value == "量化、剪枝并为每个版本计时需要 10 到 60 秒。"
    assert at.selectbox("compress_network").label == "网络"
    assert at.multiselect("compress_sparsity").label == "非结构化剪枝：置零的权重比例"
    assert at.slider("compress_keep").label == "结构化剪枝：保留的通道比例"
    assert at.button("compress_measure").label == "生成并测量所有版本"


def test_variant_names_in_chinese():
    from lwviz.i18n import translator
    from lwviz.viz.compress_charts import variant_name

    zh = translator("zh")
    assert [variant_name(n, zh) for n in ("float", "80% weights zeroed", "25% channels kept", "mystery")] == [
        "浮点 (float32)",
        "80% 权重置零",
        "保留 25% 通道",
        "mystery",  # a name it does not know stays as it is
    ]
    assert variant_name("80% weights zeroed") == "80% weights zeroed"
