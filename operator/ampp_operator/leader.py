"""Leader election with a coordination.k8s.io Lease, as client-go's leaderelection does.

Why not kopf's peering: a kopf replica that is not the leader pauses all its handlers, and
then its embedded engine would stop following the resources. Here every replica watches and
applies the config; only the one holding the Lease writes: status, Events, finalizers. The
writes are idempotent and derived from the resources alone, so a new leader simply rewrites
whatever is stale.

The algorithm: a holder renews ``renewTime`` every ``renew_period``; another replica takes
the Lease over once it has seen the same record unchanged for ``lease_duration`` (measured
on its own monotonic clock, so clock skew between nodes does not matter). Updates carry the
resourceVersion, so two candidates cannot both win. A leader that could not renew within
``renew_deadline`` stops acting as leader before anyone else may take over.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from .kube import Kube, KubeError, now_micro
from .settings import LeaseSettings

__all__ = ["LeaderElector", "LeaseSettings"]

log = logging.getLogger("ampp.operator.leader")


class LeaderElector:
    def __init__(
        self, kube: Kube, settings: LeaseSettings, on_change: Callable[[bool], None] | None = None
    ) -> None:
        self.kube = kube
        self.settings = settings
        self.on_change = on_change
        self._leader_until = 0.0  # monotonic deadline of our current term
        self._was_leader = False
        self._observed: tuple[str, str] | None = None  # (holder, renewTime) last seen
        self._observed_at = 0.0
        self._stopped = False

    @property
    def is_leader(self) -> bool:
        return time.monotonic() < self._leader_until

    @property
    def path(self) -> str:
        s = self.settings
        return f"/apis/coordination.k8s.io/v1/namespaces/{s.namespace}/leases/{s.name}"

    async def run(self) -> None:
        """Try to acquire or renew forever (until cancelled)."""
        while not self._stopped:
            started = time.monotonic()
            try:
                if await self._try():
                    self._leader_until = started + self.settings.renew_deadline
            except (TimeoutError, KubeError, OSError) as e:
                log.warning("leader election: %s", e)
            except Exception:  # never let the elector die
                log.exception("leader election failed")
            self._notify()
            await asyncio.sleep(self.settings.retry_period)

    def _notify(self) -> None:
        now = self.is_leader
        if now != self._was_leader:
            self._was_leader = now
            log.info("%s leader (lease %s/%s, identity %s)", "became" if now else "stopped being",
                     self.settings.namespace, self.settings.name, self.settings.identity)  # fmt: skip
            if self.on_change is not None:
                self.on_change(now)

    async def _try(self) -> bool:
        s = self.settings
        try:
            lease = await self.kube.request("GET", self.path)
        except KubeError as e:
            if e.status != 404:
                raise
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": s.name, "namespace": s.namespace},
                "spec": self._spec(transitions=0, acquire=True),
            }
            try:
                await self.kube.request("POST", self.path.rsplit("/", 1)[0], body=body)
            except KubeError as e2:
                if e2.status == 409:
                    return False
                raise
            return True
        spec: dict[str, Any] = lease.get("spec") or {}
        holder = str(spec.get("holderIdentity") or "")
        record = (holder, str(spec.get("renewTime") or ""))
        now = time.monotonic()
        if record != self._observed:
            self._observed, self._observed_at = record, now
        duration = float(spec.get("leaseDurationSeconds") or s.lease_duration)
        transitions = int(spec.get("leaseTransitions") or 0)
        if holder == s.identity:
            new_spec = {**spec, **self._spec(transitions, acquire=False)}
        elif not holder or now - self._observed_at > duration:
            new_spec = self._spec(transitions + 1, acquire=True)
        else:
            return False
        lease["spec"] = new_spec
        try:
            await self.kube.request("PUT", self.path, body=lease)
        except KubeError as e:
            if e.status == 409:  # someone else wrote first
                return False
            raise
        return True

    def _spec(self, transitions: int, acquire: bool) -> dict[str, Any]:
        now = now_micro()
        spec: dict[str, Any] = {
            "holderIdentity": self.settings.identity,
            "leaseDurationSeconds": max(1, round(self.settings.lease_duration)),
            "renewTime": now,
            "leaseTransitions": transitions,
        }
        if acquire:
            spec["acquireTime"] = now
        return spec

    async def release(self) -> None:
        """Give the Lease up on shutdown, so another replica takes over at once."""
        self._stopped = True
        if not self.is_leader:
            return
        self._leader_until = 0.0
        try:
            lease = await self.kube.request("GET", self.path)
            if (lease.get("spec") or {}).get("holderIdentity") == self.settings.identity:
                spec = lease["spec"]
                lease["spec"] = {
                    **spec,
                    "holderIdentity": "",
                    "leaseDurationSeconds": 1,
                    "renewTime": now_micro(),
                }
                await self.kube.request("PUT", self.path, body=lease)
        except (TimeoutError, KubeError, OSError) as e:
            log.warning("could not release the lease: %s", e)
