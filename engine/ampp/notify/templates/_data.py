"""Alertmanager's template.Data: the value every notification template is executed with.

Each class has Python names for Jinja templates and Python code (``data.alerts.firing()``,
``alert.labels``) and the Go names Alertmanager's templates use (``.Alerts.Firing``,
``.Labels.SortedPairs``): ``go_fields`` maps a Go field to its attribute, ``go_methods`` lists
the Go methods, which is what the translated templates' field lookups consult.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from ...model.alert import Alert
from ...model.timefmt import ZERO, format_rfc3339nano, parse_rfc3339
from ._gofmt import GoStruct
from ._gotime import GoTime

_GO_META = re.compile(r"([\\.+*?()|\[\]{}^$])")
_EXTENSIONS = frozenset({"Enrichment"})
"""Fields ampp adds to Alertmanager's structs: readable, but not printed by ``{{ . }}``, which
prints what Alertmanager prints."""


def quote_meta(s: str) -> str:
    """Go's regexp.QuoteMeta, which Alertmanager applies to the receiver name."""
    return _GO_META.sub(r"\\\1", s)


class GoObject:
    """What the Go-field lookup of translated templates understands."""

    go_fields: ClassVar[Mapping[str, str]] = {}
    go_methods: ClassVar[frozenset[str]] = frozenset()


_G = TypeVar("_G", bound=type[GoObject])


def _go_aliases(cls: _G) -> _G:
    """Read-only Go-named attributes (``data.CommonLabels``) for Jinja templates that use
    Alertmanager's names."""
    for go, py in cls.go_fields.items():
        setattr(cls, go, property(operator.attrgetter(py), doc=f"Go name of ``{py}``."))
    return cls


@_go_aliases
class Pair(GoStruct, GoObject):
    """template.Pair: one name/value pair of a sorted label set."""

    __slots__ = ("name", "value")
    go_type_name = "template.Pair"
    go_fields: ClassVar[Mapping[str, str]] = {"Name": "name", "Value": "value"}

    def __init__(self, name: str, value: str) -> None:
        self.name = name
        self.value = value

    def go_struct_fields(self) -> list[tuple[str, Any]]:
        return [("Name", self.name), ("Value", self.value)]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pair) and (self.name, self.value) == (other.name, other.value)

    def __hash__(self) -> int:
        return hash((self.name, self.value))

    def __repr__(self) -> str:
        return f"Pair({self.name!r}, {self.value!r})"


class Pairs(list[Pair], GoObject):
    """template.Pairs: a label set in Alertmanager's order (alertname first, then by name)."""

    go_type_name = "template.Pairs"
    go_methods: ClassVar[frozenset[str]] = frozenset({"Names", "Values"})

    def names(self) -> list[str]:
        return [p.name for p in self]

    def values(self) -> list[str]:
        return [p.value for p in self]

    Names = names
    Values = values


class KV(dict[str, str], GoObject):
    """template.KV: a label or annotation set (a Go map; missing keys read as "")."""

    go_type_name = "template.KV"
    go_methods: ClassVar[frozenset[str]] = frozenset({"SortedPairs", "Remove", "Names", "Values"})

    def __missing__(self, key: str) -> str:
        return ""  # a Go map: a missing key reads as the zero value

    def sorted_pairs(self) -> Pairs:
        keys = sorted(k for k in self if k != "alertname")
        if "alertname" in self:
            keys.insert(0, "alertname")
        return Pairs(Pair(k, self[k]) for k in keys)

    def remove(self, keys: Iterable[str]) -> KV:
        drop = set(keys)
        return KV({k: v for k, v in self.items() if k not in drop})

    def names(self) -> list[str]:
        return self.sorted_pairs().names()

    def sorted_values(self) -> list[str]:
        return self.sorted_pairs().values()

    SortedPairs = sorted_pairs
    Remove = remove
    Names = names
    Values = sorted_values


