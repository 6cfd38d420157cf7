"""Who is calling: API keys (``X-API-Key`` or ``Authorization: Bearer ampp_...``), bearer JWTs,
HTTP basic (``auth.users``, or a ``--web.config.file`` user the web guard already let in), and
an authenticating proxy's headers from its trusted addresses; else anonymous.

Credentials that are present but wrong are a Failure (401 and an audit record), never a silent
fall back to anonymous.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..config.security import AuthSettings
from .apikeys import PREFIX, ApiKeys
from .identity import ANONYMOUS, Identity
from .passwords import PasswordChecker, parse_basic
from .roles import Role

if TYPE_CHECKING:  # PyJWT and cryptography load only with auth.jwt (a tenth of a second of every start)
    from .tokens import TokenVerifier


@dataclass(frozen=True, slots=True)
class Failure:
    """Credentials were given and refused."""

    method: str
    user: str
    reason: str


@dataclass(frozen=True, slots=True)
class _User:
    hashed: bytes | None
    role: Role
    machine: bool


class Authenticator:
    def __init__(
        self,
        settings: AuthSettings,
        keys: ApiKeys,
        tokens: TokenVerifier | None,
        passwords: PasswordChecker | None = None,
    ) -> None:
        self.settings = settings
        self.keys = keys
        self.tokens = tokens
        self.passwords = passwords or PasswordChecker()
        self.users = {
            name: _User(
                str(u.password_hash).encode() if u.password_hash else None, Role.parse(u.role), u.machine
            )
            for name, u in settings.users.items()
        }
        self.anonymous = (
            Identity("", Role.parse(settings.anonymous_role), "anonymous")
            if settings.anonymous_role
            else ANONYMOUS
        )
        proxy = settings.proxy
        self._proxy_nets = (
            [ipaddress.ip_network(n, strict=False) for n in proxy.trusted_addresses] if proxy else []
        )

    async def authenticate(
        self, headers: Mapping[str, str], address: str, web_user: str | None = None
    ) -> Identity | Failure:
        key = headers.get("X-API-Key")
        if key is not None:
            return await self._api_key(key.strip())
        authorization = headers.get("Authorization")
        if authorization:
            scheme, _, credentials = authorization.strip().partition(" ")
            scheme = scheme.lower()
            credentials = credentials.strip()
            if scheme == "bearer":
                if credentials.startswith(PREFIX) or credentials.count(".") != 2:  # a JWT has two dots
                    return await self._api_key(credentials)
                return await self._token(credentials)
            if scheme == "basic":
                return await self._basic(authorization, web_user)
            return Failure(scheme, "", f"unsupported authorization scheme {scheme!r}")
        if self._proxy_nets and self._trusted(address):
            return self._proxy(headers)
        return self.anonymous

    async def _api_key(self, key: str) -> Identity | Failure:
        found = await self.keys.verify(key)
        if found is None:
            return Failure("api-key", "", "unknown, revoked or expired API key")
        sources = frozenset(found.sources) if found.sources else None
        return Identity(found.name, found.role, "api-key", found.machine, sources)

    async def _token(self, token: str) -> Identity | Failure:
        if self.tokens is None:
            return Failure("jwt", "", "a bearer token that is no API key, and auth.jwt is not configured")
        from .tokens import InvalidToken, role_of

        try:
            claims = await self.tokens.verify(token)
        except InvalidToken as e:
            return Failure("jwt", "", str(e))
        user = claims.get(self.tokens.settings.user_claim)
        return Identity(str(user) if user is not None else "", role_of(claims, self.tokens.settings), "jwt")

    async def _basic(self, header: str, web_user: str | None) -> Identity | Failure:
        parsed = parse_basic(header)
        if parsed is None:
            return Failure("basic", "", "malformed basic credentials")
        name, password = parsed
        entry = self.users.get(name)
        if web_user is not None and web_user == name:  # --web.config.file checked the password
            if entry is None:
                return Identity(name, Role.parse(self.settings.web_config_role), "web-config")
            return Identity(name, entry.role, "web-config", entry.machine)
        hashed = entry.hashed if entry is not None else None
        if await self.passwords.check(name, password, hashed) and entry is not None:
            return Identity(name, entry.role, "basic", entry.machine)
        return Failure("basic", name, "wrong user name or password")

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self._proxy_nets)

    def _proxy(self, headers: Mapping[str, str]) -> Identity | Failure:
        proxy = self.settings.proxy
        assert proxy is not None
        user = headers.get(proxy.user_header, "").strip()
        if not user:
            return self.anonymous
        best: Role | None = None
        for group in headers.get(proxy.groups_header, "").split(","):
            name = proxy.roles.get(group.strip())
            if name is not None:
                best = max(best or Role.ANONYMOUS, Role.parse(name))
        if best is None:
            best = Role.parse(proxy.default_role) if proxy.default_role else Role.ANONYMOUS
        return Identity(user, best, "proxy")


def _encoded(value: str | None) -> bytes | None:
    return value.encode() if value else None
