"""Silence resources -> engine silences: deterministic marked ids, the window every replica
computes alike, the plan (no churn), and a sync that leaves API-made silences alone."""

from __future__ import annotations

import uuid

import pytest
from ampp.model.matchers import MatchType, new_matcher
from ampp.model.silence import Silence
from ampp.model.timefmt import NS, parse_rfc3339
from ampp.mute.silences import Silences
from ampp_operator import silences
from ampp_operator.resources import make
from ampp_operator.translate import Rejected

pytestmark = pytest.mark.unit

CREATED = "2030-01-01T00:00:00Z"
T0 = parse_rfc3339(CREATED)
M = [{"name": "alertname", "value": "Foo", "matchType": "="}]


def desired(spec: dict[str, object], enforce: bool = True, uid: str = "uid-1") -> silences.DesiredSilence:
    r = make("Silence", "team-a", "s", {"matchers": M, "comment": "why", **spec}, uid=uid, created=CREATED)
    return silences.desired_silence(r, enforce=enforce)


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def test_ids_are_deterministic_marked_uuids() -> None:
    a, b = silences.silence_id("uid-1"), silences.silence_id("uid-2")
    assert a == silences.silence_id("uid-1") and a != b
    u = uuid.UUID(a)
    assert u.version == 8 and u.variant == uuid.RFC_4122 and a.endswith("-616d70700001")
    assert silences.is_operator_silence(a)
    assert not silences.is_operator_silence(str(uuid.uuid4()))
    assert not silences.is_operator_silence("not-a-uuid")


def test_duration_counts_from_creation_and_namespace_is_enforced() -> None:
    d = desired({"duration": "2h"})
    assert (d.starts_at, d.ends_at) == (T0, T0 + 2 * 3600 * NS)
    assert d.id == silences.silence_id("uid-1")
    assert [str(m) for m in d.matchers] == ['namespace="team-a"', 'alertname="Foo"']
    assert d.created_by == "team-a/s" and d.comment == "why"
    assert silences.matchers_text(d.matchers) == '{namespace="team-a", alertname="Foo"}'
    loose = desired({"duration": "2h", "createdBy": "alice"}, enforce=False)
    assert [str(m) for m in loose.matchers] == ['alertname="Foo"'] and loose.created_by == "alice"


def test_explicit_window() -> None:
    d = desired({"startsAt": "2030-02-01T00:00:00+01:00", "endsAt": "2030-02-01T01:00:00Z"})
    assert d.starts_at == parse_rfc3339("2030-01-31T23:00:00Z")
    assert d.ends_at == parse_rfc3339("2030-02-01T01:00:00Z")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({}, "one of endsAt or duration is required"),
        ({"endsAt": "2029-12-31T00:00:00Z"}, "endsAt must be after startsAt"),
        ({"duration": "soon"}, 'not a valid duration string: "soon"'),
        ({"duration": "1h", "matchers": [{"name": "a", "value": "", "matchType": "="}]},
         "silence invalid: at least one matcher must not match the empty string"),
        ({"duration": "1h", "matchers": [{"name": "a", "value": "[", "matchType": "=~"}]},
         "error parsing regexp"),
    ],
)  # fmt: skip
def test_rejected(spec: dict[str, object], message: str) -> None:
    with pytest.raises(Rejected, match=message.replace("[", r"\[")):
        desired(spec, enforce=False)


def test_plan() -> None:
    d = desired({"duration": "1h"})
    now = T0 + 10 * NS
    assert silences.plan(d, None, now).kind == "set"
    # The engine moved the start to when it created the silence: still the same silence.
    existing = d.to_silence(starts_at=T0 + 5 * NS)
    assert silences.plan(d, existing, now).kind == "none"
    # A new end: set, keeping the active silence's start so it is updated in place.
    longer = desired({"duration": "2h"})
    action = silences.plan(longer, existing, now)
    assert action.kind == "set" and action.silence is not None
    assert (action.silence.starts_at, action.silence.ends_at) == (T0 + 5 * NS, longer.ends_at)
    # Expired by someone through the API: put back.
    expired = d.to_silence()
    expired.ends_at = now - NS
    assert silences.plan(d, expired, now).kind == "set"
    # Past its end: recorded as an expired silence while the retention keeps expired ones;
    # a live copy is expired.
    late = T0 + 90 * 60 * NS
    recorded = silences.plan(d, None, late, retention_ns=3600 * NS)
    assert recorded.kind == "set" and recorded.silence is not None
    assert (recorded.silence.starts_at, recorded.silence.ends_at) == (d.starts_at, d.ends_at)
    assert silences.plan(d, None, late, retention_ns=0).kind == "none"  # the retention is over
    assert silences.plan(d, recorded.silence, late, retention_ns=3600 * NS).kind == "none"
    assert silences.plan(None, existing, now).kind == "expire"
    assert silences.plan(None, expired, now).kind == "none"


