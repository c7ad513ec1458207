import subprocess
import sys


def test_keep_freed_memory_applies_once_and_runs_clean():
    # A fresh interpreter: the setting is process-wide and must not leak into the test session's timings.
    code = (
        "from lwviz.perf import keep_freed_memory as k; import torch; a = k(); "
        "torch.ones(64, 1024, 1024).sum(); print(a, k() is a)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "True"] if sys.platform.startswith("linux") else out[1] == "True"
