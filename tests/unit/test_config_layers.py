"""Flags > config.yaml > environment > defaults, as one rule for every engine setting."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ampp.config.errors import ConfigError
from ampp.config.layers import env_name, env_path
from ampp.config.loader import SECTIONS, load_text, with_overrides
from pydantic import BaseModel

pytestmark = pytest.mark.unit

BASE = "alerting:\n  route: {receiver: r}\n  receivers: [{name: r}]\n"


def leaves(model: type[BaseModel], path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    from ampp.config.layers import _model_of

    for name, field in model.model_fields.items():
        key = field.alias or name  # as config.yaml spells it
        block = _model_of(field.annotation)
        if block is not None:
            yield from leaves(block, (*path, key))
        else:
            yield (*path, key)


def test_every_setting_has_one_environment_variable_that_names_it_back() -> None:
    seen: dict[str, tuple[str, ...]] = {}
    for section, model in SECTIONS.items():
        for path in leaves(model):
            var = env_name((section, *path))
            assert var not in seen, f"{var} names both {seen[var]} and {path}"
            seen[var] = (section, *path)
            found = env_path(model, "_".join(path))
            assert found is not None and found[0] == path, (var, found)


def test_environment_under_file_under_flags() -> None:
    text = "storage: {retention: 7d}\nnotify: {workers: 4}\n" + BASE
    env = {"AMPP_STORAGE_RETENTION": "1d", "AMPP_NOTIFY_WORKERS": "2", "AMPP_NOTIFY_MAX_ATTEMPTS": "9"}
    cfg = load_text(
        text, "c.yaml", environ=env, overrides=[("flag --notify.workers", ("notify", "workers"), 6)]
    )
    assert cfg.storage.retention == 7 * 86400, "the file wins over the environment"
    assert cfg.notify.max_attempts == 9, "the environment wins over the default"
    assert cfg.notify.workers == 6, "the flag wins over the file"
    assert cfg.origins[("notify", "workers")] == "flag --notify.workers"
    assert cfg.origins[("notify", "max_attempts")] == "environment AMPP_NOTIFY_MAX_ATTEMPTS"
    assert ("storage", "retention") not in cfg.origins


def test_environment_values_are_typed_by_the_setting() -> None:
    env = {
        "AMPP_STORAGE_POSTGRESQL_PASSWORD": "12345",  # text stays text
        "AMPP_CACHE_ENABLED": "false",
        "AMPP_AI_REDACT_PATTERNS": "['cust-[0-9]+', 'x']",
        "AMPP_AI_CIRCUIT_BREAKER_FAILURES": "3",
        "AMPP_TRACING_HEADERS": "{authorization: Bearer t}",
    }
    cfg = load_text(BASE, environ=env)
    assert str(cfg.storage.postgresql.password) == "12345"
    assert cfg.cache.enabled is False
    assert cfg.ai.redact_patterns == ["cust-[0-9]+", "x"]
    assert cfg.ai.circuit_breaker.failures == 3
    assert str(cfg.tracing.headers["authorization"]) == "Bearer t"


def test_variables_outside_the_sections_are_not_settings() -> None:
    load_text(BASE, environ={"AMPP_POD_NAME": "x", "AMPP_E2E_KUBECONFIG": "y", "AMPP_POSTGRES_PASSWORD": "z"})


def test_a_bad_variable_or_flag_is_refused_naming_it() -> None:
    with pytest.raises(ConfigError) as e:
        load_text(BASE, "c.yaml", environ={"AMPP_STORAGE_NOPE": "1", "AMPP_NOTIFY_WORKERS": "many"})
    text = str(e.value)
    assert "environment AMPP_STORAGE_NOPE: names no setting of storage:" in text, text
    assert "environment AMPP_NOTIFY_WORKERS: notify.workers: Input should be a valid integer" in text, text
    with pytest.raises(ConfigError, match=r"flag --log.level: logging.level: Input should be"):
        load_text(BASE, environ={}, overrides=[("flag --log.level", ("logging", "level"), "loud")])


def test_overrides_are_laid_over_a_config_loaded_without_them() -> None:
    cfg = load_text("server: {address: ':1234'}\n" + BASE, environ={})
    moved = with_overrides(cfg, [("flag --web.listen-address", ("server", "address"), "127.0.0.1:9")])
    assert (cfg.server.address, moved.server.address) == (":1234", "127.0.0.1:9")
    assert moved.origins[("server", "address")] == "flag --web.listen-address"


def test_a_bad_value_in_the_file_is_refused_even_where_a_flag_replaces_it() -> None:
    """check-config's verdict on a file never depends on flags: serve validates the file as
    check-config does, then applies its flags."""
    text = "server: {address: 'nowhere'}\n" + BASE
    flag = ("flag --web.listen-address", ("server", "address"), "127.0.0.1:9")
    with pytest.raises(ConfigError) as e:
        load_text(text, "c.yaml", environ={}, overrides=[flag])
    assert "c.yaml:1: server.address: 'nowhere' is not host:port" in str(e.value), str(e.value)
