import pytest

from lwviz.blocks import BLOCKS
from lwviz.families import FAMILIES
from lwviz.families import register as register_family
from lwviz.presets import get_preset
from lwviz.presets import register as register_preset
from lwviz.registry import add


def test_every_registry_refuses_a_taken_name():
    with pytest.raises(ValueError, match="block family 'ir' is already registered"):
        register_family(FAMILIES["ir"])
    with pytest.raises(ValueError, match="preset 'mobilenet_v2' is already registered"):
        register_preset("mobilenet_v2", get_preset("mobilenet_v2"), "again")
    with pytest.raises(ValueError, match="block module 'dws' is already registered"):
        add(BLOCKS, "dws", BLOCKS["ir"], "block module")


def test_every_family_has_its_module_and_the_menu_reads_as_history():
    assert set(BLOCKS) == set(FAMILIES)
    assert list(FAMILIES) == [
        "conv",
        "fire",
        "dws",
        "shufflev1",
        "ir",
        "shuffle",
        "mbconv",
        "ghost",
        "fused",
        "mobileone",
        "uib",
    ]
