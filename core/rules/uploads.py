"""Uploads that cannot hurt (issue #11): the rules every attached file passes, and the port the
attachment store offers for pictures.

- A picture is measured from its header before anything decodes it: more pixels than the
  `image_max_megapixels` setting is refused (`check_pixels`), and a file Pillow itself calls a
  decompression bomb (`ImageBomb`) too.
- A picture is kept upright (its EXIF orientation applied) with a thumbnail of at most
  THUMBNAIL_LONG_SIDE px on its long side (`thumbnail_size`); pages show only the thumbnail,
  the original only downloads. A picture that cannot be read at all is kept as a file that only
  downloads (it is never decoded nor shown).
- All the files of one case together stay under `case_attachments_max_mb` (`check_case_total`).
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

from core.errors import InvalidInput

THUMBNAIL_LONG_SIDE = 1600  # px; what every page shows of a picture
MB = 1024 * 1024


class UnreadableImage(Exception):
    """The bytes are not a picture the image library can read."""


class ImageBomb(Exception):
    """The picture claims so many pixels that the image library refuses to open it."""


@runtime_checkable
class ImageStore(Protocol):
    """The attachment store (core.ports.BlobStore) that also knows pictures. A store without it
    keeps pictures as files that only download."""

    def put(self, data: bytes) -> str: ...
    def get(self, sha256: str) -> bytes: ...

    def image_size(self, data: bytes) -> tuple[int, int]:
        """(width, height) from the header, nothing decoded; UnreadableImage or ImageBomb."""
        ...

    def put_image(self, data: bytes) -> tuple[str, int]:
        """Store the picture upright (EXIF orientation applied) with its thumbnail:
        (sha256 of the stored bytes, their size). UnreadableImage when it cannot be decoded."""
        ...

    def thumbnail(self, sha256: str, max_pixels: int) -> bytes | None:
        """The stored picture's thumbnail, made now for a picture stored without one; None when
        there is none (not readable, or more pixels than max_pixels)."""
        ...


def check_pixels(name: str, width: int, height: int, max_megapixels: int) -> None:
    """InvalidInput when a picture has more pixels than the setting allows."""
    if width <= 0 or height <= 0:
        raise InvalidInput("err.image_unreadable", name=name)
    if width * height > max_megapixels * 1_000_000:
        raise InvalidInput("err.image_pixels", name=name, width=width, height=height,
                           mp=f"{width * height / 1_000_000:.0f}", max=max_megapixels)


def thumbnail_size(width: int, height: int,
                   long_side: int = THUMBNAIL_LONG_SIDE) -> tuple[int, int]:
    """The thumbnail's size: the long side at most `long_side`, the proportions kept, never
    enlarged, never 0."""
    if width <= 0 or height <= 0:
        raise ValueError("an image has a positive size")
    scale = min(1.0, long_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def check_case_total(stored_bytes: int, adding_bytes: int, max_mb: int) -> None:
    """InvalidInput when a case's files would together pass the per-case limit."""
    if stored_bytes + adding_bytes > max_mb * MB:
        raise InvalidInput("err.case_attachments_total", max=max_mb,
                           used=f"{stored_bytes / MB:.1f}", adding=f"{adding_bytes / MB:.1f}")
