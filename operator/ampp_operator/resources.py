"""The operator's view of one custom resource: what the handlers store and the rest reads.

A frozen snapshot of the parts of a resource that matter (identity, generation, spec, status,
finalizers, deletion), built from the raw body the API server sent. Code below the handlers
never touches raw bodies, so tests build resources with :func:`make` in one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Ref", "Resource", "Verdict", "make"]


@dataclass(frozen=True, order=True, slots=True)
class Ref:
    """Which resource: kind, namespace and name (sorts in a stable, readable order)."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


@dataclass(frozen=True)
class Resource:
    ref: Ref
    uid: str
    generation: int
    resource_version: str
    created: str
    """metadata.creationTimestamp (RFC 3339): the start of a Silence that gives none."""
    spec: Mapping[str, Any] = field(default_factory=dict)
    status: Mapping[str, Any] = field(default_factory=dict)
    finalizers: tuple[str, ...] = ()
    deleting: bool = False

    @property
    def namespace(self) -> str:
        return self.ref.namespace

    @property
    def name(self) -> str:
        return self.ref.name

    @classmethod
    def from_body(cls, kind: str, body: Mapping[str, Any]) -> Resource:
        meta = body.get("metadata") or {}
        return cls(
            ref=Ref(kind, str(meta.get("namespace", "")), str(meta.get("name", ""))),
            uid=str(meta.get("uid", "")),
            generation=int(meta.get("generation") or 0),
            resource_version=str(meta.get("resourceVersion", "")),
            created=str(meta.get("creationTimestamp", "")),
            spec=_plain(body.get("spec") or {}),
            status=_plain(body.get("status") or {}),
            finalizers=tuple(meta.get("finalizers") or ()),
            deleting=bool(meta.get("deletionTimestamp")),
        )

    def same_desire(self, other: Resource) -> bool:
        """Whether ``other`` asks for the same thing (only status or bookkeeping moved), so
        a watch event that carries it needs no new reconcile."""
        return (
            self.uid == other.uid
            and self.generation == other.generation
            and self.spec == other.spec
            and self.deleting == other.deleting
            and self.finalizers == other.finalizers
        )


def _plain(value: Any) -> Any:
    """Deep-copy kopf's read-only views into plain dicts and lists."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a resource made it into the running config, and why not."""

    accepted: bool
    reason: str
    message: str


def make(
    kind: str,
    namespace: str,
    name: str,
    spec: Mapping[str, Any],
    *,
    uid: str | None = None,
    generation: int = 1,
    created: str = "2030-01-01T00:00:00Z",
    status: Mapping[str, Any] | None = None,
    finalizers: tuple[str, ...] = (),
    deleting: bool = False,
) -> Resource:
    """A resource for tests and tools (uid derived from the name unless given)."""
    return Resource(
        ref=Ref(kind, namespace, name),
        uid=uid or f"uid-{kind}-{namespace}-{name}",
        generation=generation,
        resource_version="1",
        created=created,
        spec=_plain(spec),
        status=_plain(status or {}),
        finalizers=finalizers,
        deleting=deleting,
    )
