"""A local OTLP trace receiver, as an OpenTelemetry Collector or Jaeger receives traces: OTLP/gRPC
(``opentelemetry.proto.collector.trace.v1.TraceService/Export``) and OTLP/HTTP (``POST
/v1/traces``, an ``ExportTraceServiceRequest`` in protobuf, gzip or not), per the OTLP
specification (opentelemetry.io/docs/specs/otlp), decoded with the project's own protobuf
definitions (opentelemetry-proto). Every span received is kept, flattened.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

KINDS = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


@dataclass(frozen=True)
class ReceivedSpan:
    trace_id: str
    span_id: str
    parent_id: str
    """Empty for a root span."""
    name: str
    kind: str
    attributes: dict[str, Any]
    links: tuple[tuple[str, str], ...]
    """(trace id, span id) of each link."""
    error: bool
    status_message: str
    resource: dict[str, Any]


def _value(v: AnyValue) -> Any:
    which = v.WhichOneof("value")
    if which == "array_value":
        return [_value(x) for x in v.array_value.values]
    return getattr(v, which) if which else None


def _attributes(kvs: Any) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in kvs if isinstance(kv, KeyValue)}


def _flatten(s: Any, resource: dict[str, Any]) -> ReceivedSpan:
    return ReceivedSpan(
        trace_id=s.trace_id.hex(),
        span_id=s.span_id.hex(),
        parent_id=s.parent_span_id.hex(),
        name=s.name,
        kind=KINDS[s.kind],
        attributes=_attributes(s.attributes),
        links=tuple((link.trace_id.hex(), link.span_id.hex()) for link in s.links),
        error=s.status.code == 2,
        status_message=s.status.message,
        resource=resource,
    )


class OTLPReceiver:
    """Collects spans; ``grpc_endpoint`` (host:port) and ``http_endpoint`` (URL) once started."""

    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self.exports = {"grpc": 0, "http": 0}
        self._cond = threading.Condition()
        self.grpc_endpoint = ""
        self.http_endpoint = ""

    def take(self, request: trace_service_pb2.ExportTraceServiceRequest, via: str) -> None:
        found = [
            _flatten(s, _attributes(rs.resource.attributes))
            for rs in request.resource_spans
            for ss in rs.scope_spans
            for s in ss.spans
        ]
        with self._cond:
            self.spans.extend(found)
            self.exports[via] += 1
            self._cond.notify_all()

    def trace(self, trace_id: str) -> list[ReceivedSpan]:
        with self._cond:
            return [s for s in self.spans if s.trace_id == trace_id]

    def wait(self, trace_id: str, names: set[str], timeout: float = 20) -> list[ReceivedSpan]:
        """The spans of ``trace_id`` once every name in ``names`` is among them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                spans = [s for s in self.spans if s.trace_id == trace_id]
                if names <= {s.name for s in spans}:
                    return spans
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"trace {trace_id}: {sorted(s.name for s in spans)}, wanted {names}")
                self._cond.wait(left)


def _grpc_service(receiver: OTLPReceiver) -> grpc.GenericRpcHandler:
    """The collector's ``TraceService/Export`` method (the service name of trace_service.proto)."""

    def export(
        request: trace_service_pb2.ExportTraceServiceRequest, context: grpc.ServicerContext
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        receiver.take(request, "grpc")
        return trace_service_pb2.ExportTraceServiceResponse()

    method = grpc.unary_unary_rpc_method_handler(
        export,
        request_deserializer=trace_service_pb2.ExportTraceServiceRequest.FromString,
        response_serializer=trace_service_pb2.ExportTraceServiceResponse.SerializeToString,
    )
    service = trace_service_pb2.DESCRIPTOR.services_by_name["TraceService"].full_name
    return grpc.method_handlers_generic_handler(service, {"Export": method})


@contextmanager
def otlp_receiver() -> Iterator[OTLPReceiver]:
    receiver = OTLPReceiver()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers((_grpc_service(receiver),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    receiver.grpc_endpoint = f"127.0.0.1:{port}"

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            if self.path != "/v1/traces" or self.headers.get("Content-Type") != "application/x-protobuf":
                self.send_response(404)
                self.end_headers()
                return
            receiver.take(trace_service_pb2.ExportTraceServiceRequest.FromString(body), "http")
            answer = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    receiver.http_endpoint = f"http://127.0.0.1:{http.server_address[1]}/v1/traces"
    try:
        yield receiver
    finally:
        http.shutdown()
        http.server_close()
        server.stop(grace=None)
