"""Pruning: zeroed weights leave size and speed as they were; removed channels make a narrower spec."""

import pytest
import torch
from torch import nn
from torch.nn.utils import prune

from lwviz.builder import build
from lwviz.compress.prune import (
    channel_groups,
    compressed_size,
    prune_channels,
    prune_unstructured,
    pruned_spec,
    saved_size,
    sparsity_of,
)
from lwviz.cost import analyze
from lwviz.cost.tracer import group, trace
from lwviz.data import digits
from lwviz.perf import num_threads
from lwviz.plan import resolve
from lwviz.presets import get_preset, spec_from_text
from lwviz.train.batchnorm import recalibrate_batchnorm
from lwviz.train.loop import digits_se_spec, evaluate, train


@pytest.fixture(autouse=True)
def _one_thread():
    """Small inputs run fastest on one thread, and a busy machine cannot slow it down hundredfold (as two can)."""
    with num_threads(1):
        yield


def _state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def _same_state(model: nn.Module, state: dict[str, torch.Tensor]) -> bool:
    now = model.state_dict()
    return now.keys() == state.keys() and all(torch.equal(now[k], v) for k, v in state.items())


def _tiny(conv_scale: float = 1.0) -> nn.Sequential:
    """conv 1->2 3x3 (18 weights, magnitudes 1..18) -> BN -> FC 8->3 (24 weights, magnitudes 1..24), signs mixed."""
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3))
    g = torch.Generator().manual_seed(0)
    for layer, scale in ((model[0], conv_scale), (model[4], 1.0)):
        n = layer.weight.numel()
        signs = torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 1.0)
        magnitudes = (torch.randperm(n, generator=g) + 1).float()
        with torch.no_grad():
            layer.weight.copy_((signs * magnitudes * scale).view_as(layer.weight))
    return model.eval()


# ----- unstructured ----------------------------------------------------------------------------


def test_unstructured_zeroes_the_smallest_third_of_every_layer():
    model = _tiny()
    before = _state(model)
    pruned = prune_unstructured(model, 1 / 3)
    conv, fc = before["0.weight"], before["4.weight"]
    # round(18 / 3) = 6 conv weights (|w| <= 6) and round(24 / 3) = 8 linear weights (|w| <= 8) become zero
    assert torch.equal(pruned[0].weight, torch.where(conv.abs() <= 6, 0.0, conv))
    assert torch.equal(pruned[4].weight, torch.where(fc.abs() <= 8, 0.0, fc))
    assert sparsity_of(pruned) == 14 / 42 and sparsity_of(model) == 0.0
    for key in ("0.bias", "1.weight", "1.running_mean", "4.bias"):
        assert torch.equal(pruned.state_dict()[key], before[key]), key
    # permanent: a plain model with ordinary parameters, no masks or hooks left behind
    assert pruned.state_dict().keys() == before.keys() and not prune.is_pruned(pruned)
    assert all(type(p) is nn.Parameter for p in pruned.parameters())
    assert _same_state(model, before) and pruned is not model


def test_unstructured_is_per_layer_not_global():
    """Conv weights 1000x smaller than the FC's: a global threshold would empty the conv; per layer it keeps 60%."""
    pruned = prune_unstructured(_tiny(conv_scale=1e-3), 0.4)
    assert int((pruned[0].weight == 0).sum()) == 7  # round(0.4 * 18)
    assert int((pruned[4].weight == 0).sum()) == 10  # round(0.4 * 24)
    assert sparsity_of(prune_unstructured(_tiny(), 1.0)) == 1.0


