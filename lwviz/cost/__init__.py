"""Cost of a network, analytic from the spec (this package's import, torch-free); ``lwviz.cost.tracer`` measures
the same from a real forward pass and ``lwviz.cost.latency`` times it."""

from lwviz.cost.analytic import CostTable, LayerCost, analyze, dws_theory_ratio

__all__ = ["CostTable", "LayerCost", "analyze", "dws_theory_ratio"]