@_go_aliases
class TemplateEnrichment(GoStruct, GoObject):
    """An alert's (or the group's) AI enrichment as templates see it: ``.Enrichment.Summary``,
    ``.Enrichment.SuggestedAction``... (ampp.enrich.model.Enrichment, read from its JSON)."""

    __slots__ = (
        "cached",
        "confidence",
        "error",
        "model",
        "provider",
        "raw",
        "severity",
        "source",
        "suggested_action",
        "summary",
    )  # fmt: skip
    go_type_name = "*template.Enrichment"
    go_fields: ClassVar[Mapping[str, str]] = {
        "Severity": "severity",
        "Summary": "summary",
        "SuggestedAction": "suggested_action",
        "Confidence": "confidence",
        "Provider": "provider",
        "Model": "model",
        "Cached": "cached",
        "Source": "source",
        "Error": "error",
    }

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = dict(raw)
        self.severity = str(raw.get("severity", ""))
        self.summary = str(raw.get("summary", ""))
        self.suggested_action = str(raw.get("suggested_action", ""))
        self.confidence = float(raw.get("confidence", 0.0))
        self.provider = str(raw.get("provider", ""))
        self.model = str(raw.get("model", ""))
        self.cached = bool(raw.get("cached", False))
        self.source = str(raw.get("source", ""))
        self.error = str(raw.get("error", ""))

    @classmethod
    def of(cls, raw: Mapping[str, Any] | None) -> TemplateEnrichment | None:
        return None if raw is None else cls(raw)

    def go_struct_fields(self) -> list[tuple[str, Any]]:
        return [(go, getattr(self, py)) for go, py in self.go_fields.items()]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TemplateEnrichment) and self.raw == other.raw

    def __hash__(self) -> int:
        return hash((self.summary, self.suggested_action))

    def __repr__(self) -> str:
        return f"TemplateEnrichment({self.summary!r})"


@_go_aliases
class TemplateAlert(GoStruct, GoObject):
    """template.Alert: one alert as templates see it."""

    __slots__ = (
        "annotations", "ends_at", "enrichment", "fingerprint", "generator_url", "labels", "starts_at",
        "status",
    )  # fmt: skip
    go_type_name = "template.Alert"
    go_fields: ClassVar[Mapping[str, str]] = {
        "Status": "status",
        "Labels": "labels",
        "Annotations": "annotations",
        "StartsAt": "starts_at",
        "EndsAt": "ends_at",
        "GeneratorURL": "generator_url",
        "Fingerprint": "fingerprint",
        "Enrichment": "enrichment",
    }

    def __init__(
        self,
        status: str,
        labels: Mapping[str, str],
        annotations: Mapping[str, str],
        starts_at: GoTime,
        ends_at: GoTime,
        generator_url: str,
        fingerprint: str,
        enrichment: TemplateEnrichment | None = None,
    ) -> None:
        self.status = status
        self.labels = KV(sorted(labels.items()))  # sorted here once: to_json writes them as they are
        self.annotations = KV(sorted(annotations.items()))
        self.starts_at = starts_at
        self.ends_at = ends_at
        self.generator_url = generator_url
        self.fingerprint = fingerprint
        self.enrichment = enrichment
        """The alert's AI enrichment (``.Enrichment``), None without one."""

    def go_struct_fields(self) -> list[tuple[str, Any]]:
        return [(go, getattr(self, py)) for go, py in self.go_fields.items() if go not in _EXTENSIONS]

    def to_json(self, enriched: bool = False) -> dict[str, Any]:
        """template.Alert as Go's encoding/json writes it (its json tags, map keys sorted);
        with ``enriched`` (AI enrichment on), plus ``enrichment``: an object or null."""
        out: dict[str, Any] = {
            "status": self.status,
            "labels": self.labels,
            "annotations": self.annotations,
            "startsAt": format_rfc3339nano(self.starts_at.ns),
            "endsAt": format_rfc3339nano(self.ends_at.ns),
            "generatorURL": self.generator_url,
            "fingerprint": self.fingerprint,
        }
        if enriched:
            out["enrichment"] = None if self.enrichment is None else self.enrichment.raw
        return out

    def __repr__(self) -> str:
        return f"TemplateAlert({self.status!r}, {dict(self.labels)!r})"


