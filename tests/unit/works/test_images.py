"""Preview images: what is accepted, what is refused, and what comes out (no metadata)."""

from __future__ import annotations

import hashlib

import pytest
from PIL import Image, PngImagePlugin

from app.errors import ValidationFailed
from app.works import images
from tests.support.images import (
    ARTIST,
    GPS_IFD,
    image_bytes,
    jpeg_with_exif,
    opened,
    png_claiming,
)


def refusal(data: bytes) -> str:
    with pytest.raises(ValidationFailed) as info:
        images.process(data)
    assert set(info.value.fields) == {"file"}
    return info.value.fields["file"]


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")],
)
def test_each_format_stays_itself_and_gets_a_webp_thumbnail(fmt, content_type):
    result = images.process(image_bytes(fmt, (1200, 600)))
    assert result.image.content_type == content_type
    assert (result.image.width, result.image.height) == (1200, 600)
    full = opened(result.image.data)
    assert full.format == fmt
    assert full.size == (1200, 600)
    assert result.thumbnail.content_type == "image/webp"
    assert (result.thumbnail.width, result.thumbnail.height) == (480, 240)
    thumb = opened(result.thumbnail.data)
    assert thumb.format == "WEBP"
    assert thumb.size == (480, 240)
    assert result.digest == hashlib.sha256(result.image.data).hexdigest()


def test_a_small_image_is_not_enlarged():
    result = images.process(image_bytes("PNG", (100, 50)))
    assert (result.thumbnail.width, result.thumbnail.height) == (100, 50)


def test_a_jpeg_comes_out_without_its_exif():
    upload = jpeg_with_exif()
    assert b"Secret Artist Name" in upload
    assert opened(upload).getexif()[ARTIST] == "Secret Artist Name"
    result = images.process(upload)
    for data in (result.image.data, result.thumbnail.data):
        out = opened(data)
        assert b"Secret Artist Name" not in data
        assert b"Exif" not in data
        assert "exif" not in out.info
        assert not out.getexif()
        assert not out.getexif().get_ifd(GPS_IFD)


def test_the_exif_orientation_is_applied_to_the_pixels():
    # Orientation 6: the camera was turned, so the 80×40 pixels are shown 40×80.
    result = images.process(jpeg_with_exif((80, 40), orientation=6))
    assert (result.image.width, result.image.height) == (40, 80)
    assert opened(result.image.data).size == (40, 80)
    assert opened(result.thumbnail.data).size == (40, 80)


def test_png_text_chunks_and_icc_profiles_are_dropped():
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Secret Artist Name")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>secret</x:xmpmeta>")
    upload = image_bytes("PNG", pnginfo=info, icc_profile=b"not really a profile" * 10)
    assert b"Secret Artist Name" in upload
    result = images.process(upload)
    out = opened(result.image.data)
    assert b"Secret Artist Name" not in result.image.data
    assert b"xmpmeta" not in result.image.data
    assert "icc_profile" not in out.info
    assert not out.text  # type: ignore[attr-defined]


def test_webp_metadata_is_dropped():
    exif = Image.Exif()
    exif[ARTIST] = "Secret Artist Name"
    upload = image_bytes("WEBP", exif=exif.tobytes(), xmp=b"<x:xmpmeta>secret</x:xmpmeta>")
    assert b"Secret Artist Name" in upload
    result = images.process(upload)
    assert b"Secret Artist Name" not in result.image.data
    assert b"xmpmeta" not in result.image.data
    out = opened(result.image.data)
    assert "exif" not in out.info
    assert "xmp" not in out.info


def test_transparency_is_kept():
    upload = image_bytes("PNG", (600, 300), mode="RGBA", color=(10, 20, 30, 0))
    result = images.process(upload)
    assert opened(result.image.data).mode == "RGBA"
    thumb = opened(result.thumbnail.data)
    assert thumb.mode == "RGBA"
    assert thumb.getpixel((0, 0))[3] == 0  # type: ignore[index]


def test_a_palette_png_with_a_transparent_colour_keeps_it():
    upload = image_bytes("PNG", mode="P", color=(0,), transparency=0)
    result = images.process(upload)
    out = opened(result.image.data)
    assert out.mode == "P"
    assert out.info.get("transparency") == 0
    assert opened(result.thumbnail.data).mode == "RGBA"


def test_a_text_file_renamed_png_is_refused():
    assert refusal(b"Just some text, saved as picture.png\n") == images.WRONG_FORMAT


def test_a_gif_is_refused():
    assert refusal(image_bytes("GIF")) == images.WRONG_FORMAT


def test_an_svg_is_refused():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    assert refusal(svg) == images.WRONG_FORMAT


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_a_truncated_image_is_refused(fmt):
    whole = image_bytes(fmt, (300, 200), color=(1, 2, 3))
    assert refusal(whole[: len(whole) * 2 // 3]) == images.DAMAGED


def test_a_png_with_a_broken_checksum_is_refused():
    whole = bytearray(image_bytes("PNG", (300, 200)))
    assert whole[37:41] == b"IDAT"
    whole[45] ^= 0xFF  # inside the compressed pixels
    assert refusal(bytes(whole)) == images.DAMAGED


def test_more_than_2_mb_is_refused():
    assert refusal(b"\x89PNG\r\n\x1a\n" + b"\x00" * images.MAX_BYTES) == images.TOO_LARGE


def test_an_empty_file_is_refused():
    assert refusal(b"") == images.EMPTY


@pytest.mark.parametrize(
    "size",
    [
        (100_000, 100_000),  # Pillow's own decompression bomb error
        (8_000, 6_000),  # 48 megapixels: under Pillow's limit, over ours
        (1, 50_000_000),
    ],
)
def test_decompression_bombs_are_refused(size):
    assert refusal(png_claiming(*size)) == images.TOO_MANY_PIXELS


def test_the_pixel_limit_itself_is_allowed_in_principle():
    # A header within the limit passes the size check; this one then fails as damaged data.
    assert refusal(png_claiming(100, 100)) == images.DAMAGED
