import threading

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from lwviz.builder import Net, build
from lwviz.explain import (
    Explainer,
    colorize,
    default_layer,
    depth_layers,
    grad_cam,
    layer_names,
    network_input,
    overlay,
    resize_map,
)
from lwviz.explain.explainer import REMEMBERED_CAMS
from lwviz.presets import get_preset
from lwviz.spec import Head, Spec, Stage, Stem
from lwviz.train.loop import digits_se_spec
from lwviz.weights.preprocess import Preprocess

# x: an 8x8 single-channel picture; stem A = [x, -x] (1x1 conv, weights +1/-1), a 1x1 identity conv
# stage, global average pool and fc W. Class c's score is sum_k W[c, k] * mean(A_k), so dScore/dA_k is
# W[c, k] / 64 everywhere: Grad-CAM = relu(sum_k W[c, k] / 64 * A_k), which after dividing by the
# maximum is relu(x) / max(x) for class 0 (W = [1, 0.5]) and relu(-x) / max(-x) for class 1 (W = [-1, 2]).
W = torch.tensor([[1.0, 0.5], [-1.0, 2.0]])
X = (torch.arange(64, dtype=torch.float32) - 20).reshape(1, 1, 8, 8)


def one_conv_net(stride: int = 1) -> Net:
    spec = Spec(
        stem=Stem(chs=2, kernel=1, stride=stride, act="none"),
        stages=(Stage("conv", kernel=1, stride=1, out_chs=2, act="none"),),
        head=Head(chs=0, dropout=0.0),
        in_chs=1,
        num_classes=2,
        norm=False,
        resolution=8,
    )
    net = build(spec).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
        net.stem.conv.conv.weight[:, 0, 0, 0] = torch.tensor([1.0, -1.0])
        net.stages[0][0].conv.conv.weight[:, :, 0, 0] = torch.eye(2)
        net.classifier.fc.weight.copy_(W)
    return net


def hooks(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) for m in model.modules())


@pytest.mark.parametrize("layer", ["stem", "stages.0.0"])
def test_one_conv_network_by_hand(layer):
    net = one_conv_net()
    top = grad_cam(net, X, layer)
    x = X[0, 0].numpy()
    assert top.target == top.top1 == 0 and top.layer == layer  # mean(x) = 11.5: scores 0.5 * 11.5 and -3 * 11.5
    assert np.allclose(top.heatmap, np.maximum(x, 0) / x.max(), atol=1e-6)
    scores = W @ torch.tensor([x.mean(), -x.mean()])
    assert np.allclose(top.probs, scores.softmax(0).numpy(), atol=1e-6)
    chosen = grad_cam(net, X, layer, target=1)
    assert chosen.target == 1 and chosen.top1 == 0
    assert np.allclose(chosen.heatmap, np.maximum(-x, 0) / (-x).max(), atol=1e-6)
    assert chosen.prob == pytest.approx(float(scores.softmax(0)[1]), abs=1e-6)


def test_coarse_maps_are_upsampled_bilinearly_to_the_input():
    net = one_conv_net(stride=2)  # A = [x, -x] on the even pixels: a 4x4 map
    cam = grad_cam(net, X, "stem", target=0)
    coarse = torch.relu(X[:, :, ::2, ::2])
    up = F.interpolate(coarse, size=(8, 8), mode="bilinear", align_corners=False)[0, 0]
    assert cam.heatmap.shape == (8, 8)
    assert np.allclose(cam.heatmap, (up / up.max()).numpy(), atol=1e-6)


def test_a_class_with_no_evidence_gives_an_all_zero_map():
    net = one_conv_net()
    cam = grad_cam(net, X.abs() * 0 + 1, "stem", target=1)  # x = 1 everywhere: relu(-3) = 0 everywhere
    assert cam.heatmap.dtype == np.float32 and not cam.heatmap.any()


