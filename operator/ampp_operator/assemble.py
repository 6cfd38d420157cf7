"""Base config + custom resources -> one validated Config, with a verdict per resource. Pure.

The rule is that a bad resource costs only itself. So every resource is first validated on
its own (the base config plus its fragment, plus the receivers and time intervals a route
refers to), with the engine's own loader, and only the ones that pass are merged. Should the
merged document still fail (two resources that are fine alone but clash), the issues are
traced back to the resources whose fragments they point into, those are dropped, and the rest
is tried again. Whatever happens, the result is a config the engine accepts: at worst the
base config alone.

Where fragments go:

* receivers and time intervals are appended after the base config's;
* AlertRoutes become children of the root route *before* the base config's own children,
  ordered by namespace and name (every replica builds the same document);
* inhibit rules are appended after the base config's.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ampp.config.errors import ConfigError, ConfigIssue, format_path
from ampp.config.loader import Config, is_extended, load_document
from ampp.notify.pipeline import unsupported_integrations

from . import integrations, names
from .integrations import MissingSecretError, Secrets, SpecError, UnreadableSecretError
from .resources import Ref, Resource, Verdict
from .translate import (
    Rejected,
    RouteRefs,
    config_name,
    inhibit_rule_fragment,
    route_fragment,
    time_interval_fragment,
)

__all__ = ["Assembly", "Validator", "assemble"]

Doc = dict[str, Any]


class Validator:
    """``load_document`` with a bounded memo: the same document is validated once.

    Reconciles run after every change and mostly see the same fragments again, so the memo
    turns them into dictionary lookups.
    """

    def __init__(self, base_dir: str = ".", size: int = 2048) -> None:
        self.base_dir = base_dir
        self.size = size
        self._memo: OrderedDict[str, Config | ConfigError] = OrderedDict()
        self.misses = 0

    def __call__(self, document: Doc, source: str) -> Config:
        key = source + "\0" + json.dumps(document, sort_keys=True, default=str)
        found = self._memo.get(key)
        if found is None:
            self.misses += 1
            try:
                found = load_document(document, source, base_dir=self.base_dir)
            except ConfigError as e:
                found = e
            self._memo[key] = found
            if len(self._memo) > self.size:
                self._memo.popitem(last=False)
        else:
            self._memo.move_to_end(key)
        if isinstance(found, ConfigError):
            raise found
        return found


@dataclass
class Assembly:
    """The outcome of one reconcile: the document, its Config, and every resource's verdict."""

    document: Doc
    config: Config
    verdicts: dict[Ref, Verdict] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        """Changes exactly when the document does: a reconcile that changes nothing is not
        applied (applying restarts the aggregation groups' timers)."""
        text = json.dumps(self.document, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class _Parts:
    """Fragments to add to the base config's alerting section, each with its resource."""

    intervals: list[tuple[Ref, Doc]] = field(default_factory=list)
    receivers: list[tuple[Ref, Doc]] = field(default_factory=list)
    routes: list[tuple[Ref, Doc]] = field(default_factory=list)
    inhibit_rules: list[tuple[Ref, Doc]] = field(default_factory=list)

    def without(self, dropped: set[Ref]) -> _Parts:
        return _Parts(*([p for p in part if p[0] not in dropped] for part in self._lists()))

    def _lists(self) -> tuple[list[tuple[Ref, Doc]], ...]:
        return (self.intervals, self.receivers, self.routes, self.inhibit_rules)


class _Base:
    """The base config document, and how to add fragments to it."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = dict(document)
        self.extended = is_extended(self.document)
        alerting = self.document.get("alerting") if self.extended else self.document
        self.alerting: Doc = dict(alerting or {})
        self.prefix: tuple[str, ...] = ("alerting",) if self.extended else ()
        route = self.alerting.get("route") or {}
        self.counts = {
            "receivers": len(self.alerting.get("receivers") or []),
            "time_intervals": len(self.alerting.get("time_intervals") or []),
            "inhibit_rules": len(self.alerting.get("inhibit_rules") or []),
            "routes": len(route.get("routes") or []) if isinstance(route, dict) else 0,
        }

    def with_parts(self, parts: _Parts) -> Doc:
        al = dict(self.alerting)
        if parts.intervals:
            al["time_intervals"] = [*(al.get("time_intervals") or []), *(f for _, f in parts.intervals)]
        if parts.receivers:
            al["receivers"] = [*(al.get("receivers") or []), *(f for _, f in parts.receivers)]
        if parts.inhibit_rules:
            al["inhibit_rules"] = [*(al.get("inhibit_rules") or []), *(f for _, f in parts.inhibit_rules)]
        if parts.routes:
            route = dict(al.get("route") or {})
            route["routes"] = [*(f for _, f in parts.routes), *(route.get("routes") or [])]
            al["route"] = route
        return {**self.document, "alerting": al} if self.extended else al

    def owner(self, parts: _Parts, issue: ConfigIssue) -> tuple[Ref, str] | None:
        """The resource whose fragment an issue of the merged document points into, and
        the issue's path inside that resource."""
        path = issue.path[len(self.prefix) :] if issue.path[: len(self.prefix)] == self.prefix else issue.path
        if len(path) >= 2 and path[0] in ("receivers", "time_intervals", "inhibit_rules"):
            key = str(path[0])
            items = {"receivers": parts.receivers, "time_intervals": parts.intervals,
                     "inhibit_rules": parts.inhibit_rules}[key]  # fmt: skip
            idx = path[1]
            if isinstance(idx, int) and 0 <= idx - self.counts[key] < len(items):
                return items[idx - self.counts[key]][0], integrations.spec_path(path[2:])
        if len(path) >= 3 and path[:2] == ("route", "routes") and isinstance(path[2], int):
            if path[2] < len(parts.routes):
                return parts.routes[path[2]][0], integrations.spec_path(path[3:])
        return None


def _message(error: ConfigError, strip: Callable[[ConfigIssue], str] | None = None, limit: int = 3) -> str:
    texts = []
    for issue in error.issues[:limit]:
        where = strip(issue) if strip else format_path(issue.path)
        texts.append(f"{where}: {issue.message}" if where else issue.message)
    more = len(error.issues) - limit
    return "; ".join(texts) + (f" (and {more} more)" if more > 0 else "")


def assemble(
    base: Mapping[str, Any],
    resources: Iterable[Resource],
    secrets: Mapping[str, Secrets],
    *,
    enforce: bool,
    validate: Validator,
) -> Assembly:
    """Merge the config-bearing resources (not Silences) into the base config.

    ``secrets`` maps a namespace to the Secrets fetched there (see
    :func:`integrations.secret_names`). Resources being deleted are left out.
    """
    b = _Base(base)
    by_kind: dict[str, list[Resource]] = {k.kind: [] for k in names.KINDS}
    for r in sorted(resources, key=lambda r: r.ref):
        if not r.deleting and r.ref.kind in by_kind:
            by_kind[r.ref.kind].append(r)
    verdicts: dict[Ref, Verdict] = {}
    alone = _Parts()

    def check(ref: Ref, parts: _Parts) -> Config | None:
        try:
            return validate(b.with_parts(parts), str(ref))
        except ConfigError as e:

            def strip(issue: ConfigIssue) -> str:
                found = b.owner(parts, issue)
                return found[1] if found and found[0] == ref else format_path(issue.path)

            verdicts[ref] = Verdict(False, "InvalidConfig", _message(e, strip))
            return None

    # Time intervals, then receivers: routes need to know which of them are usable.
    intervals: dict[tuple[str, str], tuple[Ref, Doc]] = {}
    for r in by_kind[names.TIME_INTERVAL.kind]:
        frag = time_interval_fragment(r.spec, r.namespace, r.name)
        if check(r.ref, _Parts(intervals=[(r.ref, frag)])) is not None:
            intervals[(r.namespace, r.name)] = (r.ref, frag)
            alone.intervals.append((r.ref, frag))

    receivers: dict[tuple[str, str], tuple[Ref, Doc]] = {}
    for r in by_kind[names.RECEIVER.kind]:
        cname = config_name(r.namespace, r.name)
        try:
            frag = {"name": cname, **integrations.to_config(r.spec, secrets.get(r.namespace) or {})}
        except MissingSecretError as e:
            where = integrations.spec_path(e.path)
            verdicts[r.ref] = Verdict(False, "SecretNotFound", f"{where}: {e}")
            continue
        except UnreadableSecretError as e:
            verdicts[r.ref] = Verdict(False, "SecretNotReadable", f"{integrations.spec_path(e.path)}: {e}")
            continue
        except SpecError as e:
            verdicts[r.ref] = Verdict(False, "InvalidSpec", f"{integrations.spec_path(e.path)}: {e.message}")
            continue
        cfg = check(r.ref, _Parts(receivers=[(r.ref, frag)]))
        if cfg is None:
            continue
        own = b.counts["receivers"]  # the fragment's index: right after the base config's
        unsupported = [i.message for i in unsupported_integrations(cfg) if i.path[:2] == ("receivers", own)]
        if unsupported:
            verdicts[r.ref] = Verdict(False, "UnsupportedIntegration", "; ".join(unsupported))
            continue
        receivers[(r.namespace, r.name)] = (r.ref, frag)
        alone.receivers.append((r.ref, frag))

    existing = {(r.ref.kind, r.namespace, r.name) for r in by_kind[names.RECEIVER.kind]}
    existing |= {(r.ref.kind, r.namespace, r.name) for r in by_kind[names.TIME_INTERVAL.kind]}

    route_refs: dict[Ref, RouteRefs] = {}
    for r in by_kind[names.ALERT_ROUTE.kind]:
        try:
            frag, refs = route_fragment(r.spec, r.namespace, enforce=enforce)
        except Rejected as e:
            verdicts[r.ref] = Verdict(False, e.reason, e.message)
            continue
        missing = _missing(r.namespace, refs, receivers, intervals, existing)
        if missing is not None:
            verdicts[r.ref] = missing
            continue
        parts = _Parts(
            intervals=[intervals[(r.namespace, n)] for n in sorted(refs.time_intervals)],
            receivers=[receivers[(r.namespace, n)] for n in sorted(refs.receivers)],
            routes=[(r.ref, frag)],
        )
        if check(r.ref, parts) is not None:
            route_refs[r.ref] = refs
            alone.routes.append((r.ref, frag))

    for r in by_kind[names.INHIBIT_RULE.kind]:
        try:
            frag = inhibit_rule_fragment(r.spec, r.namespace, enforce=enforce)
        except Rejected as e:
            verdicts[r.ref] = Verdict(False, e.reason, e.message)
            continue
        if check(r.ref, _Parts(inhibit_rules=[(r.ref, frag)])) is not None:
            alone.inhibit_rules.append((r.ref, frag))

    parts, config = _merge(b, alone, route_refs, verdicts, validate)
    for kind_parts, what in (
        (parts.intervals, "time interval"),
        (parts.receivers, "receiver"),
        (parts.routes, "route"),
        (parts.inhibit_rules, "inhibit rule"),
    ):
        for ref, frag in kind_parts:
            label = f" {json.dumps(frag['name'])}" if "name" in frag else ""
            verdicts[ref] = Verdict(True, "Valid", f"in the running configuration as {what}{label}")
    return Assembly(b.with_parts(parts), config, verdicts)


def _missing(
    namespace: str,
    refs: RouteRefs,
    receivers: Mapping[tuple[str, str], object],
    intervals: Mapping[tuple[str, str], object],
    existing: set[tuple[str, str, str]],
) -> Verdict | None:
    for kind, wanted, usable in (
        (names.RECEIVER.kind, refs.receivers, receivers),
        (names.TIME_INTERVAL.kind, refs.time_intervals, intervals),
    ):
        for n in sorted(wanted):
            if (namespace, n) in usable:
                continue
            if (kind, namespace, n) in existing:
                return Verdict(
                    False, f"{kind}NotAccepted", f"{kind} {namespace}/{n} is not accepted (see its status)"
                )
            return Verdict(False, f"{kind}NotFound", f"{kind} {namespace}/{n} does not exist")
    return None


def _merge(
    b: _Base,
    alone: _Parts,
    route_refs: Mapping[Ref, RouteRefs],
    verdicts: dict[Ref, Verdict],
    validate: Validator,
) -> tuple[_Parts, Config]:
    """Merge everything that passed alone; drop what the merged document blames, retry."""
    parts = alone
    for _ in range(8):
        parts = _drop_dangling_routes(parts, route_refs, verdicts)
        try:
            return parts, validate(b.with_parts(parts), "custom resources")
        except ConfigError as e:
            blamed: dict[Ref, list[str]] = {}
            for issue in e.issues:
                found = b.owner(parts, issue)
                if found is not None:
                    blamed.setdefault(found[0], []).append(
                        f"{found[1]}: {issue.message}" if found[1] else issue.message
                    )
            if not blamed:
                break
            for ref, messages in blamed.items():
                verdicts[ref] = Verdict(False, "Conflict", "; ".join(messages[:3]))
            parts = parts.without(set(blamed))
    return _one_by_one(b, alone, route_refs, verdicts, validate)


def _drop_dangling_routes(
    parts: _Parts, route_refs: Mapping[Ref, RouteRefs], verdicts: dict[Ref, Verdict]
) -> _Parts:
    """Routes whose receiver or time interval was dropped by the merge go too."""
    have_rcv = {(r.namespace, r.name) for r, _ in parts.receivers}
    have_ti = {(r.namespace, r.name) for r, _ in parts.intervals}
    dropped: set[Ref] = set()
    for ref, _ in parts.routes:
        refs = route_refs.get(ref, RouteRefs())
        lost = [n for n in sorted(refs.receivers) if (ref.namespace, n) not in have_rcv]
        lost_ti = [n for n in sorted(refs.time_intervals) if (ref.namespace, n) not in have_ti]
        if lost or lost_ti:
            kind = names.RECEIVER.kind if lost else names.TIME_INTERVAL.kind
            n = (lost or lost_ti)[0]
            verdicts[ref] = Verdict(
                False, f"{kind}NotAccepted", f"{kind} {ref.namespace}/{n} is not accepted (see its status)"
            )
            dropped.add(ref)
    return parts.without(dropped) if dropped else parts


def _one_by_one(
    b: _Base,
    alone: _Parts,
    route_refs: Mapping[Ref, RouteRefs],
    verdicts: dict[Ref, Verdict],
    validate: Validator,
) -> tuple[_Parts, Config]:
    """The slow path for issues no resource can be blamed for: add fragments one at a time
    to the base config and keep those that leave it valid."""
    kept = _Parts()
    config = validate(b.with_parts(kept), "base configuration")
    for i, items in enumerate(alone._lists()):
        for ref, frag in items:
            trial = _Parts(*[list(lst) for lst in kept._lists()])
            trial._lists()[i].append((ref, frag))
            trial = _drop_dangling_routes(trial, route_refs, {})
            if (ref, frag) not in trial._lists()[i]:
                verdicts.setdefault(
                    ref, Verdict(False, "Conflict", "refers to a resource that was not accepted")
                )
                continue
            try:
                config = validate(b.with_parts(trial), "custom resources")
            except ConfigError as e:
                verdicts[ref] = Verdict(False, "Conflict", _message(e))
                continue
            kept = trial
    return kept, config
