"""The alerting config: alertmanager.yml's model, validated the way Alertmanager validates it.

Receivers and the global block live in ``receivers``; this module holds the route tree, the
inhibition rules, the named time intervals and the top-level cross-checks (undefined receivers,
duplicate names) that Alertmanager's Config.UnmarshalYAML performs.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, PrivateAttr, field_validator, model_validator

from ..model.labels import go_quote, is_valid_label_name
from ..model.matchers import (
    Matcher,
    MatcherParseError,
    MatchType,
    matchers_from_legacy,
    new_matcher,
    parse_matchers,
)
from .base import Duration, StrictModel
from .globals import GlobalConfig
from .receivers import Receiver
from .timeinterval import TimeIntervalSpec, parse_time_interval_spec


def _legacy_matchers(match: dict[str, str] | None, match_re: dict[str, str] | None) -> list[Matcher]:
    return matchers_from_legacy(match or {}, match_re or {})


def _check_label_names(values: dict[str, str] | None) -> dict[str, str] | None:
    for name in values or {}:
        if not is_valid_label_name(name):
            raise ValueError(f"invalid label name {go_quote(name)}")
    return values


def _check_regexps(values: dict[str, str] | None) -> dict[str, str] | None:
    for name, value in (values or {}).items():
        if not is_valid_label_name(name):
            raise ValueError(f"invalid label name {go_quote(name)}")
        try:
            new_matcher(name, MatchType.REGEX, value)
        except MatcherParseError as e:
            raise ValueError(f"invalid regexp value for {go_quote(name)}: {e}") from None
    return values


def _parse_matcher_lines(lines: list[str] | None) -> list[Matcher]:
    out: list[Matcher] = []
    for line in lines or []:
        out.extend(parse_matchers(line))
    return out


def _check_matcher_lines(lines: list[str] | None) -> list[str] | None:
    for line in lines or []:
        try:
            parse_matchers(line)
        except MatcherParseError as e:
            raise ValueError(str(e)) from None
    return lines


class RouteConfig(StrictModel):
    """One node of the route tree, as written in the file (inheritance is resolved later)."""

    receiver: str | None = None
    group_by: list[str] | None = None
    match: dict[str, str] | None = None
    match_re: dict[str, str] | None = None
    matchers: list[str] | None = None
    mute_time_intervals: list[str] | None = None
    active_time_intervals: list[str] | None = None
    continue_: bool = Field(False, alias="continue")
    routes: list[RouteConfig] | None = None
    group_wait: Duration | None = None
    group_interval: Duration | None = None
    repeat_interval: Duration | None = None

    _matchers: list[Matcher] = PrivateAttr(default_factory=list)

    _v_match = field_validator("match")(classmethod(lambda cls, v: _check_label_names(v)))
    _v_match_re = field_validator("match_re")(classmethod(lambda cls, v: _check_regexps(v)))
    _v_matchers = field_validator("matchers")(classmethod(lambda cls, v: _check_matcher_lines(v)))

    @field_validator("group_by")
    @classmethod
    def _check_group_by(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        names = [v for v in value if v != "..."]
        for name in names:
            if not is_valid_label_name(name):
                raise ValueError(f"invalid label name {go_quote(name)} in group_by list")
        if names and len(names) != len(value):
            raise ValueError("cannot have wildcard group_by (`...`) and other other labels at the same time")
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise ValueError(f"duplicated label {go_quote(name)} in group_by")
            seen.add(name)
        return value

    @model_validator(mode="after")
    def _check_timers(self) -> RouteConfig:
        if self.group_interval is not None and self.group_interval == 0:
            raise ValueError("group_interval cannot be zero")
        if self.repeat_interval is not None and self.repeat_interval == 0:
            raise ValueError("repeat_interval cannot be zero")
        self._matchers = _legacy_matchers(self.match, self.match_re) + _parse_matcher_lines(self.matchers)
        return self

    @property
    def all_matchers(self) -> list[Matcher]:
        """match, match_re and matchers together, as Alertmanager combines them."""
        return list(self._matchers)

    def has_matchers(self) -> bool:
        return bool(self.match or self.match_re or self.matchers)


class InhibitRuleConfig(StrictModel):
    """An inhibition rule: target alerts are muted while a matching source alert fires."""

    source_match: dict[str, str] | None = None
    source_match_re: dict[str, str] | None = None
    source_matchers: list[str] | None = None
    target_match: dict[str, str] | None = None
    target_match_re: dict[str, str] | None = None
    target_matchers: list[str] | None = None
    equal: list[str] | None = None

    _v_sm = field_validator("source_match", "target_match")(classmethod(lambda cls, v: _check_label_names(v)))
    _v_smre = field_validator("source_match_re", "target_match_re")(
        classmethod(lambda cls, v: _check_regexps(v))
    )
    _v_smatchers = field_validator("source_matchers", "target_matchers")(
        classmethod(lambda cls, v: _check_matcher_lines(v))
    )

    @field_validator("equal")
    @classmethod
    def _check_equal(cls, value: list[str] | None) -> list[str] | None:
        for name in value or []:
            if not is_valid_label_name(name):
                raise ValueError(f"invalid label name {go_quote(name)}")
        return value

    def source(self) -> list[Matcher]:
        return _legacy_matchers(self.source_match, self.source_match_re) + _parse_matcher_lines(
            self.source_matchers
        )

    def target(self) -> list[Matcher]:
        return _legacy_matchers(self.target_match, self.target_match_re) + _parse_matcher_lines(
            self.target_matchers
        )


class TimeIntervalConfig(StrictModel):
    """A named set of time intervals, referenced by routes to mute or activate them."""

    name: str = ""
    time_intervals: list[dict[str, Any]] = Field(default_factory=list)

    _specs: list[TimeIntervalSpec] = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _parse(self) -> TimeIntervalConfig:
        self._specs = [parse_time_interval_spec(ti) for ti in self.time_intervals]
        return self

    @property
    def specs(self) -> list[TimeIntervalSpec]:
        return list(self._specs)


class AlertingConfig(StrictModel):
    """alertmanager.yml: everything that decides where alerts go."""

    global_: GlobalConfig = Field(default_factory=GlobalConfig, alias="global")
    route: RouteConfig | None = None
    inhibit_rules: list[InhibitRuleConfig] = Field(default_factory=list)
    receivers: list[Receiver] = Field(default_factory=list)
    templates: list[str] = Field(default_factory=list)
    mute_time_intervals: list[TimeIntervalConfig] = Field(default_factory=list)
    time_intervals: list[TimeIntervalConfig] = Field(default_factory=list)

    @field_validator("global_", mode="before")
    @classmethod
    def _empty_global(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator(
        "inhibit_rules", "receivers", "templates", "mute_time_intervals", "time_intervals", mode="before"
    )
    @classmethod
    def _null_list(cls, value: Any) -> Any:
        return [] if value is None else value

    def receiver(self, name: str) -> Receiver | None:
        for r in self.receivers:
            if r.name == name:
                return r
        return None

    def all_time_intervals(self) -> dict[str, list[TimeIntervalSpec]]:
        return {ti.name: ti.specs for ti in [*self.mute_time_intervals, *self.time_intervals]}
