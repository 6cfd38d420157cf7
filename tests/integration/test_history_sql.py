"""/history and /report in SQL give the answers the reference model derives from the events.

A seeded random history (alerts firing and resolving, some more than once, silenced,
inhibited, notified through several receivers with some attempts failing, silences created)
is appended in random batches to each backend; then many random queries (every filter, every
sort, both directions, pages walked with the cursor) and reports are answered by the storage
in SQL and compared, field by field, with tests/support/history_oracle.py (the Python
derivation ampp used before the summary tables). Also: the summary is rebuilt for events a
migration found already stored, and retention keeps it consistent.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ampp.history.query import page_json, parse_history_query, report_json, timeline_json
from ampp.model.timefmt import NS, format_rfc3339nano
from ampp.store.base import Storage
from ampp.store.history_common import FLAP_DEPTH, add_changes, flap_state, max_changes
from ampp.store.records import HistoryEvent

from tests.support import history_oracle as oracle

pytestmark = pytest.mark.integration

T0 = 1_700_000_000 * NS
NOW = T0 + 40 * 3600 * NS
MS = NS // 1000
NAMES = ["HighCPU", "DiskFull", "Quiet", "Latency"]
RECEIVERS = ["default", "pager", "slack"]


def _labels(rng: random.Random, i: int) -> dict[str, str]:
    labels = {"alertname": NAMES[i % len(NAMES)], "instance": f"host-{i}", "job": rng.choice(["api", "db"])}
    if i % 5:
        labels["severity"] = ["critical", "warning", "info"][i % 3]
    if i % 4:
        labels["namespace"] = ["prod", "dev"][i % 2]
    if i % 3:
        labels["cluster"] = f"c{i % 2}"
    if i % 6 == 1:
        labels["service"] = "api"
    return labels


def make_events(seed: int, alerts: int = 14, steps: int = 220) -> list[HistoryEvent]:
    """A plausible history: times strictly increasing, each alert's occurrences in order."""
    rng = random.Random(seed)
    fps = [f"{rng.getrandbits(64):016x}" for _ in range(alerts)]
    labels = [_labels(rng, i) for i in range(alerts)]
    firing: dict[int, int] = {}  # alert -> startsAt of its open occurrence
    t = T0
    out: list[HistoryEvent] = []
    flappy = {0, 1}

    def ann(i: int) -> dict[str, str]:
        return {
            "summary": f"{labels[i]['alertname']} on host-{i} is Hot" if i % 2 else "all quiet",
            "n": str(i),
        }

    for _ in range(steps):
        t += rng.randrange(1, 25 * 60 * 1000) * MS  # whole milliseconds: the model sorts durations in ms
        i = rng.randrange(alerts)
        if rng.random() < 0.3:
            i = rng.choice(sorted(flappy))
            t -= rng.randrange(0, 20 * 60 * 1000) * MS  # flapping: changes close together
            t = max(t, out[-1].at + MS if out else t)
        fp = fps[i]
        r = rng.random()
        if i not in firing:
            firing[i] = t
            out.append(
                HistoryEvent(t, "alert.firing", fp, labels[i], ann(i), details={"startsAt": t, "endsAt": 0})
            )
        elif r < 0.35:
            st = firing.pop(i)
            out.append(
                HistoryEvent(
                    t, "alert.resolved", fp, labels[i], ann(i), details={"startsAt": st, "endsAt": t}
                )
            )
        elif r < 0.45:
            kind = rng.choice(["alert.silenced", "alert.inhibited", "alert.unsilenced"])
            out.append(
                HistoryEvent(t, kind, fp, labels[i], ann(i), details={"by": ["s1"], "startsAt": firing[i]})
            )
        elif r < 0.55:
            actor = rng.choice(["alice", "bob"])
            sid = f"s{rng.randrange(3)}"
            out.append(
                HistoryEvent(t, "silence.created", silence_id=sid, actor=actor, details={"matchers": []})
            )
        else:
            group = [j for j in firing if rng.random() < 0.5] or [i]
            ok = rng.random() < 0.7
            out.append(
                HistoryEvent(
                    t, "notify.sent" if ok else "notify.failed", receiver=rng.choice(RECEIVERS),
                    integration="webhook", outcome="sent" if ok else "failed", latency_ms=1.0,
                    error=None if ok else "boom",
                    details={"fingerprints": [fps[j] for j in group], "startsAt": [firing[j] for j in group]},
                )
            )  # fmt: skip
    return out


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path}"
    else:
        yield request.getfixturevalue("pg_url")