class AlertList(list[TemplateAlert], GoObject):
    """template.Alerts, with Firing/Resolved (Go) and firing()/resolved() (Python)."""

    go_type_name = "template.Alerts"
    go_methods: ClassVar[frozenset[str]] = frozenset({"Firing", "Resolved"})

    def firing(self) -> list[TemplateAlert]:
        return [a for a in self if a.status == "firing"]

    def resolved(self) -> list[TemplateAlert]:
        return [a for a in self if a.status == "resolved"]

    Firing = firing
    Resolved = resolved


@_go_aliases
class TemplateData(GoStruct, GoObject):
    """template.Data: what a notification's templates are executed with."""

    __slots__ = (
        "alerts",
        "common_annotations",
        "common_labels",
        "enriched",
        "enrichment",
        "external_url",
        "group_labels",
        "receiver",
        "status",
    )
    go_type_name = "template.Data"
    go_fields: ClassVar[Mapping[str, str]] = {
        "Receiver": "receiver",
        "Status": "status",
        "Alerts": "alerts",
        "GroupLabels": "group_labels",
        "CommonLabels": "common_labels",
        "CommonAnnotations": "common_annotations",
        "ExternalURL": "external_url",
        "Enrichment": "enrichment",
    }

    def __init__(
        self,
        receiver: str,
        status: str,
        alerts: Sequence[TemplateAlert],
        group_labels: Mapping[str, str],
        common_labels: Mapping[str, str],
        common_annotations: Mapping[str, str],
        external_url: str,
        enriched: bool = False,
    ) -> None:
        self.receiver = receiver
        self.status = status
        self.alerts = alerts if isinstance(alerts, AlertList) else AlertList(alerts)
        self.group_labels = _kv(group_labels)
        self.common_labels = _kv(common_labels)
        self.common_annotations = _kv(common_annotations)
        self.external_url = external_url
        self.enriched = enriched
        """AI enrichment is on: the JSON gives every alert an ``enrichment`` (object or null)."""
        self.enrichment = _common_enrichment(self.alerts) if enriched else None
        """``.Enrichment``: the one every alert shares (the group's), else None (alerts enriched
        one by one with ``ai.per_alert``, or not at all)."""

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TemplateData:
        """The data of a JSON document in template.Data's shape: a webhook payload, or an
        ``amtool template render --template.data`` file (times in RFC 3339)."""
        return cls(
            receiver=d.get("receiver", ""),
            status=d.get("status", ""),
            alerts=[
                TemplateAlert(
                    status=a.get("status", ""),
                    labels=a.get("labels") or {},
                    annotations=a.get("annotations") or {},
                    starts_at=_time(a.get("startsAt")),
                    ends_at=_time(a.get("endsAt")),
                    generator_url=a.get("generatorURL", ""),
                    fingerprint=a.get("fingerprint", ""),
                    enrichment=TemplateEnrichment.of(a.get("enrichment")),
                )
                for a in d.get("alerts") or []
            ],
            group_labels=d.get("groupLabels") or {},
            common_labels=d.get("commonLabels") or {},
            common_annotations=d.get("commonAnnotations") or {},
            external_url=d.get("externalURL", ""),
            enriched=any("enrichment" in a for a in d.get("alerts") or []),
        )

    def firing(self) -> list[TemplateAlert]:
        return self.alerts.firing()

    def resolved(self) -> list[TemplateAlert]:
        return self.alerts.resolved()

    def go_struct_fields(self) -> list[tuple[str, Any]]:
        return [(go, getattr(self, py)) for go, py in self.go_fields.items() if go not in _EXTENSIONS]

    def to_json(self) -> dict[str, Any]:
        """template.Data as Go's encoding/json writes it: the body of the webhook's message
        (with AI enrichment on, each alert also carries its ``enrichment``)."""
        return {
            "receiver": self.receiver,
            "status": self.status,
            "alerts": [a.to_json(self.enriched) for a in self.alerts],
            "groupLabels": dict(sorted(self.group_labels.items())),
            "commonLabels": dict(sorted(self.common_labels.items())),
            "commonAnnotations": dict(sorted(self.common_annotations.items())),
            "externalURL": self.external_url,
        }

    def __repr__(self) -> str:
        return f"TemplateData(receiver={self.receiver!r}, status={self.status!r}, alerts={len(self.alerts)})"


