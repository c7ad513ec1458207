"""Widgets more than one page uses to pick its input."""

from __future__ import annotations

import streamlit as st
from PIL import Image

from lwviz.images import ImageError, load_image
from lwviz.samples import SAMPLE_PHOTOS, sample_photo
from lwviz.ui.state import plain

PICTURE_MODES = ("Sample photo", "Upload", "Camera")


def pick_picture(prefix: str, label: str = "Picture", photo: str | None = None) -> Image.Image | None:
    """A sample photo, an upload or a camera snapshot as an RGB image; None until there is one, or when the
    file is not a usable picture (the reason is shown). Widget keys start with ``prefix``."""
    mode = st.segmented_control(label, PICTURE_MODES, default=PICTURE_MODES[0], required=True, key=f"{prefix}_mode")
    if mode == "Sample photo":
        names = list(SAMPLE_PHOTOS)
        picture = sample_photo(
            st.selectbox("Photo", names, index=names.index(photo) if photo else 0, key=f"{prefix}_photo")
        )
    elif mode == "Upload":
        picture = st.file_uploader("An image file", key=f"{prefix}_upload")
    else:
        picture = st.camera_input("Take a snapshot", key=f"{prefix}_camera")
    if picture is None:
        return None
    try:
        return load_image(picture.getvalue() if hasattr(picture, "getvalue") else picture)
    except ImageError as exc:
        st.error(plain(str(exc)))
        return None
