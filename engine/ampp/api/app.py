"""The HTTP API: Alertmanager's v2 API, health and reload endpoints, and metrics.

Handlers are thin: parse the request, call the engine, map domain errors to the status codes
Alertmanager uses, with a message that says what is wrong.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, Histogram, generate_latest

from .. import ALERTMANAGER_VERSION, __version__, logs, tracing
from ..auth.roles import Role
from ..config.errors import ConfigError
from ..config.loader import dump_yaml
from ..config.settings import MetricsSettings, ServerSettings
from ..engine import Engine
from ..ingest.v2 import parse_postable_alerts
from ..model.alert import Alert
from ..model.matchers import Matcher, MatcherParseError, MatchType, parse_matcher
from ..model.timefmt import NS, format_rfc3339millis, now_ns
from ..mute.silences import SilenceInvalid, SilenceNotFound
from ..store.writebehind import StorageUnavailable
from . import accessapi, deliveries, enrichment, routes, stream, ui, webhook
from .access import AUDIT, identity, requires
from .body import MAX_BODY, READ_TIMEOUT, read_body
from .convert import BadSilence, alert_json, parse_postable_silence, silence_json
from .keys import ENGINE
from .responses import json_response
from .security import Security

if TYPE_CHECKING:
    from .webconfig import WebGuard

log = logging.getLogger("ampp.api")

SECURITY = web.AppKey("security", Security)
SETTINGS: web.AppKey[ApiSettings] = web.AppKey("settings", object)  # type: ignore[arg-type]

_TRUE = {"true", "1", "yes", "ok", "y", "on", "selected", "checked", "t", "enabled"}
_FALSE = {"false", "0", "no", "n", "off", "f", "disabled", ""}
OPENAPI = Path(__file__).with_name("openapi.yaml")


class ApiSettings:
    def __init__(
        self,
        route_prefix: str,
        cluster_address: str,
        peer_name: str | None = None,
        web: WebGuard | None = None,
        server: ServerSettings | None = None,
        metrics: MetricsSettings | None = None,
    ) -> None:
        self.route_prefix = route_prefix
        self.cluster_address = cluster_address
        self.peer_name = peer_name or _ulid()
        self.web = web
        """--web.config.file: basic authentication and response headers (TLS is the listener's)."""
        self.server = server or ServerSettings()
        """The effective ``server:`` section: listen address, timeouts."""
        self.metrics = metrics or MetricsSettings()


def _ulid() -> str:
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    ts = int(time.time() * 1000)
    head = "".join(alphabet[(ts >> (5 * i)) & 31] for i in reversed(range(10)))
    return head + "".join(secrets.choice(alphabet) for _ in range(16))


def _error(message: str, status: int = 400) -> web.Response:
    return json_response(message, status)


def _unavailable(e: StorageUnavailable) -> web.Response:
    """Nothing durable was acknowledged: the sender should try again (Prometheus does)."""
    response = json_response(f"{e}; try again later", 503)
    response.headers["Retry-After"] = str(e.retry_after_s)
    return response


def _bool(request: web.Request, name: str, default: bool = True) -> bool:
    raw = request.query.get(name)
    if raw is None:
        return default
    value = raw.lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise web.HTTPBadRequest(
        body=orjson.dumps(f"{name} in query must be of type boolean: {raw!r}"),
        content_type="application/json",
    )


def _filters(request: web.Request) -> list[Matcher]:
    out = []
    for text in request.query.getall("filter", []):
        try:
            out.append(parse_matcher(text))
        except MatcherParseError as e:
            raise web.HTTPBadRequest(
                body=orjson.dumps(f"bad filter {text!r}: {e}"), content_type="application/json"
            ) from None
    return out


def _receiver_filter(request: web.Request) -> re.Pattern[str] | None:
    raw = request.query.get("receiver")
    if raw is None:
        return None
    try:
        return re.compile(f"^(?:{raw})$")
    except re.error as e:
        raise web.HTTPBadRequest(
            body=orjson.dumps(f"failed to parse receiver param: {e}"), content_type="application/json"
        ) from None


def match_filter_labels(matchers: list[Matcher], labels: dict[str, str]) -> bool:
    """The v2 API's filter semantics: an empty-valued matcher ignores presence as upstream does."""
    for m in matchers:
        present = m.name in labels
        value = labels.get(m.name, "")
        if m.type in (MatchType.NOT_REGEX, MatchType.NOT_EQUAL):
            if m.value == "" and present:
                continue
        elif m.value == "" and not present:
            continue
        if not m.matches(value):
            return False
    return True


# -- handlers -------------------------------------------------------------------------------


@requires(Role.VIEWER)
async def healthy(request: web.Request) -> web.Response:
    return web.Response(text="OK")


@requires(Role.VIEWER)
async def ready(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    if not engine.ready:
        return web.Response(status=503, text="Service Unavailable")
    if not engine.writer.healthy:
        # Writes are refused (503) until storage takes them: take this instance out of rotation.
        return web.Response(
            status=503,
            text=f"Service Unavailable (storage unavailable: {engine.writer.pending()} writes buffered)",
        )
    reason = engine.unready_reason()
    if reason is not None:
        return web.Response(status=503, text=f"Service Unavailable ({reason})")
    return web.Response(text="OK")


@requires(Role.ADMIN, audit="config.reload")
async def reload(request: web.Request) -> web.Response:
    try:
        await request.app[ENGINE].reload()
    except ConfigError as e:
        log.error("Loading configuration file failed: %s", e)
        return web.Response(status=500, text=f"failed to reload config: {e}")
    return web.Response(text="")


@requires(Role.VIEWER)
async def metrics(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    engine.update_gauges()
    return web.Response(
        body=generate_latest(engine.metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )


@requires(Role.VIEWER)
async def get_status(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    settings = request.app[SETTINGS]
    cluster: dict[str, Any]
    if engine.cluster is not None:  # the live replicas sharing the database
        peers = engine.cluster.peers()
        cluster = {
            "name": engine.cluster.name,
            "peers": [{"address": p.address, "name": p.name, "state": p.state} for p in peers],
            "status": engine.cluster.status(),
        }
    elif settings.cluster_address:
        cluster = {
            "name": settings.peer_name,
            "peers": [{"address": settings.cluster_address, "name": settings.peer_name}],
            "status": "ready",
        }
    else:
        cluster = {"peers": [], "status": "disabled"}
    return json_response(
        {
            "cluster": cluster,
            "config": {"original": dump_yaml(engine.config)},
            "uptime": format_rfc3339millis(int(engine.started_at * NS)),
            "versionInfo": {
                "branch": "alertmanager-plusplus",
                "buildDate": "",
                "buildUser": "",
                "goVersion": "python",
                "revision": f"ampp-{__version__}",
                "version": ALERTMANAGER_VERSION,
            },
        }
    )


@requires(Role.VIEWER)
async def get_receivers(request: web.Request) -> web.Response:
    cfg = request.app[ENGINE].config
    return json_response([{"name": r.name} for r in cfg.alerting.receivers])


def _alert_filter(
    engine: Engine, matchers: list[Matcher], silenced: bool, inhibited: bool, active: bool
) -> Callable[[Alert, int], bool]:
    def keep(a: Alert, now: int) -> bool:
        if a.resolved_at(now) and a.ends_at < now:
            return False
        engine.set_alert_status(a)
        status = engine.marker.status(a.fingerprint)
        if not active and status.state == "active":
            return False
        if not silenced and status.silenced_by:
            return False
        if not inhibited and status.inhibited_by:
            return False
        return match_filter_labels(matchers, a.labels)

    return keep


@requires(Role.VIEWER)
async def get_alerts(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    matchers = _filters(request)
    receiver_re = _receiver_filter(request)
    keep = _alert_filter(
        engine, matchers, _bool(request, "silenced"), _bool(request, "inhibited"), _bool(request, "active")
    )
    _bool(request, "unprocessed")
    assert engine.runtime is not None
    dispatcher = engine.runtime.dispatcher
    now = now_ns()
    out = []
    for a in engine.alerts.snapshot():
        receivers = [r.opts.receiver for r in dispatcher.routes(a.labels)]
        if receiver_re is not None and not any(receiver_re.match(r) for r in receivers):
            continue
        if not keep(a, now):
            continue
        out.append(alert_json(a, engine.marker.status(a.fingerprint), receivers))
    out.sort(key=lambda x: x["fingerprint"])
    return json_response(out)


_JSON_NUL = b"\\u0000"
"""The only way a JSON text carries a NUL character (raw control characters are invalid)."""


@requires(Role.OPERATOR, budget="ingest", audit="alerts.post")
async def post_alerts(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    body = await read_body(request)
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        return _error(f"the body is not valid JSON: {e}")
    now = now_ns()
    resolve_timeout = int(engine.config.alerting.global_.resolve_timeout * NS)
    try:
        batch = parse_postable_alerts(data, now, resolve_timeout, _JSON_NUL in body)
    except ValueError as e:
        return _error(str(e))
    m = engine.metrics
    m.received_firing.inc(batch.firing)
    m.received_resolved.inc(batch.resolved)
    if batch.alerts:
        try:
            await engine.put_alerts(batch.alerts)
        except StorageUnavailable as e:
            return _unavailable(e)
    if batch.errors:
        m.alerts_invalid.inc(len(batch.errors))
        log.error("Failed to validate alerts: %s", "; ".join(batch.errors))
        return _error("; ".join(batch.errors))
    return web.Response(status=200)


@requires(Role.VIEWER)
async def get_alert_groups(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    matchers = _filters(request)
    receiver_re = _receiver_filter(request)
    keep = _alert_filter(
        engine, matchers, _bool(request, "silenced"), _bool(request, "inhibited"), _bool(request, "active")
    )
    assert engine.runtime is not None
    groups, receivers = engine.runtime.dispatcher.alert_groups(
        lambda r: receiver_re is None or receiver_re.match(r.opts.receiver) is not None, keep
    )
    out = []
    for g in groups:
        out.append(
            {
                "alerts": [
                    alert_json(a, engine.marker.status(a.fingerprint), receivers.get(a.fingerprint, []))
                    for a in g.alerts
                ],
                "labels": g.labels,
                "receiver": {"name": g.receiver},
            }
        )
    return json_response(out)


_STATE_ORDER = {"active": 1, "pending": 2, "expired": 3}


@requires(Role.VIEWER)
async def get_silences(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    filters = _filters(request)
    now = now_ns()
    sils = [
        s
        for s in engine.silences.all()
        if all(
            any(f.name == m.name and f.type == m.type and f.value == m.value for m in s.matchers)
            for f in filters
        )
    ]

    def key(s: Any) -> tuple[int, int]:
        state = s.state(now)
        if state == "active":
            return (1, s.ends_at)
        if state == "pending":
            return (2, s.starts_at)
        return (3, -s.ends_at)

    sils.sort(key=key)
    return json_response([silence_json(s, now) for s in sils])


@requires(Role.OPERATOR, audit="silence.set")
async def post_silences(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    try:
        body = orjson.loads(await read_body(request))
    except orjson.JSONDecodeError as e:
        return _error(f"the body is not valid JSON: {e}")
    who = identity(request)
    if isinstance(body, dict) and not body.get("createdBy") and who.authenticated:
        body["createdBy"] = who.name  # left empty: the authenticated caller
    try:
        sil = parse_postable_silence(body)
    except BadSilence as e:
        return _error(str(e))
    if sil.starts_at >= sil.ends_at:
        return _error("Failed to create silence: start time must be before end time")
    if sil.ends_at < now_ns():
        return _error("Failed to create silence: end time can't be in the past")
    try:
        before = engine.silences.get(sil.id) if sil.id else None
        if sil.id:
            engine.silences.check_editable(sil.id)
        sid = await engine.silences.set(sil)
    except StorageUnavailable as e:
        return _unavailable(e)
    except SilenceNotFound as e:
        return _error(str(e), 404)
    except SilenceInvalid as e:
        return _error(str(e))
    now = now_ns()
    after = engine.silences.get(sid)
    request[AUDIT] = {
        "target": sid,
        "before": silence_json(before, now) if before else None,
        "after": silence_json(after, now) if after else None,
    }
    return json_response({"silenceID": sid})


@requires(Role.VIEWER)
async def get_silence(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    sil = engine.silences.get(_silence_id(request))
    if sil is None:
        return web.Response(status=404)
    return json_response(silence_json(sil, now_ns()))


@requires(Role.OPERATOR, audit="silence.expire")
async def delete_silence(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    sid = _silence_id(request)
    before = engine.silences.get(sid)
    try:
        engine.silences.check_editable(sid)
        await engine.silences.expire(sid)
    except StorageUnavailable as e:
        return _unavailable(e)
    except SilenceNotFound as e:
        return _error(str(e), 500)  # Alertmanager 0.25's answer, which amtool expects
    except SilenceInvalid as e:  # a silence owned elsewhere among them: amtool prints 500's message
        return _error(str(e), 500)
    now, after = now_ns(), engine.silences.get(sid)
    request[AUDIT] = {
        "target": sid,
        "before": silence_json(before, now) if before else None,
        "after": silence_json(after, now) if after else None,
    }
    return web.Response(status=200)


@requires(Role.VIEWER)
async def openapi(request: web.Request) -> web.Response:
    return web.Response(body=OPENAPI.read_bytes(), content_type="application/yaml")


_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _silence_id(request: web.Request) -> str:
    """The path's silence id, which the API contract types as a UUID (422 otherwise)."""
    sid = request.match_info["id"]
    if not _UUID_RE.match(sid):
        raise web.HTTPUnprocessableEntity(
            body=orjson.dumps({"code": 605, "message": f'silenceID in path must be of type uuid: "{sid}"'}),
            content_type="application/json",
        )
    return sid


WRITE_TIMEOUT = web.AppKey("write_timeout", float)
UNTIMED = frozenset({stream.ROUTE_NAME})
"""Routes server.write_timeout does not bound: streams that stay open by design."""

Observers = tuple[Histogram, Histogram]
"""A handler's latency and response size histograms (the labelled children)."""
OBSERVERS = web.AppKey("observers", dict[tuple[web.AbstractResource, str], Observers])


@web.middleware
async def _serve(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Alertmanager's per-handler latency and response size histograms, and a 500 with a
    message rather than a traceback for an error no handler expected.

    ``handler`` is the route's pattern without the route prefix (``/metrics``,
    ``/api/v2/silence/{id}``); a request no route matched is not counted, so that paths
    cannot grow the label set. One middleware for both: each costs every request a layer.
    """
    start = time.perf_counter()
    rid = request.headers.get("X-Request-Id")
    if rid is None or not _REQUEST_ID.fullmatch(rid):
        rid = secrets.token_hex(8)
    scope, token = logs.begin_request(rid)
    try:
        response = await (_traced if tracing.enabled() else _handle)(request, handler)
        if not response.prepared:  # a stream sent its headers already
            response.headers["X-Request-Id"] = rid
        _observe(request, start, response)
        if log.isEnabledFor(logging.DEBUG):
            elapsed = time.perf_counter() - start
            log.debug("%s %s answered %d in %.3fs", request.method, request.path, response.status, elapsed)
        return response
    finally:
        logs.end_request(scope, token)


_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+/=-]{1,128}")
"""A caller's X-Request-Id taken as is (a proxy's or a tracing header's); anything else is
replaced, so that no header can put arbitrary text into the log."""


async def _handle(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        limit = request.app[WRITE_TIMEOUT]
        if limit and request.match_info.route.name not in UNTIMED:
            try:
                async with asyncio.timeout(limit):
                    response = await handler(request)
            except TimeoutError:
                response = _error(f"not answered within server.write_timeout ({limit:g}s)", 503)
        else:
            response = await handler(request)
    except web.HTTPException as e:
        response = _answer(e)
    except Exception:
        log.exception("unhandled error serving %s %s", request.method, request.path)
        response = _error("internal error; see the server log", 500)
    return response


def _answer(e: web.HTTPException) -> web.Response:
    """A raised HTTPException's answer as a response of its own. aiohttp answers a raised one by
    keeping it in a local of the frame its traceback holds: a cycle that only a full garbage
    collection frees (rare here: cli raises the thresholds), and with it the request and any
    body read (a refused 64 MiB body held for minutes)."""
    response = web.Response(status=e.status, reason=e.reason, body=e.body, headers=e.headers)
    if e.keep_alive is False:
        response.force_close()
    return response


async def _traced(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """The request in a server span continuing the caller's W3C traceparent (ampp.tracing);
    probes and metrics scrapes are not traced."""
    resource = request.match_info.route.resource
    settings = request.app[SETTINGS]
    route = _route_name(request.app, resource) if resource is not None else None
    if route is None or route in ("/-/healthy", "/-/ready", settings.metrics.path):
        return await _handle(request, handler)
    attributes = {"http.request.method": request.method, "http.route": route, "url.path": request.path}
    with tracing.server(request.method, route, request.headers, attributes) as span:
        response = await _handle(request, handler)
        span.set_attribute("http.response.status_code", response.status)
    return response


def _route_name(app: web.Application, resource: web.AbstractResource) -> str:
    """A route's pattern without the route prefix (``/api/v2/silence/{id}``)."""
    return resource.canonical.removeprefix(app[SETTINGS].route_prefix.rstrip("/")) or "/"


def _observe(request: web.Request, start: float, response: web.StreamResponse) -> None:
    resource = request.match_info.route.resource
    if resource is not None:
        duration, size_of = _observers(request.app, resource, request.method)
        duration.observe(time.perf_counter() - start)
        size = response.content_length
        if size is not None:
            size_of.observe(size)


def _observers(app: web.Application, resource: web.AbstractResource, method: str) -> Observers:
    known = app[OBSERVERS]
    found = known.get((resource, method))
    if found is None:
        name = _route_name(app, resource)
        metrics = app[ENGINE].metrics
        found = known[resource, method] = (
            metrics.http_request_duration.labels(name, method.lower()),
            metrics.http_response_size.labels(name, method.lower()),
        )
    return found


@requires(Role.ANONYMOUS)
async def whoami(request: web.Request) -> web.Response:
    """Who the API takes the caller for: the UI shows it, and a client can check its key."""
    who = identity(request)
    return json_response({"name": who.name, "role": who.role.label, "method": who.method})


def create_app(engine: Engine, settings: ApiSettings) -> web.Application:
    guard = settings.web
    security = Security(engine, settings.route_prefix)
    middlewares = [guard.middleware] if guard else []
    middlewares += [security.middleware, _serve]
    limits = engine.access.security.limits  # read at start: the listener's buffers are sized once
    app = web.Application(
        middlewares=middlewares,
        client_max_size=MAX_BODY,
        handler_args={"max_field_size": limits.max_headers_bytes, "max_line_size": limits.max_headers_bytes},
    )
    app.on_response_prepare.append(security.add_headers)
    if guard:  # after ours: headers the web config sets explicitly win
        app.on_response_prepare.append(guard.add_headers)
    app[SECURITY] = security
    app[ENGINE] = engine
    app[OBSERVERS] = {}
    app[SETTINGS] = settings
    app[WRITE_TIMEOUT] = settings.server.write_timeout
    app[READ_TIMEOUT] = settings.server.read_timeout
    p = "/" + settings.route_prefix.strip("/")
    p = "" if p == "/" else p
    r = app.router
    r.add_get(f"{p}/-/healthy", healthy)
    r.add_get(f"{p}/-/ready", ready)
    r.add_post(f"{p}/-/reload", reload)
    if settings.metrics.enabled:
        r.add_get(p + settings.metrics.path, metrics)
    v2 = f"{p}/api/v2"
    r.add_get(f"{v2}/status", get_status)
    r.add_get(f"{v2}/receivers", get_receivers)
    r.add_get(f"{v2}/alerts", get_alerts)
    r.add_post(f"{v2}/alerts", post_alerts)
    r.add_get(f"{v2}/alerts/groups", get_alert_groups)
    r.add_get(f"{v2}/silences", get_silences)
    r.add_post(f"{v2}/silences", post_silences)
    r.add_get(f"{v2}/silence/{{id}}", get_silence)
    r.add_delete(f"{v2}/silence/{{id}}", delete_silence)
    r.add_get(f"{v2}/openapi.yaml", openapi)
    ui.add_routes(app, p)  # the dashboard: / and /ui/...
    r.add_get(f"{p}/api/ampp/v1/whoami", whoami)
    from .history import add_routes as add_history_routes  # history hook

    add_history_routes(r, p)  # history hook: /history, /history/{fingerprint}, /report
    deliveries.add_routes(r, p)  # the delivery queue: /api/ampp/v1/deliveries...
    webhook.add_routes(app, p)  # POST /webhook, /webhook/proxy, /webhook/{source}
    enrichment.add_routes(r, p)  # GET /api/ampp/v1/enrichment/{fingerprint}
    routes.add_routes(r, p)  # the routing tree and its tester: /api/ampp/v1/routes...
    stream.add_routes(app, engine, p)  # live updates: /api/ampp/v1/events
    accessapi.add_routes(r, p)  # /api/ampp/v1/apikeys, /api/ampp/v1/audit
    if p:

        @requires(Role.ANONYMOUS)  # leads to the dashboard's page, open as that page is
        async def to_prefix(request: web.Request) -> web.Response:
            raise web.HTTPFound(p + "/")

        r.add_get("/", to_prefix)
        r.add_get(p, to_prefix)  # the prefix without its slash: relative URLs need the slash
    return app