def _time(v: Any) -> GoTime:
    return GoTime(ZERO if not v else parse_rfc3339(v))


def _kv(m: Mapping[str, str]) -> KV:
    return m if isinstance(m, KV) else KV(sorted(m.items()))


def _common(maps: Sequence[Mapping[str, str]]) -> dict[str, str]:
    if not maps:
        return {}
    common = dict(maps[0])
    for m in maps[1:]:
        if not common:
            break
        for k in [k for k, v in common.items() if m.get(k) != v]:
            del common[k]
    return common


def _common_enrichment(alerts: Sequence[TemplateAlert]) -> TemplateEnrichment | None:
    first = alerts[0].enrichment if alerts else None
    if first is None or any(a.enrichment != first for a in alerts[1:]):
        return None
    return first


def template_data(
    receiver: str,
    group_labels: Mapping[str, str],
    alerts: Sequence[Alert],
    external_url: str,
    now_ns: int,
    enrichment: Mapping[int, Mapping[str, Any] | None] | None = None,
) -> TemplateData:
    """Alertmanager's Template.Data: the alerts' statuses at ``now_ns``, the receiver name
    QuoteMeta'd, the labels and annotations every alert shares; and, while AI enrichment is on
    (``enrichment`` by fingerprint, not None), each alert's enrichment."""
    items = AlertList()
    firing = False
    for a in alerts:
        found = enrichment.get(a.fingerprint) if enrichment is not None else None
        status = a.status(now_ns)
        firing = firing or status == "firing"
        items.append(
            TemplateAlert(
                status=status,
                labels=a.labels,
                annotations=a.annotations,
                starts_at=GoTime(a.starts_at),
                ends_at=GoTime(a.ends_at),
                generator_url=a.generator_url,
                fingerprint=f"{a.fingerprint:016x}",
                enrichment=TemplateEnrichment.of(found),
            )
        )
    return TemplateData(
        receiver=quote_meta(receiver),
        status="firing" if firing else "resolved",
        alerts=items,
        group_labels=group_labels,
        common_labels=_common([a.labels for a in alerts]),
        common_annotations=_common([a.annotations for a in alerts]),
        external_url=external_url,
        enriched=enrichment is not None,
    )


def data_json(
    receiver: str,
    group_labels: Mapping[str, str],
    alerts: Sequence[Alert],
    external_url: str,
    now_ns: int,
    enrichment: Mapping[int, Mapping[str, Any] | None] | None = None,
) -> dict[str, Any]:
    """``template_data(...).to_json()``, written without the template objects: the body of
    the webhook's and incident.io's messages. Each flush of a 2,000-alert group made 10,000
    objects (an alert, two sorted KVs, two times) only to print them, a third of the engine's
    time per notification under issue 21's load."""
    items = []
    firing = False
    for a in alerts:
        status = "resolved" if a.resolved_at(now_ns) else "firing"
        firing = firing or status == "firing"
        item: dict[str, Any] = {
            "status": status,
            "labels": dict(sorted(a.labels.items())),
            "annotations": dict(sorted(a.annotations.items())),
            "startsAt": format_rfc3339nano(a.starts_at),
            "endsAt": format_rfc3339nano(a.ends_at),
            "generatorURL": a.generator_url,
            "fingerprint": f"{a.fingerprint:016x}",
        }
        if enrichment is not None:
            found = enrichment.get(a.fingerprint)
            item["enrichment"] = None if found is None else dict(found)
        items.append(item)
    return {
        "receiver": quote_meta(receiver),
        "status": "firing" if firing else "resolved",
        "alerts": items,
        "groupLabels": dict(sorted(group_labels.items())),
        "commonLabels": dict(sorted(_common([a.labels for a in alerts]).items())),
        "commonAnnotations": dict(sorted(_common([a.annotations for a in alerts]).items())),
        "externalURL": external_url,
    }
