"""A small Kubernetes API client on aiohttp, for what kopf does not do for us.

kopf watches; this writes status, finalizers, Events and Leases, and reads Secrets and the
initial listing. It authenticates with the same :class:`kopf.ConnectionInfo` kopf logs in
with (kubeconfig or in-cluster service account), and logs in again once on a 401, which is
how a rotated service-account token is picked up.
"""

from __future__ import annotations

import base64
import json
import logging
import ssl
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

import aiohttp
import kopf
from ampp import __version__

from . import names
from .resources import Resource

__all__ = ["WATCH_SECONDS", "Kube", "KubeError", "Requests", "now_rfc3339", "secret_data"]

log = logging.getLogger("ampp.operator.kube")

MERGE_PATCH = "application/merge-patch+json"
USER_AGENT = f"{names.COMPONENT}/{__version__}"
FIELD_MANAGER = {"fieldManager": names.COMPONENT}
"""Every write names the operator as its field manager, so managedFields show what it owns."""


class Requests(Protocol):
    """What a component that only reads Secrets and sends requests needs of :class:`Kube`."""

    async def secret_object(self, namespace: str, name: str) -> dict[str, Any] | None: ...

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Any: ...


class KubeError(Exception):
    """The API server refused a request; ``status`` is the HTTP status code."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


WATCH_SECONDS = 300
"""How long the API server keeps one watch request open (then it is made again)."""


def secret_data(obj: Mapping[str, Any]) -> dict[str, str]:
    """A Secret object's data, decoded."""
    out = {k: base64.b64decode(v).decode("utf-8", "replace") for k, v in (obj.get("data") or {}).items()}
    out.update(obj.get("stringData") or {})
    return out


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_micro() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def resource_path(kind: names.Kind, namespace: str | None = None, name: str | None = None) -> str:
    base = f"/apis/{names.GROUP}/{names.VERSION}"
    path = f"{base}/namespaces/{namespace}/{kind.plural}" if namespace else f"{base}/{kind.plural}"
    return f"{path}/{name}" if name else path


