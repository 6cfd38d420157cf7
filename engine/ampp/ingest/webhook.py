"""``POST /webhook``: any sender's body into alerts, through the same ingest path as
``/api/v2/alerts``.

The format is detected from the body (and the headers a vendor sets), or named by the source
the request was sent to; the format maps the body to ``Incoming`` alerts, and each becomes an
engine alert by ``ingest.v2.build_alert`` with Alertmanager's defaults and validation, so from
here on an alert from Datadog and one from Prometheus are routed, grouped, silenced, recorded
and notified alike. Resends are harmless: an Idempotency-Key (or the vendor's own delivery id)
seen before gets the first answer again.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from ..config.settings import WebhookSettings
from ..model.alert import Alert
from ..model.labels import labelset_string, share_values
from ..model.timefmt import ZERO
from .formats import BY_NAME, NAMES, FormatError, Generic, Incoming, WebhookFormat, compile_mapping, detect
from .formats.base import RESOLVED

if TYPE_CHECKING:
    from .sns_signature import SNSVerifier
from .v2 import build_alert

SOURCE_HEADER = "x-ampp-source"
IDEMPOTENCY_HEADER = "idempotency-key"

Put = Callable[[list[Alert]], Awaitable[list[dict[str, Any]] | None]]
"""Stores (or, for the proxy, publishes) the accepted alerts; may return one dict per alert
whose entries are added to that alert's result."""


@dataclass
class Outcome:
    """The answer to one request, and the alerts it stored (for the proxy and metrics)."""

    status: int
    body: dict[str, Any]
    format: str = ""
    alerts: list[Alert] = field(default_factory=list)
    refused: int = 0
    firing: int = 0
    resolved: int = 0
    replayed: bool = False


class Idempotency:
    """Answers already given, by key, for ``ttl_s`` (at most ``max_keys``, oldest forgotten)."""

    _BUSY = Outcome(409, {"error": "a request with this idempotency key is being processed"})

    def __init__(self, ttl_s: float, max_keys: int) -> None:
        self.ttl_s = ttl_s
        self.max_keys = max_keys
        self._seen: OrderedDict[str, tuple[float, Outcome | None]] = OrderedDict()

    def begin(self, key: str) -> Outcome | None:
        """The earlier answer (or a 409 while it is being made), or None after reserving the key.

        Check and reservation happen without an await between them, so two concurrent
        requests with one key cannot both be applied.
        """
        now = time.monotonic()
        found = self._seen.get(key)
        if found is not None and found[0] > now:
            if found[1] is None:
                return self._BUSY
            done = found[1]
            return Outcome(done.status, done.body, done.format, replayed=True)
        self._seen[key] = (now + self.ttl_s, None)
        self._seen.move_to_end(key)
        while len(self._seen) > self.max_keys:
            self._seen.popitem(last=False)
        return None

    async def once(self, key: str, apply: Callable[[], Awaitable[Outcome]]) -> Outcome:
        """``apply()``'s answer, or the answer already given for ``key``."""
        earlier = self.begin(key)
        if earlier is not None:
            return earlier
        try:
            outcome = await apply()
        except BaseException:
            self.abort(key)
            raise
        self.finish(key, outcome)
        return outcome

    def adopt(self, older: Idempotency) -> None:
        """Keep the keys an ingest built from the previous config remembered."""
        self._seen = older._seen
        while len(self._seen) > self.max_keys:
            self._seen.popitem(last=False)

    def finish(self, key: str, outcome: Outcome) -> None:
        if outcome.status >= 500:
            self._seen.pop(key, None)  # a failure of ours: the resend should be applied
            return
        self._seen[key] = (time.monotonic() + self.ttl_s, outcome)

    def abort(self, key: str) -> None:
        self._seen.pop(key, None)


def source_names(settings: WebhookSettings) -> list[str]:
    """What ``/webhook/{source}`` takes: the formats' names and the configured sources."""
    return sorted({*settings.sources, *NAMES})


