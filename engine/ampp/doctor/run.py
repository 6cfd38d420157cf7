"""The doctor's checks, run concurrently, each bounded by the timeout, reported in a fixed order."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from urllib.parse import urlsplit

from ..auth.urlpolicy import UrlPolicy
from ..config.errors import ConfigError
from ..config.loader import Config, Override, load_file
from ..config.notifiers import NotifierConfig
from ..model.alert import Alert
from ..model.timefmt import NS, now_ns
from .reach import Endpoint, Unreachable, reach
from .receivers import NotChecked, target
from .report import Failed, Probe, Report, Verdict, describe

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
    config_file: str,
    overrides: Sequence[Override] = (),
    *,
    send_test: bool = False,
    receivers: Sequence[str] = (),
    limit_s: float = 5,
) -> Report:
    """Every check's verdict; ``receivers`` (names) limits the receivers checked (and sent to)."""
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
    sender = _TestSender(cfg) if send_test else None
    policy = UrlPolicy.of(cfg.security.outbound)  # the engine's own refusals, said before it sends
    unknown = set(receivers) - {r.name for r in cfg.alerting.receivers}
    if unknown:
        report.add("receivers", "fail", f"no receiver named {', '.join(sorted(unknown))} in the config")
    for receiver in cfg.alerting.receivers:
        if receivers and receiver.name not in receivers:
            continue
        for kind, index, conf in receiver.integrations():
            what = f"receiver {receiver.name}/{kind}[{index}]"
            checks.append((what, "", _receiver(kind, index, conf, receiver.name, sender, policy, limit_s)))
    if send_test:  # a notification or a completion may take longer than a handshake
        limit_s += max(cfg.notify.attempt_timeout, cfg.ai.timeout)
    try:
        results = await asyncio.gather(*(_run(p, limit_s) for _, _, p in checks))
    finally:
        if sender is not None:
            await sender.close()
    for (what, subject, _), (verdict, detail) in zip(checks, results, strict=True):
        report.add(what, verdict, f"{subject}: {detail}" if subject else detail)
    return report


async def _run(probe: Probe | tuple[Verdict, str], limit_s: float) -> tuple[Verdict, str]:
    """A probe's verdict: ok with what it found, fail with what went wrong (never a traceback);
    skip for what can only be known at send time."""
    if isinstance(probe, tuple):
        return probe
    try:
        async with asyncio.timeout(limit_s):
            return "ok", await probe()
    except TimeoutError:
        return "fail", f"no answer within {limit_s:g}s"
    except Unreachable as e:
        return "fail", str(e)
    except NotChecked as e:
        return "skip", str(e)
    except Failed as e:
        return "fail", str(e)
    except Exception as e:
        return "fail", describe(e)


def _receiver(
    kind: str,
    index: int,
    conf: NotifierConfig,
    receiver: str,
    sender: _TestSender | None,
    policy: UrlPolicy,
    limit_s: float,
) -> Probe:
    async def check() -> str:
        try:
            found = await asyncio.to_thread(target, kind, conf)  # may read a url_file
        except NotChecked:
            if sender is None:
                raise
            found = None
        detail = ""
        if found is not None:
            where = f"{found.endpoint}{' (the proxy)' if found.via == 'proxy' else ''}"
            try:
                detail = f"{where}: {await reach(found.endpoint, limit_s, policy)}"
            except Unreachable as e:
                raise Failed(f"{where}: {e}") from None
        if sender is not None:
            await sender.send(receiver, index, kind)
            detail = f"{detail}; a test notification was sent" if detail else "a test notification was sent"
        return detail

    return check


class _TestSender:
    """--send-test: the test alert through the engine's own integrations, built from the config."""

    def __init__(self, cfg: Config) -> None:
        from ..notify.pipeline import build_integrations

        self.built = build_integrations(cfg, cfg.server.public_url())

    async def send(self, receiver: str, index: int, kind: str) -> None:
        from ..notify.stage import FlushContext

        integration = next(i for i in self.built[receiver] if i.name == kind and i.index == index)
        alert = test_alert()
        ctx = FlushContext(
            group_key='{}:{alertname="AmppDoctorTest"}',
            group_labels={"alertname": TEST_LABELS["alertname"]},
            receiver=receiver,
            repeat_interval=0,
            now=now_ns(),
            firing=(alert.fingerprint,),
        )
        await integration.notify(ctx, [alert])

    async def close(self) -> None:
        for integrations in self.built.values():
            for i in integrations:
                await i.close()


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

        context = ssl.create_default_context() if tls else None
        endpoint = Endpoint(host.strip("[]"), int(port), context, scheme="grpcs" if tls else "grpc")

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
        found = await reach(endpoint, ai.timeout, policy)
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
