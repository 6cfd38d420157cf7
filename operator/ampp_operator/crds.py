"""The CustomResourceDefinitions, built in code and written to ``crds/`` (one file per kind).

    python -m ampp_operator.crds crds/            # rewrite the files
    python -m ampp_operator.crds --check crds/    # exit 1 if they are stale (CI, unit test)

Built rather than hand-written because the Receiver schema is derived from the engine's
receiver models (:mod:`integrations`) and the AlertRoute schema repeats itself for nested
routes (structural schemas cannot be recursive). What the API server can check it checks:
types, enums, patterns and CEL rules; what it cannot (Go regex syntax, templates, references)
the operator reports in status.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from . import integrations, names

__all__ = ["ROUTE_DEPTH", "all_crds", "crd", "main", "render"]

Schema = dict[str, Any]

ROUTE_DEPTH = 4
"""Levels of nested ``routes`` an AlertRoute can have below its top route."""

LABEL_NAME = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
PROM_DURATION = r"^(0|([0-9]+y)?([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?)$"
_DAY = "sunday|monday|tuesday|wednesday|thursday|friday|saturday"


def _str(max_length: int = 253, **extra: Any) -> Schema:
    return {"type": "string", "maxLength": max_length, **extra}


def _duration(description: str) -> Schema:
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": 64,
        "pattern": PROM_DURATION,
        "description": description,
    }


def _matchers(description: str, min_items: int = 0) -> Schema:
    out: Schema = {
        "type": "array",
        "description": description,
        "maxItems": 64,
        "items": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": _str(256, pattern=LABEL_NAME, description="The label name."),
                "value": _str(
                    4096, default="", description="The value, or a Go (RE2) regular expression for =~ and !~."
                ),
                "matchType": {
                    "type": "string",
                    "enum": ["=", "!=", "=~", "!~"],
                    "default": "=",
                    "description": "= equal, != not equal, =~ regex match, !~ regex does not match.",
                },
            },
        },
    }
    if min_items:
        out["minItems"] = min_items
    return out


def _names(description: str) -> Schema:
    return {"type": "array", "description": description, "maxItems": 32, "items": _str(253, minLength=1)}


# --------------------------------------------------------------------------------------------
# Specs


def route_spec(depth: int = ROUTE_DEPTH, top: bool = True) -> Schema:
    """A route node; ``routes`` nests ``depth`` more levels. CEL rules only on the top node,
    so the cost the API server estimates for them stays within its budget."""
    props: Schema = {
        "receiver": _str(
            253, minLength=1, description="A Receiver in the same namespace (nested routes inherit it)."
        ),
        "matchers": _matchers(
            "Alerts this route takes (all must match)."
            + (' Namespace enforcement adds namespace="<this namespace>".' if top else "")
        ),
        "groupBy": {
            "type": "array",
            "maxItems": 64,
            "description": "Labels to group by; ['...'] groups by all labels.",
            "items": _str(256, pattern=r"^(\.\.\.|[a-zA-Z_][a-zA-Z0-9_]*)$"),
        },
        "groupWait": _duration("How long to wait before the first notification of a group."),
        "groupInterval": _duration("How long to wait before notifying about new alerts of a group."),
        "repeatInterval": _duration("How long to wait before repeating a notification."),
        "continue": {
            "type": "boolean",
            "description": "Keep matching the following sibling routes. Defaults to true for the "
            "top route (the base config's routes still see the alerts), false below."
            if top
            else "Keep matching the following sibling routes.",
        },
        "muteTimeIntervals": _names("TimeIntervals (same namespace) during which notifications are muted."),
        "activeTimeIntervals": _names(
            "TimeIntervals (same namespace) outside of which notifications are muted."
        ),
    }
    if depth > 0:
        props["routes"] = {
            "type": "array",
            "maxItems": 32,
            "description": "Child routes.",
            "items": route_spec(depth - 1, top=False),
        }
    out: Schema = {"type": "object", "properties": props}
    if top:
        out["required"] = ["receiver"]
        out["x-kubernetes-validations"] = [
            {
                "rule": "!has(self.groupBy) || !('...' in self.groupBy) || size(self.groupBy) == 1",
                "message": "groupBy cannot list '...' together with label names",
                "fieldPath": ".groupBy",
            },
            {
                "rule": "!has(self.groupInterval) || self.groupInterval.matches('[1-9]')",
                "message": "groupInterval cannot be zero",
                "fieldPath": ".groupInterval",
            },
            {
                "rule": "!has(self.repeatInterval) || self.repeatInterval.matches('[1-9]')",
                "message": "repeatInterval cannot be zero",
                "fieldPath": ".repeatInterval",
            },
        ]
    return out


def inhibit_rule_spec() -> Schema:
    return {
        "type": "object",
        "required": ["sourceMatchers", "targetMatchers"],
        "properties": {
            "sourceMatchers": _matchers("Alerts that inhibit (while firing).", 1),
            "targetMatchers": _matchers("Alerts that are inhibited.", 1),
            "equal": {
                "type": "array",
                "maxItems": 64,
                "description": "Labels that must have the same value in source and target.",
                "items": _str(256, pattern=LABEL_NAME),
            },
        },
    }


_MATCHES_EMPTY = (
    "(m.matchType == '=' && m.value == '') || (m.matchType == '=~' && ''.matches('^(?:' + m.value + ')$'))"
)


def silence_spec() -> Schema:
    return {
        "type": "object",
        "required": ["matchers", "comment"],
        "properties": {
            "matchers": _matchers("Alerts the silence mutes (all must match).", 1),
            "startsAt": {
                "type": "string",
                "format": "date-time",
                "description": "When the silence starts (default: when the resource was created).",
            },
            "endsAt": {"type": "string", "format": "date-time", "description": "When the silence ends."},
            "duration": _duration("How long the silence lasts from startsAt (instead of endsAt)."),
            "comment": _str(4096, minLength=1, description="Why."),
            "createdBy": _str(253, description="Who (default: <namespace>/<name>)."),
        },
        "x-kubernetes-validations": [
            {
                "rule": "has(self.endsAt) != has(self.duration)",
                "message": "set exactly one of endsAt or duration",
            },
            {
                "rule": "!has(self.startsAt) || !has(self.endsAt) || self.endsAt > self.startsAt",
                "message": "endsAt must be after startsAt",
                "fieldPath": ".endsAt",
            },
            {
                "rule": "!has(self.duration) || self.duration.matches('[1-9]')",
                "message": "duration must be longer than zero",
                "fieldPath": ".duration",
            },
            {
                "rule": f"self.matchers.exists(m, !({_MATCHES_EMPTY}))",
                "message": "at least one matcher must not match the empty string",
                "fieldPath": ".matchers",
            },
        ],
    }


def time_interval_spec() -> Schema:
    day = f"({_DAY})"
    return {
        "type": "object",
        "required": ["timeIntervals"],
        "properties": {
            "timeIntervals": {
                "type": "array",
                "minItems": 1,
                "maxItems": 64,
                "description": "Contains a time when any entry does; an entry, when all its fields do.",
                "items": {
                    "type": "object",
                    "description": "Times that match all of its fields (a field left out matches any time).",
                    "properties": {
                        "times": {
                            "type": "array",
                            "maxItems": 32,
                            "description": "Times of day (any of them); none: the whole day.",
                            "items": {
                                "type": "object",
                                "required": ["startTime", "endTime"],
                                "description": "From startTime (included) to endTime (excluded).",
                                "properties": {
                                    "startTime": _str(
                                        5,
                                        pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$",
                                        description="HH:MM, in the location's time zone.",
                                    ),
                                    "endTime": _str(
                                        5,
                                        pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$",
                                        description="HH:MM (up to 24:00), in the location's time zone.",
                                    ),
                                },
                                "x-kubernetes-validations": [
                                    {
                                        "rule": "self.startTime < self.endTime",
                                        "message": "startTime must be before endTime",
                                        "fieldPath": ".endTime",
                                    }
                                ],
                            },
                        },
                        "weekdays": {
                            "type": "array",
                            "maxItems": 7,
                            "description": "Days of the week or ranges of them: monday, saturday:sunday.",
                            "items": _str(32, pattern=f"^(?i){day}(:{day})?$"),
                        },
                        "daysOfMonth": {
                            "type": "array",
                            "maxItems": 31,
                            "description": "Days of the month or ranges: 1, 1:15, -1 (the last day).",
                            "items": _str(16, pattern=r"^-?[0-9]{1,2}(:-?[0-9]{1,2})?$"),
                        },
                        "months": {
                            "type": "array",
                            "maxItems": 12,
                            "description": "Months by name or number, or ranges: january, 1:3, june:august.",
                            "items": _str(32),
                        },
                        "years": {
                            "type": "array",
                            "maxItems": 32,
                            "description": "Years or ranges of years: 2030, 2030:2032.",
                            "items": _str(16, pattern=r"^[0-9]{4}(:[0-9]{4})?$"),
                        },
                        "location": _str(
                            64, description="An IANA time zone such as Europe/Berlin (default UTC)."
                        ),
                    },
                },
            }
        },
    }


# --------------------------------------------------------------------------------------------
# Status and columns


def status_schema(extra: Schema | None = None) -> Schema:
    seen = "The metadata.generation of the spec this describes."
    props: Schema = {
        "observedGeneration": {"type": "integer", "format": "int64", "description": seen},
        "conditions": {
            "type": "array",
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["type"],
            "description": "Accepted: the spec is valid and its references resolve (else why not). "
            "Ready: the engine runs it (for a Silence: the silence is active).",
            "items": {
                "type": "object",
                "required": ["type", "status"],
                "description": "One condition, as Kubernetes API conventions define them.",
                "properties": {
                    "type": {"type": "string", "description": "Accepted or Ready."},
                    "status": {
                        "type": "string",
                        "enum": ["True", "False", "Unknown"],
                        "description": "Whether the condition holds.",
                    },
                    "reason": {
                        "type": "string",
                        "description": "Why, in one CamelCase word (InvalidSpec...).",
                    },
                    "message": {"type": "string", "description": "Why, for a person: what to change."},
                    "lastTransitionTime": {
                        "type": "string",
                        "format": "date-time",
                        "description": "When status last changed.",
                    },
                    "observedGeneration": {"type": "integer", "format": "int64", "description": seen},
                },
            },
        },
    }
    props.update(extra or {})
    return {"type": "object", "description": "Written by the operator; never by users.", "properties": props}


def _cond(type_: str, field: str = "status") -> str:
    return f'.status.conditions[?(@.type=="{type_}")].{field}'


ACCEPTED_COLUMNS: list[Schema] = [
    {"name": "Accepted", "type": "string", "jsonPath": _cond("Accepted")},
    {"name": "Reason", "type": "string", "jsonPath": _cond("Accepted", "reason")},
]
AGE: Schema = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}

_CONFIG_NAME = {"configName": {"type": "string", "description": "The name in the engine's config."}}


def crd(kind: names.Kind, spec: Schema, status: Schema, columns: list[Schema], description: str) -> Schema:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": kind.crd_name,
            "labels": {"app.kubernetes.io/part-of": "alertmanager-plusplus"},
            # Argo CD applies (and waits for) them before the resources of the same Application.
            "annotations": {"argocd.argoproj.io/sync-wave": "-1"},
        },
        "spec": {
            "group": names.GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": kind.kind,
                "listKind": f"{kind.kind}List",
                "plural": kind.plural,
                "singular": kind.singular,
                "shortNames": list(kind.short_names),
                "categories": [names.CATEGORY],
            },
            "versions": [
                {
                    "name": names.VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [*columns, AGE],
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "description": description,
                            "required": ["spec"],
                            "properties": {
                                "apiVersion": {"type": "string", "description": f"{names.API_VERSION}."},
                                "kind": {"type": "string", "description": f"{kind.kind}."},
                                # The API server describes metadata itself, and refuses more here.
                                "metadata": {"type": "object"},
                                "spec": {"description": "What the resource asks for.", **spec},
                                "status": status,
                            },
                        }
                    },
                }
            ],
        },
    }


def all_crds() -> dict[str, Schema]:
    """File name -> CRD."""
    receiver = integrations.receiver_schema()
    receiver["description"] = (
        "Where notifications go: the integrations of an alertmanager.yml receiver, field names in "
        "camelCase, secrets as {name, key} references to Secrets in this namespace."
    )
    return {
        "alertroute.yaml": crd(
            names.ALERT_ROUTE,
            route_spec(),
            status_schema(),
            [{"name": "Receiver", "type": "string", "jsonPath": ".spec.receiver"}, *ACCEPTED_COLUMNS],
            "A subtree of the routing tree: alerts it matches go to a Receiver of the same namespace.",
        ),
        "receiver.yaml": crd(
            names.RECEIVER,
            receiver,
            status_schema(_CONFIG_NAME),
            ACCEPTED_COLUMNS,
            "A receiver: the integrations (webhook, email, Slack, PagerDuty, ...) notifications are sent to.",
        ),
        "inhibitrule.yaml": crd(
            names.INHIBIT_RULE,
            inhibit_rule_spec(),
            status_schema(),
            ACCEPTED_COLUMNS,
            "Mutes alerts matching targetMatchers while an alert matching sourceMatchers fires.",
        ),
        "silence.yaml": crd(
            names.SILENCE,
            silence_spec(),
            status_schema(
                {
                    "silenceID": {"type": "string", "description": "The engine silence's id."},
                    "state": {
                        "type": "string",
                        "enum": ["pending", "active", "expired"],
                        "description": "The engine silence's state.",
                    },
                    "startsAt": {
                        "type": "string",
                        "format": "date-time",
                        "description": "When the engine silence started or starts (it moves when a "
                        "change of matchers re-creates the silence).",
                    },
                    "endsAt": {"type": "string", "format": "date-time", "description": "When it ends."},
                    "matchers": {"type": "string", "description": "The matchers as the engine applies them."},
                }
            ),
            [
                {"name": "Matchers", "type": "string", "jsonPath": ".status.matchers"},
                {"name": "State", "type": "string", "jsonPath": ".status.state"},
                {"name": "Starts", "type": "string", "jsonPath": ".status.startsAt"},
                {"name": "Ends", "type": "string", "jsonPath": ".status.endsAt"},
                *ACCEPTED_COLUMNS,
                {"name": "ID", "type": "string", "jsonPath": ".status.silenceID", "priority": 1},
                {"name": "Comment", "type": "string", "jsonPath": ".spec.comment", "priority": 1},
            ],
            "Mutes notifications for matching alerts from startsAt until endsAt (or for a duration).",
        ),
        "timeinterval.yaml": crd(
            names.TIME_INTERVAL,
            time_interval_spec(),
            status_schema(_CONFIG_NAME),
            ACCEPTED_COLUMNS,
            "Named times (hours, weekdays, days of month, months, years) that routes mute or activate on.",
        ),
    }


HEADER = (
    "# Generated by `python -m ampp_operator.crds crds/` from operator/ampp_operator/crds.py; do not edit.\n"
)


def render(doc: Schema) -> str:
    return HEADER + yaml.safe_dump(doc, sort_keys=False, width=110, allow_unicode=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ampp_operator.crds", description=__doc__.split("\n\n")[0])
    p.add_argument("directory", type=Path)
    p.add_argument("--check", action="store_true", help="exit 1 if a file is missing or differs")
    args = p.parse_args(argv)
    stale = []
    for name, doc in all_crds().items():
        path = args.directory / name
        text = render(doc)
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if stale:
        print("stale CRDs (run `python -m ampp_operator.crds crds/`): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