class Kube:
    """One aiohttp session to the API server."""

    def __init__(self, login: Callable[[], kopf.ConnectionInfo], timeout: float = 30.0) -> None:
        self._login = login
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._info: kopf.ConnectionInfo | None = None
        self._ssl: ssl.SSLContext | bool = True
        self._session: aiohttp.ClientSession | None = None

    @property
    def info(self) -> kopf.ConnectionInfo:
        if self._info is None:
            self._relogin()
        assert self._info is not None
        return self._info

    def refresh(self) -> kopf.ConnectionInfo:
        """Log in again (a rotated token) and return the new credentials."""
        self._relogin()
        return self.info

    def _relogin(self) -> None:
        self._info = self._login()
        self._ssl = self._info.as_ssl_context() if self._info.server.startswith("https") else False

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Any:
        """Send one request; return the decoded JSON body; raise :class:`KubeError`."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        for attempt in (1, 2):
            info = self.info
            headers = {"Accept": "application/json", "User-Agent": USER_AGENT, **info.as_http_headers()}
            if body is not None:
                headers["Content-Type"] = content_type
            async with self._session.request(
                method,
                info.server.rstrip("/") + path,
                json=body,
                params=params,
                headers=headers,
                ssl=self._ssl,
            ) as resp:
                if resp.status == 401 and attempt == 1:
                    self._relogin()
                    continue
                data = await resp.json(content_type=None) if resp.content_length != 0 else None
                if resp.status >= 400:
                    message = data.get("message", "") if isinstance(data, dict) else str(data)
                    raise KubeError(resp.status, message)
                return data
        raise AssertionError("unreachable")

    async def watch(self, path: str, params: Mapping[str, str]) -> AsyncIterator[dict[str, Any]]:
        """One watch request on ``path``: its events (``{"type", "object"}``, bookmarks too)
        until the server ends it after ``WATCH_SECONDS``; raises :class:`KubeError`."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        query = {**params, "watch": "1", "allowWatchBookmarks": "true", "timeoutSeconds": str(WATCH_SECONDS)}
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=WATCH_SECONDS + 30)
        for attempt in (1, 2):
            info = self.info
            headers = {"Accept": "application/json", "User-Agent": USER_AGENT, **info.as_http_headers()}
            async with self._session.get(
                info.server.rstrip("/") + path, params=query, headers=headers, ssl=self._ssl, timeout=timeout
            ) as resp:
                if resp.status == 401 and attempt == 1:
                    self._relogin()
                    continue
                if resp.status >= 400:
                    data = await resp.json(content_type=None) if resp.content_length != 0 else None
                    message = data.get("message", "") if isinstance(data, dict) else str(data)
                    raise KubeError(resp.status, message)
                pending = b""
                async for chunk in resp.content.iter_any():  # lines can be longer than readline allows
                    pending += chunk
                    *lines, pending = pending.split(b"\n")
                    for line in lines:
                        if line.strip():
                            yield json.loads(line)
                return

    # -- custom resources -------------------------------------------------------------------

    async def list_all(self, kind: names.Kind, namespace: str | None = None) -> list[dict[str, Any]]:
        """Every object of a kind (in one namespace, or cluster-wide), following pagination."""
        items: list[dict[str, Any]] = []
        params = {"limit": "500"}
        while True:
            data = await self.request("GET", resource_path(kind, namespace), params=params)
            items.extend(data.get("items") or [])
            token = (data.get("metadata") or {}).get("continue")
            if not token:
                return items
            params = {"limit": "500", "continue": token}

    async def patch_status(self, res: Resource, patch: Mapping[str, Any]) -> None:
        kind = names.BY_KIND[res.ref.kind]
        path = resource_path(kind, res.namespace, res.name) + "/status"
        await self.request("PATCH", path, body=patch, params=FIELD_MANAGER, content_type=MERGE_PATCH)

    async def set_finalizers(self, res: Resource, finalizers: list[str]) -> None:
        """Replace metadata.finalizers, only if the object is still the version we saw
        (the resourceVersion makes the merge patch fail with 409 otherwise)."""
        kind = names.BY_KIND[res.ref.kind]
        body = {"metadata": {"finalizers": finalizers, "resourceVersion": res.resource_version}}
        path = resource_path(kind, res.namespace, res.name)
        await self.request("PATCH", path, body=body, params=FIELD_MANAGER, content_type=MERGE_PATCH)

    # -- core -------------------------------------------------------------------------------

    async def secret(self, namespace: str, name: str) -> dict[str, str] | None:
        """A Secret's data, decoded (None if it does not exist)."""
        found = await self.secret_object(namespace, name)
        return None if found is None else secret_data(found)

    async def secret_object(self, namespace: str, name: str) -> dict[str, Any] | None:
        """A Secret as the API server sends it (None if it does not exist)."""
        try:
            found: dict[str, Any] = await self.request(
                "GET", f"/api/v1/namespaces/{namespace}/secrets/{name}"
            )
        except KubeError as e:
            if e.status == 404:
                return None
            raise
        return found

    async def post_event(self, res: Resource, type_: str, reason: str, message: str, instance: str) -> None:
        """A core/v1 Event about ``res`` (what ``kubectl describe`` shows)."""
        now = now_rfc3339()
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": f"{res.name}.", "namespace": res.namespace},
            "involvedObject": {
                "apiVersion": names.API_VERSION,
                "kind": res.ref.kind,
                "namespace": res.namespace,
                "name": res.name,
                "uid": res.uid,
                "resourceVersion": res.resource_version,
            },
            "type": type_,
            "reason": reason,
            "message": message[:1024],
            "source": {"component": names.COMPONENT},
            "reportingComponent": names.COMPONENT,
            "reportingInstance": instance[:128],
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        await self.request(
            "POST", f"/api/v1/namespaces/{res.namespace}/events", body=event, params=FIELD_MANAGER
        )
