"""Values that must never leave the process in a prompt: tokens, passwords, e-mail addresses
(by default) and whatever ``ai.redact_patterns`` adds, replaced by ``[REDACTED]``."""

from __future__ import annotations

import re
from collections.abc import Iterable

DEFAULT_PATTERNS = (
    # e-mail addresses
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
    # key=value / key: value secrets (password, token, secret, api_key, authorization...)
    r"(?i)(?:pass(?:word|wd)?|secret|token|api[_-]?key|access[_-]?key|auth(?:orization)?|credential)s?"
    r"[\"']?\s*[:=]\s*[\"']?[^\s\"',;&]+",
    # bearer tokens
    r"(?i)bearer\s+[A-Za-z0-9._~+/=-]+",
    # well-known token shapes: JWTs, AWS access keys, GitHub/Slack/OpenAI-style keys
    r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
    r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",
    r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|xox[abpr]-[A-Za-z0-9-]{10,}|sk-[A-Za-z0-9_-]{16,})\b",
    # credentials in URLs
    r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)",
)
REDACTED = "[REDACTED]"


class Redactor:
    def __init__(self, extra: Iterable[str] = (), defaults: bool = True) -> None:
        self._res = [re.compile(p) for p in (*(DEFAULT_PATTERNS if defaults else ()), *extra)]

    def __call__(self, text: str) -> str:
        for pattern in self._res:
            text = pattern.sub(REDACTED, text)
        return text
