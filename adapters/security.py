"""Password hashing (bcrypt), and the key and cipher that keep stored secrets encrypted."""
from __future__ import annotations

import base64
import hashlib
import os
import secrets
import tomllib
from pathlib import Path

import bcrypt
from cryptography.fernet import Fernet, InvalidToken


# bcrypt's cost (log2 of its rounds): 10 makes one check ~70-100 ms on the 2-core machine this
# was measured on (11: ~180 ms, 12: ~340 ms; bench/browser.py, README Performance), the time
# a sign-in may spend on it. KESU_BCRYPT_ROUNDS sets another cost (adapters/wiring.py).
DEFAULT_ROUNDS = 10


class BcryptHasher:
    def __init__(self, rounds: int = DEFAULT_ROUNDS) -> None:
        self.rounds = rounds

    def hash(self, password: str) -> str:
        return bcrypt.hashpw(password.encode(), bcrypt.gensalt(self.rounds)).decode()

    def check(self, password: str, hashed: str) -> bool:
        try:
            return bcrypt.checkpw(password.encode(), hashed.encode())
        except ValueError:  # over 72 bytes, or a malformed hash
            return False

    def needs_rehash(self, hashed: str) -> bool:
        """A hash of another cost than this hasher's (bcrypt keeps the cost in the hash:
        `$2b$12$…`); it still checks, and is made again at the next successful sign-in."""
        parts = hashed.split("$")
        return len(parts) < 4 or not parts[2].isdigit() or int(parts[2]) != self.rounds


SECRET_KEY_FILE = "secret_key"


def _secrets_toml_key(root: Path) -> str:
    """`secret_key` in `.streamlit/secrets.toml` (top level or under [kesu]), if any."""
    path = root / ".streamlit" / "secrets.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return ""
    kesu = data.get("kesu")
    value = kesu.get("secret_key") if isinstance(kesu, dict) else data.get("secret_key")
    return value.strip() if isinstance(value, str) else ""


def secret_key(data_dir: Path, root: Path | None = None) -> bytes:
    """The key that encrypts the secrets kept in the database (SMTP password, robot tokens).

    KESU_SECRET_KEY, else `secret_key` in .streamlit/secrets.toml, else a random key generated
    once per install in the data folder (`secret_key`, mode 0600; never in a backup). Any
    text is accepted in the first two places: it is stretched to a Fernet key with SHA-256, so
    the deployer can paste a password manager's passphrase.
    """
    given = os.environ.get("KESU_SECRET_KEY", "").strip() or _secrets_toml_key(
        root or Path(__file__).resolve().parent.parent)
    if given:
        return base64.urlsafe_b64encode(hashlib.sha256(given.encode("utf-8")).digest())
    path = data_dir / SECRET_KEY_FILE
    if not path.exists():
        try:  # written whole under a temporary name, then linked: never seen half-written
            tmp = data_dir / f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(Fernet.generate_key())
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
    return path.read_bytes().strip()


class FernetCipher:
    """The Cipher port: Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`)."""

    def __init__(self, key: bytes) -> None:
        self.fernet = Fernet(key)

    def encrypt(self, text: str) -> str:
        return self.fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """The text; ValueError when the token was made with another key or is damaged."""
        try:
            return self.fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError) as e:
            raise ValueError("not decryptable with this key") from e
