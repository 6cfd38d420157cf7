"""Every field of config.yaml's model is used: a walk over the model (every section, every block,
the fields of listed blocks such as ``auth.api_keys[]``) against what the engine reads while it
runs, started as ``ampp serve`` starts it (flags, web config, logging, storage) and put through
what each setting is for: authentication by every method, CORS, a failing receiver's retries,
enrichment, tracing, webhook sources, SNS, the proxy, history queries through Redis.

A field counts as used when engine code reads it outside validation (a validator reading a
field to check it proves nothing). A field nobody reads is accepted and ignored: the failure
names it. What each field does is shown by the tests of each feature; what a field refuses is
shown by the refusals below, each with the file, line, field and reason.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import logging
import socket
import ssl
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import aiohttp
import bcrypt
import jwt
import orjson
import pytest
import yaml
from ampp.config.errors import ConfigError
from ampp.config.layers import _model_of
from ampp.config.loader import SECTIONS, load_text
from pydantic import BaseModel

from tests.integration.services import Services
from tests.support import webhook_samples as samples
from tests.support.capture import CaptureServer
from tests.support.llm_standins import Reply as LLMReply
from tests.support.llm_standins import llm_standin
from tests.support.otlp import otlp_receiver
from tests.support.vendors import Reply, VendorServer, make_cert

pytestmark = pytest.mark.integration

Key = tuple[type[BaseModel], str]


def _items(annotation: Any) -> type[BaseModel] | None:
    """The block each item of ``list[X]`` or ``dict[str, X]`` is."""
    args = getattr(annotation, "__args__", ())
    last = args[-1] if args else None
    return last if isinstance(last, type) and issubclass(last, BaseModel) else None


def walk(model: type[BaseModel], path: str) -> Iterator[tuple[Key, str]]:
    """Every field below ``model`` with its dotted path (``auth.api_keys[].key``)."""
    for name, field in model.model_fields.items():
        key = f"{path}.{field.alias or name}"
        yield (model, name), key
        block = _model_of(field.annotation)
        if block is not None:
            yield from walk(block, key)
        item = _items(field.annotation)
        if item is not None:
            suffix = "[]" if str(field.annotation).startswith("list") else ".<name>"
            yield from walk(item, key + suffix)


def every_field() -> dict[Key, list[str]]:
    found: dict[Key, list[str]] = {}
    for section, model in SECTIONS.items():
        for key, path in walk(model, section):
            found.setdefault(key, []).append(path)
    return found


def _validating(frame: FrameType | None) -> bool:
    """Whether pydantic is on the stack: a read that is part of validating the config."""
    while frame is not None:
        if frame.f_globals.get("__name__", "").startswith("pydantic"):
            return True
        frame = frame.f_back
    return False


@contextlib.contextmanager
def reads() -> Iterator[set[Key]]:
    """The fields the engine reads (outside validation) while the block runs."""
    seen: set[Key] = set()
    patched = []
    for model in {m for m, _ in every_field()}:
        fields = frozenset(model.model_fields)

        def getattribute(
            self: BaseModel, name: str, _m: type[BaseModel] = model, _f: frozenset[str] = fields
        ) -> Any:
            if name in _f and (_m, name) not in seen and not _validating(sys._getframe(1)):
                seen.add((_m, name))
            return object.__getattribute__(self, name)

        patched.append(model)
        model.__getattribute__ = getattribute  # type: ignore[method-assign,assignment]
    try:
        yield seen
    finally:
        for model in patched:
            del model.__getattribute__


async def write(path: Path, text: str) -> None:
    await asyncio.to_thread(path.write_text, text)


# -- the runs -----------------------------------------------------------------------------------

PASSWORD = "correct horse battery staple"
JWT_SECRET = "a-shared-secret-of-more-than-32-bytes!"


@contextlib.asynccontextmanager
async def served(
    tmp_path: Path, config: dict[str, Any], *flags: str, tls: ssl.SSLContext | None = None
) -> AsyncIterator[aiohttp.ClientSession]:
    """The engine and its API as ``ampp serve`` starts them (cli.start_engine, cli.serve_api),
    in this process on a port of its own; a client session to it (over TLS with ``tls``)."""
    from ampp import cli
    from ampp.engine import Engine

    path = tmp_path / "config.yaml"
    await write(path, yaml.safe_dump(config))
    parser = argparse.ArgumentParser()
    cli._serve_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["serve", f"--config.file={path}", "--cluster.listen-address=", *flags])
    started = await cli.start_engine(args, Engine, logging.getLogger("ampp"))
    assert started is not None, "the engine did not start"
    engine, api = started
    sock = socket.create_server(("127.0.0.1", 0))
    runner = await cli.serve_api(engine, api, sock)
    url = f"{'https' if tls else 'http'}://127.0.0.1:{sock.getsockname()[1]}"
    try:
        async with aiohttp.ClientSession(url, connector=aiohttp.TCPConnector(ssl=tls or True)) as client:
            yield client
    finally:
        await runner.cleanup()
        await engine.stop()
        sock.close()


async def test_every_field_is_read_by_the_engine_or_refused(
    tmp_path: Path, services: Services, pg_url: str
) -> None:
    fields = every_field()
    with reads() as seen:
        await sqlite_run(tmp_path / "sqlite", services)
        await postgres_run(tmp_path / "postgres", pg_url)
        await web_config_run(tmp_path / "web")
    unread = sorted(p for key, paths in fields.items() if key not in seen for p in paths)
    assert not unread, f"{len(unread)} fields accepted and never read by the engine: {unread}"


async def sqlite_run(tmp_path: Path, services: Services) -> None:
    await asyncio.to_thread(tmp_path.mkdir)
    await write(tmp_path / "jwt.secret", JWT_SECRET)
    await write(tmp_path / "key", "ampp_from-a-file-0123456789abcdef")
    redis = services.redis_url.removeprefix("redis://").split("/")[0]
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    hook = VendorServer(Reply(500))  # a 429 asking to wait, then failures: the retries' backoff
    hook.script("/hook", Reply(429, headers={"Retry-After": "1"}))
    with hook, CaptureServer() as target, otlp_receiver() as otlp:
        async with llm_standin() as llm:
            llm.then(LLMReply("server"), LLMReply())  # the first enrichment falls back
            config: dict[str, Any] = {
                "server": {
                    "address": "127.0.0.1:0",
                    "external_url": "http://ampp.example:9093/am",
                    "read_timeout": "10s",
                    "write_timeout": "10s",
                    "shutdown_timeout": "5s",
                },
                "storage": {
                    "type": "sqlite",
                    "sqlite": {"path": str(tmp_path / "data")},
                    "retention": "1d",
                    "cleanup_interval": "1h",
                },
                "cache": {"enabled": True, "address": redis, "db": 3, "ttl": "1m", "l1_size": 10},
                "notify": {
                    "workers": 2,
                    "max_attempts": 3,
                    "initial_backoff": "10ms",
                    "backoff_multiplier": 2,
                    "max_backoff": "50ms",
                    "jitter": 0.1,
                    "max_retry_after": "1s",
                    "attempt_timeout": "5s",
                    "lease": "40s",
                    "poll_interval": "200ms",
                },
                "ai": {
                    "enabled": True,
                    "provider": "openai",
                    "base_url": f"{llm.url}/v1",
                    "api_key": "sk-x",
                    "model": "gpt-4o-mini",
                    "timeout": "5s",
                    "cache_ttl": "1h",
                    "fallback_enabled": True,
                    "max_concurrency": 2,
                    "tokens_per_hour": 100000,
                    "max_tokens": 300,
                    "circuit_breaker": {"failures": 3, "cooldown": "10s"},
                    "redact_defaults": True,
                    "redact_patterns": ["secret-[0-9]+"],
                    "per_alert": False,
                    "cache_size": 100,
                    "price_per_1k_input_tokens": 0.001,
                    "price_per_1k_output_tokens": 0.002,
                },
                "webhook": {
                    "sources": {
                        "ci": {
                            "items": "$.events",
                            "labels": {"alertname": "$.name"},
                            "annotations": {"summary": "$.text"},
                            "status": "$.state",
                            "starts_at": "$.at",
                            "ends_at": "$.until",
                            "generator_url": "$.link",
                            "event_id": "$.id",
                        }
                    },
                    "event_resolve_timeout": "1d",
                    "max_body_bytes": 1000000,
                    "idempotency_ttl": "1h",
                    "idempotency_keys": 1000,
                    "sns": {"verify_signatures": False, "confirm_subscriptions": False},
                    "proxy": {
                        "targets": ["target"],
                        "drop": ['severity="info"'],
                        "silences": True,
                        "repeat_interval": "1h",
                    },
                },
                "metrics": {"enabled": True, "path": "/metrics"},
                "logging": {"level": "debug", "format": "json"},
                "tracing": {
                    "enabled": True,
                    "provider": "otlp",
                    "endpoint": otlp.grpc_endpoint,
                    "protocol": "grpc",
                    "insecure": True,
                    "headers": {"x-team": "sre"},
                    "sample_rate": 1.0,
                    "service_name": "ampp-fields",
                    "timeout": "5s",
                },
                "security": {
                    "rate_limits": {
                        "enabled": True,
                        "api": {"per_ip": 1000, "per_identity": 1000, "global": 10000},
                        "ingest": {"per_ip": 1000, "per_identity": 1000, "global": 10000},
                        "failed_logins_per_minute": 100,
                    },
                    "cors": {
                        "allowed_origins": ["https://grafana.example"],
                        "allowed_methods": ["GET"],
                        "allowed_headers": ["Authorization"],
                        "max_age": "1m",
                    },
                    "headers": {
                        "content_security_policy": "default-src 'self'",
                        "referrer_policy": "same-origin",
                        "strict_transport_security": "max-age=60",
                        "cache_control": "no-cache",
                    },
                    "limits": {"max_header_bytes": 8192, "max_headers_bytes": 65536},
                    "outbound": {
                        "allow": ["127.0.0.1/32"],
                        "deny": ["10.0.0.0/8"],
                        "default": "allow",
                        "allow_link_local": False,
                    },
                },
                "auth": {
                    "users": {"alice": {"password_hash": hashed, "role": "admin", "machine": False}},
                    "api_keys": [
                        {
                            "name": "prom",
                            "role": "operator",
                            "key": "ampp_prom-key-0123456789abcdef",
                            "machine": True,
                        },
                        {"name": "filed", "role": "viewer", "key_file": str(tmp_path / "key")},
                    ],
                    "jwt": {
                        "algorithms": ["HS256"],
                        "secret_file": str(tmp_path / "jwt.secret"),
                        "issuer": "https://sso.example",
                        "audience": ["ampp"],
                        "leeway": "30s",
                        "role_claim": "groups",
                        "roles": {"sre": "operator"},
                        "user_claim": "email",
                    },
                    "proxy": {
                        "trusted_addresses": ["127.0.0.1/32"],
                        "user_header": "X-User",
                        "groups_header": "X-Groups",
                        "roles": {"ops": "admin"},
                        "default_role": "viewer",
                    },
                    "public": ["/-/healthy", "/-/ready", "/metrics"],
                    "anonymous_role": None,
                    "web_config_role": "operator",
                },
                "alerting": {
                    "route": {"receiver": "hook", "group_wait": "0s", "group_interval": "1s"},
                    "receivers": [
                        {"name": "hook", "webhook_configs": [{"url": f"{hook.url}/hook"}]},
                        {"name": "target", "webhook_configs": [{"url": f"{target.url}/target"}]},
                    ],
                },
            }
            async with served(tmp_path, config) as client:
                await exercise(client, hook, target)
            assert len(llm.requests) >= 2, "a call that failed (the fallback), then an answer"


async def exercise(client: aiohttp.ClientSession, hook: VendorServer, target: CaptureServer) -> None:
    key = {"Authorization": "Bearer ampp_prom-key-0123456789abcdef"}
    now = int(time.time())
    token = jwt.encode(
        {
            "iss": "https://sso.example",
            "aud": "ampp",
            "email": "jane@example.org",
            "groups": ["sre"],
            "exp": now + 600,
            "iat": now,
        },
        JWT_SECRET,
        algorithm="HS256",
    )

    def basic(user: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()}

    prefix = "/am"
    assert (await client.get(f"{prefix}/-/ready")).status == 200
    for headers in (
        key,
        {"X-API-Key": "ampp_from-a-file-0123456789abcdef"},
        {"Authorization": f"Bearer {token}"},
        basic("alice"),
        {"X-User": "joe", "X-Groups": "ops"},
        {"X-User": "ann"},
    ):
        r = await client.get(f"{prefix}/api/ampp/v1/whoami", headers=headers)
        assert r.status == 200, (headers, await r.text())
    wrong = {"Authorization": "Basic " + base64.b64encode(b"alice:wrong").decode()}
    assert (await client.get(f"{prefix}/api/v2/status", headers=wrong)).status == 401
    preflight = {"Origin": "https://grafana.example", "Access-Control-Request-Method": "GET"}
    assert (await client.options(f"{prefix}/api/v2/status", headers=preflight)).status == 204
    assert (await client.get(f"{prefix}/metrics")).status == 200
    alert = [{"labels": {"alertname": "Fields", "severity": "page"}, "annotations": {"summary": "secret-42"}}]
    r = await client.post(f"{prefix}/api/v2/alerts", data=orjson.dumps(alert), headers=key)
    assert r.status == 200, await r.text()
    await asyncio.to_thread(hook.wait_for, 2, 30)  # an attempt and a retry, after the backoff
    body = {
        "events": [
            {
                "name": "Deploy",
                "text": "x",
                "state": "firing",
                "at": now,
                "until": now + 60,
                "link": "http://ci",
                "id": "e1",
            }
        ]
    }
    r = await client.post(
        f"{prefix}/webhook/ci", data=orjson.dumps(body), headers={**key, "Idempotency-Key": "k1"}
    )
    assert r.status == 200, await r.text()
    sns = samples.sns_subscription_confirmation("https://sns.us-west-2.amazonaws.com/?x", "https://x/c.pem")
    r = await client.post(f"{prefix}/webhook", data=orjson.dumps(sns), headers=key)
    assert r.status < 500, await r.text()
    for _ in range(2):  # the provider fails (the fallback answers), then answers
        fresh = {**samples.KEEP, "name": f"Fields {uuid.uuid4()}"}  # not in the shared Redis cache
        r = await client.post(f"{prefix}/webhook/proxy", data=orjson.dumps(fresh), headers=key)
        assert r.status == 200, await r.text()
    await asyncio.to_thread(target.wait_for, 2, 30)
    r = await client.get(f"{prefix}/history", headers=key)
    assert r.status == 200, await r.text()


async def postgres_run(tmp_path: Path, pg_url: str) -> None:
    """The alternatives the first run could not take at once: PostgreSQL by its block, and JWTs
    from a JWKS (fetched, refreshed, fetched again for an unknown key id) and a key file; SNS
    messages verified and subscriptions confirmed."""
    from urllib.parse import urlsplit

    from cryptography.hazmat.primitives.asymmetric import rsa

    await asyncio.to_thread(tmp_path.mkdir)
    cert, key = make_cert(tmp_path / "tls")
    await write(tmp_path / "web.yml", f"tls_server_config: {{cert_file: '{cert}', key_file: '{key}'}}\n")
    pg = urlsplit(pg_url)
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key(), as_dict=True) | {"kid": "k1", "use": "sig"}
    with (
        VendorServer(Reply(200, {"keys": [jwk]})) as jwks,
        VendorServer(Reply(200, cert.read_bytes())) as pems,
    ):
        config = {
            "storage": {
                "type": "postgresql",
                "postgresql": {
                    "host": pg.hostname,
                    "port": pg.port,
                    "database": pg.path.lstrip("/"),
                    "user": pg.username,
                    "password": pg.password or "unused",
                    "max_connections": 4,
                    "max_idle": 1,
                },
            },
            "webhook": {
                "sns": {
                    "verify_signatures": True,
                    "signing_cert_url": f"^{pems.url}/",
                    "ca_file": str(cert),
                    "confirm_subscriptions": True,
                    "subscribe_url": r"^https://sns\.example/",
                }
            },
            "auth": {
                "api_keys": [{"name": "k", "role": "admin", "key": "ampp_k-0123456789abcdef0123"}],
                "jwt": {
                    "algorithms": ["RS256"],
                    "jwks_url": f"{jwks.url}/jwks",
                    "refresh_interval": "100ms",
                    "min_refresh_interval": "0s",
                },
            },
            "security": {"outbound": {"allow": ["127.0.0.1/32"]}},
            "alerting": {"route": {"receiver": "r"}, "receivers": [{"name": "r"}]},
        }
        web = f"--web.config.file={tmp_path / 'web.yml'}"
        trust = ssl.create_default_context(cafile=str(cert))
        async with served(tmp_path, config, web, tls=trust) as client:
            admin = {"Authorization": "Bearer ampp_k-0123456789abcdef0123"}
            other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            unknown = jwt.encode(
                {"exp": int(time.time()) + 60}, other, algorithm="RS256", headers={"kid": "k9"}
            )
            await client.get("/api/ampp/v1/whoami", headers={"Authorization": f"Bearer {unknown}"})
            sns = samples.sns_notification("hello", None, f"{pems.url}/c.pem") | {"Signature": "AAAA"}
            r = await client.post("/webhook", data=orjson.dumps(sns), headers=admin)
            assert r.status < 500, await r.text()
            await asyncio.sleep(0.3)  # the JWKS refresh loop has slept refresh_interval once


async def web_config_run(tmp_path: Path) -> None:
    """A ``--web.config.file`` user that ``auth.users`` does not list gets web_config_role."""
    await asyncio.to_thread(tmp_path.mkdir)
    web_hash = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    await write(tmp_path / "web.yml", f"basic_auth_users: {{webuser: '{web_hash}'}}\n")
    config = {
        "storage": {"sqlite": {"path": str(tmp_path / "data")}},
        "auth": {"web_config_role": "operator"},
        "alerting": {"route": {"receiver": "r"}, "receivers": [{"name": "r"}]},
    }
    async with served(tmp_path, config, f"--web.config.file={tmp_path / 'web.yml'}") as client:
        web_user = {"Authorization": "Basic " + base64.b64encode(f"webuser:{PASSWORD}".encode()).decode()}
        r = await client.get("/api/ampp/v1/whoami", headers=web_user)
        assert (await r.json())["role"] == "operator", await r.text()


# -- refusals -------------------------------------------------------------------------------------

REFUSED = [
    ("ai: {enabled: true, provider: mine}\n", 1, "ai", "provider 'mine' needs a base_url"),
    ("tracing: {enabled: true, provider: jaeger, endpoint: 'localhost:6831'}\n", 1, "tracing", "6831"),
    ("storage: {type: postgresql, sqlite: {path: x}, url: 'mysql://h/db'}\n", 1, "storage.url", "must be a"),
    ("cache: {address: 'redis:six'}\n", 1, "cache.address", "is not host:port"),
    ("security: {rate_limits: {api: {per_ip: 0}}}\n", 1, "security.rate_limits.api.per_ip", "greater than"),
    ("auth: {jwt: {algorithms: [HS256, RS256], secret: x}}\n", 1, "auth.jwt", "do not mix HS*"),
]


@pytest.mark.parametrize(("text", "line", "field", "reason"), REFUSED)
def test_a_refused_value_names_the_file_line_field_and_reason(
    text: str, line: int, field: str, reason: str
) -> None:
    with pytest.raises(ConfigError) as e:
        load_text(
            text + "alerting:\n  route: {receiver: r}\n  receivers: [{name: r}]\n", "config.yaml", environ={}
        )
    message = str(e.value)
    assert message.startswith(f"config.yaml:{line}: {field}"), message
    assert reason in message, message
