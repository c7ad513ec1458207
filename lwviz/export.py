"""Export a built network to ONNX, so students can open it in Netron or run it elsewhere."""

from __future__ import annotations

import io
import warnings

import torch

from lwviz.builder import Net


class ExportError(RuntimeError):
    """The export failed; the message says why in words a student can act on."""


def to_onnx(model: Net, opset: int = 17) -> bytes:
    """A built network (eval mode, batch 1, its spec's resolution) as an ONNX file's bytes.

    Uses the TorchScript exporter (``dynamo=False``): it needs only the ``onnx`` package and is
    several times faster than the dynamo exporter on these small CNNs.
    """
    spec = model.spec
    example = torch.randn(1, spec.in_chs, spec.resolution, spec.resolution)
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # deprecation notices about the TorchScript exporter
            torch.onnx.export(
                model.eval(),
                (example,),
                buffer,
                dynamo=False,
                opset_version=opset,
                input_names=["image"],
                output_names=["logits"],
            )
    except ModuleNotFoundError as exc:
        raise ExportError(f"ONNX export needs the '{exc.name}' package: pip install {exc.name}") from exc
    except Exception as exc:  # the exporter raises many types; the student needs the reason, not a trace
        raise ExportError(f"ONNX export failed: {exc}") from exc
    return buffer.getvalue()
