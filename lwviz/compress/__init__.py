"""Making a network smaller and faster: int8 quantization (``quantize`` and its ``quantize_*`` parts, ``qat``),
pruning (``prune``), distillation (``distill``), their measurements (``measure``) and the table of every
variant (``variants``). Training itself lives in :mod:`lwviz.train`, the datasets in :mod:`lwviz.data`."""

from lwviz.compress.quantize import FloatOp, Int8Net, QuantizationUnsupported, quantize_dynamic_int8, quantize_int8
from lwviz.compress.quantize_calibration import calibration_images
from lwviz.compress.quantize_engines import default_engine

__all__ = [
    "FloatOp",
    "Int8Net",
    "QuantizationUnsupported",
    "calibration_images",
    "default_engine",
    "quantize_dynamic_int8",
    "quantize_int8",
]
