"""Attachment bytes on disk, content-addressed: stored once by SHA-256 (attachments/ab/abcd…).
A picture's thumbnail lies next to it (attachments/ab/abcd….thumb, derived from the picture, so
not in a backup: it is made again when first shown); an empty .thumb file means "none"."""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from adapters import images
from core.errors import NotFound
from core.rules.uploads import ImageBomb, UnreadableImage

_SHA = re.compile(r"^[0-9a-f]{64}$")


class FileBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, sha: str) -> Path:
        if not _SHA.match(sha):  # never let a stored name walk out of the folder
            raise NotFound()
        return self.root / sha[:2] / sha

    def put(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        path = self._path(sha)
        if not path.exists():
            _write(path, data)
        return sha

    def get(self, sha256: str) -> bytes:
        path = self._path(sha256)
        if not path.exists():
            raise NotFound()
        return path.read_bytes()

    # ------------------------------------------------------------ pictures (core.rules.uploads)

    def image_size(self, data: bytes) -> tuple[int, int]:
        return images.size(data)

    def put_image(self, data: bytes) -> tuple[str, int]:
        stored = images.upright(data)
        thumb = images.thumbnail(stored)
        sha = self.put(stored)
        _write(self._thumb_path(sha), thumb)
        return sha, len(stored)

    def thumbnail(self, sha256: str, max_pixels: int) -> bytes | None:
        path = self._thumb_path(sha256)
        if path.exists():
            return path.read_bytes() or None
        data = self.get(sha256)  # stored before thumbnails existed: make it now, once
        try:
            width, height = images.size(data)
            if width * height > max_pixels:
                return None  # never decoded; shown again if the limit is raised
            thumb = images.thumbnail(data)
        except (UnreadableImage, ImageBomb):
            thumb = b""
        _write(path, thumb)
        return thumb or None

    def _thumb_path(self, sha: str) -> Path:
        return self._path(sha).with_name(sha + ".thumb")


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)  # atomic: a reader never sees half a file
