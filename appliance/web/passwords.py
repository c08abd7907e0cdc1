"""The technician's password: one line in the state folder, a salted scrypt hash, never the
password itself.

The line reads `scrypt$N$r$p$SALT$HASH` (salt and hash in base64). It is written atomically
with mode 0600; run as root (`sudo appliance password --state-dir /var/lib/appliance`) it is
given to the state folder's owner, so the service, which runs as that user, can read it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from appliance import paths
from appliance.atomic import atomic_path
from appliance.errors import ConfigError

N, R, P = 1 << 14, 8, 1  # 16 MiB and about 50 ms a try here: slow to guess, cheap on a Pi
SALT_BYTES = 16
HASH_BYTES = 32
MIN_LENGTH = 8


def password_file(state_dir: Path) -> Path:
    return Path(state_dir) / paths.PASSWORD


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                          maxmem=256 * n * r + (1 << 20), dklen=HASH_BYTES)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """The stored line for `password`, with a fresh random salt."""
    salt = secrets.token_bytes(SALT_BYTES)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(_scrypt(password, salt, N, R, P))}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches the stored line (compared in constant time); a malformed
    line matches nothing."""
    try:
        kind, n, r, p, salt, digest = stored.strip().split("$")
        n_, r_, p_ = int(n), int(r), int(p)
        if kind != "scrypt" or not (2 <= n_ <= 1 << 20 and 1 <= r_ <= 32 and 1 <= p_ <= 4):
            return False
        expected = base64.b64decode(digest, validate=True)
        actual = _scrypt(password, base64.b64decode(salt, validate=True), n_, r_, p_)
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(actual, expected)


def read_hash(state_dir: Path) -> str | None:
    """The stored line, or None when no password was ever set (or it cannot be read)."""
    try:
        line = password_file(state_dir).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return line or None


def password_problem(password: str) -> str | None:
    if len(password) < MIN_LENGTH:
        return f"the password is shorter than {MIN_LENGTH} characters"
    if any(ord(c) < 32 or ord(c) == 127 for c in password):
        return "the password holds a control character"
    return None


def store_password(state_dir: Path, password: str) -> Path:
    """Write the password's hash (0600, atomically); as root, owned by the folder's owner."""
    problem = password_problem(password)
    if problem:
        raise ConfigError([f"appliance password: {problem}"])
    path = password_file(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text(hash_password(password) + "\n", encoding="ascii")
        os.chmod(tmp, 0o600)
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            folder = path.parent.stat()
            os.chown(tmp, folder.st_uid, folder.st_gid)
    return path
