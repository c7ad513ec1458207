"""ShuffleNetV1 presets against the authors' own code (tests/reference/shufflenet_v1_official.py)."""

import itertools

import pytest
import torch

from lwviz.builder import build
from lwviz.cost import analyze
from lwviz.cost.tracer import flop_counter_macs
from lwviz.presets import PRESETS, get_preset
from lwviz.spec import Spec
from lwviz.weights.convert import convert_state_dict
from tests.reference import randomize_bn
from tests.reference.shufflenet_v1_official import ShuffleNetV1

WIDTHS = {0.5: "0.5x", 1.0: "1.0x", 1.5: "1.5x", 2.0: "2.0x"}
CASES = list(itertools.product((3, 8), WIDTHS))


def _ours(groups, width):
    return get_preset(f"shufflenet_v1_g{groups}").with_(width=width)


def _reference(groups, width):
    """The authors' network with random weights and non-trivial batch-norm statistics, in eval mode."""
    ref = ShuffleNetV1(model_size=WIDTHS[width], group=groups)
    randomize_bn(ref)
    return ref.eval()


@pytest.mark.parametrize("groups, width", CASES)
def test_params_and_macs_equal_the_authors_model(groups, width):
    ref = _reference(groups, width)
    table = analyze(_ours(groups, width))
    assert table.params == sum(p.numel() for p in ref.parameters())
    assert table.macs == flop_counter_macs(ref)


@pytest.mark.parametrize("groups, width", CASES)
def test_authors_state_dict_converts_to_equal_outputs(groups, width):
    torch.manual_seed(0)
    ref = _reference(groups, width)
    model = build(_ours(groups, width))
    model.load_state_dict(convert_state_dict(ref.state_dict(), model))
    model.eval()
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(model(x), ref(x), atol=1e-5, rtol=0)


# The authors' README table (ShuffleNet-Series/ShuffleNetV1): FLOPs (their word for mult-adds) in M, params in M.
README = {
    (3, 2.0): (524, 5.4),
    (8, 2.0): (522, 6.5),
    (3, 1.5): (292, 3.4),
    (8, 1.5): (290, 4.3),
    (3, 1.0): (138, 1.9),
    (8, 1.0): (138, 2.4),
    (3, 0.5): (38, 0.7),
    (8, 0.5): (40, 1.0),
}


@pytest.mark.parametrize("groups, width", CASES)
def test_readme_table_of_the_authors(groups, width):
    """Params to the README's 0.1M; MACs to its 1M (1.0x g=3 is 137.46M, which the README prints as 138M)."""
    table = analyze(_ours(groups, width))
    macs, params = README[groups, width]
    assert round(table.params / 1e6, 1) == params
    assert abs(table.macs / 1e6 - macs) < 0.6


def test_stem_follows_the_authors_table():
    """The stem grows only at widths that double: 24 channels at 1x and 1.5x, 48 at 2x, 12 (g=3) or 16 (g=8) at 0.5x."""
    stems = {(g, w): analyze(_ours(g, w)).ops[0].out_shape[0] for g, w in CASES}
    assert stems == {
        (3, 0.5): 12,
        (3, 1.0): 24,
        (3, 1.5): 24,
        (3, 2.0): 48,
        (8, 0.5): 16,
        (8, 1.0): 24,
        (8, 1.5): 24,
        (8, 2.0): 48,
    }


@pytest.mark.parametrize("name", ["shufflenet_v1_g3", "shufflenet_v1_g8"])
def test_preset_round_trips_through_its_string_and_dict(name):
    spec = PRESETS[name].spec
    assert Spec.from_string(spec.to_string()) == spec
    assert Spec.from_dict(spec.to_dict()) == spec
    assert "_df1" in spec.to_string() and "_wsteps" in spec.to_string() and "clslinear.nobias" in spec.to_string()


def test_only_the_first_unit_keeps_its_first_pointwise_dense():
    model = build(get_preset("shufflenet_v1_g3"))
    groups = [m.conv_pw.conv.groups for m in model.stages.modules() if type(m).__name__ == "ShuffleV1Unit"]
    assert groups == [1] + [3] * 15
    assert model.classifier.fc.bias is None
