"""An int8 network as one TorchScript graph: what the app runs.

The same int8 kernels and packed weights give the same outputs, without Python calling each of
the network's few hundred modules in turn, which costs an int8 network more than a float one
(docs/BENCHMARKS.md, compress: int8 eager against int8 static).
"""

from __future__ import annotations

import warnings

import torch

from lwviz.compress.quantize import Int8Net
from lwviz.compress.quantize_engines import RUN_THREADS
from lwviz.perf import num_threads


def traced(model: Int8Net, example: torch.Tensor) -> torch.jit.ScriptModule:
    """``model`` as one TorchScript graph, for inputs shaped like ``example``.

    Hooks on its modules do not run in the graph: look inside with the ``Int8Net``. Traced on one
    thread (see ``lwviz.compress.quantize_engines.pack_fastest``).
    """
    with num_threads(RUN_THREADS), torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TracerWarnings about shapes: the graph is for this input size
        return torch.jit.trace(model, example)
