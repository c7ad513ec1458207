from urllib.error import URLError

import pytest

from lwviz.weights import hub


@pytest.fixture
def offline_hub(tmp_path, monkeypatch):
    """No torchvision weights in the cache and no network: only the offline Lite0 is ready."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))

    def offline(*args, **kwargs):
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(hub, "urlopen", offline)
