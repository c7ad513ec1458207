"""Forward hooks that are always removed, and eval mode that is always undone.

Tracing costs, timing layers, capturing SE gates and preparing int8 all look inside a forward
pass with hooks. A hook left behind (after an exception, say) would run on every later call of a
model that may be shared by every session, so they are registered only through this.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from torch import nn

PreHook = Callable[[nn.Module, tuple], object]
Hook = Callable[[nn.Module, tuple, object], object]


@contextmanager
def forward_hooks(
    pre: Iterable[tuple[nn.Module, PreHook]] = (), post: Iterable[tuple[nn.Module, Hook]] = ()
) -> Iterator[None]:
    """Register forward pre-hooks (called with the inputs) and forward hooks (and the output) for the block."""
    handles = []
    try:
        handles += [module.register_forward_pre_hook(hook) for module, hook in pre]
        handles += [module.register_forward_hook(hook) for module, hook in post]
        yield
    finally:
        for handle in handles:
            handle.remove()


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """``model`` in eval mode for the block, then back in the mode it was in."""
    was_training = model.training
    try:
        yield model.eval()
    finally:
        model.train(was_training)
