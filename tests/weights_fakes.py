"""Stand-ins for torchvision's download server and hub cache, shared by the weights tests and the page tests."""

from __future__ import annotations

import io
import re

import pytest
import torch
import torchvision.models as tvm

from lwviz.presets import PRESETS
from lwviz.weights import hub
from lwviz.weights.hub import TorchvisionSource


class FakeResponse(io.BytesIO):
    """What ``urlopen`` returns: a readable body with headers."""

    def __init__(self, body: bytes, length: int | None = None):
        super().__init__(body)
        self.headers = {} if length is None else {"Content-Length": str(length)}


def serve(monkeypatch: pytest.MonkeyPatch, body: bytes, length: int | None = None) -> None:
    """Every download receives ``body`` (announced as ``length`` bytes when given)."""
    monkeypatch.setattr(hub, "urlopen", lambda request, timeout=None: FakeResponse(body, length))


def torchvision_file(preset: str) -> bytes:
    """The bytes of a torchvision weights file for ``preset``, with random weights: a state_dict saved by torch."""
    buffer = io.BytesIO()
    torch.save(tvm.get_model(PRESETS[preset].torchvision).state_dict(), buffer)
    return buffer.getvalue()


def serve_torchvision_file(monkeypatch: pytest.MonkeyPatch, preset: str) -> bytes:
    """Every download receives ``torchvision_file(preset)``, its length announced; returns those bytes.

    Random weights cannot have the SHA-256 prefix in torchvision's file name, so the prefix check
    is switched off here; it is tested on its own with a body named after its real hash.
    """
    body = torchvision_file(preset)
    serve(monkeypatch, body, len(body))
    monkeypatch.setattr(hub, "HASH_REGEX", re.compile(r"(?!)"))  # matches no name: no prefix to check
    return body


def damage(source: TorchvisionSource) -> None:
    """A damaged file where ``source`` looks for its weights: the right name, the wrong bytes."""
    source.cache_path.parent.mkdir(parents=True, exist_ok=True)
    source.cache_path.write_bytes(b"half a file")
