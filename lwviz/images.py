"""Any picture a person hands us -> an 8-bit RGB PIL image, or an ``ImageError`` that says what is wrong.

Uploads are untrusted: empty files, PDFs renamed to .jpg, half-copied photos, 144-megapixel
scans, 16-bit medical PNGs and transparent logos all arrive. Each becomes a clear message or
a correct conversion, never a traceback, and nothing is decoded at a size that could exhaust
memory: pixel counts are checked from the header before decoding, and oversized JPEGs are decoded
directly at 1/2, 1/4 or 1/8 scale (``Image.draft``), which never materialises the full image.
"""

from __future__ import annotations

import io
import math
import os
import stat
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from lwviz.errors import Refusal
from lwviz.i18n import N_

MAX_PIXELS = 64_000_000  # well above a 50 MP phone photo; a full-size RGB decode is ~190 MB

ImageInput = bytes | str | os.PathLike | BinaryIO | np.ndarray | Image.Image


class ImageError(Refusal):
    """An input that is not a usable picture; the message says what was wrong with it."""


def load_image(source: ImageInput, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Bytes, a path, a file object (e.g. an upload), an array or a PIL image -> an upright RGB image."""
    if isinstance(source, Image.Image):
        return to_rgb(source)
    if isinstance(source, np.ndarray):
        return array_to_rgb(source, max_pixels)
    image = _decode(_read(source), max_pixels)
    return to_rgb(_upright(image))


def array_to_rgb(array: np.ndarray, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """HxW, HxWx1, HxWx3 or HxWx4 arrays of uint8, uint16 (full 16-bit range), bool or floats in [0, 1]."""
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)) or 0 in array.shape:
        raise ImageError(f"an array of shape {array.shape} is not an image: expected HxW, HxWx3 or HxWx4")
    _check_pixels(array.shape[1], array.shape[0], max_pixels)
    return to_rgb(Image.fromarray(np.ascontiguousarray(_as_uint8(array))))


def _as_uint8(array: np.ndarray) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.uint16:
        return _rescale(array, 65535)
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if np.issubdtype(array.dtype, np.floating) and np.isfinite(array).all() and 0 <= array.min() <= array.max() <= 1:
        return _rescale(array, 1.0)
    raise ImageError(f"an array of {array.dtype} is not an image: expected uint8, uint16, bool or floats in [0, 1]")


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB: transparency over white, high bit depths scaled (not clipped) to 0..255, the rest converted."""
    if image.mode == "RGB":
        return image
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    for modes, convert in _CONVERTERS:
        if image.mode in modes:
            return convert(image)
    return image.convert("RGB")  # L, 1, P, CMYK, YCbCr, LAB, HSV


def _on_white(image: Image.Image) -> Image.Image:
    """Transparent pixels keep arbitrary colours underneath; a white background is what a viewer shows."""
    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def _wide_gray(image: Image.Image) -> Image.Image:
    """16-bit, 32-bit integer and float grayscale: full range of the data mapped to 0..255."""
    array = np.asarray(image)
    if image.mode.startswith("I;16"):
        top = 65535
    elif image.mode == "F" and array.size and 0 <= array.min() <= array.max() <= 1:
        top = 1.0
    elif image.mode == "I" and array.size and 0 <= array.min() <= array.max() <= 65535:
        top = 65535  # how older decoders hand over 16-bit PNGs
    else:  # an arbitrary range (signed, or HDR floats): stretch what is there
        array = array.astype(np.float64) - array.min()
        top = array.max() or 1.0
    return Image.fromarray(_rescale(array, top)).convert("RGB")


_CONVERTERS: tuple[tuple[frozenset[str], Callable[[Image.Image], Image.Image]], ...] = (
    (frozenset({"RGBA", "RGBa", "LA", "La", "PA"}), _on_white),
    (frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I", "F"}), _wide_gray),
)


def _rescale(array: np.ndarray, top: float) -> np.ndarray:
    return np.rint(array.astype(np.float64) * (255.0 / top)).clip(0, 255).astype(np.uint8)


def _read(source: bytes | str | os.PathLike | BinaryIO) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    elif hasattr(source, "getvalue"):  # BytesIO and Streamlit uploads: all bytes, wherever the cursor is
        data = source.getvalue()
    elif hasattr(source, "read"):
        data = source.read()
    else:
        path = Path(source)
        if problem := file_problem(path, "an image file"):
            raise ImageError(problem)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ImageError(f"{path}: cannot read it ({exc.strerror})") from None
    if not data:
        raise ImageError(N_("the image file is empty"))
    return data


def file_problem(path: Path, kind: str) -> str | None:
    """Why ``path`` cannot be read as ``kind`` ("an image file"), or None if it can.

    A folder and a device (``/dev/zero`` never ends, a pipe may never start) each get their own words:
    "no such file" would send a person looking for a file that is right there.
    """
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return f"{path}: no such file"
    except OSError as exc:  # no permission to look in its folder, a loop of links...
        return f"{path}: cannot read it ({exc.strerror})"
    if stat.S_ISDIR(mode):
        return f"{path} is a directory, not {kind}"
    if not stat.S_ISREG(mode):
        return f"{path} is not a regular file"
    return None


def _decode(data: bytes, max_pixels: int) -> Image.Image:
    try:
        with warnings.catch_warnings():  # we enforce our own pixel limit below, before decoding
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ImageError(N_("not an image: expected a JPEG, PNG, WebP, GIF, BMP or TIFF file")) from None
    except Image.DecompressionBombError as exc:
        raise ImageError(N_("the image has too many pixels to open safely ({detail})"), detail=exc) from None
    except Exception as exc:  # a malformed header trips many different errors inside the decoders
        raise ImageError(N_("the image header is damaged ({detail})"), detail=exc) from None
    width, height = image.size
    if width * height > max_pixels:
        image.draft(image.mode, _draft_size(width, height, max_pixels))  # a no-op except for JPEG
    _check_pixels(*image.size, max_pixels, original=(width, height))
    try:
        image.load()
    except Exception as exc:  # truncated data raises OSError, broken streams SyntaxError/ValueError/zlib errors
        raise ImageError(N_("the image is corrupt or truncated ({detail})"), detail=exc) from None
    return image


def _draft_size(width: int, height: int, max_pixels: int) -> tuple[int, int]:
    """The size ``Image.draft`` needs to pick the smallest JPEG scale (1/2..1/8) that fits ``max_pixels``."""
    halvings = min(3, math.ceil(math.log(width * height / max_pixels, 4)))
    return math.ceil(width / 2**halvings), math.ceil(height / 2**halvings)


def _check_pixels(width: int, height: int, max_pixels: int, original: tuple[int, int] | None = None) -> None:
    if width * height <= max_pixels:
        return
    w, h = original or (width, height)
    raise ImageError(
        N_(
            "the image is {w}x{h} = {mp} MP, more than the {limit} MP limit: save a smaller copy "
            "(or a JPEG, which is read at reduced size)"
        ),
        w=w,
        h=h,
        mp=f"{w * h / 1e6:.3g}",
        limit=f"{max_pixels / 1e6:.3g}",
    )


def _upright(image: Image.Image) -> Image.Image:
    """Phone photos are stored sideways with an EXIF orientation tag; apply it."""
    try:
        ImageOps.exif_transpose(image, in_place=True)
    except Exception:  # a malformed EXIF block: the pixels are still fine as stored
        pass
    return image
