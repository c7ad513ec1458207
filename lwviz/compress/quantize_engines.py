"""Which quantized engine's kernels run each int8 layer: the process-wide engine while weights are packed, and
per layer the faster of oneDNN and fbgemm, picked by timing both on the layer's own input.

Which kernel wins depends on the layer's shape: oneDNN's on the large early feature maps, fbgemm's on the
depthwise convolutions of small maps, the 1x1-pixel SE convolutions and the batch-1 classifier
(docs/BENCHMARKS.md, compress). The engines' outputs differ by one int8 step in about one value in a
million: enough to flip a photo on which float's top two classes nearly tie.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

import torch
from torch import nn
from torch.ao.nn import quantized as nnq

from lwviz.hooks import forward_hooks
from lwviz.perf import num_threads
from lwviz.timing import median_ms

# engine -> the qconfig its int8 weights are prepared with. oneDNN's own default quantizes activations
# to the full 8 bits, which overflows its dense kernels on CPUs without VNNI (accuracy collapses);
# x86's 7-bit activations are accurate everywhere (the fbgemm qconfig is the same).
QCONFIG_OF_ENGINE = {"onednn": "x86", "x86": "x86", "fbgemm": "x86", "qnnpack": "qnnpack"}
PREFERRED_ENGINES = ("onednn", "x86", "fbgemm", "qnnpack")
# With no engine asked for, each layer is packed for the faster of these (they share the x86 qconfig).
TUNED_ENGINES = ("onednn", "fbgemm")
_ENGINE_LOCK = threading.Lock()  # the engine is process-wide; it matters while weights are packed
RUN_THREADS = 1  # int8 models run on one thread here: the camera's frame path (its DEFAULT_THREADS), the measurements
GIVE_UP_FACTOR = 3  # an engine 3x slower than the best so far on a layer is not timed to the end


def default_engine() -> str:
    supported = torch.backends.quantized.supported_engines
    return next(e for e in PREFERRED_ENGINES if e in supported)


def engines_to_pack(engine: str | None) -> tuple[str, ...]:
    """The engines to pack for: ``engine`` when given (it must exist here), else those of ``TUNED_ENGINES`` here."""
    supported = torch.backends.quantized.supported_engines
    if engine is not None and engine not in supported:
        raise ValueError(f"engine: {engine!r} is not supported here; choose one of {', '.join(supported)}")
    return (engine,) if engine else tuple(e for e in TUNED_ENGINES if e in supported) or (default_engine(),)


@contextmanager
def packing_for(engine: str) -> Iterator[None]:
    """Make ``engine`` the process-wide quantized engine while weights are packed, then restore it."""
    with _ENGINE_LOCK:
        before = torch.backends.quantized.engine
        torch.backends.quantized.engine = engine
        try:
            yield
        finally:
            torch.backends.quantized.engine = before


def pack_fastest(model: nn.Module, example: torch.Tensor, engines: tuple[str, ...]) -> dict[str, str]:
    """Pack each int8 conv and linear layer for whichever of ``engines`` runs it fastest; layer -> engine.

    Each layer is timed on the input ``example`` gives it, on one thread. An engine far slower than
    the best so far stops being timed (fbgemm's generic kernel can take a hundred times oneDNN's).

    oneDNN sets a kernel up on its first call for that call's thread count and keeps it (a layer
    first run on two threads stayed slower on one), so every first call here is on one thread.
    Names are without the ``Int8Net``'s ``module.`` prefix: the float model's.
    """
    layers = {name: m for name, m in model.named_modules() if isinstance(m, (nnq.Conv2d, nnq.Linear))}
    if len(engines) == 1:  # packed for it by convert()
        return {name.removeprefix("module."): engines[0] for name in layers}
    inputs = _layer_inputs(model, example, layers)
    packed_for = {}
    with num_threads(RUN_THREADS), torch.inference_mode():
        for name, layer in layers.items():
            weight, bias = layer.weight(), layer.bias()
            timed: dict[str, float] = {}
            for engine in engines:
                with packing_for(engine):
                    layer.set_weight_bias(weight, bias)
                timed[engine] = median_ms(
                    partial(layer, inputs[name]),
                    runs=5,
                    warmup=1,
                    give_up_above_ms=GIVE_UP_FACTOR * min(timed.values(), default=math.inf),
                )
            packed_for[name.removeprefix("module.")] = best = min(timed, key=timed.get)
            if best != engines[-1]:
                with packing_for(best):
                    layer.set_weight_bias(weight, bias)
                layer(inputs[name])  # the first call, on one thread
    return packed_for


def _layer_inputs(model: nn.Module, example: torch.Tensor, layers: dict[str, nn.Module]) -> dict[str, torch.Tensor]:
    """The input each of ``layers`` receives when ``model`` runs ``example`` (on one thread)."""
    inputs: dict[str, torch.Tensor] = {}

    def keep(name: str, _module: nn.Module, args: tuple) -> None:
        inputs[name] = args[0]

    with (
        forward_hooks(pre=[(m, partial(keep, name)) for name, m in layers.items()]),
        num_threads(RUN_THREADS),
        torch.inference_mode(),
    ):
        model(example)
    return inputs
