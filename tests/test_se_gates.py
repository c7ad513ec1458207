import numpy as np
import pytest
import torch
from torch import nn

from lwviz.builder import build
from lwviz.explain import NO_SE_REASON, Explainer, OpenGate, ablate_se, capture_gates, has_se, se_blocks, spec_has_se
from lwviz.layers.se import SqueezeExcite
from lwviz.presets import PRESETS, get_preset
from lwviz.train.loop import digits_se_spec


class OneSE(nn.Module):
    """One SE block on 2 channels (squeezed to 1), hand-set; the output is the gated channels' means."""

    def __init__(self, style: str):
        super().__init__()
        self.block = nn.Module()
        self.block.se = SqueezeExcite(2, 1, "relu", style)
        with torch.no_grad():
            self.block.se.fc1.weight.fill_(1.0)  # squeeze: 2 + (-1) = 1 -> relu -> 1
            self.block.se.fc1.bias.zero_()
            self.block.se.fc2.weight.copy_(torch.tensor([2.0, -3.0]).view(2, 1, 1, 1))  # excite: [2, -3]
            self.block.se.fc2.bias.zero_()

    def forward(self, x):
        return self.block.se(x).mean((2, 3))


X = torch.stack([torch.full((3, 3), 2.0), torch.full((3, 3), -1.0)])[None]  # channel means 2 and -1


@pytest.mark.parametrize(
    "style, gate",
    [
        ("efficientnet", [1 / (1 + np.exp(-2)), 1 / (1 + np.exp(3))]),  # sigmoid([2, -3]) = [0.8808, 0.0474]
        ("mobilenetv3", [5 / 6, 0.0]),  # hard sigmoid: relu6(x + 3) / 6
    ],
)
def test_a_hand_set_gate(style, gate):
    capture = capture_gates(OneSE(style), X, features_of="block")
    assert capture.blocks == ("block",)
    assert np.allclose(capture.gate("block"), gate, atol=1e-6)
    logits = torch.tensor([2.0 * gate[0], -1.0 * gate[1]])
    assert np.allclose(capture.probs, logits.softmax(0).numpy(), atol=1e-6)
    assert np.array_equal(capture.features, X[0].numpy())  # what entered the SE block


def test_every_block_of_a_real_network_in_forward_order():
    model = build(get_preset("mobilenet_v3_large").with_(resolution=64)).eval()
    capture = capture_gates(model, torch.randn(1, 3, 64, 64), features_of="stages.3.0")
    assert capture.blocks == tuple(se_blocks(model)) and len(capture.blocks) == 8  # MobileNetV3-Large's SE blocks
    assert capture.blocks[:3] == ("stages.3.0", "stages.3.1", "stages.3.2") and capture.blocks[-1] == "stages.8.2"
    for block, gate in zip(capture.blocks, capture.gates):
        assert gate.shape == (model.get_submodule(block).se.fc2.out_channels,)
        assert gate.min() >= 0 and gate.max() <= 1
    assert capture.features.shape == (len(capture.gate("stages.3.0")), 8, 8)  # after the block's stride-2 depthwise
    with pytest.raises(ValueError, match="block: 'stages.0.0' has no SE; choose one of stages.3.0, stages.3.1"):
        capture.gate("stages.0.0")


def test_no_hooks_are_left_after_success_or_failure():
    model = build(digits_se_spec()).eval()
    capture_gates(model, torch.randn(1, 3, 32, 32), features_of="stages.1.0")
    with pytest.raises(RuntimeError):  # one channel into a 3-channel stem
        capture_gates(model, torch.randn(1, 1, 32, 32), features_of="stages.1.0")
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


def test_networks_without_se_say_so():
    lite0 = build(get_preset("efficientnet_lite0"))
    assert not has_se(lite0) and not spec_has_se(lite0.spec) and "efficientnet_lite0" in NO_SE_REASON
    with pytest.raises(ValueError, match="model: it has no squeeze-and-excitation blocks"):
        capture_gates(lite0, torch.randn(1, 3, 32, 32))
    assert {name for name in PRESETS if spec_has_se(get_preset(name))} == {
        "mobilenet_v3_large",
        "mobilenet_v3_small",
        "efficientnet_b0",
        "efficientnet_v2_s",
        "ghostnet_100",
    }


def test_ablation_changes_the_output_and_leaves_the_original_untouched():
    model = build(digits_se_spec()).eval()
    x = torch.randn(1, 3, 32, 32)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.inference_mode():
        out = model(x)
    ablated = ablate_se(model)
    with torch.inference_mode():
        assert not torch.allclose(ablated(x), out)
        assert torch.equal(model(x), out)
    assert all(isinstance(se.gate, OpenGate) for se in se_blocks(ablated).values())
    assert not any(isinstance(se.gate, OpenGate) for se in se_blocks(model).values())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    ones = capture_gates(ablated, x)
    assert all(np.array_equal(g, np.ones_like(g)) for g in ones.gates)
    with torch.inference_mode():  # a gate of 1 is the identity: the same as the block without SE
        for se in se_blocks(ablated).values():
            features = torch.randn(1, se.fc1.in_channels, 5, 5)
            assert torch.equal(se(features), features)


def test_explainer_ablation_leaves_its_cached_copy_untouched():
    explainer = Explainer(build(digits_se_spec()).eval())
    x = torch.randn(1, 3, 32, 32)
    gates, cam = explainer.gates(x), explainer.grad_cam(x)
    ablated = explainer.ablated()
    assert not np.allclose(ablated.grad_cam(x, target=cam.target).probs, cam.probs)
    again = explainer.gates(x)
    assert all(np.array_equal(a, b) for a, b in zip(gates.gates, again.gates))
    assert np.array_equal(explainer.grad_cam(x).heatmap, cam.heatmap)
