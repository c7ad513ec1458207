"""The app's pages: one list that the navigation and the landing page both read."""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass

from lwviz.i18n import N_

N_("Home")  # the landing page's title, for the catalog


@dataclass(frozen=True)
class PageInfo:
    path: str  # file under pages/
    title: str
    icon: str  # a Material icon (emoji do not render everywhere)
    teaches: str  # two short lines for the landing page


PAGES = (
    PageInfo(
        "pages/lesson.py",
        N_("Lesson"),
        ":material/menu_book:",
        N_(
            "The ideas of lightweight CNNs in eleven steps, from one convolution's cost to the live demo.  \n"
            "Each step: one formula with live numbers, one control that moves it, one question for the class.",
        ),
    ),
    PageInfo(
        "pages/build.py",
        N_("Build"),
        ":material/construction:",
        N_(
            "Build a network from sliders: block type, width, resolution, kernel, expansion, SE.  \n"
            "Every layer's parameters and MACs against a standard convolution, updated as you move them.",
        ),
    ),
    PageInfo(
        "pages/layer.py",
        N_("One layer"),
        ":material/filter_center_focus:",
        N_(
            "One convolution, standard vs depthwise + pointwise: the paper's formulas with your numbers filled in.  \n"
            "See what each kernel reads for one output value, and why the saving is 1/N + 1/K².",
        ),
    ),
    PageInfo(
        "pages/classify.py",
        N_("Classify"),
        ":material/image_search:",
        N_(
            "A real pretrained lightweight network names what is in a photo, your upload or a camera snapshot.  \n"
            "Top-5 answers with how sure it is and how many milliseconds it took, offline on this laptop.",
        ),
    ),
    PageInfo(
        "pages/zoo.py",
        N_("Zoo"),
        ":material/leaderboard:",
        N_(
            "Every preset beside ResNet-18 and VGG-16: ImageNet accuracy against MACs and against speed "
            "measured on this laptop.  \nWhere counting MACs and timing the network disagree, and why.",
        ),
    ),
    PageInfo(
        "pages/webcam.py",
        N_("Webcam"),
        ":material/videocam:",
        N_(
            "Hold an object up to the camera: a pretrained lightweight network names it, live.  \n"
            "Model milliseconds and frames per second on this laptop, float32 against int8.",
        ),
    ),
    PageInfo(
        "pages/explain.py",
        N_("Look inside"),
        ":material/visibility:",
        N_(
            "Grad-CAM: which parts of a picture a layer found evidence for a class in, from sharp early maps "
            "to coarse late ones.  \nChannel attention: the squeeze-and-excitation gates, and what happens "
            "when they are switched off.",
        ),
    ),
    PageInfo(
        "pages/train.py",
        N_("Train"),
        ":material/model_training:",
        N_(
            "Train your design on handwritten digits (offline) or CIFAR-10 photos, in about a minute on this CPU.  \n"
            "Watch the loss fall; then distill a bigger teacher's knowledge into a small student.",
        ),
    ),
    PageInfo(
        "pages/compress.py",
        N_("Compress"),
        ":material/compress:",
        N_(
            "Make a network smaller still: int8 quantization, zeroed weights, removed channels.  \n"
            "File size, speed and accuracy of every variant, measured side by side on this laptop.",
        ),
    ),
    PageInfo(
        "pages/classroom.py",
        N_("Class"),
        ":material/groups:",
        N_(
            "Students join with one scan and run the network on their own devices.  \n"
            "Every device's measured speed, live: MACs against milliseconds on the class's machines.",
        ),
    ),
)


@functools.cache
def _st_pages(lang: str) -> tuple:
    import streamlit as st

    from lwviz.i18n import translations

    title = translations(lang).gettext
    home = st.Page("pages/home.py", title=title("Home"), icon=":material/school:", default=True)
    return (home, *(st.Page(p.path, title=title(p.title), icon=p.icon) for p in PAGES))


def st_pages(lang: str) -> list:
    """The ``st.Page`` of every page for ``st.navigation``, titled in ``lang``: made once per server, handed out as
    copies.

    ``st.Page`` resolves its file's real path: some forty file-system calls on every run of every
    session. Each call lets go of the GIL, and with a class's reruns in flight each waits its turn to
    take it back, which made a slow tail of slider steps. ``st.navigation`` marks the page it picks
    on the object, so every run gets its own shallow copies.
    """
    return [copy.copy(page) for page in _st_pages(lang)]


def require_frame() -> None:
    """Run this page inside app.py's frame (page config, navigation), also on a fresh server.

    Streamlit treats a ``pages/`` folder beside the entrypoint as an old-style multipage app
    until ``st.navigation`` first runs, so the first visitor to a shared ``/build?spec=...``
    link would get the bare page script. Turning that mode off (for the whole server) and rerunning
    goes through app.py. Only on a session's first run: AppTest turns the mode back on before every
    run, and a rerun on every run would swallow button clicks.
    """
    import streamlit as st
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory and "framed" not in st.session_state:
        st.session_state.framed = True
        PagesManager.uses_pages_directory = False
        st.rerun()
