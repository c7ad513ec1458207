"""Grad-CAM (Selvaraju et al., 2017) with captum: where in a picture a layer saw evidence for a class.

The gradient of the class score with respect to a layer's feature maps, averaged over the map,
says how much each channel matters for that class; the channels summed with those weights and
passed through a ReLU show where the evidence *for* the class is. Early layers give sharp, local
maps of edges and textures, the last ones coarse maps of objects.

``grad_cam`` attaches captum's hook to ``model`` for the duration of the call (captum removes it,
also after an exception): give it a model no other thread runs meanwhile, such as an
:class:`lwviz.explain.Explainer`'s private copy. No Streamlit here: a webcam frame callback can call it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torchvision.transforms.v2.functional as TF
from captum.attr import LayerAttribution, LayerGradCam
from PIL import Image
from torchvision.transforms import InterpolationMode

from lwviz.builder import Net
from lwviz.plan import Plan
from lwviz.weights.preprocess import Preprocess

COLORMAPS = {"jet": cv2.COLORMAP_JET, "turbo": cv2.COLORMAP_TURBO, "inferno": cv2.COLORMAP_INFERNO}
MAX_ASPECT = 3.0  # a panorama is shrunk until its long side is at most this many crop sizes


@dataclass(frozen=True, eq=False)
class CamMap:
    heatmap: np.ndarray  # [H, W] float32 in [0, 1] at the input's size; 0 = no evidence for the class
    layer: str
    target: int  # the class explained
    top1: int  # the network's answer (from the logits: a softmax of near-equal logits rounds to ties)
    probs: np.ndarray  # [num_classes] softmax of the same forward pass

    @property
    def prob(self) -> float:
        """How sure the network is of the explained class."""
        return float(self.probs[self.target])


def layer_names(model: Net | Plan) -> tuple[str, ...]:
    """The layers Grad-CAM can explain, input to output: ``stem``, ``stages.i.j``, [``head``]."""
    plan = model if isinstance(model, Plan) else model.plan
    return tuple(a.name for a in plan.layers if a.name != "classifier")


def default_layer(model: Net) -> str:
    """The last convolutional layer: the maps the classifier pools, as in the Grad-CAM paper."""
    return layer_names(model)[-1]


def depth_layers(model: Net, count: int = 4) -> tuple[str, ...]:
    """The last layer at each feature-map size, deepest ``count`` of them: one map per downsampling step."""
    last_at_size = {a.out_size: a.name for a in model.plan.layers if a.name != "classifier"}
    return tuple(last_at_size.values())[-count:]


def grad_cam(model: Net, x: torch.Tensor, layer: str | None = None, target: int | None = None) -> CamMap:
    """Grad-CAM of ``layer`` (default: :func:`default_layer`) for class ``target`` (default: the top-1).

    ``x`` is one preprocessed picture ``[1, 3, H, W]``; the map is upsampled bilinearly to ``H x W`` and
    divided by its maximum. One forward and one partial backward pass: the top-1 class is picked inside
    the forward pass captum runs. ``ValueError`` names a bad layer, target, input or a training-mode model.
    """
    layer = layer or default_layer(model)
    if layer not in layer_names(model):
        raise ValueError(
            f"layer: {layer!r} is not a layer of {model.spec.name}; choose one of {', '.join(layer_names(model))}"
        )
    num_classes = model.spec.num_classes
    if target is not None and not 0 <= target < num_classes:
        raise ValueError(f"target: class {target} is outside 0..{num_classes - 1}")
    if x.ndim != 4 or x.shape[0] != 1:
        raise ValueError(f"x: expected one picture [1, C, H, W], got shape {tuple(x.shape)}")
    if model.training:
        raise ValueError("model: it is in training mode; explain an eval() copy")
    logits: list[torch.Tensor] = []

    def class_score(inputs: torch.Tensor) -> torch.Tensor:
        out = model(inputs)
        logits.append(out.detach())
        chosen = out.argmax(1, keepdim=True) if target is None else torch.full((len(out), 1), target)
        return out.gather(1, chosen)[:, 0]

    with torch.inference_mode(False), torch.enable_grad():
        cam = LayerGradCam(class_score, model.get_submodule(layer)).attribute(x, relu_attributions=True)
    cam = LayerAttribution.interpolate(cam.detach(), tuple(x.shape[-2:]), interpolate_mode="bilinear")[0, 0]
    peak = cam.max()
    heatmap = (cam / peak if peak > 0 else torch.zeros_like(cam)).clamp_(0, 1).numpy().astype(np.float32)
    top1 = int(logits[0].argmax())
    return CamMap(heatmap, layer, top1 if target is None else target, top1, logits[0].float().softmax(-1)[0].numpy())


def network_input(image: Image.Image, preprocess: Preprocess) -> torch.Tensor:
    """The whole picture for the network, shorter side resized to ``preprocess.crop``, normalized.

    Unlike classification there is no center crop, so the map covers every pixel of the picture;
    the networks pool globally and accept any size.
    """
    w, h = image.size
    scale = min(preprocess.crop / min(w, h), MAX_ASPECT * preprocess.crop / max(w, h))
    size = [max(1, round(h * scale)), max(1, round(w * scale))]
    x = TF.resize(TF.to_image(image), size, interpolation=InterpolationMode(preprocess.interpolation), antialias=True)
    return TF.normalize(TF.to_dtype(x, torch.float32, scale=True), preprocess.mean, preprocess.std)[None]


def resize_map(heatmap: np.ndarray, width: int, height: int) -> np.ndarray:
    """Bilinear resize of a ``[h, w]`` map to ``[height, width]``; values stay in [0, 1]."""
    if heatmap.shape == (height, width):
        return heatmap
    return np.clip(cv2.resize(heatmap, (width, height), interpolation=cv2.INTER_LINEAR), 0, 1)


def colorize(heatmap: np.ndarray, colormap: str = "jet") -> np.ndarray:
    """A ``[H, W]`` map in [0, 1] -> ``[H, W, 3]`` uint8 RGB colors."""
    try:
        code = COLORMAPS[colormap]
    except KeyError:
        raise ValueError(f"colormap: unknown {colormap!r}; choose one of {', '.join(COLORMAPS)}") from None
    levels = np.round(np.clip(heatmap, 0, 1) * 255).astype(np.uint8)
    return cv2.cvtColor(cv2.applyColorMap(levels, code), cv2.COLOR_BGR2RGB)


def overlay(
    image: Image.Image | np.ndarray, heatmap: np.ndarray, opacity: float = 0.5, colormap: str = "jet"
) -> np.ndarray:
    """The picture with the colored map blended over it (``opacity`` 0: picture only, 1: map only), uint8 RGB.

    The map is resized to the picture, so a map at the network's input size fits the original photo.
    """
    if not 0 <= opacity <= 1:
        raise ValueError(f"opacity: {opacity} is outside 0..1")
    rgb = np.asarray(image.convert("RGB") if isinstance(image, Image.Image) else image)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"image: expected HxWx3 uint8 RGB, got {rgb.dtype} {rgb.shape}")
    colors = colorize(resize_map(heatmap, rgb.shape[1], rgb.shape[0]), colormap)
    blended = (1 - opacity) * rgb.astype(np.float32) + opacity * colors.astype(np.float32)
    return np.round(blended).astype(np.uint8)
