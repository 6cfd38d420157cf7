"""Silence states and Alertmanager's rules for updating in place versus replacing."""

from __future__ import annotations

import pytest
from ampp.model.matchers import MatchType, new_matcher
from ampp.model.silence import Silence, SilenceState
from ampp.model.timefmt import NS
from ampp.mute.marker import Marker
from ampp.mute.silencer import Silencer
from ampp.mute.silences import SilenceInvalid, SilenceNotFound, SilenceOwned, Silences

pytestmark = pytest.mark.unit

T0 = 1_700_000_000 * NS


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now


def sil(start: int, end: int, value: str = "a", sid: str = "") -> Silence:
    return Silence(sid, [new_matcher("alertname", MatchType.EQUAL, value)], start, end, 0, "me", "why")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> Silences:
    return Silences(retention_s=3600, now=clock)


async def test_states(store: Silences, clock: Clock) -> None:
    sid = await store.set(sil(T0 + 10 * NS, T0 + 20 * NS))
    s = store.get(sid)
    assert s is not None and s.state(clock()) == "pending"
    assert s.state(T0 + 15 * NS) == "active"
    assert s.state(T0 + 21 * NS) == "expired"


async def test_start_in_the_past_is_moved_to_now(store: Silences) -> None:
    sid = await store.set(sil(T0 - 100 * NS, T0 + 100 * NS))
    assert store.get(sid).starts_at == T0  # type: ignore[union-attr]


async def test_extending_an_active_silence_updates_in_place(store: Silences, clock: Clock) -> None:
    sid = await store.set(sil(T0, T0 + 100 * NS))
    clock.now += 10 * NS
    same = await store.set(sil(T0, T0 + 500 * NS, sid=sid))
    assert same == sid and store.get(sid).ends_at == T0 + 500 * NS  # type: ignore[union-attr]


async def test_changing_matchers_replaces_and_expires_the_old(store: Silences, clock: Clock) -> None:
    sid = await store.set(sil(T0, T0 + 100 * NS))
    clock.now += 10 * NS
    new = await store.set(sil(T0, T0 + 100 * NS, value="b", sid=sid))
    assert new != sid
    clock.now += 1  # an end time equal to now still counts as active, as upstream's getState
    assert store.get(sid).state(clock()) == "expired"  # type: ignore[union-attr]
    assert store.get(new).state(clock()) == "active"  # type: ignore[union-attr]


async def test_moving_the_start_of_an_active_silence_replaces_it(store: Silences, clock: Clock) -> None:
    sid = await store.set(sil(T0, T0 + 100 * NS))
    clock.now += 10 * NS
    assert await store.set(sil(T0 + 5 * NS, T0 + 100 * NS, sid=sid)) != sid


async def test_expire(store: Silences, clock: Clock) -> None:
    active = await store.set(sil(T0, T0 + 100 * NS))
    pending = await store.set(sil(T0 + 50 * NS, T0 + 100 * NS, value="p"))
    clock.now += NS
    await store.expire(active)
    await store.expire(pending)
    assert store.get(active).ends_at == clock.now  # type: ignore[union-attr]
    assert store.get(pending).starts_at == store.get(pending).ends_at == clock.now  # type: ignore[union-attr]
    clock.now += NS
    await store.expire(active)  # expiring twice is fine and changes nothing
    assert store.get(active).ends_at == clock.now - NS  # type: ignore[union-attr]
    with pytest.raises(SilenceNotFound):
        await store.expire("nope")
    with pytest.raises(SilenceNotFound):
        await store.set(sil(T0, T0 + NS, sid="nope"))


async def test_validation(store: Silences) -> None:
    empty = Silence("", [new_matcher("a", MatchType.REGEX, ".*")], T0, T0 + NS)
    with pytest.raises(SilenceInvalid, match="at least one matcher must not match the empty string"):
        await store.set(empty)


async def test_gc_after_retention(store: Silences, clock: Clock) -> None:
    sid = await store.set(sil(T0, T0 + NS))
    clock.now = T0 + NS + 3600 * NS
    assert store.gc() == [sid] and store.get(sid) is None


async def test_silencer_marks_and_follows_the_clock(store: Silences, clock: Clock) -> None:
    marker = Marker()
    silencer = Silencer(store, marker)
    sid = await store.set(sil(T0 + 10 * NS, T0 + 20 * NS))
    labels = {"alertname": "a"}
    assert not silencer.mutes(labels)
    assert marker.status(0).state == "unprocessed"
    clock.now = T0 + 15 * NS  # no silence changed: the cached pending id becomes active
    assert silencer.mutes(labels)
    from ampp.model.fingerprint import fingerprint

    status = marker.status(fingerprint(labels))
    assert status.silenced_by == [sid] and status.state == "suppressed"
    clock.now = T0 + 30 * NS
    assert not silencer.mutes(labels)


