"""/api/ampp/v1/routes: the running routing tree, and which routes a label set takes.

What `amtool config routes` and `amtool config routes test` answer from a file, answered from
the config the engine runs, so the dashboard can draw the tree and test it without parsing YAML.
A bad parameter is a 400 whose JSON string body names it.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..auth.roles import Role
from ..dispatch.route import Route
from ..model.timefmt import format_duration
from .access import requires
from .keys import ENGINE
from .responses import json_response

PREFIX = "/api/ampp/v1/routes"


def _root(request: web.Request) -> Route:
    runtime = request.app[ENGINE].runtime
    assert runtime is not None
    return runtime.route


def _path(route: Route) -> str:
    """The node's position: "0" for the root, "0.2.1" for the second child of its third child."""
    steps: list[str] = []
    node: Route | None = route
    while node is not None and node.parent is not None:
        steps.append(str(node.index))
        node = node.parent
    return ".".join(["0", *reversed(steps)])


def node_json(route: Route) -> dict[str, Any]:
    """One node with its effective (inherited) settings, without its children."""
    o = route.opts
    return {
        "path": _path(route),
        "receiver": o.receiver,
        "matchers": [str(m) for m in route.matchers],
        "continue": route.continue_,
        "groupBy": ["..."] if o.group_by_all else sorted(o.group_by),
        "groupWait": format_duration(o.group_wait),
        "groupInterval": format_duration(o.group_interval),
        "repeatInterval": format_duration(o.repeat_interval),
        "muteTimeIntervals": list(o.mute_time_intervals),
        "activeTimeIntervals": list(o.active_time_intervals),
    }


def tree_json(route: Route) -> dict[str, Any]:
    return {**node_json(route), "routes": [tree_json(c) for c in route.routes]}


@requires(Role.VIEWER)
async def get_routes(request: web.Request) -> web.Response:
    return json_response({"route": tree_json(_root(request))})


@requires(Role.VIEWER)
async def match_routes(request: web.Request) -> web.Response:
    labels: dict[str, str] = {}
    for name in request.query:
        if name != "label":
            return json_response(f"{name}: unknown parameter (label)", 400)
    for item in request.query.getall("label", []):
        key, sep, value = item.partition("=")
        if not sep or not key:
            return json_response(f"label: expected name=value, got {item!r}", 400)
        labels[key] = value
    matched = _root(request).match(labels)
    receivers: list[str] = []
    for r in matched:
        if r.opts.receiver not in receivers:
            receivers.append(r.opts.receiver)
    routes = [{**node_json(r), "groupLabels": r.group_labels(labels)} for r in matched]
    return json_response({"labels": labels, "receivers": receivers, "routes": routes})


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    router.add_get(f"{prefix}{PREFIX}", get_routes)
    router.add_get(f"{prefix}{PREFIX}/match", match_routes)
