from urllib.error import URLError

import pytest
import torch

from lwviz.weights import hub


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture
def offline_hub(tmp_path, monkeypatch):
    """No torchvision weights in the cache and no network: only the offline Lite0 is ready."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))

    def offline(*args, **kwargs):
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(hub, "urlopen", offline)
