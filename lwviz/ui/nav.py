"""The app's pages: one list that the navigation and the landing page both read."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageInfo:
    path: str  # file under pages/
    title: str
    icon: str  # a Material icon (emoji do not render everywhere)
    teaches: str  # two short lines for the landing page


PAGES = (
    PageInfo("pages/build.py", "Build", ":material/construction:",
             "Build a network from sliders: block type, width, resolution, kernel, expansion, SE.  \n"
             "Every layer's parameters and MACs against a standard convolution, updated as you move them."),
)
