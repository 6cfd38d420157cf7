"""The controller with a real engine and a fake API server: resources in, engine config and
silences out, status, Events and finalizers back - written only by the leader."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from ampp.engine import Engine, EngineOptions
from ampp.store.sqlite.storage import SQLiteStorage
from ampp_operator import names
from ampp_operator.controller import Controller
from ampp_operator.kube import KubeError
from ampp_operator.resources import Resource
from ampp_operator.settings import OperatorSettings

pytestmark = pytest.mark.unit

BASE = """
route:
  receiver: default
  group_by: [alertname]
receivers:
  - name: default
"""


class FakeKube:
    """Holds objects as the API server would, records every write."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.secrets: dict[tuple[str, str], dict[str, str]] = {}
        self.secret_reads: list[tuple[str, str]] = []
        self.forbidden: set[str] = set()
        """Namespaces whose Secrets this identity may not read."""
        self.status_patches: list[tuple[str, dict[str, Any]]] = []
        self.finalizer_writes: list[tuple[str, list[str]]] = []
        self.events: list[tuple[str, str, str]] = []
        self._uid = 0

    def add(self, kind: str, ns: str, name: str, spec: dict[str, Any], **meta: Any) -> dict[str, Any]:
        self._uid += 1
        body = {
            "metadata": {"namespace": ns, "name": name, "uid": f"uid-{self._uid}", "generation": 1,
                         "resourceVersion": "1", "creationTimestamp": "2020-01-01T00:00:00Z", **meta},
            "spec": spec,
        }  # fmt: skip
        self.objects[(kind, ns, name)] = body
        return body

    async def list_all(self, kind: names.Kind, namespace: str | None = None) -> list[dict[str, Any]]:
        return [b for (k, ns, _), b in self.objects.items() if k == kind.kind and namespace in (None, ns)]

    async def secret(self, namespace: str, name: str) -> dict[str, str] | None:
        if namespace in self.forbidden:
            raise KubeError(403, f'secrets "{name}" is forbidden')
        self.secret_reads.append((namespace, name))
        return self.secrets.get((namespace, name))

    async def patch_status(self, res: Resource, patch: Mapping[str, Any]) -> None:
        self.status_patches.append((str(res.ref), dict(patch["status"])))
        body = self.objects[(res.ref.kind, res.namespace, res.name)]
        body["status"] = {k: v for k, v in patch["status"].items() if v is not None}

    async def set_finalizers(self, res: Resource, finalizers: list[str]) -> None:
        self.finalizer_writes.append((str(res.ref), finalizers))
        self.objects[(res.ref.kind, res.namespace, res.name)]["metadata"]["finalizers"] = finalizers

    async def post_event(self, res: Resource, type_: str, reason: str, message: str, instance: str) -> None:
        self.events.append((str(res.ref), type_, reason))

    def status(self, kind: str, ns: str, name: str) -> dict[str, Any]:
        return dict(self.objects[(kind, ns, name)].get("status") or {})


@pytest.fixture
def base_file(tmp_path: Path) -> Path:
    p = tmp_path / "alertmanager.yml"
    p.write_text(BASE)
    return p


@pytest.fixture
async def engine(base_file: Path, tmp_path: Path) -> AsyncIterator[Engine]:
    e = Engine(EngineOptions(config_file=str(base_file), storage=SQLiteStorage(str(tmp_path / "data"))))
    await e.start()
    yield e
    await e.stop()


def controller(engine: Engine, kube: FakeKube, base_file: Path, **settings: Any) -> Controller:
    return Controller(engine, kube, OperatorSettings(debounce=0.0, **settings), str(base_file))


def accepted(kube: FakeKube, kind: str, ns: str, name: str) -> tuple[str, str]:
    (c,) = [c for c in kube.status(kind, ns, name)["conditions"] if c["type"] == "Accepted"]
    return c["status"], c["reason"]


async def test_initial_sync_applies_and_writes_status(engine: Engine, base_file: Path) -> None:
    kube = FakeKube()
    kube.secrets[("a", "hook")] = {"url": "http://hooks.example/a"}
    kube.add("Receiver", "a", "pager", {"webhookConfigs": [{"url": {"name": "hook", "key": "url"}}]})
    kube.add(
        "AlertRoute",
        "a",
        "crit",
        {"receiver": "pager", "matchers": [{"name": "severity", "value": "critical"}]},
    )
    kube.add("AlertRoute", "a", "lost", {"receiver": "nobody"})
    kube.add(
        "Silence",
        "a",
        "quiet",
        {"matchers": [{"name": "alertname", "value": "X"}], "duration": "20000d", "comment": "c"},
    )
    c = controller(engine, kube, base_file)
    await c.initial_sync()

    assert [r.receiver for r in engine.config.route.routes or []] == ["a/pager"]
    assert accepted(kube, "Receiver", "a", "pager") == ("True", "Valid")
    assert kube.status("Receiver", "a", "pager")["configName"] == "a/pager"
    assert accepted(kube, "AlertRoute", "a", "lost") == ("False", "ReceiverNotFound")
    sil = kube.status("Silence", "a", "quiet")
    assert sil["state"] == "active" and engine.silences.get(sil["silenceID"]) is not None
    assert engine.silences.owners == {sil["silenceID"]: "the Silence resource a/quiet"}
    assert kube.objects[("Silence", "a", "quiet")]["metadata"]["finalizers"] == [names.FINALIZER]
    assert ("AlertRoute a/lost", "Warning", "ReceiverNotFound") in kube.events
    assert ("Receiver a/pager", "Normal", "Accepted") in kube.events

    # Nothing changed: a second reconcile writes nothing and does not re-apply.
    patches, digest = len(kube.status_patches), c.applied_digest
    await c.reconcile()
    assert len(kube.status_patches) == patches and c.applied_digest == digest


