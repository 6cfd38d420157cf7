"""What every vendor integration shares: templating, truncation, keys, secrets, status checks.

Mirrors the helpers of Alertmanager's notify package (util.go): TmplText/TmplHTML,
TruncateInRunes/TruncateInBytes and Key.Hash (the Retrier is ampp.notify.http.check_response).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ...auth.urlpolicy import UrlPolicy
from ...config.notifiers import HTTPNotifierConfig, NotifierConfig
from ...model.alert import Alert
from ..http import HTTPSender
from ..stage import FlushContext, NotifyError
from ..templates._errors import TemplateError

if TYPE_CHECKING:
    import httpx

    from ..templates import TemplateData, Templates

TRUNCATION_MARKER = "\u2026"


def wrap(e: NotifyError, prefix: str) -> NotifyError:
    """The same failure with context in front of its message; retry and Retry-After kept."""
    return NotifyError(f"{prefix}{e}", e.retry, e.retry_after)


def truncate_in_runes(s: str, n: int) -> tuple[str, bool]:
    """notify.TruncateInRunes: at most ``n`` code points, the last one an ellipsis if cut."""
    if len(s) <= n:
        return s, False
    if n <= 3:
        return s[:n], True
    return s[: n - 1] + TRUNCATION_MARKER, True


def truncate_in_bytes(s: str, n: int) -> tuple[str, bool]:
    """notify.TruncateInBytes: at most ``n`` UTF-8 bytes, never splitting a character."""
    raw = s.encode()
    if len(raw) <= n:
        return s, False
    if n <= 3:
        return (TRUNCATION_MARKER if n == 3 else "." * n), True
    cut = raw[: n - 3].decode("utf-8", errors="ignore")
    return cut + TRUNCATION_MARKER, True


def key_hash(group_key: str) -> str:
    """notify.Key.Hash: SHA-256 of the group key, hex; vendors cap their dedup key lengths."""
    return hashlib.sha256(group_key.encode()).hexdigest()


def read_secret_file(path: str, what: str) -> str:
    """A secret kept in a file, read at send time (rotation without reload), spaces trimmed."""
    try:
        return Path(path).read_text().strip()
    except OSError as e:
        raise NotifyError(f"unable to read {what} {path}: {e.strerror}", retry=False) from None


def secret(value: str | None, path: str, what: str) -> str:
    """The inline secret if set, else the content of its file (Go compares secrets with "")."""
    if value:
        return str(value)
    if path:
        return read_secret_file(path, what)
    return ""


def alerts_status(alerts: Sequence[Alert], now: int) -> str:
    """types.Alerts.Status: "firing" if any alert fires at ``now``, else "resolved"."""
    return "firing" if any(not a.resolved_at(now) for a in alerts) else "resolved"


def sorted_map(value: Any) -> Any:
    """Go's encoding/json writes map keys sorted; Python keeps insertion order: sort, deeply."""
    if isinstance(value, Mapping):
        return {str(k): sorted_map(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [sorted_map(v) for v in value]
    return value


class Renderer:
    """notify.TmplText / TmplHTML bound to one notification's data.

    The Go notifiers render every field and check the first error at the end; nothing is sent
    either way, so the first failure is raised at once, naming the field, and never retried
    (a template that fails now fails again).
    """

    def __init__(self, templates: Templates, data: TemplateData) -> None:
        self.templates = templates
        self.data = data

    def text(self, value: str, field: str) -> str:
        if not value:
            return ""
        try:
            return self.templates.render(value, self.data)
        except TemplateError as e:
            raise NotifyError(f"template {field}: {e}", retry=False) from None

    def html(self, value: str, field: str) -> str:
        if not value:
            return ""
        try:
            return self.templates.render_html(value, self.data)
        except TemplateError as e:
            raise NotifyError(f"template {field}: {e}", retry=False) from None


N = TypeVar("N", bound=NotifierConfig)
C = TypeVar("C", bound=HTTPNotifierConfig)


class ConfiguredIntegration(Generic[N]):
    """What every integration holds: its config model, its place among the receiver's
    integrations, the receiver's name, the external URL and the templates (None only for the
    webhook, which renders none); and how it turns a flush into template.Data."""

    name = ""

    def __init__(
        self,
        index: int,
        conf: N,
        receiver: str,
        external_url: str,
        templates: Templates | None,
        outbound: UrlPolicy | None = None,
    ) -> None:
        self.index = index
        self.conf = conf
        self.receiver = receiver
        self.external_url = external_url
        self.templates = templates
        self.outbound = outbound if outbound is not None else UrlPolicy()
        """Where it may connect (``security.outbound``)."""

    @property
    def send_resolved(self) -> bool:
        return self.conf.send_resolved

    def data(self, ctx: FlushContext, alerts: Sequence[Alert]) -> TemplateData:
        """What the notification is built from: template.Data of the flush."""
        from ..templates._data import template_data  # loaded ahead by http.preload

        return template_data(
            self.receiver, ctx.group_labels, alerts, self.external_url, ctx.now, ctx.enrichment
        )

    def message(self, ctx: FlushContext, alerts: Sequence[Alert]) -> dict[str, Any]:
        """:meth:`data` as Go's encoding/json writes it (``TemplateData.to_json``), built
        directly: the body of the integrations that send template.Data as JSON."""
        from ..templates._data import data_json

        return data_json(self.receiver, ctx.group_labels, alerts, self.external_url, ctx.now, ctx.enrichment)

    def renderer(self, ctx: FlushContext, alerts: Sequence[Alert]) -> Renderer:
        if self.templates is None:
            raise NotifyError(f"{self.name} renders templates, and none were loaded", retry=False)
        return Renderer(self.templates, self.data(ctx, alerts))

    async def close(self) -> None:
        """Release what the integration holds open (nothing, unless it says otherwise)."""


class HTTPIntegration(ConfiguredIntegration[C]):
    """An integration that posts to a vendor's HTTP API.

    Subclasses name their config model (``HTTPIntegration[SlackConfig]``), set ``name`` and
    implement ``notify``; each owns one :class:`HTTPSender` built from its ``http_config``.
    """

    def __init__(
        self,
        index: int,
        conf: C,
        receiver: str,
        external_url: str,
        templates: Templates | None,
        outbound: UrlPolicy | None = None,
    ) -> None:
        super().__init__(index, conf, receiver, external_url, templates, outbound)
        self.sender = HTTPSender(conf.http_config, self.timeout(), self.outbound)

    def timeout(self) -> float | None:
        """The request timeout: the kinds whose config has Go's ``timeout`` field say it."""
        return None

    async def close(self) -> None:
        await self.sender.close()


async def request(
    sender: HTTPSender,
    method: str,
    url: str,
    body: bytes,
    content_type: str | None = "application/json",
    headers: dict[str, str] | None = None,
    secret_url: bool = False,
) -> httpx.Response:
    """Any method (OpsGenie's PUT, WeChat's GET) through the one sender."""
    return await sender.request(method, url, body, content_type, headers, secret_url)
