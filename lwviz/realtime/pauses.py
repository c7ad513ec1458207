"""Keep Python's garbage collector from freezing the live video.

A full (generation 2) collection walks every tracked object while holding the GIL, so every
thread stops, the frame path included. An app server carries about 480,000 long-lived objects
from torch, torchvision and Streamlit; streaming allocates enough to start a full collection
about once a second, and each took ~240 ms here: frames piled up behind them and
mobilenet_v3_small classified 76% of a 30 FPS camera's frames. ``gc.freeze`` moves everything
alive into a permanent generation that later collections skip: then 99% (measured with the
browser benchmark's setup). Reference counting still frees frozen objects as usual; only
reference cycles among them are never collected, which is why the freeze happens once, before
any stream (whose objects do form cycles) exists.
"""
from __future__ import annotations

import gc
import threading

_lock = threading.Lock()
_frozen = False


def freeze_long_lived() -> bool:
    """Collect, then exempt the survivors from all later collections; once per process.

    Returns whether this call did it (False when it was done before).
    """
    global _frozen
    with _lock:
        if _frozen:
            return False
        gc.collect()
        gc.freeze()
        _frozen = True
        return True
