"""Making a network smaller and faster: int8 quantization (``quantize``), its measurements (``measure``);
quick training lives in ``train``."""
from lwviz.compress.quantize import (FloatOp, Int8Net, QuantizationUnsupported, calibration_images, default_engine,
                                     quantize_dynamic_int8, quantize_int8)

__all__ = ["FloatOp", "Int8Net", "QuantizationUnsupported", "calibration_images", "default_engine",
           "quantize_dynamic_int8", "quantize_int8"]
