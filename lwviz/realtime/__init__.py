"""Live classification of video frames: frame -> tensor -> prediction -> annotated frame. No UI code.

:class:`FrameProcessor` is what streamlit-webrtc calls for every camera frame (and what the
snapshot and upload fallbacks call); the rest are its parts and the fake-camera clip writer
the browser tests and benchmark use.
"""

from lwviz.realtime.fast import inference_copy
from lwviz.realtime.frame_input import CropBox, FrameInput, crop_box
from lwviz.realtime.ice import parse_ice_servers, rtc_configuration
from lwviz.realtime.media import AnnotatedVideo, MediaError, annotate_video, image_frame
from lwviz.realtime.processor import DEFAULT_THREADS, TOPK, FrameModel, FrameProcessor, FrameResult
from lwviz.realtime.stats import STAGES, FrameTimings, StatsSnapshot, StreamStats
from lwviz.realtime.y4m import cover, panning_clip, write_y4m

__all__ = [
    "inference_copy",
    "CropBox",
    "FrameInput",
    "crop_box",
    "parse_ice_servers",
    "rtc_configuration",
    "AnnotatedVideo",
    "MediaError",
    "annotate_video",
    "image_frame",
    "DEFAULT_THREADS",
    "TOPK",
    "FrameModel",
    "FrameProcessor",
    "FrameResult",
    "STAGES",
    "FrameTimings",
    "StatsSnapshot",
    "StreamStats",
    "cover",
    "panning_clip",
    "write_y4m",
]
