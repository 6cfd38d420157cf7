"""Validating admission: what CEL cannot check, refused before it is stored. Pure.

The API server's CEL rules check shapes and simple relations; Go (RE2) regex syntax, the
engine's own config validation (templates, URLs, receiver-specific rules, time zones) and
references need the engine. This module runs the same translation and validation the
controller runs, on the one resource under review:

* anything that would make the resource ``Accepted=False`` on its own is an error, with the
  message its status would show;
* references to Receivers or TimeIntervals that do not exist (yet) are only warnings
  (``kubectl`` prints them): GitOps tools apply in any order, and the operator resolves the
  reference when its target appears;
* Secrets are not read here (the webhook must stay fast and need no more rights): every
  secret reference is validated with a placeholder, so a missing Secret is the status' job;
* an integration this engine version cannot send yet is a warning, not an error.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import integrations, names, silences
from .assemble import Validator, assemble
from .resources import Ref, Resource, make
from .translate import Rejected, route_fragment

__all__ = ["Review", "review"]

_PLACEHOLDER = "https://secret.invalid/"
"""Stands for every secret value under review: a URL, so URL-typed secrets validate too."""


class _AnyKey(Mapping[str, str]):
    """A Secret that has every key (the placeholder as value)."""

    def __getitem__(self, key: str) -> str:
        return _PLACEHOLDER

    def __contains__(self, key: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


@dataclass
class Review:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def review(
    res: Resource,
    *,
    base: Mapping[str, Any],
    known: Mapping[Ref, Resource],
    enforce: bool,
    validate: Validator,
) -> Review:
    """Errors (refuse) and warnings (admit, tell) for one resource about to be stored.

    ``known`` is the operator's current picture of the cluster, for reference warnings.
    """
    out = Review()
    kind = res.ref.kind
    if res.deleting:
        return out
    if kind == names.SILENCE.kind:
        try:
            silences.desired_silence(res, enforce=enforce)
        except Rejected as e:
            out.errors.append(e.message)
        return out

    others: list[Resource] = []
    if kind == names.ALERT_ROUTE.kind:
        try:
            _, refs = route_fragment(res.spec, res.namespace, enforce=enforce)
        except Rejected as e:
            out.errors.append(e.message)
            return out
        stand_ins: tuple[tuple[str, frozenset[str], dict[str, Any]], ...] = (
            (names.RECEIVER.kind, refs.receivers, {}),
            (names.TIME_INTERVAL.kind, refs.time_intervals, {"timeIntervals": [{}]}),
        )
        for ref_kind, wanted, stand_in in stand_ins:
            for n in sorted(wanted):
                target = known.get(Ref(ref_kind, res.namespace, n))
                if target is None or target.deleting:
                    out.warnings.append(
                        f"{ref_kind} {res.namespace}/{n} does not exist (yet): the route waits for it"
                    )
                others.append(make(ref_kind, res.namespace, n, stand_in))

    secrets = (
        {name: _AnyKey() for name in integrations.secret_names(res.spec)}
        if kind == names.RECEIVER.kind
        else {}
    )
    result = assemble(base, [res, *others], {res.namespace: secrets}, enforce=enforce, validate=validate)
    verdict = result.verdicts.get(res.ref)
    if verdict is not None and not verdict.accepted:
        if verdict.reason == "UnsupportedIntegration":
            out.warnings.append(verdict.message)
        else:
            out.errors.append(verdict.message)
    return out
