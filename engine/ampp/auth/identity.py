"""Who made a request, as authentication found out: what the roles, the audit log and
``createdBy`` read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .roles import Role

Method = Literal["none", "anonymous", "basic", "web-config", "api-key", "jwt", "proxy"]


@dataclass(frozen=True, slots=True)
class Identity:
    name: str
    """The user, key name or token subject; empty for anonymous requests."""
    role: Role
    method: Method
    """How it was established; ``none`` when no ``auth:`` is configured (the API is open)."""
    machine: bool = False
    """A program rather than a person (API keys, users marked ``machine``): the alerts it posts
    are not audited."""
    sources: frozenset[str] | None = None
    """A source-scoped API key's webhook sources: it may post alerts of these to ``/webhook``
    and do nothing else. None: not scoped."""

    @property
    def authenticated(self) -> bool:
        return self.method not in ("none", "anonymous")


OPEN = Identity("", Role.ADMIN, "none")
"""Every request when no ``auth:`` is configured: anyone may do anything, as in Alertmanager."""
ANONYMOUS = Identity("", Role.ANONYMOUS, "anonymous")