class WebhookIngest:
    def __init__(self, settings: WebhookSettings) -> None:
        self.settings = settings
        self.idempotency = Idempotency(settings.idempotency_ttl, settings.idempotency_keys)
        self._sns: SNSVerifier | None = None
        self.sources = {name: Generic(compile_mapping(name, spec)) for name, spec in settings.sources.items()}

    @property
    def sns(self) -> SNSVerifier:
        """Made at the first SNS message (cryptography loads then, not at every start)."""
        if self._sns is None:
            from .sns_signature import SNSVerifier

            self._sns = SNSVerifier(self.settings.sns)
        return self._sns

    async def close(self) -> None:
        if self._sns is not None:
            await self._sns.close()

    def choose(self, source: str | None, body: Any, headers: Mapping[str, str]) -> WebhookFormat | Outcome:
        if source:
            chosen = self.sources.get(source) or BY_NAME.get(source)
            if chosen is None:
                known = source_names(self.settings)
                return Outcome(404, {"error": f"unknown source {source!r}", "sources": known})
            return chosen
        fmt = detect(body, headers)
        if fmt is None:
            return Outcome(
                400,
                {
                    "error": "the body matches no known format; name a configured source with "
                    "/webhook/{source} or the X-Ampp-Source header",
                    "tried": list(NAMES),
                },
            )
        return fmt

    async def receive(
        self,
        raw: bytes,
        headers: Mapping[str, str],
        source: str | None,
        now: int,
        resolve_timeout_ns: int,
        put: Put,
        scope: str = "",
    ) -> Outcome:
        """``headers``: lower-cased names. ``put`` stores alerts as /api/v2/alerts does (the
        proxy publishes them instead; ``scope`` keeps its idempotency keys apart)."""
        key = headers.get(IDEMPOTENCY_HEADER)
        if not key:
            return await self._receive(raw, headers, source, now, resolve_timeout_ns, put, False, scope)
        return await self.idempotency.once(
            f"{scope}\x00{source or ''}\x00{key}",
            lambda: self._receive(raw, headers, source, now, resolve_timeout_ns, put, True, scope),
        )

    async def _receive(
        self,
        raw: bytes,
        headers: Mapping[str, str],
        source: str | None,
        now: int,
        resolve_timeout_ns: int,
        put: Put,
        keyed: bool,
        scope: str,
    ) -> Outcome:
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            return Outcome(400, {"error": f"the body is not valid JSON: {e}"})
        chosen = self.choose(source, body, headers)
        if isinstance(chosen, Outcome):
            return chosen
        fmt = chosen
        if fmt.name == "sns" and self.settings.sns.verify_signatures:
            from .sns_signature import SignatureError

            try:
                await self.sns.verify(body if isinstance(body, dict) else {})
            except SignatureError as e:
                return Outcome(403, {"error": f"sns: {e}"}, fmt.name)
        try:
            parsed = fmt.parse(body, headers)
        except FormatError as e:
            return Outcome(400, {"error": f"{fmt.name}: {e}", "format": fmt.name, "field": e.field}, fmt.name)
        if parsed.reply is not None:
            return await self._reply(fmt.name, parsed.reply)
        event_id = None
        if not keyed:
            event_id = parsed.event_id or (
                parsed.items[0].event_id
                if len(parsed.items) == 1 and isinstance(parsed.items[0], Incoming)
                else None
            )

        def store() -> Awaitable[Outcome]:
            return self._store(fmt, parsed.items, now, resolve_timeout_ns, put)

        if event_id:
            return await self.idempotency.once(f"{scope}\x00{fmt.name}\x00{event_id}", store)
        return await store()

    async def _reply(self, name: str, reply: dict[str, Any]) -> Outcome:
        url = reply.get("confirm")
        if url is None:
            return Outcome(200, {"status": "success", "format": name, **reply}, name)
        from .sns_signature import ConfirmError, SignatureError

        if not self.settings.sns.confirm_subscriptions:
            return Outcome(200, {"status": "success", "format": name, "subscription": "not confirmed"}, name)
        try:
            await self.sns.confirm(url)
        except SignatureError as e:
            return Outcome(403, {"error": f"sns: {e}"}, name)
        except ConfirmError as e:
            return Outcome(502, {"error": f"sns: {e}"}, name)
        return Outcome(200, {"status": "success", "format": name, "subscription": "confirmed"}, name)

    async def _store(
        self,
        fmt: WebhookFormat,
        items: list[Incoming | FormatError],
        now: int,
        resolve_timeout_ns: int,
        put: Put,
    ) -> Outcome:
        timeout = resolve_timeout_ns if fmt.resends else int(self.settings.event_resolve_timeout * 1e9)
        results: list[dict[str, Any]] = []
        alerts: list[Alert] = []
        out = Outcome(200, {}, fmt.name)
        for i, item in enumerate(items):
            if isinstance(item, FormatError):
                results.append({"index": i, "status": "refused", "error": f"{fmt.name}: {item}"})
                continue
            alert, problem = _alert(item, fmt.name, now, timeout)
            if alert is None:
                results.append({"index": i, "status": "refused", "error": problem})
                continue
            alerts.append(alert)
            if alert.ends_at > now:
                out.firing += 1
            else:
                out.resolved += 1
            results.append(
                {
                    "index": i,
                    "status": "accepted",
                    "fingerprint": f"{alert.fingerprint:016x}",
                    "alertStatus": "firing" if alert.ends_at > now else "resolved",
                }
            )
        if alerts:
            extra = await put(alerts)
            if extra:
                accepted = (r for r in results if r["status"] == "accepted")
                for entry, more in zip(accepted, extra, strict=True):
                    entry.update(more)
        out.alerts = alerts
        out.refused = len(results) - len(alerts)
        if out.refused == 0:
            out.body = {"status": "success", "format": fmt.name, "accepted": len(alerts), "results": results}
        else:
            out.status = 207 if alerts else 400
            out.body = {
                "status": "partial" if alerts else "error",
                "format": fmt.name,
                "accepted": len(alerts),
                "refused": out.refused,
                "results": results,
            }
        return out


def _alert(item: Incoming, source: str, now: int, resolve_timeout_ns: int) -> tuple[Alert | None, str]:
    labels = dict(item.labels)
    labels.setdefault("source", source)
    labels = share_values({k: v for k, v in labels.items() if v})
    starts = item.starts_at if item.starts_at is not None else ZERO
    ends = item.ends_at if item.ends_at is not None else ZERO
    if item.status == RESOLVED and ends == ZERO:
        ends = max(now, starts) if starts != ZERO else now
    if "\x00" in "".join(labels) or "\x00" in "".join(labels.values()):
        return None, "labels must not contain NUL characters"
    alert = build_alert(
        labels, dict(item.annotations), starts, ends, item.generator_url, now, resolve_timeout_ns
    )
    problem = alert.validate()
    if problem:
        return None, f"{problem} {labelset_string(labels)}"
    return alert, ""