def _open(url: str) -> Storage:
    from ampp.store.factory import open_storage

    return open_storage(url, None)


async def _fill(url: str, events: list[HistoryEvent], seed: int) -> Storage:
    storage = _open(url)
    await storage.open()
    rng = random.Random(seed)
    i = 0
    while i < len(events):
        n = rng.randrange(1, 40)
        await storage.append_history(events[i : i + n])
        i += n
    return storage


def _queries(rng: random.Random, events: list[HistoryEvent]) -> Iterator[dict[str, list[str]]]:
    fps = sorted({e.fingerprint for e in events if e.fingerprint})
    times = [e.at for e in events]
    yield {}
    for sort in ("startsAt", "endsAt", "duration", "alertname", "severity"):
        for direction in ("asc", "desc"):
            yield {"sort": [sort], "direction": [direction]}
    simple: list[dict[str, list[str]]] = [
        {"status": ["firing"]}, {"status": ["resolved"]}, {"severity": ["critical,info"]},
        {"alertname": ["Quiet"]}, {"namespace": ["prod"]}, {"cluster": ["c1"]}, {"service": ["api"]},
        {"receiver": ["pager"]}, {"receiver": ["default,slack"]}, {"fingerprint": [fps[0] + "," + fps[3]]},
        {"filter": ['alertname=~"High.*|Disk.*"']}, {"filter": ['severity!="critical"']},
        {"filter": ['instance=~"host-1.*"', 'job!="db"']}, {"filter": ['namespace=""']},
        {"filter": ['cluster!~"c1"']}, {"filter": ['job="api"']}, {"filter": ['nothere=~".*x.*|"']},
        {"filter": ['instance!~"host-[0-4]"']}, {"filter": ['job=~"(?i)API"']}, {"filter": ['nothere!=""']},
        {"filter": ['instance=""']}, {"filter": ['alertname=~"nothing"']}, {"filter": ['job!~".*"']},
        {"q": ["HOT"]}, {"q": ["quiet"]}, {"silenced": ["true"]}, {"silenced": ["false"]},
        {"inhibited": ["true"]}, {"notified": ["false"]}, {"notified": ["true"]},
        {"min_duration": ["1h"]}, {"max_duration": ["30m"]}, {"flapping": ["2"], "flapping_window": ["2h"]},
        {"flapping": ["0"]}, {"flapping": ["4"], "flapping_window": ["6h"]},
        {"flapping": [str(FLAP_DEPTH + 1)], "flapping_window": ["48h"]},
    ]  # fmt: skip
    yield from simple
    for _ in range(40):
        q: dict[str, list[str]] = {}
        for part in rng.sample(simple, rng.randrange(1, 4)):
            q.update(part)
        t = rng.choice(times)
        pick = rng.random()
        if pick < 0.2:
            q["from"] = [format_rfc3339nano(t)]
        elif pick < 0.4:
            q["to"] = [str(t / NS)]
        elif pick < 0.6:
            q["active_at"] = [format_rfc3339nano(t)]
        q["sort"] = [rng.choice(["startsAt", "endsAt", "duration", "alertname", "severity"])]
        q["direction"] = [rng.choice(["asc", "desc"])]
        yield q


