"""Load alertmanager.yml or the extended config.yaml into one validated Config.

The same function serves the file, SIGHUP, POST /-/reload and the operator (which hands in a
document it assembled from custom resources), so every path validates identically.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path as FsPath
from typing import Any
from urllib.parse import urlsplit

import pydantic
import yaml

from ..model.labels import go_quote
from .errors import ConfigError, ConfigIssue
from .globals import apply_global_defaults
from .layers import Layer, Origins, environment_layer, merge, origin_of, set_path
from .model import AlertingConfig, RouteConfig
from .security import AuthSettings, SecuritySettings
from .settings import (
    EXTENDED_SECTIONS,
    AISettings,
    CacheSettings,
    LoggingSettings,
    MetricsSettings,
    NotifySettings,
    ServerSettings,
    StorageSettings,
    TracingSettings,
    WebhookSettings,
)
from .yamlsource import Path, line_for, load_yaml

_TIMER_KEYS = ("group_wait", "group_interval", "repeat_interval")

SECTIONS: dict[str, Any] = {
    "server": ServerSettings,
    "storage": StorageSettings,
    "cache": CacheSettings,
    "notify": NotifySettings,
    "ai": AISettings,
    "webhook": WebhookSettings,
    "metrics": MetricsSettings,
    "logging": LoggingSettings,
    "tracing": TracingSettings,
    "security": SecuritySettings,
    "auth": AuthSettings,
}
"""The engine's own sections of config.yaml and their models (everything but ``alerting``)."""

Override = tuple[str, tuple[str, ...], Any]
"""A setting given on the command line: its origin (``flag --storage.url``), path, value."""