def manual_grad_cam(model: Net, x: torch.Tensor, layer: str, target: int) -> np.ndarray:
    """Grad-CAM with plain autograd and no captum: the reference for our real blocks."""
    kept = {}
    handle = model.get_submodule(layer).register_forward_hook(lambda m, a, out: kept.setdefault("a", out))
    try:
        with torch.enable_grad():
            x = x.clone().requires_grad_(True)
            score = model(x)[0, target]
            (grad,) = torch.autograd.grad(score, kept["a"])
    finally:
        handle.remove()
    cam = torch.relu((grad.mean((2, 3), keepdim=True) * kept["a"]).sum(1, keepdim=True))
    cam = F.interpolate(cam.detach(), size=x.shape[-2:], mode="bilinear", align_corners=False)[0, 0]
    return (cam / cam.max()).numpy()


@pytest.mark.parametrize("preset", ["mobilenet_v3_small", "mobilenet_v2"])
def test_real_blocks_match_plain_autograd(preset):
    """h-swish, SE, residual adds and ReLU6 (never in-place) give captum's hooks the true activations."""
    model = build(get_preset(preset).with_(resolution=64)).eval()
    x = torch.randn(1, 3, 64, 64)
    for layer in ("stages.1.0", "stages.3.0", default_layer(model)):
        cam = grad_cam(model, x, layer)
        assert np.allclose(cam.heatmap, manual_grad_cam(model, x, layer, cam.target), atol=1e-4)
    assert hooks(model) == 0


def test_layer_names_and_defaults():
    lite0 = build(get_preset("efficientnet_lite0"))
    names = layer_names(lite0)
    assert names[0] == "stem" and names[-1] == "head" and "classifier" not in names
    assert len(names) == 1 + 16 + 1 and default_layer(lite0) == "head"
    assert depth_layers(lite0) == ("stages.1.1", "stages.2.1", "stages.4.2", "head")  # 56, 28, 14, 7 pixels
    assert layer_names(lite0.plan) == names
    no_head = build(get_preset("squeezenet1_1"))  # no head conv: the last Fire module
    assert default_layer(no_head) == layer_names(no_head)[-1] == "stages.3.1"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(layer="stages.9.9"), "layer: 'stages.9.9' is not a layer of custom; choose one of stem, stages.0.0"),
        (dict(layer="classifier"), "layer: 'classifier' is not a layer"),
        (dict(target=2), "target: class 2 is outside 0..1"),
        (dict(target=-1), "target: class -1 is outside 0..1"),
    ],
)
def test_bad_requests_name_the_field(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        grad_cam(one_conv_net(), X, **kwargs)


def test_training_mode_and_batches_are_refused():
    with pytest.raises(ValueError, match="training mode"):
        grad_cam(one_conv_net().train(), X)
    with pytest.raises(ValueError, match=r"x: expected one picture \[1, C, H, W\], got shape \(2, 1, 8, 8\)"):
        grad_cam(one_conv_net(), X.repeat(2, 1, 1, 1))


def test_no_hooks_are_left_after_success_or_failure():
    net = one_conv_net()
    grad_cam(net, X, "stem")
    assert hooks(net) == 0
    with pytest.raises(RuntimeError):  # 3 channels into a 1-channel stem fails inside the hooked forward pass
        grad_cam(net, torch.zeros(1, 3, 8, 8), "stages.0.0")
    assert hooks(net) == 0
    assert not torch.nn.modules.module._global_forward_hooks


def test_explainer_never_touches_the_model_it_copies():
    model = build(digits_se_spec()).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    explainer = Explainer(model)
    explainer.grad_cam(torch.randn(1, 3, 32, 32))
    explainer.ablated().grad_cam(torch.randn(1, 3, 32, 32))
    assert hooks(model) == 0 and all(p.requires_grad for p in model.parameters())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_concurrent_calls_give_the_sequential_maps():
    model = build(digits_se_spec()).eval()
    shared, other = Explainer(model), Explainer(model)
    inputs = [torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(i)) for i in range(6)]
    layers = shared.layer_names()
    jobs = [(explainer, x, layers[i % len(layers)]) for i, x in enumerate(inputs) for explainer in (shared, other)]
    expected = [grad_cam(Explainer(model)._model, x, layer).heatmap for _, x, layer in jobs]
    got: dict[int, np.ndarray] = {}
    start = threading.Barrier(len(jobs) + 1)

    def work(i, explainer, x, layer):
        start.wait()
        got[i] = explainer.grad_cam(x, layer).heatmap

    def run_the_original():  # a classify-style forward pass on the original meanwhile
        start.wait()
        with torch.inference_mode():
            for x in inputs:
                model(x)

    threads = [threading.Thread(target=work, args=(i, *job)) for i, job in enumerate(jobs)]
    threads.append(threading.Thread(target=run_the_original))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(np.array_equal(got[i], expected[i]) for i in range(len(jobs)))
    assert hooks(model) == 0


