"""kopf wiring: watch the five kinds and feed every event to the controller.

Handlers are ``async``: kopf runs sync handlers in a thread pool, and the controller's state
belongs to the event loop.

Only ``on.event`` handlers: they receive every watch event (``None`` for the initial listing,
``ADDED``, ``MODIFIED``, ``DELETED``) and make kopf write nothing - no progress annotations,
no finalizers of its own - so the operator never changes what GitOps tools compare, and every
replica can watch without stepping on the others. All writes are the controller's, made by
the elected leader.
"""

from __future__ import annotations

import logging
from typing import Any

import kopf

from . import names
from .controller import Controller
from .kube import Kube

__all__ = ["QuietRefusals", "build_registry", "kopf_settings", "webhook_server"]

log = logging.getLogger("ampp.operator.admission")


class QuietRefusals(logging.Filter):
    """kopf logs every refused admission as an error of the operator; it is the user's
    mistake, already answered to kubectl and logged by the handler at info level."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = str(record.msg)
        return not (msg.startswith("Webhook ") and "failed permanently" in msg)


def build_registry(controller: Controller, kube: Kube, *, admission: bool = False) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()

    @kopf.on.login(registry=registry)
    async def login(**_: Any) -> kopf.ConnectionInfo:
        # kopf asks at start and after a 401: log in afresh (a rotated service-account token),
        # which the controller's own requests then use too.
        return kube.refresh()

    for kind in names.KINDS:
        _watch(registry, controller, kind)
        if admission:
            _validate(registry, controller, kind)
    return registry


def _watch(registry: kopf.OperatorRegistry, controller: Controller, kind: names.Kind) -> None:
    @kopf.on.event(names.GROUP, names.VERSION, kind.plural, registry=registry, id=f"watch-{kind.plural}")
    async def on_event(event: kopf.RawEvent, body: kopf.Body, **_: Any) -> None:
        controller.observe(kind.kind, event.get("type"), body)


def _validate(registry: kopf.OperatorRegistry, controller: Controller, kind: names.Kind) -> None:
    """The admission webhook for one kind, served at ``/validate-<plural>``."""

    @kopf.on.validate(
        names.GROUP, names.VERSION, kind.plural, registry=registry, id=f"validate-{kind.plural}",
        operations=["CREATE", "UPDATE"],
    )  # fmt: skip
    async def validate(body: kopf.Body, warnings: list[str], **kwargs: Any) -> None:
        old = kwargs.get("old")  # the stored object, on UPDATE
        if old is not None and old.get("spec") == body.get("spec"):
            return  # metadata only (the operator's finalizer, labels): never block those
        result = controller.review(kind.kind, body)
        warnings.extend(result.warnings)
        if result.errors:
            meta = body.get("metadata") or {}
            log.info(
                "admission refused %s %s/%s: %s",
                kind.kind,
                meta.get("namespace"),
                meta.get("name"),
                result.errors,
            )
            raise kopf.AdmissionError("; ".join(result.errors), code=422)


def webhook_server(address: str, certfile: str, keyfile: str) -> kopf.WebhookServer:
    """HTTPS on ``address``; the certificate files are re-read when they change (a renewal)."""
    host, _, port = address.rpartition(":")
    return kopf.WebhookServer(
        addr=host or None, port=int(port), certfile=certfile, pkeyfile=keyfile, file_check_interval=5.0
    )


def kopf_settings() -> kopf.OperatorSettings:
    settings = kopf.OperatorSettings()
    settings.posting.enabled = False  # Events are the leader's, written by the controller
    settings.peering.standalone = True  # every replica watches; see leader.py
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.batching.batch_window = 0.05  # the controller debounces anyway
    return settings
