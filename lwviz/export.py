"""Export a network to ONNX: a built network as it is (``to_onnx``, for Netron), and the file a device runs
(``device_onnx``: normalization and softmax inside, class names in its metadata, optionally int8).

The device file's contract, so any ONNX runtime can use it without our code: input ``image``, float32
``[1, 3, R, R]``, RGB in [0, 1]; output ``probs``, ``[1, K]``, softmax; metadata ``labels`` (a JSON list of
the K class names) and ``resolution`` (R, as a string).
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from lwviz.builder import Net
from lwviz.errors import PhrasedError
from lwviz.i18n import N_
from lwviz.weights.preprocess import Preprocess

INPUT, OUTPUT = "image", "probs"  # the device file's tensor names
OPSET = 17


class ExportError(PhrasedError, RuntimeError):
    """The export failed; the message says why in words a student can act on."""


def to_onnx(model: Net, opset: int = OPSET) -> bytes:
    """A built network (eval mode, batch 1, its spec's resolution) as an ONNX file's bytes.

    Uses the TorchScript exporter (``dynamo=False``): it needs only the ``onnx`` package and is
    several times faster than the dynamo exporter on these small CNNs.
    """
    spec = model.spec
    example = torch.randn(1, spec.in_chs, spec.resolution, spec.resolution)
    return _export(model.eval(), example, opset, ["image"], ["logits"])


def _export(model: nn.Module, example: torch.Tensor, opset: int, inputs: list[str], outputs: list[str]) -> bytes:
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # deprecation notices about the TorchScript exporter
            torch.onnx.export(
                model,
                (example,),
                buffer,
                dynamo=False,
                opset_version=opset,
                input_names=inputs,
                output_names=outputs,
            )
    except ModuleNotFoundError as exc:
        raise ExportError(
            N_("ONNX export needs the {package} package: pip install {package}"), package=exc.name
        ) from exc
    except Exception as exc:  # the exporter raises many types; the student needs the reason, not a trace
        raise ExportError(N_("ONNX export failed: {error}"), error=exc) from exc
    return buffer.getvalue()


# ----- the file a device runs ------------------------------------------------------------------------------------


class OnDevice(nn.Module):
    """``model`` taking RGB in [0, 1] and giving probabilities: what the browser feeds it and what it shows.

    The network's normalization moves into the graph, so a device needs to know nothing about it.
    """

    def __init__(self, model: nn.Module, mean: Sequence[float], std: Sequence[float]):
        super().__init__()
        self.model = model
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.model((image - self.mean) / self.std), dim=1)


def device_onnx(
    model: nn.Module,
    *,
    preprocess: Preprocess,
    categories: Sequence[str],
    resolution: int | None = None,
    int8: bool = False,
) -> bytes:
    """The ONNX file a student's device runs (the contract is in this module's docstring); R defaults to
    ``preprocess.crop``.

    ``model`` is not touched: it may be a server-wide cached network, so the export traces a copy.
    With ``int8`` the float graph is quantized by onnxruntime (:func:`quantize_for_devices`).
    Raises :class:`ExportError` when the export or the quantization fails.
    """
    resolution = resolution or preprocess.crop
    if not 8 <= resolution <= 1024:
        raise ExportError(N_("resolution: {value} is outside 8..1024 pixels"), value=resolution)
    wrapped = OnDevice(copy.deepcopy(model), preprocess.mean, preprocess.std).eval()
    example = torch.rand(1, len(preprocess.mean), resolution, resolution)
    data = _export(wrapped, example, OPSET, [INPUT], [OUTPUT])
    data = _batch_of_one(data, len(categories))
    if int8:
        data = quantize_for_devices(data, device_photos(resolution, preprocess.crop / preprocess.resize))
    return with_metadata(data, labels=json.dumps(list(categories), ensure_ascii=False), resolution=str(resolution))


def _batch_of_one(data: bytes, classes: int) -> bytes:
    """``data`` with its output declared ``[1, classes]``, as the contract says: the exporter leaves the batch
    dimension of some networks' outputs unnamed (a reshape it cannot follow), though the graph has batch 1."""
    import onnx

    proto = onnx.load_from_string(data)
    (output,) = proto.graph.output
    dims = output.type.tensor_type.shape.dim
    if len(dims) != 2 or dims[1].dim_value != classes:
        found = dims[1].dim_value if len(dims) == 2 else "?"
        raise ExportError(
            N_("categories: the network gives {found} classes, but {given} names were given"),
            found=found,
            given=classes,
        )
    dims[0].Clear()
    dims[0].dim_value = 1
    return proto.SerializeToString()


