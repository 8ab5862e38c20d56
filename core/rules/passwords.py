"""The password policy (issue #11 item 4), applied wherever a password is chosen: the first
administrator, a new user, an administrator's reset, a user's own change.

A password is refused if it is
- shorter than MIN_LENGTH characters (8: docs/decisions/0011-login-delays-and-security-log.md
  says why not more) or longer than bcrypt's 72 bytes;
- one of the common passwords shipped in core/data/common-passwords.txt (case ignored);
- the user name, or contains it, forwards or backwards (a doubled name contains it too);
  names shorter than 3 characters only when they are the whole password.
`problem` returns the first reason as (translation key, parameters), or None.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

MIN_LENGTH = 8
MAX_BYTES = 72  # bcrypt's limit
COMMON_FILE = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    with COMMON_FILE.open(encoding="utf-8") as f:
        return frozenset(line.strip().lower() for line in f if line.strip())


def _bare(s: str) -> str:
    """Lower case without separators, so "Wang.Li-2024" meets "wangli"."""
    return "".join(ch for ch in s.lower() if ch not in " ._-")


def problem(password: str, username: str = "") -> tuple[str, dict[str, Any]] | None:
    pw = password.strip()
    if len(pw) < MIN_LENGTH:
        return "err.password_short", {"n": MIN_LENGTH}
    if len(pw.encode()) > MAX_BYTES:
        return "err.password_long", {"n": MAX_BYTES}
    low = pw.lower()
    if low in common_passwords() or _bare(pw) in common_passwords():
        return "err.password_common", {}
    name = username.strip().lower()
    if name:
        bare_pw, bare_name = _bare(pw), _bare(name)
        forms = {name, name[::-1], bare_name, bare_name[::-1]} - {""}
        if len(bare_name) >= 3:
            if any(f in low or f in bare_pw for f in forms):
                return "err.password_has_name", {}
        elif low in forms or bare_pw in forms or low in {f * 2 for f in forms}:
            return "err.password_has_name", {}
    return None