def test_unstructured_zeros_change_nothing_but_the_zipped_file():
    spec = get_preset("mobilenet_v2").with_(width=0.5, resolution=32)
    model = build(spec).eval()
    x = torch.randn(2, 3, 32, 32)
    unchanged = prune_unstructured(model, 0.0)
    with torch.no_grad():
        assert torch.equal(unchanged(x), model(x))
    sparse = prune_unstructured(model, 0.9)
    assert sparsity_of(sparse) == pytest.approx(0.9, abs=1e-4)
    dense_rows, sparse_rows = trace(model, 32), trace(sparse, 32)
    assert sum(r.params for r in sparse_rows) == sum(r.params for r in dense_rows) == analyze(spec).params
    assert sum(r.macs for r in sparse_rows) == sum(r.macs for r in dense_rows) == analyze(spec).macs
    assert saved_size(sparse) == saved_size(model)  # a dense file stores every zero
    assert compressed_size(model) > 0.85 * saved_size(model)  # random floats hardly compress (0.90 seen)
    assert compressed_size(sparse) < 0.3 * compressed_size(model)  # 90% zeros do (0.21 seen)


def test_unstructured_refuses_a_sparsity_outside_0_to_1():
    with pytest.raises(ValueError, match="sparsity: 1.5 is outside the allowed range 0..1"):
        prune_unstructured(_tiny(), 1.5)


# ----- structured ------------------------------------------------------------------------------


def _hidden(block: nn.Module) -> int:
    return block.conv_dw.conv.out_channels


@pytest.mark.parametrize("name", ["mobilenet_v2", "efficientnet_b0", "mobilenet_v3_small"])
def test_channel_pruning_makes_the_narrower_spec_and_its_exact_cost(name):
    spec = get_preset(name).with_(resolution=32)
    model = build(spec).eval()
    before = _state(model)
    pruned = prune_channels(model, 0.5)
    new = pruned.spec
    assert new == pruned_spec(spec, 0.5) and new.name == f"{name}_pruned50"
    assert spec_from_text(new.to_string()) == new  # a URL the Build page can open
    # fewer channels: every expanded block narrower, the head conv halved
    blocks = [(a.name, model.get_submodule(a.name), pruned.get_submodule(a.name)) for a in model.plan.blocks]
    expanded = [(n, old, cut) for n, old, cut in blocks if not isinstance(old.conv_pw, nn.Identity)]
    assert expanded and all(_hidden(cut) < _hidden(old) for _, old, cut in expanded)
    assert all(isinstance(cut.conv_pw, nn.Identity) for _, old, cut in blocks if isinstance(old.conv_pw, nn.Identity))
    assert pruned.head.conv.conv.out_channels == model.head.conv.conv.out_channels // 2
    # the state loads into a fresh build of the new spec, exactly
    fresh = build(new).eval()
    fresh.load_state_dict(pruned.state_dict())
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(fresh(x), pruned(x))
    # traced cost of the pruned model = analytic cost of the new spec, op by op
    table, rows = analyze(new), trace(pruned, 32)
    traced = group(rows, [o.name for o in table.ops])
    for op in table.ops:
        assert (op.params, op.macs) == traced[op.name], op.name
    assert sum(r.params for r in rows) == table.params < analyze(spec).params
    assert sum(r.macs for r in rows) == table.macs < analyze(spec).macs
    # keep=1.0 computes the same function; the model passed in is untouched
    with torch.no_grad():
        assert torch.equal(prune_channels(model, 1.0)(x), model(x))
    assert _same_state(model, before) and not pruned.training


def test_mobilenet_v2_at_half_keeps_half_of_every_expansion_and_of_the_head():
    spec = pruned_spec(get_preset("mobilenet_v2"), 0.5)
    assert [s.expand for s in spec.stages] == [1.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0]  # the t=1 stage has no expansion
    assert spec.head.chs == 640 and spec.name == "mobilenet_v2_pruned50"
    hidden = {a.name: (a.in_chs, a.expand) for a in resolve(spec).blocks}
    assert hidden["stages.1.0"] == (16, 3.0) and hidden["stages.6.0"] == (160, 3.0)  # 48 and 480 of 96 and 960


def test_mobilenet_v3_squeeze_width_follows_the_hidden_width():
    """MobileNetV3's SE squeezes the hidden channels to make_divisible(hidden / 4): 96 -> 24 becomes 48 -> 16."""
    model = build(get_preset("mobilenet_v3_small").with_(resolution=32))
    pruned = prune_channels(model, 0.5)
    old, cut = model.stages[3][0], pruned.stages[3][0]
    assert (_hidden(old), old.se.fc1.out_channels) == (96, 24)
    assert (_hidden(cut), cut.se.fc1.out_channels) == (48, 16)