def test_the_explainer_remembers_maps_per_input_layer_and_class():
    explainer = Explainer(build(digits_se_spec()).eval())
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    first = explainer.grad_cam(x, "stem")
    assert explainer.grad_cam(x.clone(), "stem") is first  # the same pixels, not the same tensor
    assert not first.heatmap.flags.writeable and not first.probs.flags.writeable  # shared: read-only
    assert explainer.grad_cam(x, "stem", target=(first.top1 + 1) % 10) is not first
    assert explainer.grad_cam(x + 1e-3, "stem") is not first
    assert explainer.grad_cam(x, explainer.default_layer()) is explainer.grad_cam(x)
    fresh = explainer.grad_cam(x, "stem", remember=False)  # webcam frames: computed, never kept
    assert fresh is not first and np.array_equal(fresh.heatmap, first.heatmap) and fresh.heatmap.flags.writeable
    for i in range(REMEMBERED_CAMS):  # the oldest map is forgotten first, the bound holds
        explainer.grad_cam(x + i + 1, "stem")
    assert explainer.grad_cam(x, "stem") is not first and len(explainer._cams) == REMEMBERED_CAMS


def test_network_input_keeps_the_whole_picture():
    prep = Preprocess(crop=224, resize=256, mean=(0.5,) * 3, std=(0.5,) * 3)
    photo = Image.fromarray(np.full((300, 451, 3), 255, np.uint8))
    x = network_input(photo, prep)
    assert x.shape == (1, 3, 224, 337) and torch.allclose(x, torch.ones_like(x))  # white -> (1 - 0.5) / 0.5
    assert network_input(Image.new("RGB", (1000, 100)), prep).shape == (1, 3, 67, 672)  # at most 3 crops long


def test_overlay_blends_the_colormap():
    image = np.full((4, 6, 3), 200, np.uint8)
    heat = np.zeros((2, 3), np.float32)
    heat[0, 0] = 1.0
    assert np.array_equal(colorize(np.array([[0.0, 1.0]])), [[[0, 0, 128], [128, 0, 0]]])  # jet: blue to red
    assert np.array_equal(overlay(image, heat, opacity=0.0), image)
    full = overlay(image, heat, opacity=1.0)
    assert full.shape == (4, 6, 3) and np.array_equal(full, colorize(resize_map(heat, 6, 4)))
    half = overlay(image, heat, opacity=0.5)
    assert np.array_equal(half[3, 5], [100, 100, 164])  # (200 + [0, 0, 128]) / 2 where the map is 0
    assert np.array_equal(overlay(Image.fromarray(image), heat, 0.5), half)
    with pytest.raises(ValueError, match="opacity: 1.5 is outside 0..1"):
        overlay(image, heat, 1.5)
    with pytest.raises(ValueError, match="colormap: unknown 'rainbow'"):
        colorize(heat, "rainbow")
