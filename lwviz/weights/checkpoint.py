"""A user's checkpoint for a spec: read safely, matched to the model, or refused with a reason.

Only tensors are read: ``.safetensors`` through the safetensors package, ``.pt``/``.pth`` through
``torch.load(weights_only=True)``, whose unpickler refuses any global outside a small allow-list,
so a pickle built to run code fails before anything runs. The format is recognised from the bytes,
not the file name, which can lie.

Nothing in a file can make reading it unpack more than ``max_bytes`` (200 MB by default), whatever
its headers claim: a ``.pt`` is a zip archive, and a 1 MB
zip of zeros can claim to unpack to 1 GB, which ``torch.load`` would allocate before noticing
anything wrong (see :func:`_unpack_zip`); a ``.safetensors`` header is checked the same way before
the safetensors package reads it (see :func:`_check_safetensors_header`). The legacy (before
PyTorch 1.6) non-zip format is handed to ``torch.load`` as it is: it reserves each storage at its
declared size but only ever writes the bytes the file holds, so what it really uses stays within
the file's size, and an impossible size fails to reserve and becomes the "damaged" message.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import safetensors.torch
import torch

from lwviz.builder import Net
from lwviz.errors import Refusal
from lwviz.i18n import N_, Phrase, listed
from lwviz.images import file_problem
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
# torch.save writes one archive member per tensor storage plus a few records; Python's zipfile keeps
# ~600 bytes per member it lists, so a file of nothing but directory entries would cost 12x its size.
MAX_ZIP_MEMBERS = 10_000
# A CNN's safetensors header is a few KB, a large language model's about 1 MB; the safetensors package
# allows 100 MB, but a JSON header parsed into objects takes several times its size.
MAX_SAFETENSORS_HEADER_BYTES = 16 * 2**20
_ZIP_MAGIC = b"PK\x03\x04"  # a local file header: how torch.load tells its zip format from a legacy pickle
_CENTRAL_DIRECTORY_ENTRY = b"PK\x01\x02"
_CHUNK = 2**20
# Bits per element of safetensors' dtypes; an unknown one counts as 8, and the package then names it.
_DTYPE_BITS = dict.fromkeys(("F4",), 4) | dict.fromkeys(("F6_E2M3", "F6_E3M2"), 6)
_DTYPE_BITS |= dict.fromkeys(("BOOL", "U8", "I8", "F8_E4M3", "F8_E4M3FNUZ", "F8_E5M2", "F8_E5M2FNUZ", "F8_E8M0"), 8)
_DTYPE_BITS |= dict.fromkeys(("I16", "U16", "F16", "BF16"), 16) | dict.fromkeys(("I32", "U32", "F32"), 32)
_DTYPE_BITS |= dict.fromkeys(("I64", "U64", "F64", "C64"), 64)
_NOT_A_CHECKPOINT = N_("not a PyTorch checkpoint (.pt/.pth) or .safetensors file, or the file is damaged")

_DOES_NOT_FIT = N_("the checkpoint does not fit {name}: {problems}")

CheckpointInput = bytes | str | os.PathLike


class CheckpointError(Refusal):
    """A checkpoint that cannot be used; the message says why in terms a person can act on."""


def read_state_dict(source: CheckpointInput, max_bytes: int = MAX_CHECKPOINT_BYTES) -> dict[str, torch.Tensor]:
    """The tensors of a ``.pt``/``.pth``/``.safetensors`` file given as bytes or a path, never unpickling code."""
    data = read_checkpoint_bytes(source, max_bytes)
    if _is_safetensors(data):
        state = _load_safetensors(data, max_bytes)
    elif data.startswith(_ZIP_MAGIC):
        state = _load_torch(_unpack_zip(data, max_bytes))
    else:
        state = _load_torch(io.BytesIO(data))
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
            raise CheckpointError(_DOES_NOT_FIT, name=model.spec.name, problems=exc) from None
    missing = [k for k in target if k not in state]
    unexpected = [k for k in state if k not in target]
    wrong_shape = [
        f"{k} {tuple(state[k].shape)} vs model {tuple(target[k].shape)}"
        for k in target
        if k in state and state[k].shape != target[k].shape
    ]
    problems = [
        Phrase(what, count=len(items), first=_first(items))
        for what, items in (
            (N_("{count} missing keys ({first})"), missing),
            (N_("{count} unexpected keys ({first})"), unexpected),
            (N_("{count} shape mismatches ({first})"), wrong_shape),
        )
        if items
    ]
    if problems:
        raise CheckpointError(_DOES_NOT_FIT, name=model.spec.name, problems=listed(problems))
    return {k: state[k] for k in target}


def load_checkpoint(spec: Spec, source: CheckpointInput, max_bytes: int = MAX_CHECKPOINT_BYTES) -> Net:
    """A model of ``spec`` with the checkpoint's weights, in eval mode."""
    data = read_checkpoint_bytes(source, max_bytes)
    return CheckpointSource(spec, data, _display_name(source), max_bytes=max_bytes).load()


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
        return Phrase("{name}, weights from {file}", name=self.spec.name, file=self.filename)

    @property
    def categories(self) -> tuple[str, ...]:
        """The given names, else :func:`~lwviz.weights.offline.class_names_for` of the design's class count."""
        return self.class_names if self.class_names is not None else class_names_for(self.spec.num_classes)

    def missing(self) -> str | None:
        return None  # the bytes are in memory

    def state_dict_for(self, model: Net, progress: DownloadProgress | None = None) -> Mapping[str, torch.Tensor]:
        return match_state_dict(read_state_dict(self.data, self.max_bytes), model)