def test_next_transition() -> None:
    d = desired({"startsAt": "2030-01-01T01:00:00Z", "duration": "1h"})
    assert silences.next_transition({d.id: d}, T0) == T0 + 3600 * NS
    assert silences.next_transition({d.id: d}, T0 + 3601 * NS) == T0 + 7200 * NS
    assert silences.next_transition({d.id: d}, T0 + 7201 * NS) is None


async def test_sync_creates_updates_expires_and_leaves_api_silences_alone() -> None:
    clock = Clock(T0 + NS)
    store = Silences(now=clock)
    by_hand = Silence(
        "", [new_matcher("alertname", MatchType.EQUAL, "Bar")], T0, T0 + 3600 * NS, 0, "amtool", "x"
    )
    hand_id = await store.set(by_hand)
    d1 = desired({"duration": "1h"})
    d2 = desired({"duration": "1h"}, uid="uid-2")
    await silences.sync(store, {d1.id: d1, d2.id: d2}, clock())
    assert silences.observe(store, d1, clock()).state == "active"
    assert silences.observe(store, d2, clock()).state == "active"
    version = store.version
    await silences.sync(store, {d1.id: d1, d2.id: d2}, clock())
    assert store.version == version  # nothing to do: nothing done

    clock.now += 60 * NS
    d1b = desired({"duration": "3h"})
    await silences.sync(store, {d1.id: d1b}, clock())
    s1 = store.get(d1.id)
    assert s1 is not None and s1.ends_at == d1b.ends_at and s1.state(clock()) == "active"
    clock.now += 1  # an end equal to now still counts as active (upstream's getState)
    assert store.get(d2.id).state(clock()) == "expired"  # type: ignore[union-attr]  # its resource is gone
    assert store.get(hand_id).state(clock()) == "active"  # type: ignore[union-attr]  # not ours: untouched


async def test_a_window_in_the_past_is_kept_as_an_expired_silence() -> None:
    """Not pending for ever, not absent: the engine holds it, expired, with its own times;
    its status says expired even once the retention dropped it."""
    clock = Clock(T0 + 10 * 3600 * NS)
    store = Silences(now=clock, retention_s=24 * 3600)
    d = desired({"startsAt": "2030-01-01T01:00:00Z", "endsAt": "2030-01-01T02:00:00Z"})
    assert await silences.sync(store, {d.id: d}, clock()) == {}
    held = store.get(d.id)
    assert held is not None and held.state(clock()) == "expired"
    assert (held.starts_at, held.ends_at) == (d.starts_at, d.ends_at)
    assert silences.observe(store, d, clock()) == silences.Observed("expired", d.starts_at, d.ends_at)
    clock.now += 48 * 3600 * NS
    store.gc()
    assert store.get(d.id) is None
    await silences.sync(store, {d.id: d}, clock())
    assert store.get(d.id) is None  # not written again to be dropped again
    assert silences.observe(store, d, clock()).state == "expired"


async def test_observed_times_follow_the_engine_after_a_change() -> None:
    """A change of matchers re-creates the active silence: it starts when that happened."""
    clock = Clock(T0 + 10 * NS)
    store = Silences(now=clock)
    d = desired({"duration": "1h"})
    await silences.sync(store, {d.id: d}, clock())
    clock.now += 60 * NS
    r = make(
        "Silence", "team-a", "s",
        {"matchers": [*M, {"name": "severity", "value": "page"}], "comment": "why", "duration": "1h"},
        uid="uid-1", created=CREATED,
    )  # fmt: skip
    changed = silences.desired_silence(r, enforce=True)
    await silences.sync(store, {d.id: changed}, clock())
    seen = silences.observe(store, changed, clock())
    assert (seen.state, seen.starts_at, seen.ends_at) == ("active", clock(), changed.ends_at)
    assert changed.starts_at == T0  # what the resource says: not when the silence started
