"""Password hashing (bcrypt) and the cookie signing key (secrets, env, or generated once)."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

import bcrypt


class BcryptHasher:
    def __init__(self, rounds: int = 12) -> None:
        self.rounds = rounds

    def hash(self, password: str) -> str:
        return bcrypt.hashpw(password.encode(), bcrypt.gensalt(self.rounds)).decode()

    def check(self, password: str, hashed: str) -> bool:
        try:
            return bcrypt.checkpw(password.encode(), hashed.encode())
        except ValueError:  # over 72 bytes, or a malformed hash
            return False


def cookie_key(data_dir: Path, from_secrets: str | None = None) -> str:
    """KESU_COOKIE_KEY / secrets.toml `cookie_key`, else a random key generated once per install."""
    key = (from_secrets or os.environ.get("KESU_COOKIE_KEY") or "").strip()
    if key:
        return key
    path = data_dir / "cookie_key"
    try:  # written whole under a temporary name, then linked: never seen half-written
        tmp = data_dir / f".cookie_key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # fails if another instance got there first: use theirs
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    except OSError:
        if not path.exists():
            raise
    return path.read_text().strip()
