"""Cover images: checked by their content, re-encoded without metadata, in a few widths.

An upload is trusted for nothing: not its name, not its content type. Pillow must recognise
the bytes as a JPEG, PNG, WebP or GIF picture and `verify()` them; SVG (which can carry
script), empty files, oversized files and decompression bombs are refused with a message.
The picture is then decoded, turned upright by its EXIF orientation, and re-encoded as JPEG
from its pixels only, so EXIF (GPS position, camera serial) and any other metadata or
trailing bytes are gone. Each width is stored under a random name through the default
storage (S3 in production, the local disk in development and tests).
"""

import io
import uuid
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import EventInvalid

IMAGE_MAX_BYTES = 5 * 1024 * 1024
# Pixels, not bytes: a small PNG can decode to gigabytes (a decompression bomb).
IMAGE_MAX_PIXELS = 40_000_000
IMAGE_MIN_SIDE = 200
ALT_MAX_LENGTH = 250
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
# Field name on EventPost -> the width it is resized to (never enlarged).
WIDTHS = {"image_large": 1600, "image_medium": 800, "image_small": 400}
JPEG_QUALITY = 85


@dataclass(frozen=True)
class Renditions:
    """The encoded JPEG bytes of each width, by EventPost field name."""

    files: dict[str, bytes]


def _invalid(message: str) -> EventInvalid:
    return EventInvalid({"image": [message]}, message)


def image_renditions(data: bytes) -> Renditions:
    """Check the upload and encode every width; EventInvalid with a reason otherwise."""
    if not data:
        raise _invalid("The file is empty.")
    if len(data) > IMAGE_MAX_BYTES:
        raise _invalid(f"The image must be at most {IMAGE_MAX_BYTES // (1024 * 1024)} MB.")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            image_format = probe.format
            width, height = probe.size
            if image_format not in ACCEPTED_FORMATS:
                raise _invalid("Upload a JPEG, PNG, WebP or GIF picture.")
            if width * height > IMAGE_MAX_PIXELS:
                raise _invalid("The picture has too many pixels: at most 40 megapixels.")
            probe.verify()
        # verify() leaves the image unusable: open it again to decode the pixels.
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)
    except EventInvalid:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as error:
        raise _invalid(
            "This file is not a picture we can read: upload a JPEG, PNG, WebP or GIF."
        ) from error
    if min(upright.size) < IMAGE_MIN_SIDE:
        raise _invalid(f"The picture is too small: at least {IMAGE_MIN_SIDE} pixels each way.")
    flat = _without_transparency(upright)
    files: dict[str, bytes] = {}
    for field, target_width in WIDTHS.items():
        copy = flat.copy()
        copy.thumbnail((target_width, target_width * 4), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        # No exif= argument: nothing of the original's metadata is written.
        copy.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
        files[field] = buffer.getvalue()
    return Renditions(files=files)


def _without_transparency(image: Image.Image) -> Image.Image:
    """RGB pixels, transparent areas on white (JPEG has no alpha)."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def image_store(*, event_id: int, renditions: Renditions) -> dict[str, str]:
    """Save each width under a new random name; returns the stored names by field."""
    stem = f"events/{event_id}/cover-{uuid.uuid4().hex}"
    stored: dict[str, str] = {}
    try:
        for field, content in renditions.files.items():
            suffix = field.removeprefix("image_")
            stored[field] = default_storage.save(f"{stem}-{suffix}.jpg", ContentFile(content))
    except Exception:
        image_delete(stored.values())
        raise
    return stored


def image_delete(names) -> None:
    """Delete stored files (old covers after a replacement commits); missing ones are fine."""
    for name in names:
        if name:
            default_storage.delete(name)
