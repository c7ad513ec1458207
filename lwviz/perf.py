"""Process-wide settings, in one place: torch's thread count, the allocator, and the garbage collector.

Each is global to the process, so changing one for a measurement or a video stream changes it for
every session of the app: the entry points (app, CLI, benchmarks) apply them once, and code that
needs another thread count for a while goes through :func:`num_threads`, which restores it.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc mallopt parameters
_KEEP_BYTES = 256 << 20


@functools.cache
def keep_freed_memory() -> bool:
    """Let glibc keep freed activation buffers instead of handing them back to the OS after every layer.

    By default big blocks are mmap-ed and unmapped on free, so every forward pass page-faults its
    activations back in, a large share of a small network's time (docs/BENCHMARKS.md, allocator).
    Returns False where there is no glibc (macOS, Windows).
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the interpreter is linked against
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _KEEP_BYTES)) and bool(mallopt(_M_TRIM_THRESHOLD, _KEEP_BYTES))


@contextmanager
def num_threads(threads: int | None) -> Iterator[int]:
    """Run with ``threads`` intra-op threads (None: unchanged); yields the count in use, restores it."""
    import torch  # here, not at the top: the CLI's cheap commands and the app's frame start without it

    before = torch.get_num_threads()
    if threads is not None:
        if threads < 1:
            raise ValueError(f"threads: must be at least 1, got {threads}")
        torch.set_num_threads(threads)
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


def one_thread_by_default() -> None:
    """One intra-op thread for every forward pass that does not ask for more, process-wide.

    An app server runs many sessions' passes side by side on a laptop whose other core drives the
    browser: a pass on two threads spins against them and took up to 20 times the CPU of one thread
    (Classify under load, docs/BENCHMARKS.md). Timings that compare thread counts set their own.
    """
    import torch

    torch.set_num_threads(1)


_freeze_lock = threading.Lock()
_frozen = False


def freeze_long_lived() -> bool:
    """Collect, then exempt the survivors from all later garbage collections; once per process.

    Keeps Python's garbage collector from stalling the live video: a full (generation 2) collection
    walks every tracked object while holding the GIL, so every thread stops, the frame path included.
    An app server carries hundreds of thousands of long-lived objects from torch, torchvision and
    Streamlit, and streaming allocates enough to start a full collection every second or so: frames
    pile up behind them. ``gc.freeze`` moves everything alive into a permanent generation that later
    collections skip. Reference counting still frees frozen objects as usual; only reference cycles
    among them are never collected, which is why the freeze happens once, before any stream (whose
    objects do form cycles) exists.

    Returns whether this call did it (False when it was done before).
    """
    global _frozen
    with _freeze_lock:
        if _frozen:
            return False
        gc.collect()
        gc.freeze()
        _frozen = True
        return True
