"""What a network looks at: Grad-CAM maps (captum) and squeeze-and-excitation gates. No UI code."""

from lwviz.explain.explainer import Explainer
from lwviz.explain.gradcam import (
    COLORMAPS,
    CamMap,
    colorize,
    default_layer,
    depth_layers,
    grad_cam,
    layer_names,
    network_input,
    overlay,
    resize_map,
)
from lwviz.explain.se_gates import (
    NO_SE_REASON,
    GateCapture,
    OpenGate,
    ablate_se,
    capture_gates,
    has_se,
    se_blocks,
    spec_has_se,
)

__all__ = [
    "Explainer",
    "COLORMAPS",
    "CamMap",
    "colorize",
    "default_layer",
    "depth_layers",
    "grad_cam",
    "layer_names",
    "network_input",
    "overlay",
    "resize_map",
    "NO_SE_REASON",
    "GateCapture",
    "OpenGate",
    "ablate_se",
    "capture_gates",
    "has_se",
    "se_blocks",
    "spec_has_se",
]