def test_the_kept_channels_are_the_ones_with_the_largest_l1_filters():
    model = build(get_preset("mobilenet_v3_small").with_(resolution=32)).eval()
    block = model.stages[3][0]  # 24 -> 96 hidden -> SE squeeze 24; pruned: 48 hidden, squeeze 16
    rank_hidden, rank_squeeze, rank_head = torch.randperm(96), torch.randperm(24), torch.randperm(576)
    with torch.no_grad():  # every filter's L1 norm set by hand: proportional to its rank
        block.conv_pw.conv.weight.copy_(block.conv_pw.conv.weight.sign() * (rank_hidden + 1.0).view(-1, 1, 1, 1))
        block.se.fc1.weight.copy_((rank_squeeze + 1.0).view(-1, 1, 1, 1).expand(-1, 96, 1, 1))
        model.head.conv.conv.weight.copy_((rank_head + 1.0).view(-1, 1, 1, 1).expand(-1, 96, 1, 1))
    before = _state(model)
    pruned = prune_channels(model, 0.5)
    hidden = torch.nonzero(rank_hidden >= 48).flatten()  # the 48 largest of 96, in their original order
    squeeze = torch.nonzero(rank_squeeze >= 8).flatten()  # the 16 largest of 24
    head = torch.nonzero(rank_head >= 288).flatten()  # the 288 largest of 576
    after = pruned.state_dict()
    p = "stages.3.0."
    assert torch.equal(after[p + "conv_pw.conv.weight"], before[p + "conv_pw.conv.weight"][hidden])
    for key in (
        "conv_pw.bn.running_var",
        "conv_dw.conv.weight",
        "conv_dw.bn.weight",
        "conv_dw.bn.running_mean",
        "se.fc2.bias",
    ):
        assert torch.equal(after[p + key], before[p + key][hidden]), key
    assert torch.equal(after[p + "conv_pwl.conv.weight"], before[p + "conv_pwl.conv.weight"][:, hidden])
    assert torch.equal(after[p + "se.fc1.weight"], before[p + "se.fc1.weight"][squeeze][:, hidden])
    assert torch.equal(after[p + "se.fc1.bias"], before[p + "se.fc1.bias"][squeeze])
    assert torch.equal(after[p + "se.fc2.weight"], before[p + "se.fc2.weight"][hidden][:, squeeze])
    assert torch.equal(after["head.conv.conv.weight"], before["head.conv.conv.weight"][head])
    assert torch.equal(after["classifier.fc_hidden.weight"], before["classifier.fc_hidden.weight"][:, head])
    # what is not in a channel group is copied as it was
    for key in ("stem.conv.conv.weight", p + "conv_pwl.bn.running_mean", "classifier.fc.weight"):
        assert torch.equal(after[key], before[key]), key


def test_channel_groups_name_every_tensor_that_indexes_the_channels():
    model = build(get_preset("efficientnet_b0").with_(resolution=32))
    groups = {g.score: g.members for g in channel_groups(model)}
    p = "stages.1.0."
    assert groups[p + "conv_pw.conv.weight"] == (
        (p + "conv_pw.conv.weight", 0),
        (p + "conv_pw.bn.weight", 0),
        (p + "conv_pw.bn.bias", 0),
        (p + "conv_pw.bn.running_mean", 0),
        (p + "conv_pw.bn.running_var", 0),
        (p + "conv_dw.conv.weight", 0),
        (p + "conv_dw.bn.weight", 0),
        (p + "conv_dw.bn.bias", 0),
        (p + "conv_dw.bn.running_mean", 0),
        (p + "conv_dw.bn.running_var", 0),
        (p + "se.fc1.weight", 1),
        (p + "se.fc2.weight", 0),
        (p + "se.fc2.bias", 0),
        (p + "conv_pwl.conv.weight", 1),
    )
    assert groups["head.conv.conv.weight"][-1] == ("classifier.fc.weight", 1)
    assert "stages.0.0.conv_pw.conv.weight" not in groups  # expand 1: no expansion conv, nothing to prune
    assert len(groups) == 2 * 15 + 1  # 15 expanded blocks, each with SE, and the head


