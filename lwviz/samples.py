"""Photos that ship with scikit-image: real pictures for every page, with no camera and no internet."""

from __future__ import annotations

import functools

import numpy as np

from lwviz.i18n import N_

SAMPLE_PHOTOS = {  # shown name (a catalog message, translated where shown) -> skimage.data function
    N_("Chelsea the cat"): "chelsea",
    N_("A cup of coffee"): "coffee",
    N_("Astronaut"): "astronaut",
    N_("Rocket"): "rocket",
}


@functools.cache  # every rerun of a page shows one: decoding the file each time was 5-10 ms of it
def sample_photo(name: str) -> np.ndarray:
    """The photo as an ``HxWx3`` uint8 RGB array, read-only (it is shared)."""
    import skimage.data

    try:
        photo = getattr(skimage.data, SAMPLE_PHOTOS[name])()
    except KeyError:
        raise ValueError(f"photo: unknown sample {name!r}; choose one of {', '.join(SAMPLE_PHOTOS)}") from None
    photo.setflags(write=False)
    return photo
