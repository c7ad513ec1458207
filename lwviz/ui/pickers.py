"""Widgets more than one page uses to pick its input."""

from __future__ import annotations

import streamlit as st
from PIL import Image

from lwviz.i18n import N_
from lwviz.images import ImageError, load_image
from lwviz.samples import SAMPLE_PHOTOS, sample_photo
from lwviz.ui.language import _, error_text

PICTURE_MODES = (N_("Sample photo"), N_("Upload"), N_("Camera"))  # widget values, shown translated


def pick_picture(prefix: str, label: str | None = None, photo: str | None = None) -> Image.Image | None:
    """A sample photo, an upload or a camera snapshot as an RGB image; None until there is one, or when the
    file is not a usable picture (the reason is shown). Widget keys start with ``prefix``."""
    mode = st.segmented_control(
        label or _("Picture"),
        PICTURE_MODES,
        default=PICTURE_MODES[0],
        required=True,
        key=f"{prefix}_mode",
        format_func=_,
    )
    if mode == "Sample photo":
        names = list(SAMPLE_PHOTOS)
        picture = sample_photo(
            st.selectbox(
                _("Photo"), names, index=names.index(photo) if photo else 0, key=f"{prefix}_photo", format_func=_
            )
        )
    elif mode == "Upload":
        picture = st.file_uploader(_("An image file"), key=f"{prefix}_upload")
    else:
        picture = st.camera_input(_("Take a snapshot"), key=f"{prefix}_camera")
    if picture is None:
        return None
    try:
        return load_image(picture.getvalue() if hasattr(picture, "getvalue") else picture)
    except ImageError as exc:
        st.error(error_text(exc))
        return None
