"""Making a network smaller and faster: int8 quantization (``quantize``); quick training lives in ``train``."""
from lwviz.compress.quantize import QuantizationUnsupported, calibration_images, default_engine, quantize_int8

__all__ = ["QuantizationUnsupported", "calibration_images", "default_engine", "quantize_int8"]
