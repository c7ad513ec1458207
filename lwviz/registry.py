"""Named registries (block families, presets, cost formulas, weight sources): a name is taken once."""

from __future__ import annotations

import importlib
import pkgutil
from typing import TypeVar

T = TypeVar("T")


def add(registry: dict[str, T], name: str, item: T, what: str) -> T:
    """Put ``item`` under ``name``; a second entry of the same name is a bug, so it raises."""
    if name in registry:
        raise ValueError(f"{what} {name!r} is already registered")
    registry[name] = item
    return item


def from_each_module(package: str, path: list[str], attribute: str, default=None) -> list:
    """``attribute`` of every module of a package, in file-name order (``default`` where it is missing).

    Block families and their modules register this way, so adding one is adding its files, with no
    list to edit elsewhere.
    """
    return [
        getattr(importlib.import_module(f"{package}.{info.name}"), attribute, default)
        for info in pkgutil.iter_modules(path)
    ]
