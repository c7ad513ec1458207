"""Command line: ``lwviz presets``, ``lwviz cost PRESET [--width W] ... [--json]``,
``lwviz classify IMAGE [--model PRESET] [--topk K] [--json] [--download | --checkpoint FILE]``,
``lwviz gradcam IMAGE [--model PRESET] [--layer NAME] [--target CLASS] --out FILE.png [--npy FILE.npy]``,
``lwviz layers PRESET``, ``lwviz compress PRESET [--json]``,
``lwviz onnx MODEL [--int8] [--resolution R] [--random-weights] --out FILE.onnx`` and
``lwviz code PRESET [--width W] [--resolution R] [--kernel K] [--block B] [--out FILE.py]``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

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


def spec_from_arg(text: str) -> Spec:
    """A preset name, a spec string, or a spec JSON file (the Build page's "spec JSON" download)."""
    if not text.endswith(".json"):
        return spec_from_text(text)
    from lwviz.images import file_problem

    if problem := file_problem(Path(text), "a spec .json file"):
        raise ValueError(f"spec: {problem}")
    try:
        return Spec.from_json(Path(text).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"spec: cannot read {text} ({exc.strerror})") from None


def spec_from_args(args) -> Spec:
    spec = spec_from_arg(args.preset)
    changes = {
        k: v
        for k, v in dict(width=args.width, resolution=args.resolution, kernel=args.kernel, block=args.block).items()
        if v is not None
    }
    return spec.with_(**changes)


def _shape(dims) -> str:
    """A tensor shape as ``CxHxW``."""
    return "x".join(map(str, dims))


def format_table(table) -> str:
    head = (
        f"{'layer':<14}{'block':<11}{'in':>15}{'out':>15}{'params':>10}{'MACs':>10}{'elementwise':>12}"
        f"{'memory':>10}{'std-conv MACs':>14}{'ratio':>7}"
    )
    lines = [head, "-" * len(head)]
    for layer in table.layers:
        lines.append(
            f"{layer.name:<14}{layer.block:<11}{_shape(layer.in_shape):>15}{_shape(layer.out_shape):>15}"
            f"{_human(layer.params):>10}{_human(layer.macs):>10}{_human(layer.elementwise):>12}"
            f"{_human(layer.memory) + 'B':>10}{_human(layer.baseline_macs):>14}{layer.macs_ratio:>7.3f}"
        )
    t = table
    lines += [
        "-" * len(head),
        f"params {t.params:,}  MACs {t.macs:,} ({_human(t.macs)}; FLOPs = 2 x MACs = {_human(t.flops)})  "
        f"elementwise ops {t.elementwise:,}",
        f"dense (groups = 1): params {t.dense_params:,}  MACs {t.dense_macs:,} ({t.macs / t.dense_macs:.3f}x the MACs)",
        f"one standard conv per block: params {t.baseline_params:,}  MACs {t.baseline_macs:,} "
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

    Imported here, not at the top, so ``lwviz presets`` and ``lwviz cost`` start without torch.
    """
    from lwviz.images import load_image

    image = load_image(args.image)  # a bad picture fails at once, before torch is imported or weights are read
    from lwviz.classify import classify_with
    from lwviz.weights import best_offline_source, sources_for

    if args.checkpoint:
        return classify_with_checkpoint(args, image)
    if args.download and (candidates := sources_for(args.model)):
        source = candidates[0]  # the most accurate, fetched into the hub cache by load() if missing
    else:
        source = best_offline_source(args.model)
    result = classify_with(source, image, args.topk, model=source.load(progress=_report_download))
    return json.dumps(result.to_list(), indent=2) if args.json else format_classification(result, source.label)


def classify_with_checkpoint(args, image) -> str:
    """``lwviz classify --checkpoint``: the design ``--model`` names with the user's weights, loaded as the app's
    network picker loads an upload (same size limits and checks, same messages)."""
    from lwviz.classify import classify
    from lwviz.networks import OWN, resolve
    from lwviz.weights.checkpoint import read_checkpoint_bytes

    spec = spec_from_arg(args.model)
    data = read_checkpoint_bytes(args.checkpoint)
    net = resolve(OWN, spec, checkpoint=data, checkpoint_name=Path(args.checkpoint).name)
    result = classify(net.model, image, net.preprocess, net.categories, args.topk)
    return json.dumps(result.to_list(), indent=2) if args.json else format_classification(result, net.label)


def check_output(path: str, option: str) -> None:
    """Raise ``ValueError`` if ``path`` cannot be written, before any slow work: a run that ends in a raw
    ``[Errno 2]`` after the network ran wastes the time and says little."""
    target = Path(path)
    folder = target.parent
    if not folder.exists():
        raise ValueError(f"{option}: the folder {folder} does not exist")
    if not folder.is_dir():
        raise ValueError(f"{option}: {folder} is not a folder")
    if target.is_dir():
        raise ValueError(f"{option}: {target} is a directory, not a file name")
    writable = target if target.exists() else folder
    if not os.access(writable, os.W_OK):
        raise ValueError(f"{option}: {writable} is not writable")


def class_index(target: str, categories: tuple[str, ...]) -> int:
    """A class given by number (``281``) or by name (``tabby``)."""
    if target.isdigit():
        return int(target)
    try:
        return categories.index(target)
    except ValueError:
        raise ValueError(f"target: {target!r} is neither a class number nor a class name of this network") from None


def gradcam_image(args) -> str:
    """Write the overlay (and the raw map) at the picture's size; return the line ``lwviz gradcam`` prints."""
    import numpy as np
    from PIL import Image

    from lwviz.images import load_image

    for path, option in ((args.out, "--out"), (args.npy, "--npy")):
        if path:
            check_output(path, option)
    image = load_image(args.image)  # bad arguments fail at once, before torch is imported
    from lwviz.explain import grad_cam, network_input, overlay, resize_map
    from lwviz.weights import best_offline_source

    source = best_offline_source(args.model)
    target = None if args.target is None else class_index(args.target, source.categories)
    cam = grad_cam(source.load(), network_input(image, source.preprocess), args.layer, target)
    heatmap = resize_map(cam.heatmap, image.width, image.height)
    try:
        Image.fromarray(overlay(image, heatmap)).save(args.out, format="PNG")
        if args.npy:
            np.save(args.npy, heatmap)
    except OSError as exc:  # the disk filled up, or the folder went away, while the network ran
        raise ValueError(f"cannot write {exc.filename or args.out} ({exc.strerror or exc})") from None
    return (
        f"{source.spec.name}: Grad-CAM of {cam.layer} for {source.categories[cam.target]} "
        f"({cam.prob:.1%}) -> {args.out}" + (f", {args.npy}" if args.npy else "")
    )


def format_layers(preset: str) -> str:
    """The layers ``lwviz gradcam --layer`` accepts, with their feature maps; the default marked."""
    from lwviz.explain import layer_names
    from lwviz.plan import resolve

    plan = resolve(spec_from_arg(preset))
    names = layer_names(plan)
    shapes = {a.name: f"{a.out_chs}x{a.out_size}x{a.out_size}" for a in plan.layers}
    return "\n".join(f"{n:<14}{shapes[n]:>14}" + ("  (default)" if n == names[-1] else "") for n in names)


def format_compression(rows, label: str) -> str:
    """One line per variant, with how much smaller and faster than float it is."""
    base = rows[0]
    head = (
        f"{'variant':<14}{'file size':>11}{'non-zero params':>17}{'latency':>10}{'agreement':>11}"
        f"{'smaller':>9}{'faster':>8}"
    )
    lines = [
        label,
        "batch 1, 1 thread, median latency; agreement: top-1 with float on the calibration photos "
        "(scikit-image samples and their mirror images)",
        head,
        "-" * len(head),
    ]
    for r in rows:
        smaller, faster = base.size_bytes / r.size_bytes, base.latency_ms / r.latency_ms
        lines.append(
            f"{r.variant:<14}{r.size_bytes / 1e6:>8.2f} MB{r.params_nonzero:>17,}{r.latency_ms:>7.1f} ms"
            f"{r.agreement:>11.1%}{smaller:>8.2f}x{faster:>7.2f}x"
        )
    lines += [
        f"{r.variant}: {len(r.float_layers)} layers stayed float (no int8 kernel): {', '.join(r.float_layers)}"
        for r in rows
        if r.float_layers
    ]
    return "\n".join(lines)


def compress_preset(args) -> str:
    """The table (or JSON) ``lwviz compress`` prints: the network in float, int8 dynamic and int8 static.

    A preset gets its best offline weights. A preset without any, or a spec string, is measured
    with random weights, and stderr says so: size and speed hold for them, agreement says little.
    """
    spec = spec_from_arg(args.preset)  # a ValueError names an unknown preset or what is wrong with the string
    from lwviz.compress import calibration_images
    from lwviz.compress.measure import compare_quantized, with_random_weights
    from lwviz.weights import WeightsUnavailable, best_offline_source
    from lwviz.weights.preprocess import TORCHVISION_PREPROCESS

    source, missing = None, "A spec string has no pretrained weights."
    if args.preset in PRESETS:
        try:
            source = best_offline_source(args.preset)
        except WeightsUnavailable as exc:
            missing = str(exc)
    if source is None:
        print(
            f"lwviz: note: {missing} Measuring random weights instead: size and speed hold for them, agreement "
            f"says little.",
            file=sys.stderr,
        )
        preprocess = TORCHVISION_PREPROCESS.at_resolution(spec.resolution)
        model, label = with_random_weights(spec, calibration_images(preprocess)), f"{spec.name}, random weights"
    else:
        model, preprocess, label = source.load(), source.preprocess, source.label
    rows = compare_quantized(model, preprocess)
    return json.dumps([r.to_dict() for r in rows], indent=2) if args.json else format_compression(rows, label)


def onnx_network(args):
    """What ``lwviz onnx`` exports: ``(model, preprocess, categories, label)``.

    MODEL names pretrained weights as ``lwviz classify --model`` does (a preset with weights: its best
    offline ones, ``WeightsUnavailable`` saying what to download when none is here; or a weight source's
    full name). A preset without weights, a spec string or a spec .json file, or ``--random-weights``,
    exports the design with the app's random weights (seed 0), and stderr says so.
    """
    from lwviz.networks import design_preprocess, untrained_model
    from lwviz.weights import SOURCES, best_offline_source, class_names_for, sources_for

    if args.model in SOURCES and not args.random_weights:
        source = SOURCES[args.model]
    elif args.model in PRESETS and sources_for(args.model) and not args.random_weights:
        source = best_offline_source(args.model)  # a missing download: the message lwviz classify gives
    else:
        spec = SOURCES[args.model].spec if args.model in SOURCES else spec_from_arg(args.model)
        why = "--random-weights asked for." if args.random_weights else f"{spec.name} has no pretrained weights."
        print(
            f"lwviz: note: {why} Exporting random weights: the file runs at the network's real speed, "
            f"but its answers mean nothing.",
            file=sys.stderr,
        )
        model = untrained_model(spec)
        return model, design_preprocess(spec), class_names_for(spec.num_classes), f"{spec.name}, random weights"
    model = source.load(progress=_report_download)
    return model, source.preprocess, source.categories, source.label


def export_onnx(args) -> str:
    """Write the file a device runs (``lwviz.export.device_onnx``); return what ``lwviz onnx`` prints."""
    import time

    check_output(args.out, "--out")
    model, preprocess, categories, label = onnx_network(args)
    from lwviz.export import describe, device_onnx, device_photos, top1_agreement

    resolution = args.resolution or preprocess.crop
    start = time.perf_counter()
    data = device_onnx(model, preprocess=preprocess, categories=categories, resolution=resolution, int8=args.int8)
    seconds = time.perf_counter() - start
    try:
        Path(args.out).write_bytes(data)
    except OSError as exc:
        raise ValueError(f"cannot write {args.out} ({exc.strerror or exc})") from None
    info = describe(data, model, model_id="", label=label, network=args.model, resolution=resolution, int8=args.int8)
    lines = [
        f"{label} -> {args.out}",
        f"input image float32 [1, 3, {resolution}, {resolution}] (RGB in [0, 1]); output probs [1, {len(categories)}]"
        f" (softmax); {'int8 (QDQ, per-channel weights)' if args.int8 else 'float32'}",
        f"{info.bytes / 2**20:.2f} MB, {info.params:,} params, {_human(info.macs)} MACs at {resolution}x{resolution}; "
        f"made in {seconds:.1f} s",
    ]
    if args.int8:
        plain = device_onnx(model, preprocess=preprocess, categories=categories, resolution=resolution)
        photos = device_photos(resolution, preprocess.crop / preprocess.resize)
        agreement = top1_agreement(plain, data, photos)
        lines.append(
            f"int8 top-1 agreement with float32: {agreement:.1%} of {len(photos)} photos "
            f"(scikit-image samples and their mirror images, the calibration set)"
        )
    return "\n".join(lines)


def _fail(exc: Exception) -> int:
    print(f"lwviz: error: {exc}", file=sys.stderr)
    return 2


def _weights_unavailable(exc: Exception) -> bool:
    """Whether ``exc`` is lwviz's ``WeightsUnavailable``, imported only when there is an error to check: it
    brings torch, and a bad argument should be answered before torch is loaded."""
    from lwviz.weights import WeightsUnavailable

    return isinstance(exc, WeightsUnavailable)


def _export_error(exc: Exception) -> bool:
    from lwviz.export import ExportError

    return isinstance(exc, ExportError)


def _design_parser(sub, name: str, help: str) -> argparse.ArgumentParser:
    """A subcommand that takes a design and the knobs that change it (read back by :func:`spec_from_args`)."""
    parser = sub.add_parser(name, help=help)
    parser.add_argument("preset", help="a preset name (see 'lwviz presets'), a spec string or a spec .json file")
    parser.add_argument("--width", type=float, help="width multiplier, e.g. 0.5")
    parser.add_argument("--resolution", type=int, help="input resolution in pixels, e.g. 160")
    parser.add_argument("--kernel", type=int, help="depthwise kernel size for every stage (odd)")
    parser.add_argument("--block", help="replace every block by this family (conv, dws, ir, mbconv, ...)")
    return parser


def main(argv: list[str] | None = None) -> int:
    keep_freed_memory()
    parser = _Parser(prog="lwviz", description="Lightweight CNNs, layer by layer.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("presets", help="list the preset networks")
    cost = _design_parser(sub, "cost", "per-layer params and MACs of a preset (analytic, no forward pass)")
    cost.add_argument("--json", action="store_true", help="print JSON instead of a table")
    code = _design_parser(sub, "code", "a preset or design as one standalone PyTorch file (it imports only torch)")
    code.add_argument("--out", help="write the code to this file, e.g. net.py (default: print it)")
    classify = sub.add_parser("classify", help="top-k ImageNet classes of a picture, with the best offline weights")
    classify.add_argument("image", help="a JPEG, PNG, WebP, GIF, BMP or TIFF file")
    classify.add_argument("--model", help="a preset with pretrained weights (default: the most accurate offline)")
    classify.add_argument("--topk", type=int, default=5, help="how many classes to print (default 5)")
    classify.add_argument("--json", action="store_true", help="print a JSON list of {label, prob}")
    weights = classify.add_mutually_exclusive_group()
    weights.add_argument(
        "--download",
        action="store_true",
        help="use the most accurate weights even if they must be downloaded first (into the torch hub cache)",
    )
    weights.add_argument(
        "--checkpoint",
        help="your own weights for --model (a preset, spec string or spec .json): a state_dict in .pt, .pth "
        "or .safetensors",
    )
    gradcam = sub.add_parser("gradcam", help="where in a picture a pretrained network sees its class (Grad-CAM)")
    gradcam.add_argument("image", help="a JPEG, PNG, WebP, GIF, BMP or TIFF file")
    gradcam.add_argument("--model", help="a preset with pretrained weights (default: the most accurate offline)")
    gradcam.add_argument("--layer", help="the layer to explain (see 'lwviz layers PRESET'; default: the last)")
    gradcam.add_argument("--target", help="a class number or name (default: the network's top-1)")
    gradcam.add_argument("--out", required=True, help="the overlay, a PNG at the picture's size")
    gradcam.add_argument("--npy", help="also save the map itself: float32 HxW in [0, 1] at the picture's size")
    layers = sub.add_parser("layers", help="the layers of a preset that 'lwviz gradcam --layer' accepts")
    layers.add_argument("preset", help="a preset name (see 'lwviz presets'), a spec string or a spec .json file")
    compress = sub.add_parser("compress", help="file size, speed and agreement of a preset in float and int8")
    compress.add_argument(
        "preset",
        help="a preset name (see 'lwviz presets'; its best offline weights, else "
        "random ones) or a spec string (random weights)",
    )
    compress.add_argument(
        "--json",
        action="store_true",
        help="print a JSON list of {variant, size_bytes, params_nonzero, latency_ms, agreement, float_layers}",
    )
    onnx = sub.add_parser("onnx", help="the ONNX file a device runs (normalization and softmax inside, class names)")
    onnx.add_argument(
        "model",
        help="a preset with pretrained weights (its best offline ones), a preset without weights, a spec string or "
        "a spec .json file (random weights)",
    )
    onnx.add_argument("--int8", action="store_true", help="static int8 quantization, calibrated on sample photos")
    onnx.add_argument("--resolution", type=int, help="input size in pixels (default: the network's own)")
    onnx.add_argument("--random-weights", action="store_true", help="export random weights even if pretrained exist")
    onnx.add_argument("--out", required=True, help="the .onnx file to write")
    args = parser.parse_args(argv)
    if args.command == "classify" and args.checkpoint and not args.model:
        parser.error("--checkpoint needs --model, the design the weights are for (a preset, spec string or .json)")

    if args.command == "presets":
        for name, preset in PRESETS.items():
            t = analyze(preset.spec)
            print(f"{name:<20} {t.params / 1e6:6.2f}M params {t.macs / 1e6:8.1f}M MACs  {preset.summary}")
        return 0
    if args.command in ("gradcam", "layers", "classify"):
        run = {"gradcam": gradcam_image, "classify": classify_image, "layers": lambda a: format_layers(a.preset)}
        try:
            print(run[args.command](args))
        except Exception as exc:  # ImageError and CheckpointError are ValueErrors
            if isinstance(exc, ValueError | OSError) or _weights_unavailable(exc):
                return _fail(exc)
            raise
        return 0
    if args.command == "onnx":
        try:
            print(export_onnx(args))
        except Exception as exc:  # ExportError is a RuntimeError
            if isinstance(exc, ValueError | OSError) or _weights_unavailable(exc) or _export_error(exc):
                return _fail(exc)
            raise
        return 0
    if args.command == "code":
        from lwviz.codegen import main_text

        try:
            if args.out:
                check_output(args.out, "--out")
            print(main_text(spec_from_args(args), args.out))
        except (ValueError, OSError) as exc:  # NoCodeForFamily is a ValueError
            return _fail(exc)
        return 0
    if args.command == "compress":
        try:
            print(compress_preset(args))
        except ValueError as exc:  # QuantizationUnsupported is a ValueError
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
