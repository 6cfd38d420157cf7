"""OpenTelemetry traces of the engine's work, exported over OTLP (``tracing:`` in config.yaml).

One trace per alert batch: the HTTP request that brought it (continuing a W3C ``traceparent``
the sender gave), ``ingest``, then ``dispatch`` when its aggregation group flushes, then one
``notify`` span per notification attempt (receiver, integration, outcome), whose context the
webhook receiver gets as ``traceparent``; an LLM call made while enriching is a ``chat`` span
within the flush. A flush holding alerts of several batches continues the latest one and links
the others; an attempt made by a delivery worker (possibly another replica, after a restart)
continues the flush from the ``traceparent`` kept in the job.

Off (the default), nothing of OpenTelemetry is imported and every function here returns at
once: a span is a shared object whose methods do nothing. The call sites never test whether
tracing is on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..config.settings import TracingSettings
    from .otel import Backend

__all__ = [
    "MAX_BATCHES",
    "Attributes",
    "Parent",
    "Span",
    "attempt",
    "current",
    "enabled",
    "headers",
    "resumed",
    "server",
    "setup",
    "shutdown",
    "span",
    "traceparent",
    "within",
]

log = logging.getLogger("ampp.tracing")

MAX_BATCHES = 33
"""Batches one flush continues or links at most: the latest ones."""

Parent = Any
"""An opaque span context (OpenTelemetry's SpanContext), as :func:`current` returns it."""
Attributes = Mapping[str, str | int | float | bool]


class Span(Protocol):
    """What a call site may do with the span it is in."""

    def set_attribute(self, key: str, value: str | int | float | bool) -> None: ...


class _NoSpan:
    """The span of a call site when tracing is off: it records nothing."""

    __slots__ = ()

    def set_attribute(self, key: str, value: str | int | float | bool) -> None:
        pass


class _Off:
    """The context manager every span is when tracing is off: one shared object."""

    __slots__ = ()

    def __enter__(self) -> Span:
        return NO_SPAN

    def __exit__(self, *exc: object) -> None:
        return None


NO_SPAN = _NoSpan()
_OFF = _Off()
_backend: Backend | None = None


def enabled() -> bool:
    return _backend is not None


def setup(settings: TracingSettings, *, version: str, instance: str) -> None:
    """Start exporting as ``settings`` say (nothing when they say off); replaces an earlier
    setup, whose spans are flushed first."""
    global _backend
    shutdown()
    if not settings.enabled:
        return
    from .otel import Backend

    _backend = Backend(settings, version=version, instance=instance)
    target, tls = settings.target()
    log.info(
        "Exporting traces to %s over OTLP/%s endpoint=%s tls=%s sample_rate=%g",
        "Jaeger" if settings.provider == "jaeger" else "an OTLP receiver",
        "gRPC" if settings.protocol == "grpc" else "HTTP",
        target,
        tls,
        settings.sample_rate,
    )


def shutdown() -> None:
    """Export what is buffered (within the exporter's timeout) and stop. Blocking: call it off
    the event loop or at exit."""
    global _backend
    backend, _backend = _backend, None
    if backend is not None:
        backend.shutdown()


# -- spans ------------------------------------------------------------------------------------


def span(name: str, attributes: Attributes | None = None, *, client: bool = False) -> Any:
    """A span in the current one (a root if there is none), current for what runs inside."""
    b = _backend
    return _OFF if b is None else b.span(name, b.ambient(), attributes, client=client)


def server(method: str, route: str, request_headers: Mapping[str, str], attributes: Attributes) -> Any:
    """The server span of an HTTP request, continuing the caller's W3C ``traceparent``."""
    b = _backend
    if b is None:
        return _OFF
    return b.span(f"{method} {route}", b.extract(request_headers), attributes, server=True)


def within(name: str, parents: Sequence[Parent], attributes: Attributes | None = None) -> Any:
    """A span continuing the last of ``parents`` and linking the others (a root without any):
    a flush of alerts that came in several batches."""
    b = _backend
    return _OFF if b is None else b.span(name, b.parent_of(parents), attributes, links=parents[:-1])


def resumed(name: str, traceparent: str | None, attributes: Attributes | None = None) -> Any:
    """A span continuing a ``traceparent`` kept earlier (a root without one)."""
    b = _backend
    return _OFF if b is None else b.span(name, b.extract({"traceparent": traceparent or ""}), attributes)


def attempt(
    receiver: str, integration: str, group_key: str, alerts: int, number: int, traceparent: str | None = None
) -> Any:
    """Notification attempt ``number`` of ``integration`` (``webhook[0]``); its outcome
    (``success``, ``retry``: a retryable failure, ``failure``: a permanent one) is set from how
    the block ends. It continues ``traceparent`` when given (a queued job), else the current span."""
    b = _backend
    if b is None:
        return _OFF
    attributes = {
        "ampp.receiver": receiver,
        "ampp.integration": integration,
        "ampp.group_key": group_key,
        "ampp.alerts": alerts,
        "ampp.attempt": number,
    }
    context = b.ambient() if traceparent is None else b.extract({"traceparent": traceparent})
    return b.span("notify", context, attributes, client=True, outcome=True)


def current() -> Parent | None:
    """The current span's context, to continue later (None when off or outside any span)."""
    b = _backend
    return None if b is None else b.current()


def traceparent() -> str | None:
    """The current span as a W3C ``traceparent`` value, to keep with deferred work."""
    b = _backend
    return None if b is None else b.inject().get("traceparent")


def headers() -> dict[str, str]:
    """W3C trace context headers for an outgoing request made in the current span ({} when
    off or outside any span)."""
    b = _backend
    return {} if b is None else b.inject()
