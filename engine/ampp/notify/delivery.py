"""A flush as a durable job: its payload, its idempotency key, how two flushes merge, backoff.

The payload holds everything a worker needs to render and send the notification after a
restart, without the aggregation group that produced it: the receiver, the integration, the
group key and labels, the flush's instant, repeat interval and send_resolved, and a snapshot of
every alert (labels, annotations, times, generator URL, fingerprint) and, while AI enrichment
is on, each alert's enrichment as it was when the flush was queued. Times are integers of
Unix nanoseconds (``"ns:<n>"`` beyond int64, such as Go's zero time), fingerprints 16 hex
digits. With tracing on, ``traceparent`` names the flush's span (W3C trace context).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .. import tracing
from ..model.alert import Alert, sort_alerts
from ..model.timefmt import NS
from ..store.codec import from_ts, ts
from ..store.delivery_common import NewDelivery
from ..store.records import NflogEntry
from .nflog import needs_update
from .stage import FlushContext

if TYPE_CHECKING:
    from .stage import Integration

PAYLOAD_VERSION = 1


def _fp(fp: int) -> str:
    return f"{fp:016x}"


def _alert_json(a: Alert) -> dict[str, Any]:
    return {
        "fingerprint": _fp(a.fingerprint),
        "labels": a.labels,
        "annotations": a.annotations,
        "startsAt": ts(a.starts_at),
        "endsAt": ts(a.ends_at),
        "generatorURL": a.generator_url,
        "updatedAt": ts(a.updated_at),
        "timeout": a.timeout,
    }


def _alert(d: Mapping[str, Any]) -> Alert:
    return Alert(
        dict(d["labels"]),
        dict(d["annotations"]),
        from_ts(d["startsAt"]),
        from_ts(d["endsAt"]),
        d["generatorURL"],
        from_ts(d["updatedAt"]),
        bool(d["timeout"]),
        int(d["fingerprint"], 16),
    )


def delivery_key(target: tuple[str, str, str, int], firing: frozenset[int], resolved: frozenset[int]) -> str:
    """Names one content for one target: two flushes telling the same thing share it."""
    text = "\x1f".join(map(str, target)) + "\x1e" + ",".join(map(_fp, sorted(firing)))
    text += "\x1e" + ",".join(map(_fp, sorted(resolved)))
    return hashlib.sha256(text.encode()).hexdigest()


def _job(payload: dict[str, Any], firing: frozenset[int], resolved: frozenset[int]) -> NewDelivery:
    target = (payload["groupKey"], payload["receiver"], payload["integration"], int(payload["idx"]))
    return NewDelivery(
        *target,
        key=delivery_key(target, firing, resolved),
        firing=firing,
        resolved=resolved,
        payload=payload,
        record_only=not firing and not payload["sendResolved"],
    )


def new_delivery(
    ctx: FlushContext, integration: Integration, receiver: str, alerts: Sequence[Alert]
) -> NewDelivery:
    """The job for one integration of one flush (after DedupStage set ``ctx.firing/resolved``)."""
    payload = {
        "v": PAYLOAD_VERSION,
        "receiver": receiver,
        "integration": integration.name,
        "idx": integration.index,
        "groupKey": ctx.group_key,
        "groupLabels": ctx.group_labels,
        "repeatInterval": ctx.repeat_interval,
        "sendResolved": integration.send_resolved,
        "now": ts(ctx.now),
        "firing": [_fp(f) for f in ctx.firing],
        "resolved": [_fp(f) for f in ctx.resolved],
        "alerts": [_alert_json(a) for a in alerts],
    }
    if ctx.enrichment is not None:
        payload["enrichment"] = {_fp(a.fingerprint): ctx.enrichment.get(a.fingerprint) for a in alerts}
    parent = tracing.traceparent()
    if parent is not None:  # the flush's trace, for the worker's attempts (any replica)
        payload["traceparent"] = parent
    return _job(payload, frozenset(ctx.firing), frozenset(ctx.resolved))


def as_decoded(ctx: FlushContext, alerts: Sequence[Alert]) -> tuple[FlushContext, list[Alert]]:
    """What :func:`decode` gives back from the payload :func:`new_delivery` makes of this flush,
    without the round trip: the queue sends a job it claims as it queues it from these."""
    told = ctx.enrichment
    decoded = FlushContext(
        ctx.group_key, ctx.group_labels, ctx.receiver, ctx.repeat_interval, ctx.now,
        firing=ctx.firing, resolved=ctx.resolved,
        enrichment=None if told is None else {a.fingerprint: told.get(a.fingerprint) for a in alerts},
    )  # fmt: skip
    return decoded, list(alerts)


def decode(payload: Mapping[str, Any]) -> tuple[FlushContext, list[Alert]]:
    """The flush context and alerts a worker renders from; raises KeyError/ValueError if the
    payload is not one this version wrote."""
    if payload.get("v") != PAYLOAD_VERSION:
        raise ValueError(f"payload version {payload.get('v')!r} is not {PAYLOAD_VERSION}")
    ctx = FlushContext(
        group_key=payload["groupKey"],
        group_labels=dict(payload["groupLabels"]),
        receiver=payload["receiver"],
        repeat_interval=float(payload["repeatInterval"]),
        now=from_ts(payload["now"]),
        firing=tuple(int(f, 16) for f in payload["firing"]),
        resolved=tuple(int(f, 16) for f in payload["resolved"]),
        enrichment=_enrichment(payload.get("enrichment")),
    )
    return ctx, [_alert(a) for a in payload["alerts"]]


def _enrichment(found: Mapping[str, Any] | None) -> dict[int, Mapping[str, Any] | None] | None:
    """The job's enrichments by fingerprint; None for a job queued with enrichment off."""
    return None if found is None else {int(fp, 16): e for fp, e in found.items()}


