"""Pictures with Pillow (issue #11 "uploads that cannot hurt"): the size from the header before
anything is decoded, the picture turned upright by its EXIF orientation, and the thumbnail every
page shows (core/rules/uploads.py holds the rules: the pixel limit, the thumbnail's size)."""
from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps

from core.rules.uploads import ImageBomb, UnreadableImage, thumbnail_size

# Pillow warns from ~89 megapixels and refuses from twice that (DecompressionBombError). kesu
# refuses every picture above its own setting (at most 80 megapixels) before decoding it, so
# the warning says nothing new; the error is reported as ImageBomb.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)

ORIENTATION = 0x0112  # the EXIF tag


def _open(data: bytes) -> Image.Image:
    try:
        return Image.open(io.BytesIO(data), formats=("JPEG", "PNG"))
    except Image.DecompressionBombError as e:
        raise ImageBomb(str(e)) from e
    except Exception as e:  # noqa: BLE001 - Pillow raises several kinds for what it cannot read
        raise UnreadableImage(str(e)) from e


def size(data: bytes) -> tuple[int, int]:
    """(width, height) from the header; nothing is decoded."""
    with _open(data) as im:
        w, h = im.size
        return int(w), int(h)


def upright(data: bytes) -> bytes:
    """The picture with its EXIF orientation applied (and that tag dropped); the same bytes when
    it is upright already."""
    with _open(data) as im:
        try:
            orientation = im.getexif().get(ORIENTATION, 1)
        except Exception:  # noqa: BLE001 - a damaged EXIF block: leave the picture as it is
            return data
        if orientation not in (2, 3, 4, 5, 6, 7, 8):
            return data
        fmt = im.format or "PNG"
        try:
            turned = ImageOps.exif_transpose(im)
            out = io.BytesIO()
            extra = {"exif": turned.getexif().tobytes()}
            if im.info.get("icc_profile"):
                extra["icc_profile"] = im.info["icc_profile"]
            if fmt == "JPEG":
                if turned.mode not in ("RGB", "L"):  # CMYK and the like: its profile no longer fits
                    turned, extra = turned.convert("RGB"), {"exif": extra["exif"]}
                turned.save(out, format="JPEG", quality=95, **extra)
            else:
                turned.save(out, format="PNG", **extra)
        except Image.DecompressionBombError as e:
            raise ImageBomb(str(e)) from e
        except Exception as e:  # noqa: BLE001 - truncated or damaged pixel data
            raise UnreadableImage(str(e)) from e
        return out.getvalue()


def thumbnail(data: bytes) -> bytes:
    """At most THUMBNAIL_LONG_SIDE px on the long side, upright: PNG for pictures with
    transparency or few colours (drawings, screenshots saved as such), JPEG for photos."""
    with _open(data) as im:
        try:
            target = thumbnail_size(*im.size)
            if im.format == "JPEG":
                im.draft("RGB", target)  # decode at 1/2, 1/4, 1/8 scale when that is enough
            shown = ImageOps.exif_transpose(im)
            png = im.format == "PNG" and (
                shown.mode in ("1", "L", "LA", "P", "PA", "RGBA", "I", "I;16")
                or "transparency" in shown.info)
            if png:
                shown = shown.convert("RGBA" if shown.mode in ("LA", "PA", "RGBA", "P")
                                      or "transparency" in shown.info else "L")
            else:
                shown = shown.convert("RGB")
            final = thumbnail_size(*shown.size)
            if final != shown.size:
                shown = shown.resize(final, Image.Resampling.LANCZOS, reducing_gap=3.0)
            out = io.BytesIO()
            if png:
                shown.save(out, format="PNG", optimize=True)
            else:
                shown.save(out, format="JPEG", quality=85, optimize=True)
        except Image.DecompressionBombError as e:
            raise ImageBomb(str(e)) from e
        except (ImageBomb, UnreadableImage):
            raise
        except Exception as e:  # noqa: BLE001 - truncated or damaged pixel data
            raise UnreadableImage(str(e)) from e
        return out.getvalue()
