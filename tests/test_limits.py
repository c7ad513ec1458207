"""Whole-design limits (lwviz.limits): what a link may price, and what the server may build and run."""

import time
from dataclasses import replace

import pytest

from lwviz import limits
from lwviz.builder import build
from lwviz.cost import analyze
from lwviz.limits import DESIGN, RUN, DesignTooLarge, block_count, check_runnable
from lwviz.plan import resolve
from lwviz.presets import PRESETS, get_preset, spec_from_text
from lwviz.spec import Spec, Stage
from lwviz.ui.state import SLIDERS

HOSTILE_STAGES = (Stage(block="ir", repeats=64, out_chs=64, expand=16),) * 100  # every field within its range


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_may_be_priced_and_run_and_so_may_its_slider_corner(name):
    spec = get_preset(name)
    check_runnable(analyze(spec))
    (width, depth, resolution) = (SLIDERS[knob][1] for knob in ("width", "depth", "resolution"))
    resolve(spec.with_(width=width, depth=depth, resolution=resolution))  # priced and drawn, if not run
    try:  # a link may go on to the spec's own limits: priced, or refused by a design limit, nothing else
        resolve(spec.with_(width=4.0, depth=4.0, resolution=1024))
    except DesignTooLarge as exc:
        assert REFUSED_AT_THE_CORNER.get(name) == exc.quantity, exc


# Presets whose spec corner (width 4, depth 4, 1024 pixels) is beyond a design limit, and the first one it passes:
# EfficientNetV2-S 1.3G params (and 4T MACs); MobileNetV4-Conv-M 1.2T MACs; MobileOne-S0 as trained 1.5T MACs.
REFUSED_AT_THE_CORNER = {"efficientnet_v2_s": "params", "mobilenetv4_conv_medium": "macs", "mobileone_s0": "macs"}


def test_efficientnet_b7_fits_with_room_to_spare():
    b7 = get_preset("efficientnet_b0").with_(width=2.0, depth=3.1, resolution=600)  # torchvision's B7 scaling
    table = analyze(b7)
    assert len(resolve(b7).blocks) == 55 and round(table.params / 1e6, 1) == 66.3
    assert table.params * 7 < DESIGN.params and table.macs * 25 < DESIGN.macs and 55 * 5 < DESIGN.blocks


def test_a_hostile_link_is_refused_at_once_naming_the_limit():
    text = get_preset("mobilenet_v2").with_(stages=HOSTILE_STAGES).to_string()
    start = time.perf_counter()
    with pytest.raises(DesignTooLarge) as info:
        spec_from_text(text)
    assert time.perf_counter() - start < 0.5
    assert str(info.value) == (
        "this design has 6,400 blocks, but a design may have at most 300 (lower the depth or the repeats)"
    )
    assert (info.value.quantity, info.value.value, info.value.limit) == ("blocks", 6_400, 300)


@pytest.mark.parametrize("read", [Spec.from_json, Spec.from_string])
def test_a_file_or_link_of_thousands_of_stages_is_refused_before_its_stages_are_read(read):
    spec = get_preset("mobilenet_v2")
    huge = spec.with_(stages=spec.stages * 1000)  # 7,000 stages, a 1 MB file
    text = huge.to_json() if read == Spec.from_json else huge.to_string()
    start = time.perf_counter()
    with pytest.raises(DesignTooLarge) as info:
        read(text)
    assert time.perf_counter() - start < 1.0
    assert str(info.value) == "this design has 7,000 stages, but a design may have at most 300 (use fewer stages)"


def test_block_count_is_what_resolving_makes():
    for spec in [get_preset("efficientnet_b0").with_(depth=1.3), get_preset("squeezenet1_0").with_(depth=0.5)]:
        assert block_count(spec) == len(resolve(spec).blocks)


@pytest.mark.parametrize("quantity", ["params", "macs", "peak_memory"])
def test_resolve_prices_a_design_as_analyze_does_and_stops_just_past_the_limit(monkeypatch, quantity):
    spec = get_preset("mobilenet_v3_small").with_(width=0.75)
    exact = getattr(analyze(spec), quantity)
    resolve.cache_clear()
    monkeypatch.setattr(limits, "DESIGN", replace(DESIGN, **{quantity: exact}))
    resolve(spec)  # at the limit: allowed
    resolve.cache_clear()
    monkeypatch.setattr(limits, "DESIGN", replace(DESIGN, **{quantity: exact - 1}))
    with pytest.raises(DesignTooLarge) as info:
        resolve(spec)
    resolve.cache_clear()
    assert (info.value.quantity, info.value.value) == (quantity, exact)


def test_messages_name_the_quantity_the_value_and_the_limit():
    assert str(DesignTooLarge("params", 4_600_000_000, DESIGN)) == (
        "this design has 4.6G parameters, but a design may have at most 500M (lower the width, depth or resolution)"
    )
    assert str(DesignTooLarge("macs", 56 * 10**15, DESIGN)).startswith("this design has 56,000T MACs, but a design")
    assert str(DesignTooLarge("peak_memory", 3 * 2**30, DESIGN)).startswith(
        "this design has 3,072 MiB of peak activation memory, but a design may have at most 2,048 MiB"
    )


def test_a_design_too_big_to_run_is_priced_but_not_built():
    big = get_preset("mobilenet_v2").with_(width=4.0, depth=4.0, resolution=1024)
    table = analyze(big)
    assert table.params == 171_970_472 and table.params > RUN.params
    start = time.perf_counter()
    with pytest.raises(DesignTooLarge) as info:
        build(big)
    assert time.perf_counter() - start < 0.5
    assert str(info.value) == (
        "this design has 172M parameters, but a network run on this server may have at most 50M "
        "(lower the width, depth or resolution)"
    )


def test_design_limits_hold_more_than_run_limits():
    for quantity in ("blocks", "params", "macs", "peak_memory"):
        assert getattr(RUN, quantity) <= getattr(DESIGN, quantity)