class FlushPolicy:
    """The notify layer's rules for the queue (store.delivery_common.DeliveryPolicy)."""

    def __init__(self, retention_ns: int) -> None:
        self.retention_ns = retention_ns

    def parse(self, payload: Mapping[str, Any]) -> NewDelivery:
        p = dict(payload)
        firing = frozenset(int(f, 16) for f in p["firing"])
        return _job(p, firing, frozenset(int(f, 16) for f in p["resolved"]))

    def merge(self, job: NewDelivery, older: Sequence[Mapping[str, Any]]) -> NewDelivery:
        """Carry over the resolved alerts a superseded flush would have told and this one does
        not hold: Alertmanager keeps a resolved alert in its group until a flush succeeds, so its
        next flush tells it; here the older flush was queued instead, and it is the one replaced.
        """
        held = {a["fingerprint"] for a in job.payload["alerts"]}
        extra: dict[str, Mapping[str, Any]] = {}
        for p in older:
            resolved = set(p.get("resolved", ()))
            for a in p.get("alerts", ()):
                fp = a["fingerprint"]
                if fp in resolved and fp not in held:
                    extra[fp] = a
        if not extra:
            return job
        alerts = sort_alerts([_alert(a) for a in [*job.payload["alerts"], *extra.values()]])
        resolved_fps = job.resolved | {int(fp, 16) for fp in extra}
        payload = {
            **job.payload,
            "alerts": [_alert_json(a) for a in alerts],
            "resolved": [_fp(f) for f in sorted(resolved_fps)],
        }
        if "enrichment" in job.payload:  # the carried-over alerts keep what they were told with
            told = {fp: e for p in older for fp, e in (p.get("enrichment") or {}).items() if fp in extra}
            payload["enrichment"] = {**dict.fromkeys(extra), **told, **job.payload["enrichment"]}
        return _job(payload, job.firing, frozenset(resolved_fps))

    def needs_update(self, entry: NflogEntry | None, job: NewDelivery, now: int) -> bool:
        p = job.payload
        repeat_ns = int(float(p["repeatInterval"]) * NS)
        return needs_update(entry, job.firing, job.resolved, bool(p["sendResolved"]), repeat_ns, now)

    def nflog_entry(self, job: NewDelivery, now: int) -> NflogEntry:
        return NflogEntry(*job.target, job.firing, job.resolved, now, now + self.retention_ns)
