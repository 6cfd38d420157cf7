"""The doctor's checks, run concurrently, each bounded by the timeout, reported in a fixed order."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from urllib.parse import urlsplit

from ..auth.urlpolicy import UrlPolicy
from ..config.errors import ConfigError
from ..config.loader import Config, Override, load_file
from ..model.alert import Alert
from ..model.timefmt import NS, now_ns
from .reach import Endpoint, Unreachable, reach
from .report import Probe, Report, Verdict, describe

TEST_LABELS = {"alertname": "AmppDoctorTest", "severity": "none"}
"""The labels of the test alert ``--send-test`` sends (and asks the LLM about)."""


Item = tuple[str, str, "Probe | tuple[Verdict, str]"]
"""A check: what is checked, the subject its line names (where it goes), and its probe (or a
verdict without one: skipped)."""


def test_alert() -> Alert:
    now = now_ns()
    return Alert(
        dict(TEST_LABELS),
        {"summary": "A test notification from `ampp doctor --send-test`: nothing is wrong."},
        starts_at=now,
        ends_at=now + 300 * NS,
        updated_at=now,
    )


async def run(
    config_file: str, overrides: Sequence[Override] = (), *, send_test: bool = False, limit_s: float = 5
) -> Report:
    report = Report()
    cfg = _config(report, config_file, overrides)
    if cfg is None:
        report.add("the rest", "skip", "nothing else is checked without a config that loads")
        return report
    checks: list[Item] = [
        ("storage", *_storage(cfg)),
        ("cache", *_cache(cfg)),
        ("tracing", *_tracing(cfg)),
        ("llm", *_llm(cfg, send_test)),
    ]
    results = await asyncio.gather(*(_run(p, limit_s) for _, _, p in checks))
    for (what, subject, _), (verdict, detail) in zip(checks, results, strict=True):
        report.add(what, verdict, f"{subject}: {detail}" if subject else detail)
    return report


async def _run(probe: Probe | tuple[Verdict, str], limit_s: float) -> tuple[Verdict, str]:
    """A probe's verdict: ok with what it found, fail with what went wrong (never a traceback)."""
    if isinstance(probe, tuple):
        return probe
    try:
        async with asyncio.timeout(limit_s):
            return "ok", await probe()
    except TimeoutError:
        return "fail", f"no answer within {limit_s:g}s"
    except Unreachable as e:
        return "fail", str(e)
    except Exception as e:
        return "fail", describe(e)


def _config(report: Report, config_file: str, overrides: Sequence[Override]) -> Config | None:
    """The config as serve loads it (flags > file > environment), and what serve would refuse."""
    from ..engine import key_file_refusal, refusals
    from ..notify.pipeline import load_templates

    try:
        cfg = load_file(config_file, overrides)
        refused = refusals(cfg)
        unreadable = key_file_refusal(cfg)
        if unreadable is not None:
            refused.append(unreadable)
        if refused:
            raise ConfigError(refused)
        if cfg.template_files:
            load_templates(cfg)
    except ConfigError as e:
        report.add("config", "fail", str(e).replace("\n", "; "))
        return None
    a = cfg.alerting
    integrations = sum(len(r.integrations()) for r in a.receivers)
    report.add(
        "config",
        "ok",
        f"{config_file}: {len(a.receivers)} receivers ({integrations} integrations), "
        f"{len(a.inhibit_rules)} inhibit rules, {len(a.templates)} templates",
    )
    return cfg


def _storage(cfg: Config) -> tuple[str, Probe]:
    from ..store.factory import probe, where

    async def check() -> str:
        return await probe(None, None, cfg.storage)

    return where(None, None, cfg.storage), check


def _cache(cfg: Config) -> tuple[str, Probe | tuple[Verdict, str]]:
    if not cfg.cache.enabled:
        return "", ("skip", "cache.enabled is false: every query is answered by storage")
    url = cfg.cache.redis_url()
    if url is None:
        return "", ("skip", "in process only (no cache.address or cache.url): Redis is optional")

    async def check() -> str:
        import redis.asyncio as aioredis

        client = aioredis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        try:
            await client.ping()
            info = await client.info("server")
        finally:
            await client.aclose()
        return f"Redis {info.get('redis_version', '?')} answers PING"

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port or 6379}{parts.path}", check


def _tracing(cfg: Config) -> tuple[str, Probe | tuple[Verdict, str]]:
    t = cfg.tracing
    if not t.enabled:
        return "", ("skip", "tracing.enabled is false")
    target, tls = t.target()
    if t.protocol == "http":
        endpoint = Endpoint.of_url(target)
    else:
        host, _, port = target.rpartition(":")
        import ssl

        endpoint = Endpoint(host.strip("[]"), int(port), ssl.create_default_context() if tls else None)

    async def check() -> str:
        return await reach(endpoint, t.timeout)

    return f"OTLP over {t.protocol} to {endpoint}", check


def _llm(cfg: Config, send_test: bool) -> tuple[str, Probe | tuple[Verdict, str]]:
    ai = cfg.ai
    if not ai.enabled:
        return "", ("skip", "ai.enabled is false")
    from ..enrich.providers import API_URLS

    url = ai.base_url or API_URLS[ai.provider]
    policy = UrlPolicy.of(cfg.security.outbound)
    endpoint = Endpoint.of_url(url)

    async def check() -> str:
        policy.check_host(endpoint.host)
        found = await reach(endpoint, ai.timeout)
        if not send_test:
            return found + " (the key is checked with --send-test)"
        return f"{found}; {await _ask(cfg, policy)}"

    return f"{ai.provider} at {endpoint}", check


async def _ask(cfg: Config, policy: UrlPolicy) -> str:
    """One completion about the test alert, through the engine's own provider client."""
    from ..enrich import prompt
    from ..enrich.providers import build_provider
    from ..enrich.service import read_key

    ai = cfg.ai
    provider = build_provider(ai.provider, await read_key(ai), ai.model, ai.base_url, ai.max_tokens, policy)
    try:
        user = prompt.user_prompt([test_alert()], lambda text: text, now_ns())
        answer = await provider.complete(prompt.SYSTEM, user, ai.timeout)
    finally:
        await provider.close()
    return (
        f"model {provider.model} answered a test prompt "
        f"({answer.input_tokens} input, {answer.output_tokens} output tokens)"
    )
