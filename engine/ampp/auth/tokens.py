"""Bearer JSON Web Tokens, checked with PyJWT.

Every key is held as a PyJWK bound to one algorithm, so a token is verified with the algorithm
of the key it names, never with the one its header asks for: ``alg: none`` and algorithm
confusion (an RSA public key used as an HMAC secret) cannot pass. ``exp`` is required; ``nbf``,
``iat``, ``iss`` and ``aud`` are checked with the configured leeway.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from ..config.security import JWTSettings
from .roles import Role

log = logging.getLogger("ampp.auth")

Fetch = Callable[[str], Awaitable[bytes]]
"""GETs a URL (through the outbound policy) and returns the body; raises on any failure."""

_CURVES = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1, "ES512": ec.SECP521R1}


class InvalidToken(ValueError):
    """The token is refused; the message says why (for the log and the audit, not the client)."""


class KeyError_(ValueError):
    """A key source that cannot be used; the message names it."""


def _family(alg: str) -> str:
    return {"HS": "oct", "RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}[alg[:2]]


def _jwk(data: dict[str, Any], alg: str) -> jwt.PyJWK | None:
    """The JWK as a key for ``alg``, or None if the key is not of that kind."""
    if data.get("kty") != _family(alg) or data.get("alg", alg) != alg or data.get("use", "sig") != "sig":
        return None
    if alg in _CURVES and data.get("crv") != {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}[alg]:
        return None
    if alg == "EdDSA" and data.get("crv") != "Ed25519":
        return None
    try:
        return jwt.PyJWK(data, algorithm=alg)
    except jwt.PyJWTError as e:
        raise KeyError_(f"key {data.get('kid', '')!r}: {e}") from None


def keys_from_jwks(doc: Any, algorithms: Sequence[str], *, allow_symmetric: bool) -> list[jwt.PyJWK]:
    """Usable keys of a JWK or a JWK Set, one per (key, allowed algorithm)."""
    entries = doc.get("keys") if isinstance(doc, dict) and "keys" in doc else [doc]
    if not isinstance(entries, list):
        raise KeyError_("not a JWK Set: 'keys' is not a list")
    out = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise KeyError_("not a JWK: an entry is not an object")
        if entry.get("kty") == "oct" and not allow_symmetric:
            continue  # a shared secret has no business in a published key set
        for alg in algorithms:
            key = _jwk(entry, alg)
            if key is not None:
                out.append(key)
    return out


def keys_from_pem(pem: bytes, algorithms: Sequence[str]) -> list[jwt.PyJWK]:
    try:
        public = load_pem_public_key(pem)
    except ValueError as e:
        raise KeyError_(f"not a PEM public key: {e}") from None
    out = []
    for alg in algorithms:
        algo = jwt.get_algorithm_by_name(alg)
        fits = (
            (isinstance(public, rsa.RSAPublicKey) and alg[:2] in ("RS", "PS"))
            or (
                isinstance(public, ec.EllipticCurvePublicKey)
                and isinstance(public.curve, _CURVES.get(alg, ()))
            )
            or (isinstance(public, ed25519.Ed25519PublicKey) and alg == "EdDSA")
        )
        if fits:
            out.append(jwt.PyJWK(algo.to_jwk(public, as_dict=True), algorithm=alg))
    if not out:
        raise KeyError_(f"the key fits none of the algorithms {', '.join(algorithms)}")
    return out


def keys_from_secret(secret: bytes, algorithms: Sequence[str]) -> list[jwt.PyJWK]:
    k = base64.urlsafe_b64encode(secret).rstrip(b"=").decode()
    return [jwt.PyJWK({"kty": "oct", "k": k}, algorithm=a) for a in algorithms if a.startswith("HS")]


def role_of(claims: dict[str, Any], settings: JWTSettings) -> Role:
    """The highest role the role claim's values map to; ANONYMOUS when none does."""
    value: Any = claims
    for part in settings.role_claim.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    best = Role.ANONYMOUS
    for v in values:
        if not isinstance(v, str):
            continue
        name = settings.roles.get(v) or (v if v in ("viewer", "operator", "admin") else None)
        if name is not None:
            best = max(best, Role.parse(name))
    return best


