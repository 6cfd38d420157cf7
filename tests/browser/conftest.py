"""The browser tier: Playwright driving Debian's Chromium against a real `ampp serve`.

One server for the session, seeded with alerts (some routed to a receiver whose endpoint refuses
them, so dead letters exist; one enriched through the local LLM stand-in), one browser, and a
fresh context per test whose console errors and uncaught exceptions fail the test. Screenshots
go to AMPP_TEST_ARTIFACTS (build/test-artifacts/browser by default).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    ENRICHED,
    HISTORY_ALERTS,
    MAINTENANCE,
    Dashboard,
    config_yaml,
    llm_standin_thread,
    open_page,
    seed_alerts,
)
from tests.support.capture import CaptureServer
from tests.support.eventually import eventually
from tests.support.servers import run_server


@pytest.fixture(scope="session")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    with (
        CaptureServer() as ok,
        CaptureServer(status=400, response_body=b"bad payload") as bad,
        llm_standin_thread() as llm,
    ):
        config = config_yaml(ok.url, bad.url, llm=llm.url)
        with run_server("ampp", config, tmp_path_factory.mktemp("dashboard")) as server:
            d = Dashboard(server, ok, bad, llm)
            d.post_alerts(seed_alerts())
            d.post("webhook/proxy", [ENRICHED])
            d.post("api/v2/silences", MAINTENANCE)
            eventually(
                lambda: d.api("api/ampp/v1/deliveries", state="dead")["deliveries"], what="a dead letter"
            )
            eventually(
                lambda: d.api("history", limit="1")["total"] >= HISTORY_ALERTS,
                what="the history writer caught up",
            )
            enriched = d.fingerprint("CheckoutErrors")
            eventually(
                lambda: any(e["kind"] == "alert.enriched" for e in d.api(f"history/{enriched}")["events"]),
                what="the enrichment in the alert's timeline",
            )
            yield d


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one module. Not for the session: while Playwright's sync API is open its
    event loop is the thread's running loop, and every asyncio test after it would fail."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make deps` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx, page, problems = open_page(browser)
    yield page
    ctx.close()
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
