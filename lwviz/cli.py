"""Command line: ``lwviz presets``, ``lwviz cost PRESET [--width W] ... [--json]`` and
``lwviz classify IMAGE [--model PRESET] [--topk K] [--json] [--download]``."""
from __future__ import annotations

import argparse
import json
import sys

from lwviz.cost import analyze
from lwviz.perf import keep_freed_memory
from lwviz.presets import PRESETS, spec_from_text
from lwviz.spec import Spec


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not a usage dump
        self.exit(2, f"lwviz: error: {message}\n")


def _human(n: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.2f}{unit}"
    return f"{n:.0f}"


def spec_from_args(args) -> Spec:
    spec = spec_from_text(args.preset)
    changes = {k: v for k, v in dict(width=args.width, resolution=args.resolution, kernel=args.kernel,
                                     block=args.block).items() if v is not None}
    return spec.with_(**changes).validate()


def format_table(table) -> str:
    head = f"{'layer':<14}{'block':<11}{'in':>15}{'out':>15}{'params':>10}{'MACs':>10}{'elementwise':>12}" \
           f"{'memory':>10}{'std-conv MACs':>14}{'ratio':>7}"
    lines = [head, "-" * len(head)]
    shape = lambda s: "x".join(map(str, s))  # noqa: E731
    for l in table.layers:
        lines.append(f"{l.name:<14}{l.block:<11}{shape(l.in_shape):>15}{shape(l.out_shape):>15}"
                     f"{_human(l.params):>10}{_human(l.macs):>10}{_human(l.elementwise):>12}"
                     f"{_human(l.memory) + 'B':>10}{_human(l.baseline_macs):>14}{l.macs_ratio:>7.3f}")
    t = table
    lines += [
        "-" * len(head),
        f"params {t.params:,}  MACs {t.macs:,} ({_human(t.macs)}; FLOPs = 2 x MACs = {_human(t.flops)})  "
        f"elementwise ops {t.elementwise:,}",
        f"as standard convs: params {t.baseline_params:,}  MACs {t.baseline_macs:,} "
        f"({t.macs / t.baseline_macs:.3f}x the MACs)  peak activation memory {_human(t.peak_memory)}B",
    ]
    return "\n".join(lines)


def format_classification(result, label: str) -> str:
    lines = [f"{label}; forward pass {result.latency_ms:.1f} ms"]
    lines += [f"{i:>2}. {p.label:<32}{p.prob:>8.2%}" for i, p in enumerate(result.predictions, 1)]
    return "\n".join(lines)


def _report_download(done: int, total: int | None) -> None:
    if sys.stderr.isatty():
        of = f" of {total / 2**20:.1f}" if total else ""
        end = "\n" if done == total else ""
        print(f"\rdownloading weights: {done / 2**20:.1f}{of} MB", end=end, file=sys.stderr, flush=True)


def classify_image(args) -> str:
    """The text (or JSON) ``lwviz classify`` prints; raises ``ImageError``/``WeightsUnavailable``/``ValueError``.

    Imported here, not at the top, so ``lwviz presets`` and ``lwviz cost`` start without torchvision's models.
    """
    from lwviz.classify import classify_with
    from lwviz.images import load_image
    from lwviz.weights import best_offline_source, sources_for

    image = load_image(args.image)  # a bad picture fails before any weights are read
    if args.download and (candidates := sources_for(args.model)):
        source = candidates[0]  # the most accurate, fetched into the hub cache by load() if missing
    else:
        source = best_offline_source(args.model)
    result = classify_with(source, image, args.topk, model=source.load(progress=_report_download))
    return json.dumps(result.to_list(), indent=2) if args.json else format_classification(result, source.label)


def _fail(exc: Exception) -> int:
    print(f"lwviz: error: {exc}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    keep_freed_memory()
    parser = _Parser(prog="lwviz", description="Lightweight CNNs, layer by layer.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("presets", help="list the preset networks")
    cost = sub.add_parser("cost", help="per-layer params and MACs of a preset (analytic, no forward pass)")
    cost.add_argument("preset", help="a preset name (see 'lwviz presets') or a spec string")
    cost.add_argument("--width", type=float, help="width multiplier, e.g. 0.5")
    cost.add_argument("--resolution", type=int, help="input resolution in pixels, e.g. 160")
    cost.add_argument("--kernel", type=int, help="depthwise kernel size for every stage (odd)")
    cost.add_argument("--block", help="replace every block by this family (conv, dws, ir, mbconv, ...)")
    cost.add_argument("--json", action="store_true", help="print JSON instead of a table")
    classify = sub.add_parser("classify", help="top-k ImageNet classes of a picture, with the best offline weights")
    classify.add_argument("image", help="a JPEG, PNG, WebP, GIF, BMP or TIFF file")
    classify.add_argument("--model", help="a preset with pretrained weights (default: the most accurate offline)")
    classify.add_argument("--topk", type=int, default=5, help="how many classes to print (default 5)")
    classify.add_argument("--json", action="store_true", help="print a JSON list of {label, prob}")
    classify.add_argument("--download", action="store_true",
                          help="use the most accurate weights even if they must be downloaded first (into the "
                               "torch hub cache)")
    args = parser.parse_args(argv)

    if args.command == "presets":
        for name, preset in PRESETS.items():
            t = analyze(preset.spec)
            print(f"{name:<20} {t.params / 1e6:6.2f}M params {t.macs / 1e6:8.1f}M MACs  {preset.summary}")
        return 0
    if args.command == "classify":
        from lwviz.weights import WeightsUnavailable

        try:
            print(classify_image(args))
        except (ValueError, WeightsUnavailable) as exc:  # ImageError is a ValueError
            return _fail(exc)
        return 0
    try:
        table = analyze(spec_from_args(args))
    except ValueError as exc:
        return _fail(exc)
    print(json.dumps(table.to_dict(), indent=2) if args.json else format_table(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