def read_checkpoint_bytes(source: CheckpointInput, max_bytes: int = MAX_CHECKPOINT_BYTES) -> bytes:
    """The bytes of a checkpoint file (or the bytes given), refused if empty, over ``max_bytes`` or not a file."""
    if isinstance(source, bytes | bytearray | memoryview):
        _check_size(len(source), max_bytes)
        return bytes(source)
    path = Path(source)
    if problem := file_problem(path, "a checkpoint file"):
        raise CheckpointError(problem)
    _check_size(path.stat().st_size, max_bytes)
    try:
        with path.open("rb") as file:
            data = file.read(max_bytes + 1)  # no more, even if the file grew since it was measured
    except OSError as exc:
        raise CheckpointError(N_("{path}: cannot read it ({error})"), path=path, error=exc.strerror) from None
    _check_size(len(data), max_bytes)
    return data


def _check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise _too_big(N_("the checkpoint is {size} MB, more than the {limit} MB limit"), size, max_bytes)
    if size == 0:
        raise CheckpointError(N_("the checkpoint file is empty"))


def _too_big(message: str, size: float, max_bytes: int) -> CheckpointError:
    """``message`` with its ``{size}`` and ``{limit}`` in MB."""
    return CheckpointError(message, size=f"{size / 2**20:.1f}", limit=f"{max_bytes / 2**20:.0f}")


def _display_name(source: CheckpointInput) -> str:
    return "checkpoint" if isinstance(source, bytes | bytearray | memoryview) else Path(source).name


def _is_safetensors(data: bytes) -> bool:
    """safetensors: an 8-byte little-endian header length, then that many bytes of JSON."""
    header = int.from_bytes(data[:8], "little")
    return len(data) > 8 and 0 < header <= len(data) - 8 and data[8:9] == b"{"


def _load_safetensors(data: bytes, max_bytes: int) -> dict[str, torch.Tensor]:
    _check_safetensors_header(data, max_bytes)
    try:
        return safetensors.torch.load(data)
    except Exception as exc:  # the Rust decoder's SafetensorError, or a dtype torch lacks
        raise CheckpointError(N_("not a valid safetensors file: {detail}"), detail=exc) from None


def _check_safetensors_header(data: bytes, max_bytes: int) -> None:
    """Refuse a header whose tensors lie outside the file or add up to more than ``max_bytes``.

    The header is an 8-byte length, then JSON ``{name: {"dtype", "shape", "data_offsets": [start, end]}}``
    with offsets into the bytes after it. The safetensors package checks the same before it copies any
    tensor, but only after parsing a header of up to 100 MB; reading the numbers here first keeps the
    limits ours, and the header small enough that parsing it is cheap.
    """
    length = int.from_bytes(data[:8], "little")
    if length > MAX_SAFETENSORS_HEADER_BYTES:
        raise _too_big(
            N_(
                "the safetensors header is {size} MB, more than the {limit} MB limit; a checkpoint of tensors "
                "needs far less, so the file is damaged"
            ),
            length,
            MAX_SAFETENSORS_HEADER_BYTES,
        )
    try:
        header = json.loads(data[8 : 8 + length])
    except (ValueError, RecursionError) as exc:  # also bad UTF-8 and numbers of thousands of digits
        raise CheckpointError(
            N_("not a valid safetensors file: its header is not JSON ({detail})"), detail=exc
        ) from None
    if not isinstance(header, dict):
        raise CheckpointError(N_("not a valid safetensors file: its header is not a JSON object"))
    room, total = len(data) - 8 - length, 0
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        try:
            start, end = entry["data_offsets"]
            shape, bits = entry["shape"], _DTYPE_BITS.get(entry["dtype"], 8)
            valid = all(isinstance(n, int) and 0 <= n < 2**63 for n in (start, end, *shape))
        except (TypeError, KeyError, ValueError):
            valid = False
        if not valid:
            raise CheckpointError(
                N_("not a valid safetensors file: the header's entry for {name} is malformed"), name=repr(name[:80])
            )
        if not start <= end <= room:
            raise CheckpointError(
                N_(
                    "not a valid safetensors file: tensor {name} lies beyond the end of the file "
                    "(it is truncated or damaged)"
                ),
                name=repr(name[:80]),
            )
        total += max(end - start, _tensor_bytes(shape, bits))
    if total > max_bytes:
        raise _too_big(N_("the checkpoint's tensors take {size} MB, more than the {limit} MB limit"), total, max_bytes)