def with_metadata(data: bytes, **props: str) -> bytes:
    """``data``, an ONNX file, with ``props`` set in its metadata (``metadata_props``, which any runtime reads)."""
    import onnx

    proto = onnx.load_from_string(data)
    kept = [p for p in proto.metadata_props if p.key not in props]
    del proto.metadata_props[:]
    proto.metadata_props.extend(kept)
    for key, value in props.items():
        proto.metadata_props.add(key=key, value=value)
    proto.producer_name = "lwviz"
    return proto.SerializeToString()


def metadata(data: bytes) -> dict[str, str]:
    """An ONNX file's ``metadata_props`` as a dict."""
    import onnx

    return {p.key: p.value for p in onnx.load_from_string(data).metadata_props}


# ----- int8 -----------------------------------------------------------------------------------------------------------


def device_photos(resolution: int, crop_share: float = 1.0, mirrored: bool = True) -> np.ndarray:
    """skimage's bundled photos (lwviz.compress's calibration set, which holds the sample photos of
    lwviz.samples) as a device's camera frames become its input: the centre square, ``crop_share`` of the
    shorter side, resized to ``resolution`` pixels, RGB in [0, 1]. ``[N, 3, R, R]`` float32; with ``mirrored``
    each photo's mirror image too (N = 28)."""
    import skimage.data

    from lwviz.compress.quantize_calibration import CALIBRATION_PHOTOS

    frames = []
    for name in CALIBRATION_PHOTOS:
        photo = getattr(skimage.data, name)()
        rgb = np.repeat(photo[..., None], 3, axis=2) if photo.ndim == 2 else photo[..., :3]
        for image in (rgb, rgb[:, ::-1]) if mirrored else (rgb,):
            frames.append(camera_square(np.ascontiguousarray(image), resolution, crop_share))
    return np.stack(frames)


def camera_square(rgb: np.ndarray, resolution: int, crop_share: float = 1.0, shift: tuple[float, float] = (0, 0)):
    """What the browser component feeds the network from an ``HxWx3`` uint8 frame: the square ``crop_share`` of
    the shorter side, centred (moved by ``shift``, fractions of the free room on each side, in -1..1), resized
    bilinearly to ``resolution`` pixels, as ``[3, R, R]`` float32 RGB in [0, 1]."""
    from PIL import Image

    h, w = rgb.shape[:2]
    side = min(h, w) * crop_share
    x0 = (w - side) / 2 * (1 + shift[0])
    y0 = (h - side) / 2 * (1 + shift[1])
    square = Image.fromarray(rgb).resize((resolution, resolution), Image.BILINEAR, box=(x0, y0, x0 + side, y0 + side))
    return (np.asarray(square, dtype=np.float32) / 255).transpose(2, 0, 1).copy()


