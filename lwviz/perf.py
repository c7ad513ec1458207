"""Process-wide settings that make CPU inference faster, applied by the entry points (app, CLI, benchmarks)."""
from __future__ import annotations

import ctypes
import functools

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc mallopt parameters
_KEEP_BYTES = 256 << 20


@functools.cache
def keep_freed_memory() -> bool:
    """Let glibc keep freed activation buffers instead of handing them back to the OS after every layer.

    By default big blocks are mmap-ed and unmapped on free, so every forward pass page-faults its
    activations back in: a third of a fresh process's Lite0 forward pass (``benchmarks/allocator.py``:
    37 -> 24 ms on 1 thread). Returns False where there is no glibc (macOS, Windows).
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the interpreter is linked against
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _KEEP_BYTES)) and bool(mallopt(_M_TRIM_THRESHOLD, _KEEP_BYTES))
