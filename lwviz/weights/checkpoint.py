"""A user's checkpoint for a spec: read safely, matched to the model, or refused with a reason.

Only tensors are read: ``.safetensors`` through the safetensors package, ``.pt``/``.pth`` through
``torch.load(weights_only=True)``, whose unpickler refuses any global outside a small allow-list,
so a pickle built to run code fails before anything runs. The format is recognised from the bytes,
not the file name, which can lie.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import safetensors.torch
import torch

from lwviz.builder import Net
from lwviz.spec import Spec
from lwviz.weights.base import DownloadProgress, WeightSource
from lwviz.weights.convert import convert_state_dict
from lwviz.weights.offline import class_names_for
from lwviz.weights.preprocess import TORCHVISION_PREPROCESS, Preprocess

MAX_CHECKPOINT_BYTES = 200 * 2**20
SHOWN_MISMATCHES = 3
# Training scripts often save {"state_dict": ..., "optimizer": ..., "epoch": ...}.
_WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "net")
_BLOCKED_GLOBAL = re.compile(r"GLOBAL (\S+)")

CheckpointInput = bytes | str | os.PathLike


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message says why in terms a person can act on."""


def read_state_dict(source: CheckpointInput, max_bytes: int = MAX_CHECKPOINT_BYTES) -> dict[str, torch.Tensor]:
    """The tensors of a ``.pt``/``.pth``/``.safetensors`` file given as bytes or a path, never unpickling code."""
    data = _read_bytes(source, max_bytes)
    state = _load_safetensors(data) if _is_safetensors(data) else _load_torch(data)
    return _unwrap(state)


def match_state_dict(state: Mapping[str, torch.Tensor], model: Net) -> dict[str, torch.Tensor]:
    """``state`` keyed like ``model``: by name (a builder checkpoint) or by position (a torchvision one)."""
    target = model.state_dict()
    state = _strip_prefix(state, "module.")  # saved from nn.DataParallel / DistributedDataParallel
    shared = target.keys() & state.keys()
    if not shared:
        try:
            return convert_state_dict(state, model)
        except ValueError as exc:
            raise CheckpointError(f"the checkpoint does not fit {model.spec.name}: {exc}") from None
    missing = [k for k in target if k not in state]
    unexpected = [k for k in state if k not in target]
    wrong_shape = [
        f"{k} {tuple(state[k].shape)} vs model {tuple(target[k].shape)}"
        for k in target
        if k in state and state[k].shape != target[k].shape
    ]
    problems = [
        f"{len(items)} {what} ({_first(items)})"
        for what, items in (
            ("missing keys", missing),
            ("unexpected keys", unexpected),
            ("shape mismatches", wrong_shape),
        )
        if items
    ]
    if problems:
        raise CheckpointError(f"the checkpoint does not fit {model.spec.name}: " + "; ".join(problems))
    return {k: state[k] for k in target}


def load_checkpoint(spec: Spec, source: CheckpointInput, max_bytes: int = MAX_CHECKPOINT_BYTES) -> Net:
    """A model of ``spec`` with the checkpoint's weights, in eval mode."""
    return CheckpointSource(spec, _read_bytes(source, max_bytes), _display_name(source), max_bytes=max_bytes).load()


@dataclass(frozen=True)
class CheckpointSource(WeightSource):
    """A user's checkpoint for ``spec``; ImageNet preprocessing and class names unless told otherwise."""

    spec: Spec
    data: bytes = field(repr=False)
    filename: str = "checkpoint"
    preprocess: Preprocess = TORCHVISION_PREPROCESS
    class_names: tuple[str, ...] | None = None
    max_bytes: int = MAX_CHECKPOINT_BYTES
    top1 = None

    @property
    def name(self) -> str:
        return f"{self.spec.name}:checkpoint:{self.filename}"

    @property
    def label(self) -> str:
        return f"{self.spec.name}, weights from {self.filename}"

    @property
    def categories(self) -> tuple[str, ...]:
        """The given names, else :func:`~lwviz.weights.offline.class_names_for` of the design's class count."""
        return self.class_names if self.class_names is not None else class_names_for(self.spec.num_classes)

    def missing(self) -> str | None:
        return None  # the bytes are in memory

    def state_dict_for(self, model: Net, progress: DownloadProgress | None = None) -> Mapping[str, torch.Tensor]:
        return match_state_dict(read_state_dict(self.data, self.max_bytes), model)


def _read_bytes(source: CheckpointInput, max_bytes: int) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        size = len(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise CheckpointError(f"{path}: no such file")
        size = path.stat().st_size
    if size > max_bytes:
        raise CheckpointError(
            f"the checkpoint is {size / 2**20:.1f} MB, more than the {max_bytes / 2**20:.0f} MB limit"
        )
    if size == 0:
        raise CheckpointError("the checkpoint file is empty")
    return bytes(source) if isinstance(source, bytes | bytearray | memoryview) else Path(source).read_bytes()


def _display_name(source: CheckpointInput) -> str:
    return "checkpoint" if isinstance(source, bytes | bytearray | memoryview) else Path(source).name


def _is_safetensors(data: bytes) -> bool:
    """safetensors: an 8-byte little-endian header length, then that many bytes of JSON."""
    header = int.from_bytes(data[:8], "little")
    return len(data) > 8 and 0 < header <= len(data) - 8 and data[8:9] == b"{"


def _load_safetensors(data: bytes) -> dict[str, torch.Tensor]:
    try:
        return safetensors.torch.load(data)
    except Exception as exc:  # the Rust decoder's SafetensorError, or a dtype torch lacks
        raise CheckpointError(f"not a valid safetensors file: {exc}") from None


def _load_torch(data: bytes) -> dict:
    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError, KeyError, EOFError... for bad bytes
        if blocked := _BLOCKED_GLOBAL.search(str(exc)):
            raise CheckpointError(
                f"refused: the file is a pickle that asks to import {blocked.group(1)}, which could run code; "
                "only state_dicts of tensors are accepted (save one with torch.save(model.state_dict(), path) "
                "or as .safetensors)"
            ) from None
        raise CheckpointError(
            "not a PyTorch checkpoint (.pt/.pth) or .safetensors file, or the file is damaged"
        ) from None


def _unwrap(state) -> dict[str, torch.Tensor]:
    """The tensor dict itself, or the one under a training script's ``state_dict``/``model`` key."""
    if isinstance(state, Mapping) and not _all_tensors(state):
        state = next((state[k] for k in _WRAPPER_KEYS if isinstance(state.get(k), Mapping)), state)
    if not isinstance(state, Mapping) or not state or not _all_tensors(state):
        raise CheckpointError("the file holds no state_dict: expected a mapping of parameter names to tensors")
    return dict(state)


def _all_tensors(state: Mapping) -> bool:
    return all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items())


def _strip_prefix(state: Mapping[str, torch.Tensor], prefix: str) -> Mapping[str, torch.Tensor]:
    if state and all(k.startswith(prefix) for k in state):
        return {k[len(prefix) :]: v for k, v in state.items()}
    return state


def _first(items: list[str]) -> str:
    shown = ", ".join(items[:SHOWN_MISMATCHES])
    return shown + (", ..." if len(items) > SHOWN_MISMATCHES else "")
