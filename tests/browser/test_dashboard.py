"""The dashboard in a real Chromium: what an on-call engineer does, page by page.

Each scenario of issue 16's "Done when": silence from an alert and see it muted, expire it and
see it active again; filter with a regex matcher; open an alert's timeline; page through
history; re-drive a dead letter; a new alert appears live within 2 s. Then every page in both
themes: no console error, no serious or critical axe-core violation, a screenshot.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.browser import (
    HISTORY_ALERTS,
    Dashboard,
    Network,
    axe_violations,
    create_silence,
    open_page,
)
from tests.support.eventually import eventually
from tests.support.llm_standins import GOOD

pytestmark = pytest.mark.browser

DASH = "\u2013"  # the page's "Showing 1-25" has an en dash


def alert_row(page: Any, fingerprint: str) -> Any:
    return page.locator(f'li.alert[data-fingerprint="{fingerprint}"]')


def test_silence_an_alert_see_it_muted_then_expire_it_and_see_it_active(
    page: Any, dashboard: Dashboard
) -> None:
    fp = dashboard.fingerprint("HighLatency")
    page.goto(f"{dashboard.url}/#/alerts")
    row = alert_row(page, fp)
    row.locator(".badge.active").wait_for()
    row.get_by_role("link", name="Silence").click()

    page.get_by_role("heading", name="New silence").wait_for()
    assert page.locator(".m-name").evaluate_all("els => els.map(e => e.value)") == [
        "alertname",
        "namespace",
        "severity",
        "service",
    ], "the matchers are the alert's labels"
    page.get_by_text("Would mute 1 alert now").wait_for()  # the live preview
    silence_id = create_silence(page, "deploying a fix")
    page.get_by_role("link", name="Alerts", exact=True).click()
    alert_row(page, fp).locator(".badge.silenced").wait_for()
    assert "oncall@example.com" in alert_row(page, fp).locator(".why").inner_text()

    page.get_by_role("link", name="Silences").click()
    page.get_by_role("button", name=f"Expire silence {silence_id}").click()
    page.get_by_text("Silence expired").wait_for()
    page.get_by_role("link", name="Alerts", exact=True).click()
    alert_row(page, fp).locator(".badge.active").wait_for()

    page.get_by_role("link", name="Silences").click()
    page.get_by_role("button", name="Expired (1)").click()
    page.get_by_role("link", name=f"Recreate silence {silence_id}").click()
    page.get_by_role("heading", name="Recreate silence").wait_for()
    assert page.get_by_label("Comment").input_value() == "deploying a fix"


def test_filter_with_a_regex_matcher_and_autocomplete(page: Any, dashboard: Dashboard) -> None:
    page.goto(f"{dashboard.url}/#/alerts")
    page.locator("li.alert").first.wait_for()
    box = page.get_by_role("combobox", name="Filter alerts")
    box.fill('alertname=~"Disk.*|High.*"')
    box.press("Enter")
    names = page.locator("li.alert strong").all_inner_texts()
    assert sorted(names) == ["DiskFull", "DiskFull", "HighLatency"]
    assert "filter=alertname%3D%7E%22Disk.*%7CHigh.*%22" in page.url, "the filter is in the URL"

    page.get_by_role("button", name='Remove filter alertname=~"Disk.*|High.*"').click()
    box.type("sev")  # autocomplete offers label names, then their values, by keyboard
    page.get_by_role("option", name="severity=").wait_for()
    box.press("ArrowDown")
    box.press("Enter")
    assert box.input_value() == "severity="
    box.type("crit")
    page.get_by_role("option", name='severity="critical"').wait_for()
    box.press("ArrowDown")
    box.press("Enter")
    assert page.locator("li.alert strong").all_inner_texts() == ["DiskFull"]
    page.reload()  # a filtered view is a link
    page.locator("li.alert").first.wait_for()
    assert page.locator("li.alert strong").all_inner_texts() == ["DiskFull"]


def test_an_alert_shows_why_it_is_muted_and_its_timeline(page: Any, dashboard: Dashboard) -> None:
    warning = dashboard.fingerprint("DiskFull", severity="warning")
    critical = dashboard.fingerprint("DiskFull", severity="critical")
    page.goto(f"{dashboard.url}/#/alerts")
    why = alert_row(page, warning).locator(".why")
    assert why.inner_text() == f"Inhibited by DiskFull ({critical})"
    why.get_by_role("link").click()
    page.get_by_role("heading", name="Timeline").wait_for()
    assert page.url.endswith(f"#/alert/{critical}")
    assert "Disk /var is 97% full on db1" in page.locator("main").inner_text()
    page.locator("ol.timeline li.firing").first.wait_for()
    assert page.locator("ol.timeline li").first.inner_text().startswith("Fired")
    page.get_by_role("heading", name="Notifications").wait_for()


def test_an_alert_shows_its_enrichment(page: Any, dashboard: Dashboard) -> None:
    """Enriched through the LLM stand-in (OpenAI's Chat Completions) by POST /webhook/proxy."""
    fp = dashboard.fingerprint("CheckoutErrors")
    enriched = dashboard.api(f"api/ampp/v1/enrichment/{fp}")["enrichment"]  # the fixture waited for it
    assert enriched["source"] == "llm", enriched
    assert dashboard.llm is not None
    assert any("CheckoutErrors" in json.dumps(r.body) for r in dashboard.llm.requests), "the model was asked"
    page.goto(f"{dashboard.url}/#/alert/{fp}")
    card = page.locator("section", has=page.get_by_role("heading", name="Enrichment"))
    card.wait_for()
    assert card.locator(".badge").inner_text() == GOOD["severity"]
    shown = dict(zip(card.locator("dt").all_inner_texts(), card.locator("dd").all_inner_texts(), strict=True))
    # The notification's flush enriches the group again, from the cache the proxy's call filled:
    # either answer may be the one kept, and the card says which.
    by = shown.pop("By")
    assert by in ("openai / gpt-4o-mini", "openai / gpt-4o-mini (from the cache)"), by
    assert shown == {
        "Summary": GOOD["summary"],
        "Suggested action": GOOD["suggested_action"],
        "Confidence": "82%",  # GOOD's 0.82
    }
    assert page.locator("ol.timeline li.enriched").count() >= 1, "the timeline says when"


def test_page_through_history(page: Any, dashboard: Dashboard) -> None:
    page.goto(f"{dashboard.url}/#/history?alertname=&limit=25&namespace=batch")
    status = page.get_by_text(f"Showing 1{DASH}25 of")
    status.wait_for()
    assert status.inner_text() == f"Showing 1{DASH}25 of {HISTORY_ALERTS}"
    first = page.locator("table[aria-label='Alert occurrences'] tbody tr").first.inner_text()
    page.get_by_role("button", name="Next page").first.click()
    page.get_by_text(f"Showing 26{DASH}50 of").wait_for()
    assert "cursor=" in page.url
    assert page.locator("table[aria-label='Alert occurrences'] tbody tr").first.inner_text() != first
    page.get_by_role("button", name="Next page").first.click()
    page.get_by_text(f"Showing 51{DASH}{HISTORY_ALERTS} of").wait_for()
    assert page.get_by_role("button", name="Next page").count() == 0
    page.get_by_role("button", name="Previous page").click()
    page.get_by_text(f"Showing 26{DASH}50 of").wait_for()
    page.get_by_role("button", name="First page").click()
    page.get_by_text(f"Showing 1{DASH}25 of").wait_for()
    assert page.locator("table[aria-label='Alert occurrences'] tbody tr").first.inner_text() == first


def test_history_filters_are_a_form_and_a_link(browser: Any, dashboard: Dashboard) -> None:
    ctx, page, problems = open_page(browser)
    try:
        page.goto(f"{dashboard.url}/#/history")
        page.get_by_text("Showing 1").wait_for()
        page.get_by_label("Alert name").fill("DiskFull")
        page.get_by_label("Status").select_option("firing")
        page.get_by_label("Label matchers").fill('severity=~"crit.*"')
        page.get_by_role("button", name="Search").click()
        page.get_by_text(f"Showing 1{DASH}1 of 1").wait_for()
        assert "alertname=DiskFull" in page.url and "status=firing" in page.url
        assert "filter=severity%3D%7E%22crit.*%22" in page.url
        link = page.url
        page.goto(f"{dashboard.url}/#/alerts")
        page.goto(link)
        page.get_by_text(f"Showing 1{DASH}1 of 1").wait_for()
        assert page.get_by_label("Alert name").input_value() == "DiskFull"
        page.get_by_label("Lasted at least").fill("bogus")
        page.get_by_role("button", name="Search").click()
        assert "min_duration" in page.get_by_role("alert").inner_text(), "the API's 400 names the field"
    finally:
        ctx.close()
    # The browser logs the 400 it was answered, as it logs any failed request: that one only.
    assert problems == [
        "console.error: Failed to load resource: the server responded with a status of 400 (Bad Request)"
    ]


def test_redrive_a_dead_letter(page: Any, dashboard: Dashboard) -> None:
    dead = dashboard.api("api/ampp/v1/deliveries", state="dead")["deliveries"][0]
    dashboard.bad.status = 200  # the endpoint is fixed: the re-driven notification goes through
    try:
        page.goto(f"{dashboard.url}/#/deliveries?state=dead")
        page.locator(f'tr[data-delivery="{dead["id"]}"]').wait_for()
        page.get_by_role("button", name=f"Re-drive delivery {dead['id']}").click()
        page.get_by_text(f"Delivery #{dead['id']} re-driven").wait_for()
        done = eventually(
            lambda: (d := dashboard.api(f"api/ampp/v1/deliveries/{dead['id']}"))["state"] == "done" and d,
            what="the re-driven notification sent",
        )
        assert done["outcome"] == "sent"
        page.get_by_role("button", name="Done").click()
        page.locator(f'tr[data-delivery="{dead["id"]}"] .badge.sent').wait_for()
    finally:
        dashboard.bad.status = 400


def test_a_new_alert_appears_live_within_two_seconds(page: Any, dashboard: Dashboard) -> None:
    page.goto(f"{dashboard.url}/#/alerts")
    page.locator("li.alert").first.wait_for()
    page.locator("#live.on").wait_for()
    fired = {"alertname": "JustFired", "namespace": "live", "severity": "critical"}
    dashboard.post_alerts([{"labels": fired}])
    sent = time.monotonic()
    page.locator("li.alert", has_text="JustFired").wait_for(timeout=2000)
    assert time.monotonic() - sent < 2.0
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1, "no reload"
    resolve(dashboard, fired)
    page.locator("li.alert", has_text="JustFired").wait_for(state="detached")


STORM = {"alertname": "Storm", "namespace": "storm", "severity": "info"}


def storm(dashboard: Dashboard, page: Any, seconds: float) -> None:
    """One alert posted again every 100 ms: the server announces a change four times a second."""
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
        dashboard.post_alerts([{"labels": STORM, "annotations": {"n": str(n)}}])
        page.wait_for_timeout(100)


def resolve(dashboard: Dashboard, labels: dict[str, str]) -> None:
    """A test's own alert resolved, so that the pages captured afterwards show the seeded ones."""
    dashboard.post_alerts([{"labels": labels, "endsAt": "2020-01-01T00:00:00Z"}])


def test_live_refresh_is_at_most_once_a_second_and_stops_with_the_page(
    page: Any, dashboard: Dashboard
) -> None:
    critical = dashboard.fingerprint("DiskFull", severity="critical")
    asked: list[tuple[float, str]] = []
    page.on("request", lambda r: asked.append((time.monotonic(), r.url)))
    page.goto(f"{dashboard.url}/#/alert/{critical}")
    page.get_by_role("heading", name="Timeline").wait_for()
    page.locator("#live.on").wait_for()
    page.wait_for_timeout(1500)  # the first change event of the connection is behind us
    start = time.monotonic()
    storm(dashboard, page, 4.0)
    page.wait_for_timeout(1500)  # the last change, honoured a second later at most
    refetches = [t for t, url in asked if t >= start and f"history?fingerprint={critical}" in url]
    # 16 change events in 4 s; one refetch a second, the first and the last one honoured.
    assert 2 <= len(refetches) <= 6, refetches

    page.get_by_role("link", name="Report").click()
    page.locator(".bars").first.wait_for()
    left = time.monotonic()
    storm(dashboard, page, 2.0)
    page.wait_for_timeout(1500)
    after = [
        url for t, url in asked if t >= left and ("history?fingerprint=" in url or "alerts/groups" in url)
    ]
    assert after == [], "a page left behind still refreshes"
    resolve(dashboard, STORM)


def test_the_route_tester_highlights_the_routes_taken(page: Any, dashboard: Dashboard) -> None:
    page.goto(f"{dashboard.url}/#/status")
    page.locator(".node").first.wait_for()
    page.get_by_label("Labels").fill("alertname=X\nteam=broken")
    page.get_by_role("button", name="Test").click()
    assert page.locator("#rt-receivers").inner_text() == "broken"
    assert page.locator(".node.hit").count() == 1
    assert page.locator(".node.hit").get_attribute("data-path") == "0.0"


def test_a_viewer_at_360_px_can_use_the_alerts_page_by_keyboard(
    browser: Any, dashboard: Dashboard, artifacts: Path
) -> None:
    ctx, page, problems = open_page(browser, width=360)
    try:
        page.goto(f"{dashboard.url}/#/alerts")
        page.locator("li.alert").first.wait_for()
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 360, "no sideways scrolling"
        page.keyboard.press("/")
        assert page.evaluate("document.activeElement.getAttribute('role')") == "combobox"
        page.keyboard.press("Escape")
        page.locator("body").click(position={"x": 5, "y": 400})
        page.keyboard.press("g")
        page.keyboard.press("s")
        page.get_by_role("heading", name="Silences").wait_for()
        page.screenshot(path=artifacts / "silences-360px.png", full_page=True)
        page.goto(f"{dashboard.url}/#/alerts")
        page.locator("li.alert").first.wait_for()
        page.screenshot(path=artifacts / "alerts-360px.png")
    finally:
        ctx.close()
    assert not problems, "\n".join(problems)


PAGES = [
    ("alerts", "#/alerts", "li.alert"),
    ("alert", "#/alert/{enriched}", "#h-enrich"),
    ("silences", "#/silences", "article[data-silence]"),
    ("silence", "#/silences/{silence}", "dl.kv"),
    ("silence-editor", "#/silences/new?fp={critical}", "form .matcher-row"),
    ("history", "#/history", "table"),
    ("report", "#/report", ".bars"),
    ("deliveries", "#/deliveries", "table"),
    ("delivery", "#/deliveries/{delivery}", "dl.kv"),
    ("status", "#/status", ".node"),
]


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize(("name", "path", "ready"), PAGES, ids=[p[0] for p in PAGES])
def test_every_page_is_accessible_error_free_and_captured(
    browser: Any, dashboard: Dashboard, artifacts: Path, theme: str, name: str, path: str, ready: str
) -> None:
    critical = dashboard.fingerprint("DiskFull", severity="critical")
    enriched = dashboard.fingerprint("CheckoutErrors")
    silence = dashboard.api("api/v2/silences", filter='alertname="Maintenance"')[0]["id"]
    delivery = dashboard.api("api/ampp/v1/deliveries", receiver="broken")["deliveries"][0]["id"]
    # axe-core is injected as an inline script, which the page's own policy rightly refuses.
    ctx, page, problems = open_page(browser, theme=theme, bypass_csp=True)
    try:
        network = Network(page)
        ids = {"critical": critical, "enriched": enriched, "silence": silence, "delivery": delivery}
        page.goto(f"{dashboard.url}/{path.format(**ids)}")
        page.locator(ready).first.wait_for()
        network.idle()
        page.screenshot(path=artifacts / f"{name}-{theme}.png", full_page=True)
        violations = axe_violations(page)
    finally:
        ctx.close()
    assert not violations, "\n".join(violations)
    assert not problems, "\n".join(problems)


def test_the_dashboard_loads_under_a_route_prefix(browser: Any, tmp_path: Path) -> None:
    from tests.support.servers import run_server

    config = "route: {receiver: r}\nreceivers: [{name: r}]\n"
    with run_server("ampp", config, tmp_path, route_prefix="/am") as server:
        httpx.post(
            f"{server.url}/api/v2/alerts", json=[{"labels": {"alertname": "Prefixed"}}]
        ).raise_for_status()
        ctx, page, problems = open_page(browser)
        try:
            page.goto(f"http://127.0.0.1:{server.port}/")  # redirected into the prefix
            page.locator("li.alert", has_text="Prefixed").wait_for()
            page.locator("#live.on").wait_for()
            assert page.url.startswith(f"http://127.0.0.1:{server.port}/am/")
        finally:
            ctx.close()
    assert not problems, "\n".join(problems)


FILTERS = [
    'severity="critical"',
    "severity=critical",
    'alertname=~"Disk.*"',
    'namespace!="prod"',
    'job!~"job0.*"',
    'service=""',
    'service!=""',
    'instance=~"db[12]"',
    'alertname=~"(?i)diskfull"',
    'summary=~".+"',
    'job=~"job(1|2)[0-4]"',
]


def test_the_pages_filters_select_what_the_api_filter_selects(browser: Any, dashboard: Dashboard) -> None:
    """matchers.js against the server's own filter, on the same alerts: the same fingerprints."""
    alerts = dashboard.api("api/v2/alerts")
    ctx, page, problems = open_page(browser, bypass_csp=True)
    try:
        page.goto(f"{dashboard.url}/#/status")
        page.locator(".node").first.wait_for()
        mine = page.evaluate(
            """async ([filters, alerts]) => {
                 const m = await import(new URL("ui/js/matchers.js", document.baseURI));
                 return filters.map((f) => {
                   const ms = m.parseMatchers(f);
                   const kept = alerts.filter((a) => m.matchesLabels(ms, a.labels));
                   return kept.map((a) => a.fingerprint).sort();
                 });
               }""",
            [FILTERS, alerts],
        )
    finally:
        ctx.close()
    assert not problems, "\n".join(problems)
    for f, got in zip(FILTERS, mine, strict=True):
        want = sorted(a["fingerprint"] for a in dashboard.api("api/v2/alerts", filter=f))
        assert got == want, f
