"""Named registries (block families, presets, cost formulas, weight sources): a name is taken once."""
from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def add(registry: dict[str, T], name: str, item: T, what: str) -> T:
    """Put ``item`` under ``name``; a second entry of the same name is a bug, so it raises."""
    if name in registry:
        raise ValueError(f"{what} {name!r} is already registered")
    registry[name] = item
    return item
