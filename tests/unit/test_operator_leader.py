"""Lease leader election against an in-memory Lease API with resourceVersion conflicts:
one leader at a time, takeover after the lease runs out, immediate takeover on release."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest
from ampp_operator.kube import Kube, KubeError
from ampp_operator.leader import LeaderElector
from ampp_operator.settings import LeaseSettings

from tests.support.eventually import eventually_async

pytestmark = pytest.mark.unit


class FakeLeases:
    """The coordination.k8s.io Lease endpoints, with optimistic concurrency."""

    def __init__(self) -> None:
        self.lease: dict[str, Any] | None = None
        self.version = 0
        self.down = False

    async def request(self, method: str, path: str, *, body: Any = None, **_: Any) -> Any:
        await asyncio.sleep(0)
        if self.down:
            raise KubeError(503, "unavailable")
        if method == "GET":
            if self.lease is None:
                raise KubeError(404, "not found")
            return copy.deepcopy(self.lease)
        if method == "POST":
            if self.lease is not None:
                raise KubeError(409, "exists")
        elif method == "PUT":
            assert self.lease is not None
            if body["metadata"].get("resourceVersion") != self.lease["metadata"]["resourceVersion"]:
                raise KubeError(409, "conflict")
        self.version += 1
        self.lease = copy.deepcopy(body)
        self.lease["metadata"]["resourceVersion"] = str(self.version)
        return copy.deepcopy(self.lease)


def elector(api: FakeLeases, identity: str, changes: list[tuple[str, bool]]) -> LeaderElector:
    s = LeaseSettings("ns", "lease", identity, lease_duration=0.6, renew_deadline=0.4, retry_period=0.05)
    fake: Kube = api  # type: ignore[assignment]
    return LeaderElector(fake, s, lambda leading: changes.append((identity, leading)))


async def test_one_leader_then_release_then_takeover() -> None:
    api = FakeLeases()
    changes: list[tuple[str, bool]] = []
    a, b = elector(api, "a", changes), elector(api, "b", changes)
    tasks = [asyncio.create_task(a.run()), asyncio.create_task(b.run())]
    await asyncio.sleep(0.3)
    assert [a.is_leader, b.is_leader].count(True) == 1
    leader, follower = (a, b) if a.is_leader else (b, a)
    assert api.lease is not None and api.lease["spec"]["holderIdentity"] == leader.settings.identity
    await asyncio.sleep(0.5)  # renewals keep it
    assert leader.is_leader and not follower.is_leader

    await leader.release()
    await asyncio.sleep(0.2)  # an empty holder is taken at once, without waiting for expiry
    assert follower.is_leader and not leader.is_leader
    assert api.lease["spec"]["leaseTransitions"] == 1
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert (follower.settings.identity, True) in changes


async def test_a_silent_leader_loses_the_lease_and_stops_acting_first() -> None:
    api = FakeLeases()
    changes: list[tuple[str, bool]] = []
    a = elector(api, "a", changes)
    task_a = asyncio.create_task(a.run())
    await asyncio.sleep(0.15)
    assert a.is_leader
    task_a.cancel()  # a hangs: no more renewals
    await asyncio.gather(task_a, return_exceptions=True)
    b = elector(api, "b", changes)
    task_b = asyncio.create_task(b.run())
    await asyncio.sleep(0.45)
    assert not a.is_leader  # its renew deadline passed before b could take over
    assert not b.is_leader  # b waits for a whole lease duration (1 s, whole seconds) of silence
    await eventually_async(lambda: b.is_leader, "b to take the lease over", within=1.5)
    task_b.cancel()
    await asyncio.gather(task_b, return_exceptions=True)


async def test_api_errors_do_not_kill_the_elector() -> None:
    api = FakeLeases()
    a = elector(api, "a", [])
    api.down = True
    task = asyncio.create_task(a.run())
    await asyncio.sleep(0.15)
    assert not a.is_leader
    api.down = False
    await asyncio.sleep(0.15)
    assert a.is_leader
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
