"""Photos that ship with scikit-image: real pictures for every page, with no camera and no internet."""

from __future__ import annotations

import numpy as np

SAMPLE_PHOTOS = {  # shown name -> skimage.data function
    "Chelsea the cat": "chelsea",
    "A cup of coffee": "coffee",
    "Astronaut": "astronaut",
    "Rocket": "rocket",
}


def sample_photo(name: str) -> np.ndarray:
    """The photo as an ``HxWx3`` uint8 RGB array."""
    import skimage.data

    try:
        return getattr(skimage.data, SAMPLE_PHOTOS[name])()
    except KeyError:
        raise ValueError(f"photo: unknown sample {name!r}; choose one of {', '.join(SAMPLE_PHOTOS)}") from None
