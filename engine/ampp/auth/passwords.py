"""Checking passwords against bcrypt hashes without letting a flood of attempts take the CPU
or timing tell which users exist. ``--web.config.file`` and ``auth.users`` share it."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
from collections import OrderedDict

import bcrypt

FAKE_HASH = b"$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"
"""Checked for an unknown user, so that timing does not tell which users exist (exporter-toolkit's
hash of "fakepassword")."""
CACHE_SIZE = 100


def parse_basic(header: str) -> tuple[str, bytes] | None:
    """(user, password) of an ``Authorization: Basic`` header; None if it is not one."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(encoded.strip(), validate=True).partition(b":")
    except (binascii.Error, ValueError):
        return None
    if not sep:
        return None
    return user.decode("utf-8", "surrogateescape"), password


class PasswordChecker:
    """bcrypt costs ~0.1 s of a core per check: checks run one at a time in a thread, and recent
    answers are remembered by a digest of (user, hash, password), never the password itself."""

    def __init__(self) -> None:
        self._verified: OrderedDict[bytes, bool] = OrderedDict()
        self._lock = asyncio.Lock()

    def clear(self) -> None:
        """Forget remembered answers (the users or their hashes changed)."""
        self._verified.clear()

    async def check(self, user: str, password: bytes, hashed: bytes | None) -> bool:
        """Whether ``password`` matches ``hashed`` (None: an unknown user, always False)."""
        key = hashlib.sha256(b"\0".join((user.encode("utf-8", "surrogateescape"), hashed or b"", password)))
        digest = key.digest()
        known = self._verified.get(digest)
        if known is not None:
            self._verified.move_to_end(digest)
            return known
        async with self._lock:
            matches = await asyncio.to_thread(bcrypt.checkpw, password, hashed or FAKE_HASH)
        self._verified[digest] = ok = matches and hashed is not None
        while len(self._verified) > CACHE_SIZE:
            self._verified.popitem(last=False)
        return ok
