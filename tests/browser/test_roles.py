"""The dashboard with ``auth:`` on: signing in (a password, an API key), who is shown as signed
in, each role shown only the buttons whose requests it may make, and a refusal (401, 403) said
plainly. One server for the module, with a user of each role and the static API keys of
tests.support.secured.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.browser import (
    Dashboard,
    axe_violations,
    config_yaml,
    create_silence,
    open_page,
    seed_alerts,
)
from tests.support.capture import CaptureServer
from tests.support.eventually import eventually
from tests.support.secured import KEYS, PASSWORD, hashed, key_headers
from tests.support.servers import run_server

pytestmark = pytest.mark.browser

HASH = hashed()
USERS = {"alice": "admin", "olivia": "operator", "victor": "viewer"}
REFUSED = "console.error: Failed to load resource: the server responded with a status of {}"


def auth_section(users: dict[str, str], anonymous_role: str = "") -> str:
    lines = [f"  anonymous_role: {anonymous_role}"] if anonymous_role else []
    lines += ["  users:"] + [
        f"    {name}: {{password_hash: '{HASH}', role: {role}}}" for name, role in users.items()
    ]
    lines += ["  api_keys:"] + [
        f"    - {{name: {role}-key, role: {role}, key: {key}}}" for role, key in KEYS.items()
    ]
    return "\n".join(lines) + "\n"


class Secured(Dashboard):
    """The server and its config, which a test may change and reload."""

    def reconfigure(self, users: dict[str, str], anonymous_role: str = "") -> None:
        auth = auth_section(users, anonymous_role)
        self.server.config_path.write_text(config_yaml(self.ok.url, self.bad.url, auth=auth))
        r = httpx.post(f"{self.url}/-/reload", headers=self.headers, timeout=10)
        assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    with CaptureServer() as ok, CaptureServer(status=400, response_body=b"bad payload") as bad:
        config = config_yaml(ok.url, bad.url, auth=auth_section(USERS))
        with run_server("ampp", config, tmp_path_factory.mktemp("secured")) as server:
            d = Secured(server, ok, bad, headers=key_headers("admin"))
            d.post_alerts(seed_alerts())
            d.post(
                "api/v2/silences",
                {
                    "matchers": [{"name": "alertname", "value": "HighLatency", "isRegex": False}],
                    "startsAt": "2020-01-01T00:00:00Z",
                    "endsAt": "2099-01-01T00:00:00Z",
                    "createdBy": "oncall@example.com",
                    "comment": "known: a deploy is under way",
                },
            )
            eventually(
                lambda: d.api("api/ampp/v1/deliveries", state="dead")["deliveries"], what="a dead letter"
            )
            yield d


def sign_in(page: Any, user: str, password: str = PASSWORD) -> None:
    page.get_by_label("User name", exact=True).fill(user)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def signed_in_as(page: Any) -> str:
    return " ".join(page.locator("#user").text_content().split())


def test_without_credentials_it_asks_to_sign_in_and_refuses_a_wrong_password(
    browser: Any, secured: Secured
) -> None:
    ctx, page, problems = open_page(browser)
    try:
        page.goto(f"{secured.url}/#/silences")
        page.get_by_role("heading", name="Sign in", exact=True).wait_for()
        assert page.url.endswith("#/login?next=%23%2Fsilences"), "back to the silences afterwards"
        assert signed_in_as(page) == "Not signed in Sign in"
        assert page.locator("#live").inner_text() == "signed out"
        sign_in(page, "victor", "not the password")
        page.get_by_text("The server refused these credentials.").wait_for()
        sign_in(page, "victor")
        page.get_by_role("heading", name="Silences").wait_for()
        assert page.url.endswith("#/silences")
        assert signed_in_as(page) == "Signed in as victor · viewer Sign out"
        page.locator("#live.on").wait_for()
        page.reload()  # kept for the tab's life
        page.get_by_role("heading", name="Silences").wait_for()
        assert signed_in_as(page) == "Signed in as victor · viewer Sign out"
    finally:
        ctx.close()
    assert problems == [REFUSED.format("401 (Unauthorized)")], "the wrong password's answer only"


@pytest.mark.parametrize(("user", "role"), USERS.items(), ids=list(USERS.values()))
def test_each_role_is_shown_the_buttons_it_may_use(
    browser: Any, secured: Secured, user: str, role: str
) -> None:
    writes = role != "viewer"
    critical = secured.fingerprint("DiskFull", severity="critical")
    silence = secured.api("api/v2/silences", filter='alertname="HighLatency"')[0]["id"]
    dead = secured.api("api/ampp/v1/deliveries", state="dead")["deliveries"][0]["id"]
    ctx, page, problems = open_page(browser)
    try:
        page.goto(f"{secured.url}/#/login")
        sign_in(page, user)
        page.locator("li.alert").first.wait_for()
        assert signed_in_as(page) == f"Signed in as {user} · {role} Sign out"
        row = page.locator(f'li.alert[data-fingerprint="{critical}"]')
        assert row.get_by_role("link", name="Details").count() == 1
        assert row.get_by_role("link", name="Silence").count() == writes

        page.goto(f"{secured.url}/#/alert/{critical}")
        page.get_by_role("heading", name="Timeline").wait_for()
        assert page.locator("main .actions").get_by_role("link", name="Silence").count() == writes

        page.goto(f"{secured.url}/#/silences")
        page.locator(f'article[data-silence="{silence}"]').wait_for()
        assert page.get_by_role("link", name="New silence").count() == writes
        assert page.get_by_role("button", name=f"Expire silence {silence}").count() == writes
        assert page.get_by_role("link", name=f"Edit silence {silence}").count() == writes

        page.goto(f"{secured.url}/#/deliveries?state=dead")
        page.locator(f'tr[data-delivery="{dead}"]').wait_for()
        assert page.get_by_role("button", name=f"Re-drive delivery {dead}").count() == writes
        assert page.get_by_role("button", name="Re-drive all dead letters").count() == writes

        page.goto(f"{secured.url}/#/silences/new?fp={critical}")
        if writes:
            page.get_by_text("Would mute 1 alert now").wait_for()
        else:
            page.get_by_text("Your role (viewer) cannot create or change silences").wait_for()

        page.get_by_role("button", name="Sign out").click()
        page.get_by_role("heading", name="Sign in", exact=True).wait_for()
        assert signed_in_as(page) == "Not signed in Sign in"
    finally:
        ctx.close()
    assert not problems, "\n".join(problems)


def test_an_operator_signed_in_with_an_api_key_silences_an_alert_on_a_phone(
    browser: Any, secured: Secured, artifacts: Path
) -> None:
    fp = secured.fingerprint("DiskFull", severity="critical")
    ctx, page, problems = open_page(browser, width=360)
    try:
        page.goto(f"{secured.url}/#/alerts")
        page.get_by_label("Key or token", exact=True).fill(KEYS["operator"])
        page.get_by_role("button", name="Sign in with the key").click()
        row = page.locator(f'li.alert[data-fingerprint="{fp}"]')
        row.locator(".badge.active").wait_for()
        assert signed_in_as(page) == "Signed in as operator-key · operator Sign out"
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 360, "no sideways scrolling"
        page.screenshot(path=artifacts / "alerts-signed-in-360px.png")
        row.get_by_role("link", name="Silence").click()
        page.get_by_text("Would mute 1 alert now").wait_for()
        silence_id = create_silence(page, "replacing the disk")
        page.get_by_role("link", name="Alerts", exact=True).click()
        row.locator(".badge.silenced").wait_for()
        page.get_by_role("link", name="Silences").click()
        page.get_by_role("button", name=f"Expire silence {silence_id}").click()
        page.get_by_text("Silence expired").wait_for()
    finally:
        ctx.close()
    assert not problems, "\n".join(problems)
    audit = secured.api("api/ampp/v1/audit", action="silence.")["events"]
    assert [(e["actor"], e["method"]) for e in audit[:2]] == [("operator-key", "api-key")] * 2, audit[:2]


def test_a_role_taken_away_meanwhile_is_refused_and_said_plainly(browser: Any, secured: Secured) -> None:
    fp = secured.fingerprint("DiskFull", severity="critical")
    ctx, page, problems = open_page(browser)
    try:
        page.goto(f"{secured.url}/#/login?next=%23%2Fsilences%2Fnew%3Ffp%3D{fp}")
        sign_in(page, "olivia")
        page.get_by_text("Would mute 1 alert now").wait_for()
        page.get_by_label("Created by").fill("olivia")
        page.get_by_label("Comment").fill("maintenance")
        secured.reconfigure({**USERS, "olivia": "viewer"})  # an admin demotes her meanwhile
        page.get_by_role("button", name="Create").click()
        page.get_by_text("Your role (viewer) cannot create or change silences").wait_for()
        assert signed_in_as(page) == "Signed in as olivia · viewer Sign out"
    finally:
        ctx.close()
        secured.reconfigure(USERS)
    assert problems == [REFUSED.format("403 (Forbidden)")], "the refused silence's answer only"


def test_with_an_anonymous_role_the_pages_show_without_signing_in(browser: Any, secured: Secured) -> None:
    critical = secured.fingerprint("DiskFull", severity="critical")
    secured.reconfigure(USERS, anonymous_role="viewer")
    ctx, page, problems = open_page(browser)
    try:
        page.goto(f"{secured.url}/#/alerts")
        row = page.locator(f'li.alert[data-fingerprint="{critical}"]')
        row.wait_for()
        assert signed_in_as(page) == "Not signed in · viewer Sign in"
        assert row.get_by_role("link", name="Silence").count() == 0, "a viewer's page"
        page.locator("#live.on").wait_for()
        page.get_by_role("link", name="Sign in").click()
        sign_in(page, "olivia")
        row.get_by_role("link", name="Silence").wait_for()
        assert signed_in_as(page) == "Signed in as olivia · operator Sign out"
    finally:
        ctx.close()
        secured.reconfigure(USERS)
    assert not problems, "\n".join(problems)


def test_a_key_revoked_meanwhile_signs_out_and_leads_back_to_the_sign_in(
    browser: Any, secured: Secured
) -> None:
    r = httpx.post(
        f"{secured.url}/api/ampp/v1/apikeys",
        json={"name": "laptop", "role": "viewer"},
        headers=secured.headers,
    )
    assert r.status_code == 201, r.text
    key = r.json()
    ctx, page, problems = open_page(browser)
    try:
        page.goto(f"{secured.url}/#/login")
        page.get_by_label("Key or token", exact=True).fill(key["key"])
        page.get_by_role("button", name="Sign in with the key").click()
        page.locator("li.alert").first.wait_for()
        assert signed_in_as(page) == "Signed in as laptop · viewer Sign out"
        revoked = httpx.delete(f"{secured.url}/api/ampp/v1/apikeys/{key['id']}", headers=secured.headers)
        assert revoked.status_code == 200, revoked.text
        page.get_by_role("link", name="Silences").click()  # its requests are refused: 401
        page.get_by_role("heading", name="Sign in", exact=True).wait_for()
        assert page.url.endswith("#/login?next=%23%2Fsilences"), "back to the silences afterwards"
        assert signed_in_as(page) == "Not signed in Sign in"
        assert page.evaluate("sessionStorage.length") == 0, "the refused key is forgotten"
    finally:
        ctx.close()
    assert problems and all(p == REFUSED.format("401 (Unauthorized)") for p in problems), problems


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_sign_in_page_is_accessible_and_captured(
    browser: Any, secured: Secured, artifacts: Path, theme: str
) -> None:
    ctx, page, problems = open_page(browser, theme=theme, bypass_csp=True)
    try:
        page.goto(f"{secured.url}/#/alerts")
        page.get_by_role("heading", name="Sign in", exact=True).wait_for()
        page.screenshot(path=artifacts / f"login-{theme}.png", full_page=True)
        violations = axe_violations(page)
    finally:
        ctx.close()
    assert not violations, "\n".join(violations)
    assert not problems, "\n".join(problems)