class TokenVerifier:
    """The keys in force and the checks of one ``auth.jwt`` block; keeps a JWKS fresh."""

    def __init__(self, settings: JWTSettings, fetch: Fetch) -> None:
        self.settings = settings
        self._fetch = fetch
        self._file_keys: list[jwt.PyJWK] = []
        self._file_stamp: tuple[float, int] | None = None
        self._file_checked = time.monotonic()
        self._jwks_keys: list[jwt.PyJWK] = []
        self._last_fetch = 0.0
        self._refresh_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self.load_local_keys()

    def load_local_keys(self) -> None:
        """The secret and the key file (raises KeyError_ naming what is wrong)."""
        s = self.settings
        keys: list[jwt.PyJWK] = []
        if s.secret is not None:
            keys += keys_from_secret(str(s.secret).encode(), s.algorithms)
        if s.secret_file:
            keys += keys_from_secret(_read(s.secret_file, "secret_file").strip(), s.algorithms)
        if s.key_file:
            raw = _read(s.key_file, "key_file")
            self._file_stamp = _stamp(s.key_file)
            if raw.lstrip().startswith(b"{"):
                try:
                    doc = json.loads(raw)
                except ValueError as e:
                    raise KeyError_(f"key_file {s.key_file}: not JSON: {e}") from None
                keys += keys_from_jwks(doc, s.algorithms, allow_symmetric=False)
            else:
                keys += keys_from_pem(raw, s.algorithms)
        self._file_keys = keys

    async def start(self) -> None:
        """Fetch the JWKS once (a failure is logged: tokens wait for a later refresh)."""
        if self.settings.jwks_url:
            await self.refresh()
            self._task = asyncio.create_task(self._refresh_loop(), name="jwks-refresh")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.refresh_interval)
            await self.refresh()

    async def refresh(self) -> bool:
        """Fetch the JWKS now; the keys in force stay if it fails."""
        url = str(self.settings.jwks_url)
        async with self._refresh_lock:
            self._last_fetch = time.monotonic()
            try:
                doc = json.loads(await self._fetch(url))
                keys = keys_from_jwks(doc, self.settings.algorithms, allow_symmetric=False)
            except Exception as e:  # unreachable, refused by policy, bad JSON, bad key
                log.warning("Fetching the JWKS failed url=%s err=%s", url, e)
                return False
        self._jwks_keys = keys
        return True

    def _keys(self) -> list[jwt.PyJWK]:
        s = self.settings
        now = time.monotonic()
        if s.key_file and now - self._file_checked >= 1.0:  # a stat at most once a second
            self._file_checked = now
            if _stamp(s.key_file) == self._file_stamp:
                return self._file_keys + self._jwks_keys
            try:
                self.load_local_keys()
            except KeyError_ as e:
                log.error("Reloading the JWT key file failed; the last good keys stay: %s", e)
                self._file_stamp = _stamp(s.key_file)
        return self._file_keys + self._jwks_keys

    async def verify(self, token: str) -> dict[str, Any]:
        """The token's claims if it is valid; raises InvalidToken saying why not."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as e:
            raise InvalidToken(f"not a JWT: {e}") from None
        alg = header.get("alg")
        if alg not in self.settings.algorithms:
            raise InvalidToken(f"algorithm {alg!r} is not accepted")
        kid = header.get("kid")
        candidates = self._candidates(alg, kid)
        if not candidates and self.settings.jwks_url and kid is not None:
            # A key id not seen yet: the provider may have rotated its keys.
            if time.monotonic() - self._last_fetch >= self.settings.min_refresh_interval:
                await self.refresh()
                candidates = self._candidates(alg, kid)
        if not candidates:
            raise InvalidToken(f"no key for kid {kid!r} and algorithm {alg}")
        s = self.settings
        error: Exception | None = None
        for key in candidates:
            try:
                return jwt.decode(
                    token,
                    key,
                    algorithms=[alg],
                    audience=s.audience or None,
                    issuer=s.issuer,
                    leeway=s.leeway,
                    options={"require": ["exp"], "verify_aud": bool(s.audience)},
                )
            except jwt.InvalidSignatureError as e:
                error = e
            except jwt.PyJWTError as e:
                raise InvalidToken(str(e)) from None
        raise InvalidToken(str(error))

    def _candidates(self, alg: str, kid: Any) -> list[jwt.PyJWK]:
        keys = [k for k in self._keys() if k.algorithm_name == alg]
        if kid is None:
            return keys
        named = [k for k in keys if k.key_id == kid]
        return named or [k for k in keys if k.key_id is None]


def _read(path: str, field: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise KeyError_(f"{field} {path}: {e.strerror or e}") from None


def _stamp(path: str) -> tuple[float, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime, st.st_size
