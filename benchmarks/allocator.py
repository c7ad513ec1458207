"""What lwviz.perf.keep_freed_memory saves: Lite0 forward passes in fresh processes, with and without it.

Each configuration runs in its own interpreter (the allocator setting is process-wide and glibc
tunes itself as a process ages), alternating, so load on the machine hits both alike.

    python benchmarks/allocator.py [--rounds 3] [--passes 40] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

CHILD = """
import sys, torch
from lwviz.perf import keep_freed_memory
if sys.argv[1] == "tuned":
    keep_freed_memory()
torch.set_num_threads(int(sys.argv[3]))
from functools import partial
from lwviz.timing import median_ms
from lwviz.weights.offline import LITE0
model, x = LITE0.load(), torch.randn(1, 3, 224, 224)
with torch.inference_mode():
    print(median_ms(partial(model, x), runs=int(sys.argv[2]), warmup=5))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--passes", type=int, default=40)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    results = {"default": [], "tuned": []}
    for _ in range(args.rounds):
        for mode in results:
            out = subprocess.run(
                [sys.executable, "-c", CHILD, mode, str(args.passes), str(args.threads)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            results[mode].append(float(out))
    default, tuned = (statistics.median(results[m]) for m in results)
    print(f"Lite0 forward at 224, {args.threads} thread(s), median of {args.rounds} processes x {args.passes} passes")
    print(f"default allocator   {default:6.1f} ms   {[round(t, 1) for t in results['default']]}")
    print(f"keep_freed_memory   {tuned:6.1f} ms   {[round(t, 1) for t in results['tuned']]}")
    print(f"speed-up            {default / tuned:6.2f}x")


if __name__ == "__main__":
    main()