def _compare_history(storage: Storage, events: list[HistoryEvent], seed: int) -> int:
    derived = oracle.derive(events)
    rng = random.Random(seed)
    checked = 0
    for params in _queries(rng, events):
        h = parse_history_query({**params, "limit": ["1000"]})
        want = oracle.run_history(h, derived, NOW)
        got = page_json(h, asyncio.get_event_loop().run_until_complete(storage.query_history(h, NOW)), NOW)
        assert got["total"] == want["total"], params
        assert got["items"] == want["items"], params
        # the same order, page by page
        size = rng.randrange(1, 5)
        seen: list[Any] = []
        cursor: str | None = None
        for _ in range(1000):
            page_params = {**params, "limit": [str(size)], **({"cursor": [cursor]} if cursor else {})}
            hp = parse_history_query(page_params)
            page = page_json(
                hp, asyncio.get_event_loop().run_until_complete(storage.query_history(hp, NOW)), NOW
            )
            assert page["total"] == want["total"]
            seen += page["items"]
            cursor = page["nextCursor"]
            if cursor is None:
                break
        assert seen == want["items"], params
        checked += 1
    return checked


def _run(coro: Any) -> Any:
    return asyncio.get_event_loop().run_until_complete(coro)


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield loop
    loop.close()


@pytest.mark.parametrize("seed", [1, 2])
def test_history_matches_the_reference(
    backend: str, seed: int, loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    if seed == 2:  # PostgreSQL: find the noisiest by probing the busiest alerts, not by a scan
        from ampp.store.postgres.history import report as history_report

        monkeypatch.setattr(history_report, "NOISIEST_SCAN_SPAN_S", 0)
    events = make_events(seed)
    storage = _run(_fill(backend, events, seed))
    try:
        assert _compare_history(storage, events, seed) > 50
        derived = oracle.derive(events)
        times = sorted(e.at for e in events)
        windows = [(None, None), (times[len(times) // 3], None), (None, times[len(times) // 2]),
                   (times[len(times) // 4], times[3 * len(times) // 4])]  # fmt: skip
        for lo, hi in windows:
            for threshold, window in ((3, 3600.0), (1, 7200.0), (0, 60.0), (FLAP_DEPTH + 2, 1e6)):
                want = oracle.run_report(derived, lo, hi, NOW, threshold, window)
                got = report_json(_run(storage.history_report(lo, hi, threshold, window)), lo, hi)
                assert got["timeToResolve"]["mean"] == pytest.approx(want["timeToResolve"]["mean"], abs=0.002)
                got["timeToResolve"]["mean"] = want["timeToResolve"]["mean"]
                assert got == want, (lo, hi, threshold, window)
        for fp in sorted({e.fingerprint for e in events if e.fingerprint})[:5]:
            t = _run(storage.history_timeline(fp, 1000))
            assert t is not None
            body = timeline_json(fp, t, NOW)
            own = [e for e in events if e.fingerprint == fp]
            notified = [e for e in events if fp in (e.details or {}).get("fingerprints", [])]
            assert [e["kind"] for e in body["events"] if "fingerprint" in e] == [e.kind for e in own]
            assert len([e for e in body["events"] if e["kind"].startswith("notify.")]) == len(notified)
            want_occ = oracle.run_history(
                parse_history_query({"fingerprint": [fp], "limit": ["1000"]}), derived, NOW
            )
            assert body["occurrences"] == want_occ["items"]
        assert _run(storage.history_timeline("0123456789abcdef", 1000)) is None
    finally:
        _run(storage.close())


def test_report_flapping_at_the_window_start(backend: str, loop: asyncio.AbstractEventLoop) -> None:
    """The first hour of a report's window: the counts kept on write there reach back before
    the window, so the report counts those changes again from the events, only from the
    window's start (the random histories above rarely flap right there)."""
    minute = 60 * NS
    events: list[HistoryEvent] = []

    def flap(fp: str, name: str, start: int, changes: int, every: int) -> None:
        labels = {"alertname": name, "severity": "warning"}
        for k in range(changes):
            t = start + k * every
            st = start + (k - k % 2) * every
            if k % 2 == 0:
                events.append(
                    HistoryEvent(t, "alert.firing", fp, labels, {}, details={"startsAt": st, "endsAt": 0})
                )
            else:
                events.append(
                    HistoryEvent(t, "alert.resolved", fp, labels, {}, details={"startsAt": st, "endsAt": t})
                )

    burst = T0 + 3600 * NS
    flap("00000000000000aa", "Straddling", burst, 12, 4 * minute)  # 12 changes over 44 minutes
    flap("00000000000000bb", "After", burst + 20 * minute, 5, 3 * minute)
    flap("00000000000000cc", "Before", burst - 30 * minute, 5, 3 * minute)
    flap("00000000000000dd", "Slow", T0, 8, 50 * minute)  # never 4 within an hour
    events.sort(key=lambda e: e.at)
    storage = _run(_fill(backend, events, 11))
    try:
        derived = oracle.derive(events)
        checked = 0
        for k in range(0, 50, 3):  # the window starts before, inside and after the bursts
            lo = burst - 20 * minute + k * minute + 7 * NS
            for hi in (None, lo + 45 * minute, lo + 3 * 3600 * NS):
                for threshold in (2, 3, 5):
                    want = oracle.run_report(derived, lo, hi, NOW, threshold, 3600.0)["flapping"]
                    report = _run(storage.history_report(lo, hi, threshold, 3600.0))
                    assert report_json(report, lo, hi)["flapping"] == want, (k, hi, threshold)
                    checked += bool(want)
        assert checked > 20
    finally:
        _run(storage.close())


def test_summary_built_for_events_stored_before_it(tmp_path: Path, loop: asyncio.AbstractEventLoop) -> None:
    """A database whose events predate the summary (the migration's backfill) answers the same."""
    from ampp.store.sqlite.schema import HISTORY_MIGRATIONS, migrate

    events = make_events(7)
    path = tmp_path / "history.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, HISTORY_MIGRATIONS[:1])  # the schema before the summary
    import orjson

    conn.executemany(
        "INSERT INTO history_events (at, kind, fingerprint, labels, annotations, receiver, outcome,"
        " silence_id, actor, details) VALUES (?,?,?,?,?,?,?,?,?,?)",
        [
            (e.at, e.kind, e.fingerprint, orjson.dumps(e.labels or {}).decode(),
             orjson.dumps(e.annotations or {}).decode(), e.receiver, e.outcome, e.silence_id, e.actor,
             None if e.details is None else orjson.dumps(e.details).decode())
            for e in events
        ],
    )  # fmt: skip
    conn.close()
    storage = _open(f"sqlite://{tmp_path}")
    _run(storage.open())
    try:
        assert _compare_history(storage, events, 7) > 50
    finally:
        _run(storage.close())


def test_postgres_backfill(pg_url: str, loop: asyncio.AbstractEventLoop) -> None:
    events = make_events(8)
    storage = _run(_fill(pg_url, events, 8))
    _run(storage.close())

    async def forget_summary() -> None:
        import asyncpg

        conn = await asyncpg.connect(pg_url)
        await conn.execute(
            "TRUNCATE alert_occurrences, alert_occurrence_annotations, alert_fingerprints,"
            " alert_label_values; "
            " INSERT INTO history_summary_pending SELECT max(id) FROM history_events"
        )
        await conn.close()

    _run(forget_summary())
    storage = _open(pg_url)
    _run(storage.open())
    try:
        assert _compare_history(storage, events, 8) > 50
    finally:
        _run(storage.close())


def test_retention_keeps_the_summary_consistent(backend: str, loop: asyncio.AbstractEventLoop) -> None:
    events = make_events(3)
    storage = _run(_fill(backend, events, 3))
    try:
        cutoff = sorted(e.at for e in events)[len(events) // 2]
        deleted = 0
        while n := _run(storage.delete_history_before(cutoff, 17)):
            deleted += n
        assert deleted == sum(1 for e in events if e.at < cutoff)
        h = parse_history_query({"limit": ["1000"]})
        items = page_json(h, _run(storage.query_history(h, NOW)), NOW)["items"]
        assert items and all(i["endsAt"] is None or i["endsAt"] >= format_rfc3339nano(cutoff) for i in items)
        # the report's rollups lost what retention took, no more, no less
        report = report_json(_run(storage.history_report(None, None, 3, 3600.0)), None, None)
        assert report["occurrences"] == len(items)
        by_severity: dict[str, int] = {}
        for i in items:
            sev = i["labels"].get("severity", "")
            by_severity[sev] = by_severity.get(sev, 0) + 1
        assert report["counts"]["severity"] == dict(sorted(by_severity.items()))
        kept = [e for e in events if e.at >= cutoff]
        sent = sum(1 for e in kept if e.kind == "notify.sent" and e.receiver == "pager")
        assert report["notifications"].get("pager", {}).get("sent", 0) == sent
        # flapping now only counts the state changes that are left
        derived = oracle.derive(kept)
        for threshold in (0, 1, 2, 3):
            hq = parse_history_query(
                {"flapping": [str(threshold)], "flapping_window": ["3h"], "limit": ["1000"]}
            )
            got = {
                i["fingerprint"] for i in page_json(hq, _run(storage.query_history(hq, NOW)), NOW)["items"]
            }
            flapping = {fp for fp, ts in derived.changes.items() if max_changes(ts, 3 * 3600) > threshold}
            assert got == {i["fingerprint"] for i in items if i["fingerprint"] in flapping}
    finally:
        _run(storage.close())


def test_retention_forgets_label_values_and_appends_bring_them_back(
    backend: str, loop: asyncio.AbstractEventLoop
) -> None:
    def occurrence(fp: str, pod: str, at: int) -> list[HistoryEvent]:
        labels = {"alertname": "PodDown", "pod": pod}
        starts = {"startsAt": at, "endsAt": 0}
        return [
            HistoryEvent(at, "alert.firing", fp, labels, {}, details=starts),
            HistoryEvent(at + NS, "alert.resolved", fp, labels, {}, details=starts),
        ]

    def pods() -> set[str]:
        h = parse_history_query({"filter": ['pod=~"web-.*"'], "limit": ["100"]})
        return {i["labels"]["pod"] for i in page_json(h, _run(storage.query_history(h, NOW)), NOW)["items"]}

    storage = _run(
        _fill(
            backend,
            occurrence("00000000000000aa", "web-1", T0)
            + occurrence("00000000000000bb", "web-2", T0 + 3600 * NS),
            1,
        )
    )
    try:
        assert pods() == {"web-1", "web-2"}
        while _run(storage.delete_history_before(T0 + 60 * NS, 100)):
            pass
        # web-1's alert is gone from the history: so is its pod name, and only that
        assert _run(storage.prune_label_values()) == 1
        assert pods() == {"web-2"}
        assert _run(storage.prune_label_values()) == 0
        # the same pod name again: a value forgotten above is written again, not taken as known
        _run(storage.append_history(occurrence("00000000000000aa", "web-1", T0 + 7200 * NS)))
        assert pods() == {"web-1", "web-2"}
    finally:
        _run(storage.close())


def test_a_first_change_is_summarized_as_the_general_case_would() -> None:
    from ampp.store.sqlite.history import write as history_write

    t = T0 + 123
    fast: tuple[object, ...] = ("f", {}, 1, 1, t, [t], history_write._FIRST_SPANS)
    assert fast == history_write._fingerprint_row("f", {}, 1, *flap_state([t]))


def test_flap_spans() -> None:
    rng = random.Random(5)
    for _ in range(200):
        times = sorted(rng.sample(range(0, 10_000), rng.randrange(1, 80)))
        split = rng.randrange(0, len(times))
        recent, spans = flap_state(times[:split]) if split else ([], flap_state([])[1])
        recent, spans = add_changes(recent, spans, times[split:])
        assert (recent, spans) == flap_state(times)
        for w in (0, 10, 100, 1000):
            from ampp.store.history_common import changes_from_spans

            n = changes_from_spans(len(times), spans, w / NS)
            assert n is None or n == max_changes(times, w / NS)
