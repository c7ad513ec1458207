import dataclasses
import json
import subprocess
import sys

import pytest

from lwviz.families import make_divisible
from lwviz.plan import resolve
from lwviz.presets import PRESETS, get_preset
from lwviz.spec import Spec, Stage


def test_make_divisible_matches_torchvision():
    from torchvision.models._utils import _make_divisible

    for v in [3, 7.5, 12, 16 * 0.35, 88.008, 183.99999999999997, 1280 * 0.75, 5, 0.5]:
        assert make_divisible(v, 8) == _make_divisible(v, 8)


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_round_trips_through_string_and_json(name):
    spec = get_preset(name)
    assert Spec.from_string(spec.to_string()) == spec
    assert Spec.from_json(spec.to_json()) == spec
    assert Spec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


def test_knobs_round_trip_and_are_readable():
    spec = get_preset("mobilenet_v2").with_(
        width=0.35,
        depth=1.2,
        resolution=160,
        kernel=5,
        block="mbconv",
        expand=4.0,
        se=0.25,
        act="hswish",
        bn_eps=1e-5 / 3,
    )
    text = spec.to_string()
    assert text.startswith("net_namemobilenet.v2_w0.35_d1.2_res160_bmbconv_k5_e4_se0.25_ahswish")
    assert "-ir_" in text and "_eps0.0000033333333333333337" in text  # positional: no "e-06"
    assert Spec.from_string(text) == spec


def test_new_fields_keep_every_older_string():
    """The knobs of the families after 2019 (dw_start, mid_dw, ratio, branches, stem branches, reparam) default to
    values that write nothing, so every link made before them opens the same network."""
    v2 = (
        "net_namemobilenet.v2-stem_arelu6-ir_arelu6-ir_r2_s2_c24_e6_arelu6-ir_r3_s2_c32_e6_arelu6-ir_r4_s2_c64_e6_arelu6"
        "-ir_r3_c96_e6_arelu6-ir_r3_s2_c160_e6_arelu6-ir_c320_e6_arelu6-head_c1280_arelu6_wfloor"
    )
    v1 = (
        "net_nameshufflenet.v1.g3_div3-stem_c24_pmax_wsteps-shufflev1_r4_s2_c240_e0.25_g3_df1-shufflev1_r8_s2_c480_e0.25"
        "_g3-shufflev1_r4_s2_c960_e0.25_g3-head_drop0_clslinear.nobias"
    )
    assert get_preset("mobilenet_v2").to_string() == v2 and Spec.from_string(v2) == get_preset("mobilenet_v2")
    assert get_preset("shufflenet_v1_g3").to_string() == v1 and Spec.from_string(v1) == get_preset("shufflenet_v1_g3")
    stage = Spec.from_string(v2).stages[0]
    assert (stage.dw_start, stage.mid_dw, stage.ratio, stage.branches) == (0, True, 2, 1)
    assert (Spec.from_string(v2).stem.branches, Spec.from_string(v2).reparam) == (0, False)


def test_string_is_url_safe():
    from urllib.parse import quote

    for name in PRESETS:
        text = get_preset(name).to_string()
        assert quote(text, safe="") == text


@pytest.mark.parametrize(
    "change, field",
    [
        (dict(kernel=4), "kernel"),
        (dict(width=0.0), "width"),
        (dict(width=-1.0), "width"),
        (dict(depth=0.0), "depth"),
        (dict(resolution=16), "resolution"),
        (dict(block="transformer"), "block"),
        (dict(act="gelu"), "act"),
        (dict(expand=0.0), "expand"),
        (dict(se=1.5), "se"),
    ],
)
def test_validation_names_the_field(change, field):
    with pytest.raises(ValueError) as err:
        resolve(get_preset("mobilenet_v2").with_(**change))
    assert str(err.value).startswith(field)


def test_range_message_states_the_range():
    with pytest.raises(ValueError, match=r"width \(width multiplier\): 0.0 is outside the allowed range 0.1..4.0"):
        get_preset("mobilenet_v2").with_(width=0.0).validate()
    with pytest.raises(ValueError, match="use at least 32 pixels"):
        resolve(get_preset("mobilenet_v2").with_(resolution=16))


def test_stage_level_errors_name_the_stage():
    spec = get_preset("mobilenet_v2")
    stages = list(spec.stages)
    stages[2] = Stage("ir", kernel=2, out_chs=32)
    with pytest.raises(ValueError, match=r"^stages\[2\]\.kernel: kernel size must be odd"):
        spec.with_(stages=tuple(stages)).validate()
    stages[2] = Stage("fancy", out_chs=32)
    with pytest.raises(ValueError, match=r"^stages\[2\]\.block: unknown block type 'fancy'"):
        spec.with_(stages=tuple(stages)).validate()


def test_block_constraints_are_reported():
    # ShuffleNet splits channels in half: an odd width is refused with the reason.
    spec = get_preset("shufflenet_v2_x1_0").with_(divisor=1, width=0.51)
    spec.validate()  # every field is fine on its own; the network as a whole is not
    with pytest.raises(ValueError, match=r"out_chs: a ShuffleNet unit splits channels in two"):
        resolve(spec)
    with pytest.raises(ValueError, match=r"groups: 3 groups must divide"):
        resolve(
            get_preset("mobilenet_v2").with_(
                block="shufflev1",
                stages=tuple(Stage("shufflev1", out_chs=c, stride=2, groups=3, expand=0.25) for c in (48, 96)),
            )
        )


@pytest.mark.parametrize(
    "text, field",
    [
        ("garbage", "spec string"),
        ("net_w1-stem-ir_r1_c16", "spec string"),
        ("net_wabc-stem-ir_r1_c16-head", "width"),
        ("net_w1-stem-ir_zz9_c16-head", "stages[0].token 'zz9'"),
        ("net_w1-stem_k4-ir_c16-head", "stem.kernel"),
    ],
)
def test_bad_strings_raise_value_errors(text, field):
    with pytest.raises(ValueError) as err:
        Spec.from_string(text).validate()
    assert str(err.value).startswith(field)


def test_bad_json_raises_value_errors():
    with pytest.raises(ValueError, match="not valid JSON"):
        Spec.from_json("{")
    with pytest.raises(ValueError, match="stages: missing"):
        Spec.from_json("{}")
    with pytest.raises(ValueError, match="stages\\[0\\].wings: unknown field"):
        Spec.from_dict({"stages": [{"wings": 2}]})
    with pytest.raises(ValueError, match="^width: 'wide' is not a valid float"):
        Spec.from_dict({"stages": [], "width": "wide"})


def test_spec_is_immutable_and_hashable():
    spec = get_preset("mobilenet_v2")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.width = 2.0
    assert hash(spec) == hash(Spec.from_string(spec.to_string()))


def test_specs_plans_and_costs_import_without_torch():
    """The Build page's numbers need no torch: the spec, its plan and the cost model are plain Python."""
    code = (
        "import sys, lwviz, lwviz.plan, lwviz.cost.analytic, lwviz.presets; "
        "lwviz.analyze(lwviz.get_preset('mobilenet_v2')); print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
