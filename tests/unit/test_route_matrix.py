"""The README's route matrix is the truth: every route the API serves is in it, and each role
gets exactly what its row says (walked with real credentials against the running engine)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.secured import config_yaml, key_headers, serve

pytestmark = pytest.mark.unit

README = Path(__file__).resolve().parents[2] / "README.md"
ROLES = ("anonymous", "viewer", "operator", "admin")
ROW = re.compile(r"^\| `(GET|POST|PUT|DELETE|PATCH) (/[^`]*)` \|(.*)\|\s*$")
PARAMS = {
    "{id}": "00000000-0000-4000-8000-000000000000",
    "{fingerprint}": "0123456789abcdef",
    "{source}": "prometheus",
}
BODIES: dict[str, object] = {"/api/v2/alerts": [], "/api/v2/silences": {}}


def readme_matrix() -> dict[tuple[str, str], dict[str, bool]]:
    text = README.read_text(encoding="utf-8")
    body = text[text.index("The route matrix") :]
    out: dict[tuple[str, str], dict[str, bool]] = {}
    for line in body.splitlines():
        m = ROW.match(line)
        if m is None:
            if out and not line.startswith("|"):
                break
            continue
        cells = [c.strip() for c in m.group(3).split("|")]
        assert len(cells) == 4 and set(cells) <= {"✓", "\u2013"}, line  # allowed, refused (an en dash)
        out[m.group(1), m.group(2)] = dict(zip(ROLES, (c == "✓" for c in cells), strict=True))
    return out


def concrete(path: str) -> str:
    for name, value in PARAMS.items():
        path = path.replace(name, value)
    if "/deliveries/" in path:
        path = path.replace(PARAMS["{id}"], "1")
    return path


async def test_every_route_is_in_the_readme_matrix_and_each_role_gets_what_it_says(tmp_path: Path) -> None:
    matrix = readme_matrix()
    # Rate limits off: every route times every role is more than a client's budget a second.
    no_limits = "  rate_limits: {enabled: false}\n"
    async with serve(tmp_path, config_yaml(security=no_limits)) as client:
        served = {
            (route.method, route.resource.canonical)
            for route in client.app.router.routes()
            if route.method != "HEAD" and route.resource is not None
        }
        assert served == set(matrix), (
            f"routes missing from the README matrix: {sorted(served - set(matrix))}; "
            f"listed but not served: {sorted(set(matrix) - served)}"
        )
        wrong = []
        for (method, path), allowed in sorted(matrix.items()):
            for role in ROLES:
                r = await client.request(
                    method, concrete(path), headers=key_headers(role), json=BODIES.get(path)
                )
                refused = r.status in (401, 403)
                if refused == allowed[role] or (r.status >= 500 and path != "/api/v2/silence/{id}"):
                    wrong.append(f"{method} {path} as {role}: {r.status} {await r.text()}")
                if refused:
                    expected = 401 if role == "anonymous" else 403
                    assert r.status == expected, f"{method} {path} as {role}"
        assert not wrong, "\n".join(wrong)


async def test_below_a_route_prefix_the_same_matrix_holds_and_the_redirects_are_open(tmp_path: Path) -> None:
    matrix = readme_matrix()
    no_limits = "  rate_limits: {enabled: false}\n"
    async with serve(tmp_path, config_yaml(security=no_limits), route_prefix="/am") as client:
        served = {
            (route.method, route.resource.canonical)
            for route in client.app.router.routes()
            if route.method != "HEAD" and route.resource is not None
        }
        assert served == {(m, f"/am{path}") for m, path in matrix} | {("GET", "/"), ("GET", "/am")}
        for path in ("/", "/am"):
            r = await client.get(path, allow_redirects=False)
            assert (r.status, r.headers["Location"]) == (302, "/am/"), path
        for role in ROLES:  # one row for each answer a role can get
            r = await client.get("/am/api/v2/status", headers=key_headers(role))
            assert r.status == (401 if role == "anonymous" else 200), role
            r = await client.post("/am/-/reload", headers=key_headers(role))
            assert r.status == {"anonymous": 401, "admin": 200}.get(role, 403), role
