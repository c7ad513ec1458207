import io
import os
import struct
import zlib

import numpy as np
import pytest
from PIL import Image
from skimage import data

from lwviz.images import MAX_PIXELS, ImageError, load_image


def encode(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kwargs)
    return buf.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares a size but carries no pixels: opening it reads only the header."""

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grayscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


CAT = data.chelsea()  # 300x451x3 uint8
CAT_PNG = encode(Image.fromarray(CAT), "PNG")


@pytest.mark.parametrize("wrap", [bytes, io.BytesIO, np.asarray, Image.open], ids=["bytes", "file", "array", "pil"])
def test_every_input_kind_gives_the_same_rgb_pixels(wrap):
    source = (
        np.asarray(Image.open(io.BytesIO(CAT_PNG)))
        if wrap is np.asarray
        else wrap(io.BytesIO(CAT_PNG) if wrap is Image.open else CAT_PNG)
    )
    image = load_image(source)
    assert image.mode == "RGB" and image.size == (451, 300)
    np.testing.assert_array_equal(np.asarray(image), CAT)


def test_an_upload_that_was_already_read_still_gives_the_picture():
    upload = io.BytesIO(CAT_PNG)
    upload.read()  # e.g. a page displayed it first
    np.testing.assert_array_equal(np.asarray(load_image(upload)), CAT)


def test_a_path_is_read(tmp_path):
    (tmp_path / "cat.png").write_bytes(CAT_PNG)
    np.testing.assert_array_equal(np.asarray(load_image(tmp_path / "cat.png")), CAT)
    np.testing.assert_array_equal(np.asarray(load_image(str(tmp_path / "cat.png"))), CAT)


JPEG = encode(Image.fromarray(CAT), "JPEG")


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"", "the image file is empty"),
        (b"just some text, not a picture", "not an image: expected a JPEG, PNG, WebP, GIF, BMP or TIFF file"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "not an image"),
        (JPEG[: len(JPEG) // 2], "the image is corrupt or truncated (image file is truncated"),
        (JPEG[:100], "the image header is damaged"),
        (CAT_PNG[:200] + b"\x00" * 64 + CAT_PNG[264:], "the image is corrupt or truncated"),
        (png_header(12000, 12000), "the image is 12000x12000 = 144 MP, more than the 64 MP limit"),
        (png_header(20000, 20000), "the image has too many pixels to open safely"),
    ],
    ids=["empty", "text", "pdf", "truncated-jpeg", "cut-header", "corrupt-png", "huge-png", "bomb"],
)
def test_bad_files_give_a_clear_message(payload, message):
    with pytest.raises(ImageError) as err:
        load_image(payload)
    assert message in str(err.value)


def test_empty_and_missing_files(tmp_path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(ImageError, match="the image file is empty"):
        load_image(tmp_path / "empty.jpg")
    with pytest.raises(ImageError, match="nope.jpg: no such file"):
        load_image(tmp_path / "nope.jpg")
    with pytest.raises(ImageError, match="nope.jpg: no such file"):
        load_image(tmp_path / "nope" / "nope.jpg")


def test_a_folder_or_a_device_is_named_for_what_it_is(tmp_path):
    """Not "no such file": the thing is there, it is just not a file. A pipe or /dev/zero is refused unread
    (reading either could wait, or grow, forever)."""
    os.mkfifo(tmp_path / "pipe.jpg")
    for path, message in [
        (tmp_path, f"{tmp_path} is a directory, not an image file"),
        (tmp_path / "pipe.jpg", f"{tmp_path / 'pipe.jpg'} is not a regular file"),
        ("/dev/zero", "/dev/zero is not a regular file"),
    ]:
        with pytest.raises(ImageError) as err:
            load_image(path)
        assert str(err.value) == message


def test_a_huge_jpeg_is_decoded_at_reduced_scale():
    """12000x12000 = 144 MP: read at 1/2 scale straight from the JPEG stream, never at full size."""
    huge = encode(Image.new("L", (12000, 12000), 77), "JPEG", quality=10)
    image = load_image(huge)
    assert image.size == (6000, 6000) and image.mode == "RGB"
    r, g, b = image.getpixel((3000, 3000))
    assert r == g == b and abs(r - 77) <= 2  # JPEG at quality 10 moves the flat grey a little
    assert load_image(huge, max_pixels=2_500_000).size == (1500, 1500)  # 1/8, the smallest JPEG scale
    with pytest.raises(ImageError, match="12000x12000 = 144 MP, more than the 1 MP limit"):
        load_image(huge, max_pixels=1_000_000)  # even 1/8 scale would be too big


def test_pixel_limit_is_checked_for_arrays():
    assert MAX_PIXELS == 64_000_000
    with pytest.raises(ImageError, match="the image is 200x100 = 0.02 MP, more than the 0.01 MP limit"):
        load_image(np.zeros((100, 200), np.uint8), max_pixels=10_000)


def test_grayscale_and_palette_become_rgb():
    gray = Image.fromarray(CAT[..., 1])
    rgb = np.asarray(load_image(encode(gray, "PNG")))
    assert rgb.shape == (300, 451, 3)
    np.testing.assert_array_equal(rgb, np.repeat(CAT[..., 1:2], 3, axis=2))
    palette = Image.fromarray(CAT).quantize(16)
    np.testing.assert_array_equal(np.asarray(load_image(encode(palette, "PNG"))), np.asarray(palette.convert("RGB")))
    bilevel = Image.fromarray(CAT[..., 1] > 128)
    assert set(np.unique(np.asarray(load_image(encode(bilevel, "PNG"))))) == {0, 255}


def test_16_bit_grayscale_is_scaled_not_clipped():
    levels = np.array([[0, 257, 32896, 65535]], np.uint16)  # = 0, 1, 128, 255 in 8 bits
    png = encode(Image.fromarray(levels), "PNG")
    assert Image.open(io.BytesIO(png)).mode == "I;16"
    assert np.asarray(load_image(png))[0, :, 0].tolist() == [0, 1, 128, 255]
    assert np.asarray(load_image(levels))[0, :, 0].tolist() == [0, 1, 128, 255]
    # A whole photo: 16-bit and 8-bit versions of the same picture load identically.
    gray8 = CAT[..., 1]
    gray16 = encode(Image.fromarray(gray8.astype(np.uint16) * 257), "PNG")
    np.testing.assert_array_equal(np.asarray(load_image(gray16))[..., 0], gray8)


def test_32_bit_and_float_grayscale_use_their_range():
    as_int = Image.fromarray(np.array([[0, 65535]], np.int32))
    assert np.asarray(load_image(as_int))[0, :, 0].tolist() == [0, 255]
    signed = Image.fromarray(np.array([[-100, 0, 300]], np.int32))
    assert np.asarray(load_image(signed))[0, :, 0].tolist() == [0, 64, 255]
    unit = Image.fromarray(np.array([[0.0, 0.5, 1.0]], np.float32))
    assert np.asarray(load_image(unit))[0, :, 0].tolist() == [0, 128, 255]
    hdr = Image.fromarray(np.array([[2.0, 3.0, 6.0]], np.float32))
    assert np.asarray(load_image(hdr))[0, :, 0].tolist() == [0, 64, 255]


def test_transparency_is_composited_on_white():
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0] = (255, 0, 0, 255)  # opaque red
    rgba[0, 1] = (0, 0, 255, 0)  # invisible blue: must not show
    rgba[1, 0] = (0, 0, 0, 128)  # half-transparent black
    rgba[1, 1] = (0, 255, 0, 255)
    expected = [[(255, 0, 0), (255, 255, 255)], [(127, 127, 127), (0, 255, 0)]]
    assert np.asarray(load_image(encode(Image.fromarray(rgba), "PNG"))).tolist() == [
        list(map(list, r)) for r in expected
    ]
    assert np.asarray(load_image(rgba)).tolist() == [list(map(list, r)) for r in expected]
    la = Image.fromarray(np.array([[[10, 255], [10, 0]]], np.uint8), "LA")
    assert np.asarray(load_image(encode(la, "PNG"))).tolist() == [[[10, 10, 10], [255, 255, 255]]]
    palette = Image.new("P", (2, 1))
    palette.putpalette([0, 0, 0, 200, 0, 0])
    palette.putpixel((1, 0), 1)
    png = encode(palette, "PNG", transparency=0)  # palette entry 0 (black) is transparent
    assert np.asarray(load_image(png)).tolist() == [[[255, 255, 255], [200, 0, 0]]]


def test_cmyk_jpeg_becomes_rgb():
    cmyk = Image.fromarray(CAT).convert("CMYK")
    image = load_image(encode(cmyk, "JPEG", quality=95))
    assert image.mode == "RGB"
    assert np.abs(np.asarray(image).astype(int) - CAT).mean() < 6


def test_exif_orientation_is_applied():
    """Phones store portrait photos sideways with an orientation tag; the model must see them upright."""
    landscape = Image.fromarray(CAT)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    image = load_image(encode(landscape, "JPEG", exif=exif.tobytes()))
    assert image.size == (300, 451)


@pytest.mark.parametrize(
    "array, expected",
    [
        (np.full((2, 3, 1), 7, np.uint8), 7),
        (np.full((2, 3), True), 255),
        (np.full((2, 3, 3), 0.5, np.float32), 128),
        (np.full((2, 3, 3), 65535, np.uint16), 255),
    ],
)
def test_arrays_of_common_dtypes(array, expected):
    image = load_image(array)
    assert image.mode == "RGB" and image.size == (3, 2)
    assert set(np.asarray(image).ravel()) == {expected}


@pytest.mark.parametrize(
    "array, message",
    [
        (np.zeros((4, 4, 2), np.uint8), r"shape \(4, 4, 2\) is not an image"),
        (np.zeros((4,), np.uint8), r"shape \(4,\) is not an image"),
        (np.zeros((0, 4, 3), np.uint8), r"shape \(0, 4, 3\) is not an image"),
        (np.full((4, 4, 3), 2.0), "an array of float64 is not an image"),
        (np.full((4, 4, 3), np.nan, np.float32), "an array of float32 is not an image"),
        (np.zeros((4, 4, 3), np.int64), "an array of int64 is not an image"),
    ],
)
def test_bad_arrays_are_refused(array, message):
    with pytest.raises(ImageError, match=message):
        load_image(array)
