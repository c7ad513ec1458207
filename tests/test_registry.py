import pytest

from lwviz.blocks import FAMILIES, register as register_family
from lwviz.cost.analytic import formula
from lwviz.presets import get_preset, register as register_preset


def test_every_registry_refuses_a_taken_name():
    with pytest.raises(ValueError, match="block family 'ir' is already registered"):
        register_family(FAMILIES["ir"])
    with pytest.raises(ValueError, match="preset 'mobilenet_v2' is already registered"):
        register_preset("mobilenet_v2", get_preset("mobilenet_v2"), "again")
    with pytest.raises(ValueError, match="cost formula 'dws' is already registered"):
        formula("dws")(lambda args: [])