@dataclass
class Config:
    """One validated configuration: the alerting part plus the engine's own settings."""

    alerting: AlertingConfig
    original: str
    source: str
    extended: bool = False
    server: ServerSettings = field(default_factory=ServerSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    cache: CacheSettings = field(default_factory=CacheSettings)
    notify: NotifySettings = field(default_factory=NotifySettings)
    ai: AISettings = field(default_factory=AISettings)
    webhook: WebhookSettings = field(default_factory=WebhookSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    tracing: TracingSettings = field(default_factory=TracingSettings)
    auth: AuthSettings | None = None
    """None: no ``auth:`` section, the API is open as Alertmanager's is."""
    security: SecuritySettings = field(default_factory=SecuritySettings)
    template_files: list[str] = field(default_factory=list)
    sections: Layer = field(default_factory=dict, repr=False)
    """The engine's sections as merged from the environment and the file, before validation:
    what :func:`with_overrides` lays the flags on."""
    origins: Origins = field(default_factory=dict, repr=False)
    """Where settings not from the file came from (environment variables, flags)."""
    lines: dict[Path, int] = field(default_factory=dict, repr=False)
    reveal_webhook_urls: bool = True
    """Print webhook URLs in the status API, as Alertmanager 0.25 does (amtool re-reads them).
    The operator turns this off: its URLs come from Kubernetes Secrets."""

    @property
    def route(self) -> RouteConfig:
        assert self.alerting.route is not None  # guaranteed by validation
        return self.alerting.route


def load_file(
    path: str | os.PathLike[str],
    overrides: Sequence[Override] = (),
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Read and validate a config file; raise ConfigError naming file, line and field."""
    source = str(path)
    try:
        text = FsPath(path).read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError([ConfigIssue(source, (), f"cannot read config file: {e.strerror or e}")]) from None
    except UnicodeDecodeError as e:
        raise ConfigError([ConfigIssue(source, (), f"config file is not UTF-8: {e.reason}")]) from None
    return load_text(text, source, base_dir=str(FsPath(path).parent), overrides=overrides, environ=environ)


def is_extended(data: Any) -> bool:
    return isinstance(data, dict) and "alerting" in data and all(k in EXTENDED_SECTIONS for k in data)


def load_document(data: dict[str, Any], source: str, *, base_dir: str = ".") -> Config:
    """Validate a config given as data (the operator assembles one from custom resources)."""
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return load_text(text, source, base_dir=base_dir)


def load_text(
    text: str,
    source: str = "<config>",
    *,
    base_dir: str = ".",
    overrides: Sequence[Override] = (),
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Validate a config document given as text (alertmanager.yml or config.yaml), with the
    environment's settings under the file's, then lay ``overrides`` (flags) over them.

    The file is validated whole before any flag is applied, so a bad value in it is an error
    even where a flag replaces it: check-config's verdict on a file never depends on flags."""
    probe, _ = load_yaml(text, source)
    extended = is_extended(probe)
    data, lines = load_yaml(text, source, env=extended)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([ConfigIssue(source, (), "the config must be a YAML mapping", 1)])

    sections: dict[str, Any] = {}
    prefix: Path = ()
    alerting_data: Any = data
    if extended:
        alerting_data = data.get("alerting") or {}
        prefix = ("alerting",)
        if not isinstance(alerting_data, dict):
            raise ConfigError([ConfigIssue(source, prefix, "must be a mapping", line_for(lines, prefix))])
        # The extended form allows the group timers next to the route as defaults for it.
        alerting_data = dict(alerting_data)
        timers = {k: alerting_data.pop(k) for k in _TIMER_KEYS if k in alerting_data}
        if timers and isinstance(alerting_data.get("route"), dict):
            alerting_data["route"] = {**timers, **alerting_data["route"]}
        sections = {k: v for k, v in data.items() if k != "alerting"}

    issues: list[ConfigIssue] = []
    alerting = _validate(AlertingConfig, alerting_data, source, prefix, lines, issues)
    env, origins, env_issues = environment_layer(os.environ if environ is None else environ, SECTIONS)
    issues.extend(env_issues)
    merged: Layer = env
    for name, value in sections.items():
        if value is None:  # an empty section: its defaults (an empty auth: turns authentication on)
            merged.setdefault(name, {})
            continue
        try:
            value = _canonical(name, value)
        except ValueError as e:
            issues.append(ConfigIssue(source, (name,), str(e), line_for(lines, (name,))))
            continue
        merged[name] = merge(merged[name], value) if name in merged else value
        for path in [p for p in origins if p[0] == name and _defines(value, p[1:])]:
            del origins[path]  # the file's value wins over the environment's
    settings = _settings(merged, (), origins, source, lines, issues)
    if alerting is None or issues:
        raise ConfigError(issues)

    for path, message in _cross_check(alerting):
        full = (*prefix, *path)
        issues.append(ConfigIssue(source, full, message, line_for(lines, full)))
    if issues:
        raise ConfigError(issues)

    templates = _resolve_templates(alerting.templates, base_dir, source, prefix, lines)
    cfg = Config(
        alerting=alerting,
        original=text,
        source=source,
        extended=extended,
        template_files=templates,
        sections=merged,
        origins=origins,
        lines=lines,
        **settings,
    )
    return with_overrides(cfg, overrides)


def _defines(data: Any, path: Path) -> bool:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return False
        data = data[key]
    return True


def _canonical(name: str, value: Any) -> Any:
    model = SECTIONS.get(name)
    canonical = getattr(model, "canonical", None)
    return canonical(value) if canonical is not None else value


def _settings(
    merged: Layer,
    overrides: Sequence[Override],
    origins: Origins,
    source: str,
    lines: dict[Path, int],
    issues: list[ConfigIssue],
) -> dict[str, Any]:
    """Validate each engine section: the merged layers with ``overrides`` on top."""
    data = dict(merged)
    origins = dict(origins)
    for origin, path, value in overrides:
        layer: Layer = {}
        set_path(layer, path, value)
        data = merge(data, layer)
        origins[path] = origin
    out: dict[str, Any] = {}
    for name, model in SECTIONS.items():
        if name == "auth" and "auth" not in data:  # absent: the API is open, as Alertmanager's is
            out[name] = None
            continue
        found: list[ConfigIssue] = []
        out[name] = _validate(model, data.get(name) or {}, source, (name,), lines, found) or model()
        for issue in found:  # a value from a flag or the environment: say so, not a line of the file
            where = origin_of(origins, issue.path)
            issues.append(replace(issue, source=where, line=None) if where else issue)
    return out


def with_overrides(cfg: Config, overrides: Sequence[Override]) -> Config:
    """``cfg`` with the command line's settings over the file's (re-validated; ConfigError)."""
    if not overrides:
        return cfg
    issues: list[ConfigIssue] = []
    settings = _settings(cfg.sections, overrides, cfg.origins, cfg.source, cfg.lines, issues)
    if issues:
        raise ConfigError(issues)
    origins: Origins = {**cfg.origins, **{path: origin for origin, path, _ in overrides}}
    return replace(cfg, origins=origins, **settings)


def _validate(
    model: type[Any], data: Any, source: str, prefix: Path, lines: dict[Path, int], issues: list[ConfigIssue]
) -> Any:
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as e:
        for err in e.errors(include_url=False):
            loc: Path = tuple(x for x in err["loc"] if not (isinstance(x, str) and x.startswith("function-")))
            full = (*prefix, *_yaml_loc(loc))
            issues.append(ConfigIssue(source, full, _message(err), line_for(lines, full)))
        return None


def _yaml_loc(loc: Path) -> Path:
    return tuple("global" if x == "global_" else "continue" if x == "continue_" else x for x in loc)


def _message(err: Any) -> str:
    kind = err.get("type")
    msg = str(err.get("msg", ""))
    if kind == "extra_forbidden":
        return "unknown field (not part of Alertmanager's config)"
    if kind == "missing":
        return "required field is missing"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if msg.startswith("Assertion failed, "):
        msg = msg[len("Assertion failed, ") :]
    return msg


def _cross_check(cfg: AlertingConfig) -> list[tuple[Path, str]]:
    """The checks of Config.UnmarshalYAML and config.Load that span several blocks."""
    errors: list[tuple[Path, str]] = list(apply_global_defaults(cfg.receivers, cfg.global_))
    if errors:
        return errors
    route = cfg.route
    if route is None:
        return [((), "no route provided in config")]
    if not route.receiver:
        return [(("route",), "root route must specify a default receiver")]
    if route.has_matchers():
        return [(("route",), "root route must not have any matchers")]
    if route.mute_time_intervals:
        return [(("route", "mute_time_intervals"), "root route must not have any mute time intervals")]
    if route.active_time_intervals:
        return [(("route", "active_time_intervals"), "root route must not have any active time intervals")]
    names: set[str] = set()
    for key in ("mute_time_intervals", "time_intervals"):
        for i, ti in enumerate(getattr(cfg, key)):
            if not ti.name:
                what = "mute time interval" if key == "mute_time_intervals" else "time interval"
                return [((key, i), f"missing name in {what}")]
            if ti.name in names:
                what = "mute time interval" if key == "mute_time_intervals" else "time interval"
                return [((key, i, "name"), f"{what} {go_quote(ti.name)} is not unique")]
            names.add(ti.name)
    receivers = {r.name for r in cfg.receivers}
    undefined = _check_route(route, ("route",), receivers, names)
    if undefined:
        return [undefined]
    if route.continue_:
        return [(("route", "continue"), "cannot have continue in root route")]
    return []


def _check_route(
    route: RouteConfig, path: Path, receivers: set[str], intervals: set[str]
) -> tuple[Path, str] | None:
    if route.receiver and route.receiver not in receivers:
        return ((*path, "receiver"), f"undefined receiver {go_quote(route.receiver)} used in route")
    for key in ("active_time_intervals", "mute_time_intervals"):
        for name in getattr(route, key) or []:
            if name not in intervals:
                return ((*path, key), f"undefined time interval {go_quote(name)} used in route")
    for i, child in enumerate(route.routes or []):
        found = _check_route(child, (*path, "routes", i), receivers, intervals)
        if found:
            return found
    return None


def _resolve_templates(
    patterns: list[str], base_dir: str, source: str, prefix: Path, lines: dict[Path, int]
) -> list[str]:
    files: list[str] = []
    for i, pattern in enumerate(patterns):
        full = pattern if os.path.isabs(pattern) else os.path.join(base_dir, pattern)
        try:
            matched = sorted(glob.glob(full))
        except re_error as e:  # pragma: no cover - glob rarely raises
            path = (*prefix, "templates", i)
            raise ConfigError(
                [ConfigIssue(source, path, f"invalid template glob: {e}", line_for(lines, path))]
            ) from None
        files.extend(m for m in matched if os.path.isfile(m))
    return files


re_error = (ValueError, OSError)


def dump_yaml(cfg: Config) -> str:
    """The alerting config as GET /api/v2/status reports it (config.original).

    Printed the way Alertmanager 0.25 marshals its loaded config (Go's yaml with omitempty):
    empty values left out, the handful of non-omitempty fields always shown, the global block
    limited to 0.25's fields, so amtool 0.25 can load the document back. Secrets print as
    ``<secret>``; webhook URLs are plain URLs in 0.25 and are shown unless they carry
    credentials (or ``reveal_webhook_urls`` is off), when :data:`HIDDEN_WEBHOOK_URL` stands in:
    0.25 reads ``<secret>`` back only for its secret URL fields, and refuses it as a webhook URL.
    """
    a = cfg.alerting
    data = a.model_dump(mode="json", by_alias=True)
    data["global"] = {k: v for k, v in data["global"].items() if k in _GLOBAL_FIELDS_025}
    data["global"]["http_config"] = _go_http_config(data["global"].get("http_config"))
    for i, receiver in enumerate(a.receivers):
        data["receivers"][i].pop("labels", None)  # a later Alertmanager's field; 0.25 refuses it
        for kind, j, conf in receiver.integrations():
            out = data["receivers"][i][f"{kind}_configs"][j]
            if "http_config" in out:
                out["http_config"] = _go_http_config(out["http_config"])
            if kind == "webhook" and out.get("url"):
                url = str(getattr(conf, "url", "") or "")
                parts = urlsplit(url)
                shown = cfg.reveal_webhook_urls and not (parts.username or parts.password or parts.query)
                out["url"] = url if shown else HIDDEN_WEBHOOK_URL
    cleaned = _omitempty(data)
    cleaned["templates"] = data.get("templates") or []
    return yaml.safe_dump(cleaned, sort_keys=False, allow_unicode=True)


HIDDEN_WEBHOOK_URL = "https://secret.invalid/<secret>"
"""A webhook URL that is not shown: a URL amtool 0.25 parses (its webhook ``url`` is no
secret type), on a host that cannot exist (RFC 2606), saying what it stands for."""

_GLOBAL_FIELDS_025 = (
    "resolve_timeout",
    "http_config",
    "smtp_from",
    "smtp_hello",
    "smtp_smarthost",
    "smtp_auth_username",
    "smtp_auth_password",
    "smtp_auth_password_file",
    "smtp_auth_secret",
    "smtp_auth_identity",
    "smtp_require_tls",
    "slack_api_url",
    "slack_api_url_file",
    "pagerduty_url",
    "opsgenie_api_url",
    "opsgenie_api_key",
    "opsgenie_api_key_file",
    "wechat_api_url",
    "wechat_api_secret",
    "wechat_api_corp_id",
    "victorops_api_url",
    "victorops_api_key",
    "victorops_api_key_file",
    "telegram_api_url",
    "webex_api_url",
)
# Fields Go marshals even when zero (no omitempty in Alertmanager 0.25's structs).
_ALWAYS = frozenset(
    {"continue", "send_resolved", "follow_redirects", "enable_http2", "smtp_require_tls", "max_alerts"}
)
_HTTP_FIELDS_025 = (
    "basic_auth",
    "authorization",
    "oauth2",
    "bearer_token",
    "bearer_token_file",
    "tls_config",
    "proxy_url",
    "follow_redirects",
    "enable_http2",
)


def _go_http_config(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    return {k: value[k] for k in _HTTP_FIELDS_025 if k in value}


def _omitempty(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = _omitempty(v)
            if k in _ALWAYS or not _is_zero(v):
                out[k] = v
        return out
    if isinstance(value, list):
        return [_omitempty(v) for v in value]
    return value


def _is_zero(v: Any) -> bool:
    return v is None or v is False or v == 0 or v in ("", "0s") or v == [] or v == {}