def _tensor_bytes(shape: list[int], bits: int) -> int:
    """Bytes of a tensor of ``shape``; past 2**64 the count stops growing: it is too big either way, and
    multiplying on would let a long shape of huge numbers take any time."""
    if 0 in shape:
        return 0
    size = bits
    for dim in shape:
        size *= dim
        if size > 2**67:
            break
    return size // 8


def _unpack_zip(data: bytes, max_bytes: int) -> io.BytesIO:
    """The archive rebuilt from what its members really unpack to, refused beyond ``max_bytes`` in all.

    torch.load allocates each member at the size the zip's central directory declares, so 1 GB of zeros
    deflated into a 1 MB file costs 1 GB before it fails. The declared sizes are summed first, which
    refuses such a file at once. But the directory can lie, and Python's zipfile finds it by its size
    while torch's zip reader (miniz) finds it by its offset, so one file can show each reader a different
    directory: checking with one reader and loading with the other is not safe. So each member is
    streamed through zipfile in 1 MB chunks, counting what it really yields and stopping at the limit,
    into a new uncompressed archive, and torch.load reads that: it sees only bytes that were counted.
    A member that holds more or less than declared fails zipfile's own size and CRC checks as damaged.
    The copy costs up to ``max_bytes`` more memory while torch.load reads it.
    """
    if data.count(_CENTRAL_DIRECTORY_ENTRY) > MAX_ZIP_MEMBERS:  # before zipfile lists them all
        raise CheckpointError(
            N_(
                "the checkpoint is a zip archive of more than {count} files; a PyTorch checkpoint "
                "holds one per tensor, so this is not one"
            ),
            count=MAX_ZIP_MEMBERS,
        )
    unpacked = io.BytesIO()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as packed, zipfile.ZipFile(unpacked, "w") as out:
            members = packed.infolist()
            declared = sum(member.file_size for member in members)
            if declared > max_bytes:
                raise _too_big(
                    N_("the checkpoint unpacks to {size} MB, more than the {limit} MB limit"), declared, max_bytes
                )
            total, zip64 = 0, max_bytes >= zipfile.ZIP64_LIMIT  # zipfile must know up front if a member may pass 2 GB
            for member in members:
                with packed.open(member) as src, out.open(member.filename, "w", force_zip64=zip64) as dst:
                    while chunk := src.read(_CHUNK):
                        total += len(chunk)
                        if total > max_bytes:
                            raise CheckpointError(
                                N_("the checkpoint unpacks to more than the {limit} MB limit"),
                                limit=f"{max_bytes / 2**20:.0f}",
                            )
                        dst.write(chunk)
    except CheckpointError:
        raise
    except Exception:  # BadZipFile, bad CRC, encryption, unknown compression, truncated streams...
        raise CheckpointError(_NOT_A_CHECKPOINT) from None
    unpacked.seek(0)
    return unpacked


def _load_torch(file: io.BytesIO) -> dict:
    try:
        return torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError, KeyError, EOFError... for bad bytes
        if blocked := _BLOCKED_GLOBAL.search(str(exc)):
            raise CheckpointError(
                N_(
                    "refused: the file is a pickle that asks to import {name}, which could run code; "
                    "only state_dicts of tensors are accepted (save one with torch.save(model.state_dict(), path) "
                    "or as .safetensors)"
                ),
                name=blocked.group(1),
            ) from None
        raise CheckpointError(_NOT_A_CHECKPOINT) from None


def _unwrap(state) -> dict[str, torch.Tensor]:
    """The tensor dict itself, or the one under a training script's ``state_dict``/``model`` key."""
    if isinstance(state, Mapping) and not _all_tensors(state):
        state = next((state[k] for k in _WRAPPER_KEYS if isinstance(state.get(k), Mapping)), state)
    if not isinstance(state, Mapping) or not state or not _all_tensors(state):
        raise CheckpointError(N_("the file holds no state_dict: expected a mapping of parameter names to tensors"))
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
