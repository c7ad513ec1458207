"""int8 post-training static quantization of builder models, behind one function.

Eager-mode ``torch.ao.quantization`` swaps modules, so every op must be a module: the blocks
already make residual adds and concatenations ``FloatFunctional`` modules. The rest happens here,
on a copy: Conv + BN (+ ReLU) fused into one op, quant/dequant stubs around the network, and
TF-"same" convolutions turned into a fixed zero pad plus a plain convolution (their padding
depends on the input size, so a quantized model is made for one resolution). What eager mode
cannot run (the SE block's multiply, SiLU) raises ``QuantizationUnsupported`` naming the layer;
moving to torchao's pt2e flow, which can, stays inside this file.
"""
from __future__ import annotations

import copy
import math
import threading
import warnings
from collections.abc import Iterable

import numpy as np
import torch
import torch.ao.quantization as tq
from torch import nn

from lwviz.layers.conv import Conv2dSame, ConvNormAct
from lwviz.weights.preprocess import Preprocess

# skimage's bundled photos (no download): colour and grey, natural and microscopy, for activation ranges
CALIBRATION_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry",
                      "retina", "camera", "brick", "grass", "gravel", "moon", "clock", "coins")


# engine -> the qconfig its int8 weights are prepared with. oneDNN's own default quantizes activations
# to the full 8 bits, which overflows on CPUs without VNNI (accuracy collapses); x86's halves the
# range and is accurate everywhere. oneDNN packing runs Lite0's 5x5 depthwise convs 5x faster than
# fbgemm's (19 vs 96 ms here) and matches it on 3x3 networks, so it is preferred where it exists.
QCONFIG_OF_ENGINE = {"onednn": "x86", "x86": "x86", "fbgemm": "fbgemm", "qnnpack": "qnnpack"}
PREFERRED_ENGINES = ("onednn", "x86", "fbgemm", "qnnpack")
_ENGINE_LOCK = threading.Lock()  # the engine is process-wide; it matters while weights are packed


def default_engine() -> str:
    supported = torch.backends.quantized.supported_engines
    return next(e for e in PREFERRED_ENGINES if e in supported)


class QuantizationUnsupported(ValueError):
    """The network has a layer eager-mode int8 cannot run; the message names it."""


def calibration_images(preprocess: Preprocess) -> torch.Tensor:
    """skimage's sample photos and their mirror images, preprocessed: ``[28, 3, crop, crop]``."""
    import skimage.data

    batch = []
    for name in CALIBRATION_PHOTOS:
        photo = getattr(skimage.data, name)()
        rgb = np.ascontiguousarray(np.repeat(photo[..., None], 3, axis=2) if photo.ndim == 2 else photo[..., :3])
        batch += [preprocess(rgb), preprocess(np.ascontiguousarray(rgb[:, ::-1]))]
    return torch.cat(batch)


def quantize_int8(model: nn.Module, calibration: torch.Tensor | Iterable[torch.Tensor],
                  engine: str | None = None) -> nn.Module:
    """An int8 copy of eval-mode ``model`` (which is left untouched) for inputs shaped like ``calibration``.

    ``calibration`` is a batch (or batches) of preprocessed images; the observers set each
    activation's int8 range from them. ``engine`` is the ``torch.backends.quantized`` engine the
    weights are packed for (default: ``default_engine()``).
    """
    if model.training:
        raise ValueError("model: it is in training mode; quantize an eval() model")
    batches = [calibration] if isinstance(calibration, torch.Tensor) else list(calibration)
    engine = engine or default_engine()
    if engine not in torch.backends.quantized.supported_engines:
        raise ValueError(f"engine: {engine!r} is not supported here; choose one of "
                         f"{', '.join(torch.backends.quantized.supported_engines)}")
    q = copy.deepcopy(model)
    _fix_same_padding(q, batches[0][:1])
    _fuse(q)
    wrapped = tq.QuantWrapper(q).eval()
    with warnings.catch_warnings():  # eager mode is deprecated in favour of pt2e; it still works (see above)
        warnings.simplefilter("ignore")
        wrapped.qconfig = tq.get_default_qconfig(QCONFIG_OF_ENGINE[engine])
        tq.prepare(wrapped, inplace=True)
        with torch.no_grad():
            for batch in batches:
                wrapped(batch)
        with _ENGINE_LOCK:
            before = torch.backends.quantized.engine
            torch.backends.quantized.engine = engine
            try:
                tq.convert(wrapped, inplace=True)
            finally:
                torch.backends.quantized.engine = before
    _check_runs(wrapped, batches[0][:1])
    return wrapped


def _check_runs(model: nn.Module, example: torch.Tensor) -> None:
    """Run once; on failure name the innermost module that did not finish (the op int8 lacks is in it)."""
    running: list[tuple[str, nn.Module]] = []

    def enter(name: str):
        def hook(module, _args) -> None:
            running.append((name, module))
        return hook

    def leave(_module, _args, _output) -> None:
        running.pop()

    hooks = []
    for name, m in model.named_modules():
        hooks += [m.register_forward_pre_hook(enter(name)), m.register_forward_hook(leave)]
    try:
        with torch.inference_mode():
            model(example)
    except (NotImplementedError, RuntimeError) as exc:
        name, module = running[-1] if running else ("", model)
        where = f"{name.removeprefix('module.') or 'the network'} ({type(module).__name__})"
        first = str(exc).strip().splitlines()[0].split(". ")[0]
        raise QuantizationUnsupported(f"int8 (eager mode) cannot run {where}: {first}") from None
    finally:
        for hook in hooks:
            hook.remove()


def _fix_same_padding(model: nn.Module, example: torch.Tensor) -> None:
    """Replace every ``Conv2dSame`` by ``ZeroPad2d`` + ``Conv2d`` with the padding it used on ``example``."""
    sizes: dict[str, tuple[int, int]] = {}

    def record(name: str):
        def hook(_module, args) -> None:
            sizes[name] = args[0].shape[-2:]
        return hook

    hooks = [m.register_forward_pre_hook(record(name)) for name, m in model.named_modules()
             if isinstance(m, Conv2dSame)]
    try:
        with torch.no_grad():
            model(example)
    finally:
        for hook in hooks:
            hook.remove()
    for name, same in list(model.named_modules()):
        if not isinstance(same, Conv2dSame):
            continue
        pads = []
        for size, k, s in zip(reversed(sizes[name]), reversed(same.kernel_size), reversed(same.stride)):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        plain = nn.Conv2d(same.in_channels, same.out_channels, same.kernel_size, same.stride, 0, same.dilation,
                          same.groups, same.bias is not None)
        plain.load_state_dict(same.state_dict())
        parent, _, attr = name.rpartition(".")
        setattr(model.get_submodule(parent), attr, nn.Sequential(nn.ZeroPad2d(pads), plain).train(same.training))


def _fuse(model: nn.Module) -> None:
    """Conv + BN (+ ReLU) of every ``ConvNormAct`` into one module, as the int8 kernels expect."""
    groups = []
    for name, m in model.named_modules():
        if isinstance(m, ConvNormAct) and isinstance(m.bn, nn.BatchNorm2d):
            conv = f"{name}.conv.1" if isinstance(m.conv, nn.Sequential) else f"{name}.conv"
            groups.append([conv, f"{name}.bn"] + ([f"{name}.act"] if type(m.act) is nn.ReLU else []))
    if groups:
        tq.fuse_modules(model, groups, inplace=True)
