"""The secrets a gongwen home keeps for itself, made on first use (mode 0600, in a 0700 folder):

- the secret key (``secret.key``, 32 random bytes as hex) that signs the 门户's sign-in cookies and
  its stamps, unless GONGWEN_SECRET_KEY gives one (as the compose stack does, to the gateway and the
  workers alike);
- the Prefect auth string (``prefect/auth``, ``gongwen:<random>``) that ``gongwen server``'s Prefect
  server requires and only the gateway, the serving process and its flow runs are given, unless
  PREFECT_API_AUTH_STRING gives one.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def _kept(path: Path, make) -> str:
    """The secret in ``path``, written there (0600) first if missing."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    value = make()
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it meanwhile: theirs holds
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as file:
        file.write(value + "\n")
    return value


def secret_key(home: Path, configured: str | None = None) -> bytes:
    """The key that signs cookies and stamps."""
    return bytes.fromhex(configured or _kept(home / "secret.key", lambda: secrets.token_hex(32)))


def prefect_auth_string(home: Path, configured: str | None = None) -> str:
    """user:password for the Prefect server behind the gateway."""
    return configured or _kept(home / "prefect" / "auth", lambda: f"gongwen:{secrets.token_urlsafe(24)}")
