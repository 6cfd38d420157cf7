"""The Secrets Receivers refer to, followed by a watch each, so a rotated URL or token is
applied within a second rather than at the next resync.

Only those Secrets: one watch per referenced Secret, narrowed to it by a field selector on its
name, in the namespace of the Receivers that name it. The operator asks for ``get`` and
``watch`` on Secrets, never ``list``, and only where the chart binds them (the namespaces whose
Receivers may reference Secrets); a watch the API server refuses (403) makes its Receiver say
so, and is tried again every resync interval (logged once, not at every try).

Each watch starts with a GET of the Secret (its data, or that it does not exist), then
watches from the version it read, or from "now" when there was none: an ADDED event then
brings a Secret created after the GET. After an error it starts again the same way, so a
deletion missed while the watch was down is seen in the GET.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

import aiohttp

from .integrations import Unreadable
from .kube import KubeError, secret_data

__all__ = ["SecretRef", "SecretWatches", "unreadable"]

log = logging.getLogger("ampp.operator.secrets")

SecretRef = tuple[str, str]
"""(namespace, name) of a Secret."""


class Watcher(Protocol):
    """What the watches need from the API server (:class:`kube.Kube` in production)."""

    async def secret_object(self, namespace: str, name: str) -> dict[str, Any] | None: ...
    def watch(self, path: str, params: Mapping[str, str]) -> Any: ...


Changed = Callable[[SecretRef, Mapping[str, str] | Unreadable | None], None]
"""Called with a Secret's data (None: it does not exist; Unreadable: the operator may not read
it) whenever a watch reads it, sees it change, or is refused."""


def unreadable(ref: SecretRef, error: KubeError) -> Unreadable:
    """Why a Secret could not be read, as its Receiver's status says it."""
    if error.status == 403:
        return Unreadable(f"the operator may not read Secrets in namespace {ref[0]!r} (RBAC)")
    return Unreadable(f"the API server answered {error}")


class SecretWatches:
    def __init__(self, kube: Watcher, on_change: Changed, retry_after: float = 60.0) -> None:
        self.kube = kube
        self.on_change = on_change
        self.retry_after = retry_after
        """After a refusal (403): how long before trying again."""
        self._tasks: dict[SecretRef, asyncio.Task[None]] = {}

    def track(self, refs: Iterable[SecretRef]) -> None:
        """Watch exactly these Secrets: start the new ones, stop those no longer referenced."""
        wanted = set(refs)
        for ref in [r for r in self._tasks if r not in wanted]:
            self._tasks.pop(ref).cancel()
        for ref in sorted(wanted - self._tasks.keys()):
            self._tasks[ref] = asyncio.get_running_loop().create_task(
                self._follow(ref), name=f"watch Secret {ref[0]}/{ref[1]}"
            )

    @property
    def tracked(self) -> set[SecretRef]:
        return set(self._tasks)

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _follow(self, ref: SecretRef) -> None:
        namespace, name = ref
        path = f"/api/v1/namespaces/{namespace}/secrets"
        said = ""  # the last failure logged: the same one again is not news
        while True:
            try:
                await self._watch_once(ref, path)
                said = ""
                continue  # the server ended the watch (its timeout, or 410 Gone): start again
            except KubeError as e:
                delay = self.retry_after if e.status in (401, 403) else 2.0
                why = str(e)
                if e.status == 403:  # RBAC: its Receiver says so until it may
                    self.on_change(ref, unreadable(ref, e))
            except (OSError, TimeoutError, aiohttp.ClientError, ValueError) as e:
                delay, why = 2.0, f"the watch failed: {e}"
            (log.debug if why == said else log.warning)(
                "cannot watch Secret %s/%s (%s); trying again every %gs", namespace, name, why, delay
            )
            said = why
            await asyncio.sleep(delay)

    async def _watch_once(self, ref: SecretRef, path: str) -> None:
        """GET, then watch from what it read, until the watch ends."""
        namespace, name = ref
        found = await self.kube.secret_object(namespace, name)
        self.on_change(ref, None if found is None else secret_data(found))
        version = str((found or {}).get("metadata", {}).get("resourceVersion") or "")
        while True:
            params = {"fieldSelector": f"metadata.name={name}"}
            if version:
                params["resourceVersion"] = version
            async for event in self.kube.watch(path, params):
                kind = event.get("type")
                obj: dict[str, Any] = event.get("object") or {}
                if kind == "ERROR":
                    if obj.get("code") == 410:  # the version is too old: read afresh
                        return
                    raise KubeError(int(obj.get("code") or 500), str(obj.get("message") or obj))
                version = str(obj.get("metadata", {}).get("resourceVersion") or version)
                if kind in ("ADDED", "MODIFIED"):
                    self.on_change(ref, secret_data(obj))
                elif kind == "DELETED":
                    self.on_change(ref, None)
