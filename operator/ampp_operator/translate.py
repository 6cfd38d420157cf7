"""Custom resources -> fragments of an alertmanager.yml document. Pure functions.

Each function takes one resource's spec (camelCase, as the API server stores it) and returns the
piece of the config document it stands for (snake_case, as alertmanager.yml spells it), so the
engine validates and runs it exactly like a file. Nothing here does I/O or knows about other
resources: references come back as names for :mod:`assemble` to check.

Names: a namespaced resource becomes ``<namespace>/<name>`` in the config, so receivers and
time intervals of different namespaces never collide, and a route can only reach the
receivers and time intervals of its own namespace.

Namespace enforcement (on by default): the top route of an AlertRoute, both sides of an
InhibitRule and a Silence get a ``namespace="<namespace>"`` matcher first, so what a team
writes in its namespace only ever sees that namespace's alerts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ampp.model.matchers import Matcher, MatcherParseError, MatchType, new_matcher

__all__ = [
    "NAMESPACE_LABEL",
    "Rejected",
    "RouteRefs",
    "config_name",
    "inhibit_rule_fragment",
    "matchers_from_spec",
    "route_fragment",
    "time_interval_fragment",
]

NAMESPACE_LABEL = "namespace"
"""The alert label namespace enforcement matches on (what Prometheus' kubernetes SD sets)."""


class Rejected(ValueError):
    """A resource that cannot become config; ``reason`` is the condition reason (CamelCase)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def config_name(namespace: str, name: str) -> str:
    """The name a namespaced resource has in the config (receivers, time intervals)."""
    return f"{namespace}/{name}"


def matchers_from_spec(items: Sequence[Mapping[str, Any]], where: str) -> list[Matcher]:
    """``[{name, value, matchType}]`` -> engine matchers; regexes are checked as Go's RE2."""
    out: list[Matcher] = []
    for i, item in enumerate(items):
        name = str(item.get("name", ""))
        value = str(item.get("value", ""))
        op = str(item.get("matchType", "="))
        try:
            out.append(new_matcher(name, MatchType(op), value))
        except ValueError as e:  # MatcherParseError, or an unknown operator
            detail = str(e) if isinstance(e, MatcherParseError) else f"invalid matchType {op!r}"
            shown = f"{name}{op}{json.dumps(value, ensure_ascii=False)}"
            raise Rejected("InvalidSpec", f"{where}[{i}] ({shown}): {detail}") from None
    return out


def _scope(namespace: str, enforce: bool) -> list[Matcher]:
    return [new_matcher(NAMESPACE_LABEL, MatchType.EQUAL, namespace)] if enforce else []


@dataclass(frozen=True)
class RouteRefs:
    """The Receivers and TimeIntervals (names in the route's namespace) a route tree uses."""

    receivers: frozenset[str] = frozenset()
    time_intervals: frozenset[str] = frozenset()


@dataclass
class _Collect:
    receivers: set[str] = field(default_factory=set)
    time_intervals: set[str] = field(default_factory=set)


_TIMERS = (
    ("groupWait", "group_wait"),
    ("groupInterval", "group_interval"),
    ("repeatInterval", "repeat_interval"),
)


def _route(spec: Mapping[str, Any], namespace: str, path: str, refs: _Collect) -> dict[str, Any]:
    out: dict[str, Any] = {}
    receiver = spec.get("receiver")
    if receiver:
        refs.receivers.add(str(receiver))
        out["receiver"] = config_name(namespace, str(receiver))
    matchers = matchers_from_spec(spec.get("matchers") or [], f"{path}matchers")
    if matchers:
        out["matchers"] = [str(m) for m in matchers]
    if spec.get("groupBy") is not None:
        out["group_by"] = list(spec["groupBy"])
    for key, yaml_key in _TIMERS:
        if spec.get(key) is not None:
            out[yaml_key] = spec[key]
    if "continue" in spec:
        out["continue"] = bool(spec["continue"])
    for key, yaml_key in (
        ("muteTimeIntervals", "mute_time_intervals"),
        ("activeTimeIntervals", "active_time_intervals"),
    ):
        names = [str(n) for n in spec.get(key) or []]
        if names:
            refs.time_intervals.update(names)
            out[yaml_key] = [config_name(namespace, n) for n in names]
    children = spec.get("routes") or []
    if children:
        out["routes"] = [
            _route(child, namespace, f"{path}routes[{i}].", refs) for i, child in enumerate(children)
        ]
    return out


def route_fragment(
    spec: Mapping[str, Any], namespace: str, *, enforce: bool
) -> tuple[dict[str, Any], RouteRefs]:
    """An AlertRoute -> one child of the root route, and what it refers to.

    The top node continues by default (``continue: true``, as prometheus-operator forces for
    AlertmanagerConfig), so the routes of the base config still see the alerts; a resource may
    say ``continue: false`` to stop them.
    """
    refs = _Collect()
    out = _route(spec, namespace, "", refs)
    scope = [str(m) for m in _scope(namespace, enforce)]
    out["matchers"] = scope + out.get("matchers", [])
    if not out["matchers"]:
        del out["matchers"]
    out.setdefault("continue", True)
    # Keys in alertmanager.yml's usual order, so the assembled document reads naturally.
    order = ("receiver", "matchers", "group_by", "group_wait", "group_interval", "repeat_interval",
             "continue", "mute_time_intervals", "active_time_intervals", "routes")  # fmt: skip
    ordered = {k: out[k] for k in order if k in out}
    return ordered, RouteRefs(frozenset(refs.receivers), frozenset(refs.time_intervals))


def inhibit_rule_fragment(spec: Mapping[str, Any], namespace: str, *, enforce: bool) -> dict[str, Any]:
    """An InhibitRule -> one ``inhibit_rules`` entry; both sides scoped to the namespace."""
    scope = _scope(namespace, enforce)
    source = scope + matchers_from_spec(spec.get("sourceMatchers") or [], "sourceMatchers")
    target = scope + matchers_from_spec(spec.get("targetMatchers") or [], "targetMatchers")
    out: dict[str, Any] = {
        "source_matchers": [str(m) for m in source],
        "target_matchers": [str(m) for m in target],
    }
    if spec.get("equal"):
        out["equal"] = list(spec["equal"])
    return out


_INTERVAL_KEYS = (
    ("times", "times"),
    ("weekdays", "weekdays"),
    ("daysOfMonth", "days_of_month"),
    ("months", "months"),
    ("years", "years"),
    ("location", "location"),
)


def time_interval_fragment(spec: Mapping[str, Any], namespace: str, name: str) -> dict[str, Any]:
    """A TimeInterval -> one named ``time_intervals`` entry (``<namespace>/<name>``)."""
    intervals: list[dict[str, Any]] = []
    for item in spec.get("timeIntervals") or []:
        entry: dict[str, Any] = {}
        for key, yaml_key in _INTERVAL_KEYS:
            if item.get(key) is None:
                continue
            value = item[key]
            if key == "times":
                value = [{"start_time": t.get("startTime"), "end_time": t.get("endTime")} for t in value]
            entry[yaml_key] = value
        intervals.append(entry)
    return {"name": config_name(namespace, name), "time_intervals": intervals}
