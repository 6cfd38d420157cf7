"""The OpenTelemetry SDK behind :mod:`ampp.tracing`, imported only when tracing is on.

Spans go through the SDK's batch processor, which exports from a thread of its own: ending a
span only queues it, so the event loop never waits on the exporter. The provider is this
module's own, not OpenTelemetry's global one, so that nothing else in the process (a library
instrumenting itself) exports through it by accident.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

if TYPE_CHECKING:
    from ..config.settings import TracingSettings


def exporter(settings: TracingSettings) -> SpanExporter:
    """OTLP over gRPC or HTTP (protobuf) to the settings' endpoint."""
    endpoint, tls = settings.target()
    headers = {k: str(v) for k, v in settings.headers.items()}
    if settings.protocol == "http":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HTTPExporter

        return HTTPExporter(endpoint=endpoint, headers=headers, timeout=settings.timeout)
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GRPCExporter

    return GRPCExporter(endpoint=endpoint, insecure=not tls, headers=headers, timeout=settings.timeout)


class Backend:
    def __init__(self, settings: TracingSettings, *, version: str, instance: str) -> None:
        resource = Resource.create(
            {
                "service.name": settings.service_name,
                "service.version": version,
                "service.instance.id": instance,
            }
        )
        # A caller's sampling decision (the traceparent's flag) is kept; traces started here are
        # kept at sample_rate, decided from the trace id, so every replica decides alike.
        sampler = ParentBased(TraceIdRatioBased(settings.sample_rate))
        self.provider = TracerProvider(resource=resource, sampler=sampler)
        self.provider.add_span_processor(BatchSpanProcessor(exporter(settings)))
        self.tracer = self.provider.get_tracer("ampp", version)
        self.propagator = TraceContextTextMapPropagator()

    def shutdown(self) -> None:
        self.provider.shutdown()

    # -- contexts ------------------------------------------------------------------------------
    def ambient(self) -> otel_context.Context | None:
        return None  # the SDK's "the current context"

    def extract(self, carrier: Mapping[str, str]) -> otel_context.Context:
        """The context a W3C traceparent names; an empty one (a new trace) without a valid one."""
        return self.propagator.extract(carrier)

    def parent_of(self, parents: Sequence[SpanContext]) -> otel_context.Context:
        if not parents:
            return otel_context.Context()
        return trace.set_span_in_context(NonRecordingSpan(parents[-1]))

    def current(self) -> SpanContext | None:
        sc = trace.get_current_span().get_span_context()
        return sc if sc.is_valid else None

    def inject(self) -> dict[str, str]:
        carrier: dict[str, str] = {}
        self.propagator.inject(carrier)
        return carrier

    # -- spans ---------------------------------------------------------------------------------
    @contextmanager
    def span(
        self,
        name: str,
        context: otel_context.Context | None,
        attributes: Mapping[str, Any] | None,
        *,
        server: bool = False,
        client: bool = False,
        links: Sequence[SpanContext] = (),
        outcome: bool = False,
    ) -> Iterator[trace.Span]:
        kind = SpanKind.SERVER if server else SpanKind.CLIENT if client else SpanKind.INTERNAL
        s = self.tracer.start_span(
            name,
            context=context,
            kind=kind,
            attributes=attributes,
            links=[Link(p) for p in links],
            record_exception=False,
            set_status_on_exception=False,
        )
        token = otel_context.attach(trace.set_span_in_context(s))
        try:
            yield s
        except BaseException as e:
            _failed(s, e, outcome)
            raise
        else:
            if outcome:
                s.set_attribute("ampp.outcome", "success")
        finally:
            otel_context.detach(token)
            s.end()


def _failed(s: trace.Span, e: BaseException, outcome: bool) -> None:
    """What went wrong, as OpenTelemetry's ``error.type``: a ProviderError's kind, "timeout",
    or the exception's class; a notification attempt's outcome is ``retry`` or ``failure``."""
    if isinstance(e, asyncio.CancelledError):
        s.set_attribute("error.type", "cancelled")
        return
    kind = getattr(e, "kind", None) or ("timeout" if isinstance(e, TimeoutError) else type(e).__name__)
    s.set_attribute("error.type", str(kind))
    if outcome:
        s.set_attribute("ampp.outcome", "retry" if getattr(e, "retry", True) else "failure")
    s.set_status(Status(StatusCode.ERROR, str(e) or type(e).__name__))
