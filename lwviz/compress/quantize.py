"""int8 post-training quantization of builder models: static (weights and activations) and dynamic.

Eager-mode ``torch.ao.quantization`` swaps modules, so every op must be a module: the blocks make
residual adds, concatenations and the SE multiply ``FloatFunctional`` modules. The rest happens
on a copy of the model, one concern per module:

* ``quantize_padding``: TF-"same" convolutions become plain ones with symmetric padding; their
  padding depends on the input size, so a quantized model is made for one resolution.
* ``quantize_fusion``: Conv + BN fold into one convolution, and a ReLU into it; a ReLU6's int8
  range is fixed to [0, 6] instead of observed.
* ``quantize_calibration``: the photos the activation ranges come from, and the bias correction
  (each bias absorbs the mean error its layer's rounded weights add).
* ``quantize_engines``: each layer's weights are packed for the engine whose kernel runs it fastest here.
* ``quantize_trace``: the finished network as one TorchScript graph, what the app runs.

Activations eager int8 has no kernel for (SiLU) run in float between a dequantize and a quantize;
``Int8Net.float_layers`` names them, so students can see what stayed float. What each step buys
is in docs/BENCHMARKS.md (compress). Moving to torchao's pt2e flow stays inside these modules:
``quantize_int8`` is the interface.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Iterable
from functools import partial

import torch
import torch.ao.quantization as tq
from torch import nn

from lwviz.compress.quantize_calibration import correct_bias, input_means
from lwviz.compress.quantize_engines import QCONFIG_OF_ENGINE, RUN_THREADS, engines_to_pack, pack_fastest, packing_for
from lwviz.compress.quantize_fusion import clamped_qconfig, fuse
from lwviz.compress.quantize_padding import fix_same_padding
from lwviz.errors import Refusal
from lwviz.hooks import forward_hooks
from lwviz.i18n import N_, Phrase
from lwviz.layers.activations import ACTIVATION_LAYERS
from lwviz.layers.se import SE_GATES
from lwviz.perf import num_threads

# Activations and gates that run on int8 tensors in eager mode: swapped for a quantized module
# (Hardswish), folded into the convolution before them (ReLU, ReLU6), or with a quantized kernel of
# their own (ReLU, sigmoids: a fixed output range of [0, 1)). The other activations of the layer
# registries run in float.
INT8_ACTIVATIONS = (nn.Identity, nn.ReLU, nn.ReLU6, nn.Hardswish, nn.Hardsigmoid, nn.Sigmoid)
FLOAT_ONLY = tuple(
    sorted({*ACTIVATION_LAYERS.values(), *SE_GATES.values()} - set(INT8_ACTIVATIONS), key=lambda t: t.__name__)
)


class QuantizationUnsupported(Refusal):
    """The network has a layer eager-mode int8 cannot run; the message names it."""


class FloatOp(nn.Module):
    """One module of an int8 network that runs in float: dequantize, the module, quantize again."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.dequant = tq.DeQuantStub()
        self.module = module
        self.module.qconfig = None  # left as it is by prepare and convert
        self.quant = tq.QuantStub()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.quant(self.module(self.dequant(x)))


class Int8Net(tq.QuantWrapper):
    """What ``quantize_int8`` returns: quantize, the int8 network (``module``), dequantize.

    ``float_layers`` names the layers that stayed float (``FloatOp``); ``packed_for`` maps every
    int8 convolution and linear layer to the quantized engine its weights are packed for. Names
    are the float model's.
    """

    float_layers: tuple[str, ...]
    packed_for: dict[str, str]

    def __init__(self, module: nn.Module, float_layers: tuple[str, ...]):
        super().__init__(module)
        self.float_layers = float_layers
        self.packed_for = {}


def quantize_int8(
    model: nn.Module, calibration: torch.Tensor | Iterable[torch.Tensor], engine: str | None = None
) -> Int8Net:
    """An int8 copy of eval-mode ``model`` (which is left untouched) for inputs shaped like ``calibration``.

    ``calibration`` is a batch (or batches) of preprocessed images; the observers set each
    activation's int8 range from them. ``engine`` is the ``torch.backends.quantized`` engine the
    weights are packed for; by default each layer gets the fastest of ``TUNED_ENGINES``, timed on
    one thread (the camera page's), or ``default_engine()`` where none of those exist.
    """
    if model.training:
        raise ValueError("model: it is in training mode; quantize an eval() model")
    batches = [calibration] if isinstance(calibration, torch.Tensor) else list(calibration)
    example = batches[0][:1]
    observed = prepare_int8(model, example, engine)
    correct_bias(input_means(observed, batches))
    return convert_int8(observed, example, engine)


