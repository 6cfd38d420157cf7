"""API keys: random secrets shown once, kept only as SHA-256 digests.

A key is 32 random bytes (``ampp_`` + URL-safe base64), so a fast digest is as safe to keep
as a slow password hash, and cheap enough to check on every request. Keys come from the config
(``auth.api_keys``: the chart's admin and Prometheus keys, from Secrets) and from storage
(created and revoked through the API and ``ampp apikey``); answers from storage are remembered
for ``CACHE_S`` so that a key revoked on one replica stops working on the others soon after.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from ..config.errors import ConfigError, ConfigIssue
from ..config.security import StaticApiKey
from .roles import Role

PREFIX = "ampp_"
CACHE_S = 10.0
"""How long a key looked up in storage is trusted before it is looked up again."""
TOUCH_EVERY_S = 60.0
"""``last_used`` is written at most this often per key (not on every request)."""


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    role: Role
    digest: str
    created_at: float
    created_by: str = ""
    expires_at: float | None = None
    last_used_at: float | None = None
    revoked_at: float | None = None
    machine: bool = True
    static: bool = False
    """From the config: listed, but neither created nor revoked through the API."""
    sources: tuple[str, ...] = ()
    """The webhook sources it may post alerts of, and nothing else; empty: not scoped."""

    def valid(self, now: float) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


class ApiKeyStore(Protocol):
    """Where created keys live (SQLite or PostgreSQL)."""

    async def insert_api_key(self, key: ApiKey) -> None: ...
    async def api_key_by_digest(self, digest: str) -> ApiKey | None: ...
    async def list_api_keys(self) -> list[ApiKey]: ...
    async def revoke_api_key(self, key_id: str, at: float) -> ApiKey | None: ...
    async def touch_api_key(self, key_id: str, at: float) -> None: ...


class ApiKeyNotFound(LookupError):
    pass


def static_keys(keys: list[StaticApiKey], source: str) -> dict[str, ApiKey]:
    """The config's keys by digest; an unreadable key_file is a ConfigError naming it."""
    out: dict[str, ApiKey] = {}
    for i, k in enumerate(keys):
        clear = str(k.key) if k.key is not None else None
        if clear is None:
            try:
                clear = Path(str(k.key_file)).read_text().strip()
            except OSError as e:
                where = ("auth", "api_keys", i, "key_file")
                raise ConfigError([ConfigIssue(source, where, f"{k.key_file}: {e.strerror or e}")]) from None
        if len(clear) < 16:
            where = ("auth", "api_keys", i, "key" if k.key is not None else "key_file")
            raise ConfigError([ConfigIssue(source, where, "an API key must have at least 16 characters")])
        d = digest(clear)
        key_id = "config-" + d[:12]  # stable across restarts and replicas, reveals nothing usable
        out[d] = ApiKey(
            key_id, k.name, Role.parse(k.role), d, 0.0, "config", machine=k.machine, static=True,
            sources=tuple(k.sources),
        )  # fmt: skip
    return out


class ApiKeys:
    """Checks keys on each request; creates, lists and revokes the stored ones."""

    def __init__(self, store: ApiKeyStore | None) -> None:
        self.store = store
        self.static: dict[str, ApiKey] = {}
        self._cache: dict[str, tuple[ApiKey | None, float]] = {}

    async def verify(self, key: str, now: float | None = None) -> ApiKey | None:
        """The key's record if it is valid now; None for an unknown, revoked or expired key."""
        now = time.time() if now is None else now
        d = digest(key)
        found = self.static.get(d)
        if found is not None:
            return found
        if self.store is None:
            return None
        cached = self._cache.get(d)
        mono = time.monotonic()
        if cached is not None and mono - cached[1] < CACHE_S:
            record = cached[0]
        else:
            record = await self.store.api_key_by_digest(d)
            if len(self._cache) > 10_000:  # unknown keys from a scanner must not grow it forever
                self._cache.clear()
            self._cache[d] = (record, mono)
        if record is None or not record.valid(now):
            return None
        if record.last_used_at is None or now - record.last_used_at > TOUCH_EVERY_S:
            record = replace(record, last_used_at=now)
            self._cache[d] = (record, self._cache[d][1])
            await self.store.touch_api_key(record.id, now)
        return record

    async def create(
        self,
        name: str,
        role: Role,
        created_by: str,
        expires_at: float | None = None,
        machine: bool = True,
        sources: tuple[str, ...] = (),
    ) -> tuple[ApiKey, str]:
        """A new key: its record and the clear secret, which is not kept anywhere."""
        store = self._require_store()
        clear = new_secret()
        record = ApiKey(
            str(uuid.uuid4()), name, role, digest(clear), time.time(), created_by, expires_at,
            machine=machine, sources=sources,
        )  # fmt: skip
        await store.insert_api_key(record)
        return record, clear

    async def list(self) -> list[ApiKey]:
        stored = await self.store.list_api_keys() if self.store is not None else []
        return sorted(self.static.values(), key=lambda k: k.name) + stored

    async def revoke(self, key_id: str) -> ApiKey:
        store = self._require_store()
        found = await store.revoke_api_key(key_id, time.time())
        if found is None:
            raise ApiKeyNotFound(key_id)
        self._cache = {d: v for d, v in self._cache.items() if v[0] is None or v[0].id != key_id}
        return found

    def _require_store(self) -> ApiKeyStore:
        if self.store is None:
            raise RuntimeError("this storage keeps no API keys")
        return self.store
