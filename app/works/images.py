"""Preview images of works: verify an upload, strip its metadata, and make a thumbnail.

Pure image processing: bytes in, a `ProcessedImage` or `ValidationFailed` out. Nothing here
knows of the database or of HTTP.

- Only PNG, JPEG and WebP are accepted, at most 2 MB and 40 megapixels. Pillow is told to
  open only those formats, so a GIF or a text file renamed `.png` is refused before decoding.
- The file is checked twice, as Pillow recommends: `verify()` (checksums, structure), then a
  fresh open and a full `load()` (catches truncated pixel data that `verify()` misses).
- The EXIF orientation is applied to the pixels, then the image is re-encoded with no
  metadata at all (no EXIF, XMP, ICC profile or text chunks), so a camera's GPS position or
  an artist's name never leaves through the preview. PNG stays PNG, JPEG stays JPEG (quality
  88), WebP stays WebP: the full image looks like what was uploaded.
- The thumbnail (at most 480×480) is always WebP: it keeps transparency (JPEG cannot), it is
  about a third smaller than a JPEG of the same quality, so lists of works stay light, and every
  browser the site supports shows it.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.errors import ValidationFailed
from app.i18n import N_
from app.i18n import gettext as _

if TYPE_CHECKING:
    from PIL import Image

FIELD = "file"
MAX_BYTES = 2 * 1024 * 1024
MAX_PIXELS = 40_000_000
# A re-encoded image may come out larger than the upload (a low-quality JPEG saved at 88).
MAX_STORED_BYTES = 8 * 1024 * 1024
THUMB_SIZE = (480, 480)
JPEG_QUALITY = 88
WEBP_QUALITY = 88
THUMB_QUALITY = 80
CONTENT_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}

WRONG_FORMAT = N_("Upload a PNG, JPEG or WebP image.")
TOO_LARGE = N_("The image is larger than 2 MB.")
TOO_MANY_PIXELS = N_("The image has too many pixels: at most 40 megapixels.")
DAMAGED = N_("The image file is damaged or incomplete. Save it again and upload it anew.")
EMPTY = N_("Choose an image file to upload.")
TOO_LARGE_STORED = N_("Once re-encoded the image is larger than 8 MB; make it smaller.")


@dataclass(frozen=True)
class Encoded:
    content_type: str
    width: int
    height: int
    data: bytes


@dataclass(frozen=True)
class ProcessedImage:
    image: Encoded
    thumbnail: Encoded

    @property
    def digest(self) -> str:
        """The SHA-256 of the full image: its ETag and the version in its URL."""
        return hashlib.sha256(self.image.data).hexdigest()


class _TooManyPixels(Exception):
    pass


def refuse(problem: str) -> ValidationFailed:
    """The refusal of an upload; `problem` is one of the messages above (marked with `N_`)."""
    message = _(problem)
    return ValidationFailed(message, fields={FIELD: message})


def _check_pixels(size: tuple[int, int]) -> None:
    width, height = size
    if width < 1 or height < 1 or width * height > MAX_PIXELS:
        raise _TooManyPixels


def process(data: bytes) -> ProcessedImage:
    """Verify an uploaded image and re-encode it without metadata, with its thumbnail."""
    if not data:
        raise refuse(EMPTY)
    if len(data) > MAX_BYTES:
        raise refuse(TOO_LARGE)
    # Pillow loads with the first upload, not in every worker at start (bench/memory.py).
    from PIL import Image, UnidentifiedImageError

    formats = tuple(CONTENT_TYPES)
    try:
        with Image.open(io.BytesIO(data), formats=formats) as probe:
            image_format = str(probe.format)
            _check_pixels(probe.size)
            probe.verify()
        with Image.open(io.BytesIO(data), formats=formats) as opened:
            _check_pixels(opened.size)
            opened.load()
            result = _reencode(opened, image_format)
    except UnidentifiedImageError:
        raise refuse(WRONG_FORMAT) from None
    except (_TooManyPixels, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise refuse(TOO_MANY_PIXELS) from None
    except Exception:  # Pillow raises many kinds of errors on malformed data
        raise refuse(DAMAGED) from None
    if len(result.image.data) > MAX_STORED_BYTES:
        raise refuse(TOO_LARGE_STORED)
    return result


def _reencode(opened: Image.Image, image_format: str) -> ProcessedImage:
    from PIL import Image, ImageOps

    # Only the first frame of an animated PNG or WebP is kept: a preview is a still.
    upright = ImageOps.exif_transpose(opened)
    full = _without_metadata(upright, image_format)
    thumb = _without_metadata(_thumbnail_source(upright), "WEBP")
    thumb.thumbnail(THUMB_SIZE, Image.Resampling.LANCZOS)
    return ProcessedImage(
        image=_encode(full, image_format, WEBP_QUALITY),
        thumbnail=_encode(thumb, "WEBP", THUMB_QUALITY),
    )


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def _thumbnail_source(image: Image.Image) -> Image.Image:
    # Palette and 16-bit modes resample badly or not at all: scale in 8-bit RGB(A).
    return image.convert("RGBA" if _has_alpha(image) else "RGB")


def _without_metadata(image: Image.Image, image_format: str) -> Image.Image:
    """A copy in a mode the format can hold, carrying no metadata but transparency."""
    if image_format == "JPEG":
        clean = image if image.mode in ("RGB", "L") else image.convert("RGB")
    elif image_format == "WEBP":
        clean = image.convert("RGBA" if _has_alpha(image) else "RGB")
    else:
        clean = image
    clean = clean.copy()
    transparency = clean.info.get("transparency")
    # Savers fall back on `info` for ICC profiles, EXIF and text: give them nothing.
    clean.info = {} if transparency is None else {"transparency": transparency}
    return clean


def _encode(image: Image.Image, image_format: str, webp_quality: int) -> Encoded:
    out = io.BytesIO()
    if image_format == "JPEG":
        image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    elif image_format == "WEBP":
        image.save(out, "WEBP", quality=webp_quality, method=4)
    else:
        image.save(out, "PNG")
    width, height = image.size
    return Encoded(CONTENT_TYPES[image_format], width, height, out.getvalue())