def prepare_int8(model: nn.Module, example: torch.Tensor, engine: str | None = None, qat: bool = False) -> Int8Net:
    """A copy of ``model`` ready to be made int8: fused, wrapped, with observers (or, for ``qat``, fake quantization).

    With ``qat`` the copy is in training mode: every convolution and activation rounds to int8 in
    the forward pass while gradients flow as if it did not (straight-through), so training it
    teaches the weights to live with int8. Otherwise it is in eval mode and its observers
    record activation ranges from the pictures run through it. ``convert_int8`` finishes either.
    """
    engines = engines_to_pack(engine)
    q = copy.deepcopy(model).train(qat)
    fix_same_padding(q, example)
    with warnings.catch_warnings():  # eager mode is deprecated in favour of pt2e; it still works (see above)
        warnings.simplefilter("ignore")
        qconfig = (tq.get_default_qat_qconfig if qat else tq.get_default_qconfig)(QCONFIG_OF_ENGINE[engines[0]])
        fuse(q, clamped_qconfig(qconfig, 0.0, 6.0), qat)
        wrapped = Int8Net(q, _run_in_float(q)).train(qat)
        wrapped.qconfig = qconfig
        (tq.prepare_qat if qat else tq.prepare)(wrapped, inplace=True)
    return wrapped


def convert_int8(prepared: Int8Net, example: torch.Tensor, engine: str | None = None) -> Int8Net:
    """``prepared`` (from ``prepare_int8``, calibrated or trained) turned into int8 modules, in place, in eval mode."""
    engines = engines_to_pack(engine)
    prepared.eval()
    with warnings.catch_warnings(), packing_for(engines[0]):
        warnings.simplefilter("ignore")
        tq.convert(prepared, inplace=True)
    _check_runs(prepared, example)
    prepared.packed_for = pack_fastest(prepared, example, engines)
    return prepared


def quantize_dynamic_int8(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with dynamic int8 quantization: int8 weights for ``nn.Linear`` layers only.

    Dynamic quantization stores Linear weights in int8 and quantizes each activation on the fly,
    which is what makes LSTMs and transformers (almost all Linear) small and fast. A CNN's weights
    and time are in its convolutions, which it leaves in float: MobileNets and EfficientNets
    barely shrink (only the classifier does) and run no faster. That is the lesson it teaches.
    """
    with warnings.catch_warnings():  # eager mode is deprecated in favour of pt2e; it still works (see above)
        warnings.simplefilter("ignore")
        return tq.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)


def _check_runs(model: nn.Module, example: torch.Tensor) -> None:
    """Run once; on failure name the innermost module that did not finish (the op int8 lacks is in it)."""
    running: list[tuple[str, nn.Module]] = []

    def enter(name: str, module: nn.Module, _args: tuple) -> None:
        running.append((name, module))

    def leave(_module: nn.Module, _args: tuple, _output: object) -> None:
        running.pop()

    modules = list(model.named_modules())
    hooks = forward_hooks(pre=[(m, partial(enter, name)) for name, m in modules], post=[(m, leave) for _, m in modules])
    try:
        with hooks, num_threads(RUN_THREADS), torch.inference_mode():
            model(example)
    except (NotImplementedError, RuntimeError) as exc:
        name, module = running[-1] if running else ("", model)
        first = str(exc).strip().splitlines()[0].split(". ")[0]
        raise QuantizationUnsupported(
            N_("int8 (eager mode) cannot run {layer} ({kind}): {error}"),
            layer=name.removeprefix("module.") or Phrase("the network"),
            kind=type(module).__name__,
            error=first,
        ) from None


def _run_in_float(model: nn.Module) -> tuple[str, ...]:
    """Wrap every ``FLOAT_ONLY`` module of ``model`` in a ``FloatOp``; their names."""
    names = tuple(name for name, m in model.named_modules() if isinstance(m, FLOAT_ONLY))
    for name in names:
        parent, _, attr = name.rpartition(".")
        setattr(model.get_submodule(parent), attr, FloatOp(model.get_submodule(name)))
    return names