def quantize_for_devices(data: bytes, photos: np.ndarray) -> bytes:
    """Static int8 quantization of a float device file with onnxruntime's tools, calibrated on ``photos``.

    Chosen for onnxruntime-web's WebAssembly backend, which runs onnxruntime's own CPU kernels. Measured on
    Lite0 with onnxruntime in Python (1 thread; agreement: top-1 with float on the 28 calibration photos):

    * **QDQ format** (QuantizeLinear/DequantizeLinear pairs): the runtime fuses a pair with its Conv or
      Gemm into an int8 kernel where it has one and runs the rest in float, so the graph stays valid in
      every runtime and version; the QOperator format needs an int8 kernel for every op it writes.
    * **the graph folded first** (``quant_pre_process``: shape inference, constant folding): TF-"same"
      padding computes its pads from the input's shape; folded, int8 Lite0 ran in 6.4 ms instead of 12.5.
    * **uint8 activations, int8 weights (U8S8)**, onnxruntime's default pairing for CPUs: signed
      activations (S8S8) ran in 17 ms. Activations asymmetric (most follow a ReLU), weights symmetric.
    * **per-channel weights**: a depthwise filter's 9 weights get their own scale; with one scale per
      tensor agreement fell from 71% to 36%.
    * **MinMax calibration**: percentile and entropy calibration gave the same agreement on these photos
      and took 3 to 5 times longer.
    * **opset 17**, from the float export. The final softmax stays float, so ``probs`` sums to 1.
    """
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Photos(CalibrationDataReader):
        def __init__(self):
            self._rest = iter(photos)

        def get_next(self):
            photo = next(self._rest, None)
            return None if photo is None else {INPUT: photo[None]}

    with tempfile.TemporaryDirectory() as folder:
        source, folded, out = (Path(folder) / f"{name}.onnx" for name in ("float", "folded", "int8"))
        source.write_bytes(data)
        try:
            quant_pre_process(source, folded)
            softmax = [n.name for n in onnx.load(folded).graph.node if n.op_type == "Softmax"]
            quantize_static(
                folded,
                out,
                Photos(),
                quant_format=QuantFormat.QDQ,
                per_channel=True,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                calibrate_method=CalibrationMethod.MinMax,
                nodes_to_exclude=softmax,
            )
        except Exception as exc:  # onnxruntime raises many types; what failed matters more than the type
            raise ExportError(N_("int8 quantization failed: {error}"), error=exc) from exc
        return out.read_bytes()


def run_device_file(data: bytes, images: np.ndarray) -> np.ndarray:
    """``probs`` of a device file for each of ``images`` (``[N, 3, R, R]``), one at a time as a device runs it."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    return np.concatenate([session.run([OUTPUT], {INPUT: image[None]})[0] for image in images])


def top1_agreement(reference: bytes, other: bytes, images: np.ndarray) -> float:
    """The share of ``images`` on which two device files give the same top-1 class."""
    a, b = run_device_file(reference, images), run_device_file(other, images)
    return float((a.argmax(1) == b.argmax(1)).mean())


# ----- what a page says about a device file ----------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceModelInfo:
    """One exported device file, as pages and device reports name it."""

    model_id: str  # a short stable hash of what the file was made from (``model_id``)
    label: str  # the network's label (``Network.label``): "efficientnet_lite0", "mobilenet_v2, untrained"
    network: str  # the choice it was made from: a weight source's name, "design", "own", "trained", "digits"
    name: str  # the design's name ("mobilenet_v2"), for labels translated on a page
    resolution: int
    int8: bool
    params: int
    macs: int  # at ``resolution``, from the analytic cost model
    bytes: int  # the file's size

    def to_dict(self) -> dict:
        return asdict(self)


def model_id(*key: object) -> str:
    """A short stable id for a device file made from ``key`` (the network's weights, resolution, int8)."""
    return hashlib.sha256(repr(key).encode()).hexdigest()[:12]


def describe(
    data: bytes, model: Net, *, model_id: str, label: str, network: str, resolution: int, int8: bool
) -> DeviceModelInfo:
    """The record of device file ``data`` exported from ``model`` (a built network: its spec is priced)."""
    from lwviz.cost import analyze

    table = analyze(model.spec.with_(resolution=resolution))
    return DeviceModelInfo(
        model_id, label, network, model.spec.name, resolution, int8, table.params, table.macs, len(data)
    )
