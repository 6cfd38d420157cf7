"""Alert fingerprints against the real Alertmanager 0.25, on generated UTF-8 label sets.

Each example posts a batch of generated label sets to /api/v2/alerts; the fingerprint the
reference reports in GET /api/v2/alerts for each stored label set must equal ours.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from ampp.model.fingerprint import fingerprint, fingerprint_hex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.prereq import REFERENCE
from tests.support.servers import run_server

pytestmark = [pytest.mark.integration, REFERENCE.mark()]

CONFIG = """\
route:
  receiver: r
receivers:
  - name: r
    webhook_configs:
      - url: http://127.0.0.1:1/
"""


@pytest.fixture(scope="module")
def client(module_workdir: Path) -> Iterator[httpx.Client]:
    with run_server("reference", CONFIG, module_workdir / "reference") as srv:
        with httpx.Client(base_url=srv.url, timeout=10) as c:
            yield c


# 0.25 validates names with the classic rule; values may be any UTF-8 (no lone surrogates).
names = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,12}", fullmatch=True)
values = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=16),
    st.text(st.sampled_from('ab\x00\xff\u00ff\U0001f642\n"\\ '), max_size=6),
)
label_sets = st.dictionaries(names, values, min_size=1, max_size=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(label_sets, min_size=1, max_size=10))
def test_fingerprints_agree_with_reference(client: httpx.Client, batch: list[dict[str, str]]) -> None:
    # Alertmanager drops empty-valued labels on ingest; a set left empty would be rejected.
    batch = [ls for ls in batch if any(ls.values())]
    if not batch:
        return
    now = datetime.now(UTC)
    alerts = [
        {"labels": ls, "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat()}
        for ls in batch
    ]
    r = client.post("/api/v2/alerts", json=alerts)
    assert r.status_code == 200, r.text
    stored = {frozenset(a["labels"].items()): a["fingerprint"] for a in client.get("/api/v2/alerts").json()}
    for ls in batch:
        kept = {k: v for k, v in ls.items() if v != ""}
        reported = stored[frozenset(kept.items())]
        assert fingerprint_hex(kept) == reported, kept
        assert fingerprint(kept) == int(reported, 16)


def test_known_fingerprints() -> None:
    """Values observed from the reference (see the module docstring); the empty set is the
    FNV-1a offset basis."""
    assert fingerprint_hex({"alertname": "a", "v": "x"}) == "0a890249677f4f61"
    assert fingerprint_hex({"alertname": "a", "v": "K"}) == "0b3702496813b836"
    assert fingerprint_hex({"alertname": "a"}) == "d258efc389808447"
    assert fingerprint_hex({}) == "cbf29ce484222325"
