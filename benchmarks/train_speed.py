"""How long quick training takes on the digits, and the held-out accuracy it reaches.

Run: python benchmarks/train_speed.py [--seeds N] [--design-steps N] [--threads T ...]
Two networks, each fitted to the 32x32 digits with ``for_dataset`` and trained by
``lwviz.train.loop.train`` exactly as the app does (batch 64, AdamW, batch-norm statistics
re-estimated at the end; wall time includes that, not the held-out evaluation):

* the small SE network (``digits_se_spec``) for ``DIGITS_STEPS`` steps, the run the Look inside
  page makes and tests/test_train.py holds to its stated accuracy (>= 95% held-out);
* the slider lab's default design (mobilenet_v2) for the Train page's default number of steps
  (``PAGE_STEPS``).

Each is timed on every thread count asked (the app trains on ``TRAIN_THREADS``; the other count is
the peer), alternating between them so a busy machine slows both alike. Wall times are medians
over the seeds; the accuracy column lists every seed's.
"""

from __future__ import annotations

import argparse
import os
import statistics

from lwviz.data import digits
from lwviz.perf import keep_freed_memory
from lwviz.presets import get_preset
from lwviz.train.loop import DIGITS_STEPS, PAGE_STEPS, TRAIN_THREADS, digits_se_spec, for_dataset, train
from lwviz.ui.state import DEFAULT_PRESET

STATED_ACCURACY = 0.95  # tests/test_train.py: DIGITS_STEPS steps of the SE network


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--design-steps", type=int, default=PAGE_STEPS)
    parser.add_argument("--threads", type=int, nargs="+", default=[TRAIN_THREADS, 2])
    args = parser.parse_args()
    keep_freed_memory()
    data = digits()
    runs = [
        ("digits_se (SE network)", digits_se_spec(), DIGITS_STEPS, args.seeds),
        (f"{DEFAULT_PRESET} (the lab's default)", for_dataset(get_preset(DEFAULT_PRESET), data), args.design_steps, 1),
    ]
    print(
        f"digits: {len(data.train_x)} training, {len(data.test_x)} held-out 32x32 pictures; batch 64; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'network':<36}{'steps':>6}{'threads':>8}{'wall s':>8}{'s/step':>8}  held-out accuracy per seed")
    for name, spec, steps, seeds in runs:
        results: dict[int, list] = {t: [] for t in args.threads}
        for seed in range(seeds):
            for threads in args.threads:
                results[threads].append(train(spec, steps, seed=seed, data=data, threads=threads)[1])
        for threads, histories in results.items():
            wall = statistics.median(h.seconds for h in histories)
            accuracies = ", ".join(f"{h.test_accuracy:.1%}" for h in histories)
            print(f"{name:<36}{steps:>6}{threads:>8}{wall:>8.1f}{wall / steps:>8.3f}  {accuracies}")
        if steps == DIGITS_STEPS and spec.name == "digits_se":
            worst = min(h.test_accuracy for h in results[TRAIN_THREADS])
            verdict = "met" if worst >= STATED_ACCURACY else "MISSED"
            print(
                f"{'':<36}stated: >= {STATED_ACCURACY:.0%} held-out in {DIGITS_STEPS} steps: {verdict} "
                f"(worst seed {worst:.1%})"
            )


if __name__ == "__main__":
    main()
