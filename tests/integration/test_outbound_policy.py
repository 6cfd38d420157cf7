"""The outbound URL policy (``security.outbound``, SSRF) on notifications, through a served
engine: a receiver the policy refuses, by literal address, by a name that resolves to a denied
address, after a redirect, or as an e-mail smarthost, is a dead letter that says why after one
attempt (never retried, nothing reaches the target); the same receivers deliver without the
rule."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.eventually import eventually
from tests.support.servers import run_server
from tests.support.vendors import Reply, SMTPServer, VendorServer

pytestmark = pytest.mark.integration

DENY_LOCAL = "security:\n  outbound:\n    deny: ['127.0.0.1/32', '::1/128']\n"
"""Where the stand-ins listen (localhost may resolve to either)."""
DENY_BY_NAME = "security:\n  outbound:\n    deny: [localhost]\n"


def config_yaml(receiver: str, security: str) -> str:
    """A config.yaml: one route to ``receiver`` (a receiver's YAML, indented for the list)."""
    return (
        "alerting:\n"
        "  route:\n"
        "    receiver: target\n"
        "    group_wait: 0s\n"
        "  receivers:\n"
        "  - name: target\n"
        f"{receiver}" + security
    )


def webhook(url: str) -> str:
    return f"    webhook_configs:\n    - url: '{url}'\n"


def dead_letters(base: str) -> list[dict[str, Any]]:
    r = httpx.get(f"{base}/api/ampp/v1/deliveries", params={"state": "dead"})
    r.raise_for_status()
    rows: list[dict[str, Any]] = r.json()["deliveries"]
    return rows


def fire(base: str) -> None:
    r = httpx.post(f"{base}/api/v2/alerts", json=[{"labels": {"alertname": "Outbound"}}])
    assert r.status_code == 200, r.text


def refused_once(base: str, reason: str) -> dict[str, Any]:
    """The one dead letter, after exactly one attempt, with ``reason`` in its error."""
    rows = eventually(lambda: dead_letters(base), what="a dead letter")
    assert len(rows) == 1, rows
    row = rows[0]
    assert row["attempts"] == 1, f"a refused target was retried: {row}"
    assert reason in (row["lastError"] or ""), row["lastError"]
    return row


@pytest.fixture
def vendor() -> Iterator[VendorServer]:
    with VendorServer(Reply()).start() as v:
        yield v


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_denied_receiver_is_a_dead_letter_at_once(vendor: VendorServer, tmp_path: Path, host: str) -> None:
    """A literal address is refused before connecting; a name, on the address it resolves to."""
    url = vendor.url.replace("127.0.0.1", host) + "/hook"
    with run_server("ampp", config_yaml(webhook(url), DENY_LOCAL), tmp_path) as s:
        fire(s.url)
        refused_once(s.url, "refused by security.outbound.deny")
    assert vendor.requests == [], "the denied target was reached"


def test_a_redirect_to_a_denied_host_is_refused(vendor: VendorServer, tmp_path: Path) -> None:
    """An allowed receiver answering 307 to a denied one: the hop is checked too."""
    with VendorServer(Reply(307, headers={"Location": f"http://localhost:{vendor.port}/hook"})) as redirector:
        cfg = config_yaml(webhook(f"{redirector.url}/hook"), DENY_BY_NAME)
        with run_server("ampp", cfg, tmp_path) as s:
            fire(s.url)
            refused_once(s.url, "refused by security.outbound.deny (localhost)")
        assert len(redirector.requests) == 1, "the allowed receiver was not asked"
    assert vendor.requests == [], "the redirect was followed to the denied target"


def test_a_denied_smarthost_is_a_dead_letter(tmp_path: Path) -> None:
    with SMTPServer().start() as smtp:
        receiver = (
            "    email_configs:\n"
            "    - to: sre@example.org\n"
            "      from: am@example.org\n"
            f"      smarthost: localhost:{smtp.port}\n"
            "      require_tls: false\n"
        )
        with run_server("ampp", config_yaml(receiver, DENY_LOCAL), tmp_path) as s:
            fire(s.url)
            refused_once(s.url, "refused by security.outbound.deny")
        assert smtp.mails == [], "the denied smarthost was reached"


def test_without_the_rule_the_same_receivers_deliver(vendor: VendorServer, tmp_path: Path) -> None:
    """Loopback is allowed by default (only link-local and metadata addresses are not)."""
    url = vendor.url.replace("127.0.0.1", "localhost") + "/hook"
    with run_server("ampp", config_yaml(webhook(url), ""), tmp_path) as s:
        fire(s.url)
        assert vendor.wait_for(1)
        assert dead_letters(s.url) == []