def test_shufflenet_loses_only_head_channels_and_networks_without_any_refuse():
    spec = get_preset("shufflenet_v2_x0_5").with_(resolution=32)
    pruned = pruned_spec(spec, 0.5)
    assert pruned.stages == spec.stages and pruned.head.chs == 512
    assert [layer.params for layer in analyze(pruned).layers][:-2] == [layer.params for layer in analyze(spec).layers][
        :-2
    ]
    for name in ("mobilenet_v1", "squeezenet1_0"):
        with pytest.raises(ValueError, match=f"{name}: structured pruning removes .* this network has neither"):
            prune_channels(build(get_preset(name).with_(resolution=32)), 0.5)


def test_overrides_are_written_into_the_stages():
    spec = get_preset("mobilenet_v2").with_(block="mbconv", expand=4.0, kernel=5, resolution=64)
    same = pruned_spec(spec, 1.0)
    assert same.block is None and same.expand is None and same.kernel == 5
    assert resolve(same).layers == resolve(spec).layers
    assert {s.expand for s in pruned_spec(spec, 0.5).stages} == {2.0}


@pytest.mark.parametrize("keep", [0, -0.5, 1.5])
def test_keep_outside_0_to_1_is_refused(keep):
    with pytest.raises(ValueError, match=f"keep: {keep} is outside the allowed range"):
        pruned_spec(get_preset("mobilenet_v2"), keep)


# ----- batch-norm re-estimation and a trained network ------------------------------------------


def test_recalibration_averages_the_statistics_of_the_images():
    model = nn.Sequential(nn.Conv2d(1, 2, 1, bias=False), nn.BatchNorm2d(2)).eval()
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([1.0, 2.0]).view(2, 1, 1, 1))
    before = _state(model)
    images = torch.arange(4 * 9, dtype=torch.float32).view(4, 1, 3, 3)
    fresh = recalibrate_batchnorm(model, images, batch_size=2)
    mean = images.mean().item()  # 17.5: two batches of equal size average to the overall mean
    assert fresh[1].running_mean.tolist() == [mean, 2 * mean] and fresh[1].num_batches_tracked.item() == 2
    assert fresh[1].momentum == 0.1 and not fresh.training
    assert torch.equal(fresh[0].weight, model[0].weight) and _same_state(model, before)
    with pytest.raises(ValueError, match="images: at least one image"):
        recalibrate_batchnorm(model, images[:0])
    with pytest.raises(ValueError, match="model: it has no batch norm layers"):
        recalibrate_batchnorm(nn.Linear(2, 2), images)


@pytest.fixture(scope="module")
def digits_model():
    with num_threads(1):  # the same run on every machine (as in test_train.py)
        model, history = train(digits_se_spec(), seed=0)
    return model, history.test_accuracy


def test_a_trained_network_keeps_most_of_its_accuracy_at_three_quarters(digits_model):
    """Seen (seed 0): 96.7% trained; keep 0.75: 11.7% as pruned, 85.8% once batch norm is re-estimated on 512
    unlabeled training digits (84.7-87.7% over seeds 0-3). Sparsity 0.5: 18.1% -> 82.7%."""
    model, trained = digits_model
    data = digits()
    assert trained >= 0.95
    pruned = prune_channels(model, 0.75)
    plain = evaluate(pruned, data.test_x, data.test_y)
    recalibrated = evaluate(recalibrate_batchnorm(pruned, data.train_x[:512]), data.test_x, data.test_y)
    sparse = recalibrate_batchnorm(prune_unstructured(model, 0.5), data.train_x[:512])
    sparse_accuracy = evaluate(sparse, data.test_x, data.test_y)
    assert analyze(pruned.spec).params < 0.8 * analyze(model.spec).params
    assert recalibrated >= 0.80 and recalibrated > plain + 0.3, (plain, recalibrated)
    assert sparse_accuracy >= 0.75, sparse_accuracy
