"""How fast the Build page answers a slider: median time from a width change to the finished rerun.

Drives the real app with Streamlit's AppTest (no browser: the server-side work a student waits
for), moving the width slider to a value not seen before on every step so no cache helps.
Target: <= 300 ms median on 2 cores, for mobilenet_v2 and efficientnet_b0.

    python benchmarks/build_rerun.py [--steps 20]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from streamlit.testing.v1 import AppTest

from lwviz.cost import analyze
from lwviz.presets import get_preset

APP = str(Path(__file__).parents[1] / "app.py")
TARGET_MS = 300


def rerun_times(preset: str, steps: int, profile: cProfile.Profile | None = None) -> list[float]:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["spec"] = preset
    at.switch_page("pages/build.py").run()
    assert not at.exception, at.exception
    widths = [w for w in np.round(np.arange(0.25, 2.001, 0.05), 2) if w != 1.0][:steps]
    times = []
    for width in widths:
        slider = at.slider("knob_width").set_value(float(width))
        if profile:
            profile.enable()
        start = time.perf_counter()
        slider.run()
        times.append((time.perf_counter() - start) * 1e3)
        if profile:
            profile.disable()
        assert not at.exception and not at.error, (at.exception, at.error)
        shown = next(m.value for m in at.metric if m.label == "MACs")
        assert shown == f"{analyze(get_preset(preset).with_(width=float(width))).macs / 1e6:.1f} M", shown
        assert len(at.get("plotly_chart")) >= 3
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="slider moves per preset (at most 35)")
    parser.add_argument("--profile", action="store_true", help="print where the time goes")
    args = parser.parse_args()
    print(f"torch threads {torch.get_num_threads()}; {args.steps} width changes per preset; target <= {TARGET_MS} ms")
    for preset in ("mobilenet_v2", "efficientnet_b0"):
        profile = cProfile.Profile() if args.profile else None
        times = rerun_times(preset, args.steps, profile)
        median = statistics.median(times)
        verdict = "meets" if median <= TARGET_MS else "misses"
        print(
            f"{preset:<16} median {median:6.1f} ms  (min {min(times):.1f}, max {max(times):.1f})  {verdict} the target"
        )
        if profile:
            pstats.Stats(profile).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