async def test_changes_resolve_references_and_deletion_releases_the_finalizer(
    engine: Engine, base_file: Path
) -> None:
    kube = FakeKube()
    kube.add("AlertRoute", "a", "r", {"receiver": "late"})
    s = kube.add(
        "Silence",
        "a",
        "s",
        {"matchers": [{"name": "alertname", "value": "X"}], "duration": "20000d", "comment": "c"},
    )
    c = controller(engine, kube, base_file)
    await c.initial_sync()
    assert accepted(kube, "AlertRoute", "a", "r") == ("False", "ReceiverNotFound")

    body = kube.add("Receiver", "a", "late", {})
    c.observe("Receiver", "ADDED", body)
    await c.settle()
    assert accepted(kube, "AlertRoute", "a", "r") == ("True", "Valid")

    sid = kube.status("Silence", "a", "s")["silenceID"]
    gone = {**s, "metadata": {**s["metadata"], "deletionTimestamp": "2030-01-02T00:00:00Z",
                               "finalizers": [names.FINALIZER], "resourceVersion": "2"}}  # fmt: skip
    c.observe("Silence", "MODIFIED", gone)
    await c.settle()
    assert engine.silences.get(sid).ends_at <= engine.silences.get(sid).updated_at  # type: ignore[union-attr]
    assert kube.finalizer_writes[-1] == ("Silence a/s", [])


async def test_followers_apply_but_never_write(engine: Engine, base_file: Path) -> None:
    class NotLeading:
        is_leader = False

    kube = FakeKube()
    kube.add("Receiver", "a", "r", {})
    kube.add("AlertRoute", "a", "x", {"receiver": "r"})
    kube.add(
        "Silence",
        "a",
        "s",
        {"matchers": [{"name": "alertname", "value": "X"}], "duration": "20000d", "comment": "c"},
    )
    c = controller(engine, kube, base_file)
    c.elector = NotLeading()
    await c.initial_sync()
    assert [r.receiver for r in engine.config.route.routes or []] == ["a/r"]
    assert len([s for s in engine.silences.all() if s.state(0) != "expired"]) == 1
    assert kube.status_patches == [] and kube.events == [] and kube.finalizer_writes == []


async def test_reload_remerges_the_base_config(engine: Engine, base_file: Path) -> None:
    kube = FakeKube()
    kube.add("Receiver", "a", "r", {})
    kube.add("AlertRoute", "a", "x", {"receiver": "r"})
    c = controller(engine, kube, base_file)
    await c.initial_sync()
    base_file.write_text(BASE.replace("group_by: [alertname]", "group_by: [cluster]"))  # noqa: ASYNC240
    await c.reload()
    assert engine.config.route.group_by == ["cluster"]
    assert [r.receiver for r in engine.config.route.routes or []] == ["a/r"]  # still merged


async def test_watched_namespaces_only(engine: Engine, base_file: Path) -> None:
    kube = FakeKube()
    c = controller(engine, kube, base_file, namespaces=("a",))
    await c.initial_sync()
    c.observe("Receiver", "ADDED", kube.add("Receiver", "b", "r", {}))
    c.observe("Receiver", "ADDED", kube.add("Receiver", "a", "r", {}))
    await c.settle()
    assert [r.name for r in engine.config.alerting.receivers] == ["default", "a/r"]


async def test_secrets_come_from_their_watch_and_forbidden_ones_say_so(
    engine: Engine, base_file: Path
) -> None:
    """A Secret's watch delivers its changes (no re-read at each reconcile); one the operator
    may not read makes its Receiver SecretNotReadable rather than SecretNotFound."""
    kube = FakeKube()
    kube.secrets[("a", "hook")] = {"url": "http://hooks.example/a"}
    kube.forbidden.add("closed")
    kube.add("Receiver", "a", "pager", {"webhookConfigs": [{"url": {"name": "hook", "key": "url"}}]})
    kube.add("Receiver", "closed", "locked", {"webhookConfigs": [{"url": {"name": "hook", "key": "url"}}]})
    c = controller(engine, kube, base_file)
    await c.initial_sync()
    assert accepted(kube, "Receiver", "a", "pager") == ("True", "Valid")
    assert accepted(kube, "Receiver", "closed", "locked") == ("False", "SecretNotReadable")
    (cond,) = [
        x for x in kube.status("Receiver", "closed", "locked")["conditions"] if x["type"] == "Accepted"
    ]
    assert cond["message"] == (
        "webhookConfigs[0].url: cannot read Secret 'hook': "
        "the operator may not read Secrets in namespace 'closed' (RBAC)"
    )
    reads = len(kube.secret_reads)
    await c.reconcile()
    assert len(kube.secret_reads) == reads  # cached: nothing read again

    # The watch saw it rotate: the next reconcile applies the new URL.
    c.secret_changed(("a", "hook"), {"url": "http://hooks.example/rotated"})
    await c.settle()
    (pager,) = [r for r in engine.config.alerting.receivers if r.name == "a/pager"]
    assert str(pager.webhook_configs[0].url) == "http://hooks.example/rotated"
    assert len(kube.secret_reads) == reads
