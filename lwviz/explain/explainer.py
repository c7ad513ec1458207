"""A network's private copy, explained one request at a time: safe with many students and a webcam.

Grad-CAM and the SE-gate capture attach hooks. On a model other threads run (the app's cached
network, every session's forward passes, a webcam callback) a hook would record their activations,
and registering one while another thread walks the hook list breaks that thread's forward pass.
So an :class:`Explainer` deep-copies the model once, freezes its parameters (Grad-CAM needs the
gradients of activations only, so freezing also skips the weight gradients' work) and runs every
hooked computation on the copy under its own lock. The original is never touched; two sessions
asking at once get their own correct maps, one after the other.

A page redraws every map it shows on each rerun, though a change of layer changes only one of them;
so the explainer remembers its last Grad-CAM results, keyed by the input's digest, the layer and the
class, and a rerun pays only for the map that changed.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections import OrderedDict

import torch

from lwviz.builder import Net
from lwviz.explain.gradcam import CamMap, default_layer, depth_layers, grad_cam, layer_names
from lwviz.explain.se_gates import GateCapture, ablate_se, capture_gates, has_se, se_blocks
from lwviz.plan import Plan
from lwviz.spec import Spec

REMEMBERED_CAMS = 32  # per network: a page's maps for a few pictures and classes (~7 MB at 224x224)


def _digest(x: torch.Tensor) -> tuple:
    return tuple(x.shape), str(x.dtype), hashlib.blake2b(x.detach().contiguous().numpy()).digest()  # no copy


class Explainer:
    def __init__(self, model: Net):
        self._model = self._freeze(copy.deepcopy(model))
        self._lock = threading.Lock()
        self._cams: OrderedDict[tuple, CamMap] = OrderedDict()

    @staticmethod
    def _freeze(model: Net) -> Net:
        return model.eval().requires_grad_(False)

    @classmethod
    def _owning(cls, private: Net) -> Explainer:
        """Wrap a copy nobody else holds, without copying it again."""
        explainer = cls.__new__(cls)
        explainer._model, explainer._lock, explainer._cams = cls._freeze(private), threading.Lock(), OrderedDict()
        return explainer

    @property
    def plan(self) -> Plan:
        """The network's layers with their shapes (immutable)."""
        return self._model.plan

    @property
    def spec(self) -> Spec:
        return self._model.spec

    @property
    def has_se(self) -> bool:
        return has_se(self._model)

    def layer_names(self) -> tuple[str, ...]:
        return layer_names(self._model)

    def default_layer(self) -> str:
        return default_layer(self._model)

    def depth_layers(self, count: int = 4) -> tuple[str, ...]:
        return depth_layers(self._model, count)

    def se_blocks(self) -> dict[str, int]:
        """Block name -> how many channels its SE block gates, input to output."""
        return {name: se.fc2.out_channels for name, se in se_blocks(self._model).items()}

    def grad_cam(
        self, x: torch.Tensor, layer: str | None = None, target: int | None = None, remember: bool = True
    ) -> CamMap:
        """:func:`lwviz.explain.gradcam.grad_cam` on the private copy; a map asked for again is remembered.

        ``remember=False`` for inputs that never come back (webcam frames): they would only push out
        the maps a page will ask for again. A remembered map's arrays are read-only, as it is shared.
        """
        key = (_digest(x), layer or self.default_layer(), target) if remember else None
        with self._lock:
            if key in self._cams:
                self._cams.move_to_end(key)
                return self._cams[key]
            cam = grad_cam(self._model, x, layer, target)
            if key is not None:
                cam.heatmap.setflags(write=False)
                cam.probs.setflags(write=False)
                self._cams[key] = cam
                if len(self._cams) > REMEMBERED_CAMS:
                    self._cams.popitem(last=False)
            return cam

    def gates(self, x: torch.Tensor, features_of: str | None = None) -> GateCapture:
        """:func:`lwviz.explain.se_gates.capture_gates` on the private copy."""
        with self._lock:
            return capture_gates(self._model, x, features_of)

    def ablated(self) -> Explainer:
        """Another explainer of the same network with every SE gate forced to 1."""
        with self._lock:
            return Explainer._owning(ablate_se(self._model))
