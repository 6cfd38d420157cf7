"""The access control one config asks for: its authenticator (None: the API is open) and its
rate limiter (None: no limits). Built with the rest of the config on start and reload, so a
bad key file refuses the config like any other error."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..config.errors import ConfigError, ConfigIssue
from ..config.loader import Config
from ..config.security import AuthSettings, SecuritySettings
from .apikeys import ApiKeys, static_keys
from .authenticator import Authenticator
from .ratelimit import RateLimiter

if TYPE_CHECKING:  # PyJWT and cryptography load only with auth.jwt (a tenth of a second of every start)
    from .tokens import Fetch


class AccessControl:
    def __init__(
        self,
        auth: AuthSettings | None,
        security: SecuritySettings,
        keys: ApiKeys,
        *,
        source: str = "<config>",
        redis_url: str | None = None,
        fetch: Fetch | None = None,
    ) -> None:
        self.security = security
        self.authenticator: Authenticator | None = None
        if auth is not None:
            static = static_keys(auth.api_keys, source)
            tokens = None
            if auth.jwt is not None:
                if fetch is None:
                    raise ValueError("auth.jwt needs a way to fetch its JWKS")
                from .tokens import KeyError_, TokenVerifier

                try:
                    tokens = TokenVerifier(auth.jwt, fetch)
                except KeyError_ as e:
                    raise ConfigError([ConfigIssue(source, ("auth", "jwt"), str(e))]) from None
            keys.static = static  # only once nothing else can refuse the config
            self.authenticator = Authenticator(auth, keys, tokens)
        limits = security.rate_limits
        enabled = limits.enabled if limits.enabled is not None else auth is not None
        self.limiter = RateLimiter(limits, redis_url) if enabled else None

    @classmethod
    def of(cls, cfg: Config, keys: ApiKeys, redis_url: str | None, fetch: Fetch) -> AccessControl:
        return cls(cfg.auth, cfg.security, keys, source=cfg.source, redis_url=redis_url, fetch=fetch)

    async def start(self) -> None:
        if self.authenticator is not None and self.authenticator.tokens is not None:
            await self.authenticator.tokens.start()

    async def close(self) -> None:
        if self.authenticator is not None and self.authenticator.tokens is not None:
            await self.authenticator.tokens.close()
        if self.limiter is not None:
            await self.limiter.close()