class CountingSilence(Silence):
    """A silence that counts how often it is looked at (its state asked)."""

    checks = 0

    def state(self, now: int) -> SilenceState:
        CountingSilence.checks += 1
        return super().state(now)


async def test_matching_reads_only_silences_not_expired(store: Silences, clock: Clock) -> None:
    """Expired silences are kept for retention but never matched: under sustained silence churn
    they outnumber the live ones a hundred to one (issue 21's soak: 84 % of the engine's time)."""
    expired = [
        CountingSilence(f"old{i}", sil(0, 0).matchers, T0 - 10 * NS, T0 - NS, 0, "me", "") for i in range(50)
    ]
    store.load(expired)
    soon = await store.set(sil(T0, T0 + 5 * NS, "a"))
    later = await store.set(sil(T0 + 2 * NS, T0 + 60 * NS, "a"))
    assert store.matching({"alertname": "a"}) == ([soon], [later])
    CountingSilence.checks = 0
    for i in range(100):  # alert after alert, as a flush mutes them
        assert store.matching({"alertname": "a", "i": str(i)}) == ([soon], [later])
    assert CountingSilence.checks == 0, "expired silences were looked at for every alert"
    clock.now = T0 + 3 * NS  # the pending one starts
    assert store.matching({"alertname": "a"}) == ([soon, later], [])
    clock.now = T0 + 6 * NS  # the first one ends by time, with no change to the store
    assert store.matching({"alertname": "a"}) == ([later], [])
    await store.expire(later)
    clock.now += 1  # expired once its (new) end has passed
    assert store.matching({"alertname": "a"}) == ([], [])


async def test_matching_asks_only_the_silences_an_alert_can_match(store: Silences, clock: Clock) -> None:
    """Silences are indexed by one of their equality matchers: an alert is checked against those
    its labels hold the value of, and those without such a matcher (regex, not-equal, or an
    equality with "", which a missing label matches too), in the order they were stored."""
    by_instance = [
        CountingSilence(f"host{i}", [new_matcher("instance", MatchType.EQUAL, f"h{i}")], T0, T0 + 60 * NS)
        for i in range(100)
    ]
    store.load(by_instance)
    regex = Silence("", [new_matcher("instance", MatchType.REGEX, "h1.*")], T0, T0 + 60 * NS)
    missing_team = Silence(
        "",
        [new_matcher("team", MatchType.EQUAL, ""), new_matcher("job", MatchType.NOT_EQUAL, "x")],
        T0,
        T0 + 60 * NS,
    )
    regex_id = await store.set(regex)
    missing_id = await store.set(missing_team)
    two_matchers = await store.set(
        Silence(
            "",
            [new_matcher("job", MatchType.EQUAL, "node"), new_matcher("instance", MatchType.EQUAL, "h1")],
            T0,
            T0 + 60 * NS,
        )
    )
    store.matching({})  # lists the unexpired silences once (each asked its state)
    CountingSilence.checks = 0
    assert store.matching({"instance": "h1", "job": "node"}) == (
        ["host1", regex_id, missing_id, two_matchers],
        [],
    )
    assert CountingSilence.checks == 1, "every indexed silence was looked at"
    assert store.matching({"instance": "h1", "job": "other", "team": "a"}) == (["host1", regex_id], [])
    assert store.matching({"instance": "h2", "job": "x"}) == (["host2"], [])
    assert store.matching({"alertname": "a", "job": "x"}) == ([], [])
    assert store.matching({"alertname": "a"}) == ([missing_id], [])


async def test_owned_silences_are_refused_to_the_api(store: Silences) -> None:
    """A silence another source keeps (the operator's Silence resources) is named with its
    owner when the API would change it; the owner itself goes through set_with_id."""
    sid = await store.set(sil(T0, T0 + 3600 * NS))
    store.check_editable(sid)  # nobody owns it
    store.owners[sid] = "the Silence resource team-a/maintenance"
    with pytest.raises(
        SilenceOwned, match=f"silence {sid} belongs to the Silence resource team-a/maintenance"
    ):
        store.check_editable(sid)
    assert isinstance(SilenceOwned("x"), SilenceInvalid)  # the API's 400 for POST, 500 for DELETE


async def test_a_window_that_has_ended_is_kept_by_its_owner(store: Silences, clock: Clock) -> None:
    """set_with_id records a window wholly in the past as it is: an expired silence (moving its
    start to now, as for a live one, would put the start after the end)."""
    past = sil(T0 - 7200 * NS, T0 - 3600 * NS, sid="11111111-1111-8111-8111-616d70700001")
    await store.set_with_id(past)
    held = store.get(past.id)
    assert held is not None and held.state(clock()) == "expired"
    assert (held.starts_at, held.ends_at) == (T0 - 7200 * NS, T0 - 3600 * NS)
