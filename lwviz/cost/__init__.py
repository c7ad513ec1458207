"""Cost of a network: analytic from the spec, or traced from a real forward pass."""
from lwviz.cost.analytic import CostTable, LayerCost, OpCost, analyze, dws_theory_ratio
from lwviz.cost.tracer import TracedOp, flop_counter_macs, group, trace

__all__ = ["CostTable", "LayerCost", "OpCost", "analyze", "dws_theory_ratio", "TracedOp", "flop_counter_macs",
           "group", "trace"]
