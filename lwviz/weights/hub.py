"""torchvision's pretrained ImageNet weights, downloaded once into torch's hub cache and converted.

The cache is ``torch.hub.get_dir()/checkpoints`` (``$TORCH_HOME/hub/checkpoints``) with torchvision's
file names, so a cache filled by ``torchvision.models.mobilenet_v2(weights="DEFAULT")`` is found
here and the other way round. The download is our own chunked loop only so that a progress bar
can follow it; like ``torch.hub`` it checks the SHA-256 prefix in the file name and writes to a
temporary file first, so a broken download never leaves a corrupt cache behind.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from urllib.error import URLError
from urllib.parse import urlparse
from urllib.request import Request, urlopen

import torch
import torchvision.models as tvm
from torch.hub import HASH_REGEX
from torchvision.models import WeightsEnum

from lwviz.builder import Net
from lwviz.i18n import N_, Phrase
from lwviz.presets import PRESETS, get_preset
from lwviz.spec import Spec
from lwviz.weights.base import DownloadProgress, WeightSource, WeightsUnavailable
from lwviz.weights.convert import convert_state_dict
from lwviz.weights.preprocess import Preprocess

CHUNK_BYTES = 1 << 16
TIMEOUT_S = 30.0


def hub_checkpoints_dir() -> Path:
    """Where torch.hub keeps downloaded weights; follows ``TORCH_HOME`` and ``torch.hub.set_dir``."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def download(url: str, dst: Path, progress: DownloadProgress | None = None, timeout: float = TIMEOUT_S) -> None:
    """Fetch ``url`` into ``dst`` atomically, checking the hash prefix in ``dst``'s name if it has one.

    Raises ``OSError`` (``URLError`` included) or ``HTTPException`` when the network fails and
    ``ValueError`` when the bytes are not the expected file; ``dst`` is untouched in every failure.
    """
    match = HASH_REGEX.search(dst.name)
    dst.parent.mkdir(parents=True, exist_ok=True)
    partial = dst.with_name(f"{dst.name}.{uuid.uuid4().hex}.partial")
    sha256 = hashlib.sha256()
    try:
        with (
            urlopen(Request(url, headers={"User-Agent": "lwviz"}), timeout=timeout) as response,
            open(partial, "wb") as out,
        ):
            total = int(response.headers.get("Content-Length") or 0) or None
            done = 0
            while chunk := response.read(CHUNK_BYTES):
                out.write(chunk)
                sha256.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
        if total is not None and done != total:
            raise ValueError(f"download stopped after {done:,} of {total:,} bytes")
        if match and not sha256.hexdigest().startswith(match.group(1)):
            raise ValueError(
                f"the downloaded file's SHA-256 {sha256.hexdigest()[:12]}... does not start with "
                f"{match.group(1)} as its name promises"
            )
        os.replace(partial, dst)
    finally:
        partial.unlink(missing_ok=True)


DOWNLOAD_FAILED = N_("{reason} The download failed: {error}.")
DAMAGED = N_("{path} is damaged ({error}): delete it and download it again.")


def describe_error(exc: BaseException) -> str:
    """Why a download or a read failed, in one line a person can act on: the first line of the exception's
    message, without urllib's ``<urlopen error ...>`` wrapping (the class name when there is no message)."""
    text = str(exc.reason if type(exc) is URLError else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@dataclass(frozen=True)
class TorchvisionSource(WeightSource):
    """A preset that torchvision also has, with torchvision's ``DEFAULT`` ImageNet weights."""

    preset: str
    weights: WeightsEnum

    @classmethod
    def for_preset(cls, preset: str) -> TorchvisionSource:
        return cls(preset, tvm.get_model_weights(PRESETS[preset].torchvision).DEFAULT)

    @property
    def name(self) -> str:
        return f"{self.preset}:torchvision"

    @property
    def label(self) -> str:
        return Phrase(
            "{preset}, torchvision {weights} ImageNet weights ({size} MB download)",
            preset=self.preset,
            weights=self.weights.name,
            size=f"{self.size_mb:.1f}",
        )

    @property
    def spec(self) -> Spec:
        return get_preset(self.preset)

    @property
    def preprocess(self) -> Preprocess:
        return Preprocess.from_torchvision(self.weights)

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(self.weights.meta["categories"])

    @property
    def top1(self) -> float:
        return self.weights.meta["_metrics"]["ImageNet-1K"]["acc@1"]

    @property
    def size_mb(self) -> float:
        return self.weights.meta["_file_size"]

    @property
    def file_name(self) -> str:
        return os.path.basename(urlparse(self.weights.url).path)

    @property
    def cache_path(self) -> Path:
        return hub_checkpoints_dir() / self.file_name

    def missing(self) -> str | None:
        if self.cache_path.is_file():
            return None
        return Phrase(
            "{preset} weights are not on this machine: {file} ({size} MB) is missing "
            "from {folder}. Download it once with internet (choose these weights in the app, "
            "or run `lwviz classify IMAGE --model {preset} --download`), or copy that folder from a "
            "machine that has it (set TORCH_HOME to use a cache elsewhere).",
            preset=self.preset,
            file=self.file_name,
            size=f"{self.size_mb:.1f}",
            folder=self.cache_path.parent,
        )

    def fetch(self, progress: DownloadProgress | None = None) -> Path:
        """The cached file, downloading it first if needed; ``WeightsUnavailable`` when that fails."""
        if (reason := self.missing()) is None:
            return self.cache_path
        try:
            download(self.weights.url, self.cache_path, progress)
        except (OSError, HTTPException, ValueError) as exc:
            raise WeightsUnavailable(DOWNLOAD_FAILED, reason=reason, error=describe_error(exc)) from exc
        return self.cache_path

    def state_dict_for(self, model: Net, progress: DownloadProgress | None = None) -> Mapping[str, torch.Tensor]:
        path = self.fetch(progress)
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            # torchvision's own model reads the file by key name (with its hooks for old formats); its
            # state_dict is then in registration order, which convert_state_dict pairs by position.
            with torch.device("meta"):  # no random init: every tensor comes from the file
                reference = tvm.get_model(PRESETS[self.preset].torchvision)
            reference.load_state_dict(state, assign=True)
        except Exception as exc:  # a damaged cache file fails in many ways; all mean "fetch it again"
            raise WeightsUnavailable(DAMAGED, path=path, error=describe_error(exc)) from exc
        return convert_state_dict(reference.state_dict(), model)
