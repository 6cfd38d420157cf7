"""The running operator: resources in, one config and the silences out, status back.

Every replica keeps a full picture of the resources (kopf's watch events feed
:meth:`Controller.observe`), and after each change - debounced, so ``kubectl apply -f dir/``
is one reconcile - re-evaluates *all* of them: a Receiver that appears fixes the routes that
were waiting for it without anybody touching those routes. A reconcile

1. reads the Secrets the Receivers refer to (as their watches last saw them, :mod:`secretwatch`),
2. assembles base config + resources into one validated Config (:mod:`assemble`), and hands
   it to the engine only if the document changed (``engine.apply`` swaps it atomically and
   keeps alert state),
3. makes the engine's operator-owned silences match the Silence resources (:mod:`silences`)
   and arms a timer for the next start or end, so status follows the clock,
4. if this replica leads: writes the status that differs, posts Events for changes of
   acceptance, and adds or removes the Silence finalizer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import yaml
from ampp.config.errors import ConfigError
from ampp.config.loader import load_file
from ampp.engine import Engine
from ampp.model.timefmt import NS, now_ns
from ampp.notify.pipeline import unsupported_integrations

from . import admission, integrations, names, silences
from .assemble import Assembly, Validator, assemble
from .integrations import Secrets, Unreadable
from .kube import KubeError, now_rfc3339
from .resources import Ref, Resource, Verdict
from .secretwatch import SecretRef, SecretWatches, unreadable
from .settings import OperatorSettings
from .status import Condition, conditions, status_update
from .translate import Rejected, config_name

__all__ = ["Controller", "KubeApi", "Leadership"]

log = logging.getLogger("ampp.operator")


class KubeApi(Protocol):
    """What the controller needs from the API server (:class:`kube.Kube` in production)."""

    async def list_all(self, kind: names.Kind, namespace: str | None = None) -> list[dict[str, Any]]: ...
    async def secret(self, namespace: str, name: str) -> dict[str, str] | None: ...
    async def patch_status(self, res: Resource, patch: Mapping[str, Any]) -> None: ...
    async def set_finalizers(self, res: Resource, finalizers: list[str]) -> None: ...
    async def post_event(
        self, res: Resource, type_: str, reason: str, message: str, instance: str
    ) -> None: ...


class Leadership(Protocol):
    """Whether this replica may write (:class:`leader.LeaderElector` in production)."""

    @property
    def is_leader(self) -> bool: ...


def _rfc3339(ns: int) -> str:
    return datetime.fromtimestamp(ns / NS, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Controller:
    def __init__(
        self,
        engine: Engine,
        kube: KubeApi,
        settings: OperatorSettings,
        config_file: str,
        elector: Leadership | None = None,
    ) -> None:
        self.engine = engine
        self.kube = kube
        self.settings = settings
        self.config_file = config_file
        self.elector = elector
        self.store: dict[Ref, Resource] = {}
        self.base: dict[str, Any] = {}
        self.validate = Validator(str(Path(config_file).parent))
        self.synced = asyncio.Event()
        self.last: Assembly | None = None
        self.applied_digest: str | None = None
        self.apply_error: str | None = None
        self._secrets: dict[SecretRef, Mapping[str, str] | Unreadable | None] = {}
        self.secret_watches: SecretWatches | None = None
        """Set by the runtime: keeps ``_secrets`` current (else each resync reads them again)."""
        self._written: dict[str, dict[str, Any]] = {}  # uid -> status we last wrote
        self._lock = asyncio.Lock()
        self._dirty = False
        self._runner: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._loop = asyncio.get_running_loop()
        self.reconciles = 0
        self.silence_errors: dict[str, str] = {}
        self._closed = False

    # -- inputs ---------------------------------------------------------------------------

    def observe(self, kind: str, event_type: str | None, body: Mapping[str, Any]) -> None:
        """A watch event from kopf: update the picture; reconcile if what is asked changed."""
        res = Resource.from_body(kind, body)
        if self.settings.namespaces and res.namespace not in self.settings.namespaces:
            return
        old = self.store.get(res.ref)
        if event_type == "DELETED":
            if self.store.pop(res.ref, None) is not None:
                self._written.pop(res.uid, None)
                self.kick()
            return
        self.store[res.ref] = res
        if old is None or not old.same_desire(res):
            self.kick()

    def leadership_changed(self, leading: bool) -> None:
        """A new leader rewrites whatever status is stale: forget what we wrote before."""
        self._written.clear()
        if leading:
            self.kick()

    @property
    def leading(self) -> bool:
        return self.elector is None or self.elector.is_leader

    # -- scheduling -----------------------------------------------------------------------

    def kick(self, delay: float | None = None) -> None:
        """Ask for a reconcile soon; bursts of changes coalesce into one."""
        self._dirty = True
        if not self.synced.is_set() or self._closed:
            return  # the initial sync reconciles once the picture is complete
        if self._runner is None or self._runner.done():
            self._runner = self._loop.create_task(
                self._run(self.settings.debounce if delay is None else delay)
            )

    def close(self) -> None:
        """Shutting down: no more reconciles (the engine is about to stop)."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
        if self._runner is not None:
            self._runner.cancel()

    async def settle(self) -> None:
        """Wait until no reconcile is pending (tests, and a clean shutdown)."""
        while self._runner is not None and not self._runner.done():
            await self._runner

    async def _run(self, delay: float) -> None:
        await asyncio.sleep(delay)
        while self._dirty:
            self._dirty = False
            try:
                await self.reconcile()
            except Exception:
                log.exception("reconcile failed; retrying")
                self._dirty = True
                await asyncio.sleep(2.0)
            if self._dirty:  # changes arrived meanwhile: let a burst finish first
                await asyncio.sleep(self.settings.debounce)

    def _retry_later(self, seconds: float = 1.0) -> None:
        """After a write conflict: the watch brings the new version; try again then."""
        self._loop.call_later(seconds, self.kick)

    def _arm_timer(self, at_ns: int | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if at_ns is not None:
            delay = min(max(0.0, (at_ns - now_ns()) / NS) + 0.05, 3600.0)  # re-armed by then anyway
            self._timer = self._loop.call_later(delay, self.kick, 0.0)

    async def initial_sync(self) -> None:
        """List every resource once and reconcile, before serving as ready. Retries until the
        API server answers (the engine keeps running on the base config meanwhile)."""
        self.load_base()
        while True:
            try:
                for kind in names.KINDS:
                    for ns in self.settings.namespaces or (None,):
                        for body in await self.kube.list_all(kind, ns):
                            res = Resource.from_body(kind.kind, body)
                            self.store.setdefault(res.ref, res)
                break
            except (TimeoutError, KubeError, OSError) as e:
                log.warning("initial listing failed (%s); retrying", e)
                await asyncio.sleep(2.0)
        await self.reconcile()
        self.synced.set()
        if self._dirty:
            self.kick()

    async def resync_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.resync_interval)
            if self.secret_watches is None:
                self._secrets.clear()  # read again: no watch keeps them current
            self.kick()

    def secret_changed(self, ref: SecretRef, data: Mapping[str, str] | Unreadable | None) -> None:
        """A Secret's watch read it, saw it change, or was refused: reconcile if it differs."""
        if ref in self._secrets and self._secrets[ref] == data:
            return
        self._secrets[ref] = data
        if self.synced.is_set() and not isinstance(data, Unreadable):
            log.info("Secret %s/%s %s", *ref, "changed" if data is not None else "is gone")
        self.kick()

    # -- base config ----------------------------------------------------------------------

    def load_base(self) -> None:
        """Read the base config file (validated by the engine's loader first)."""
        cfg = load_file(self.config_file)
        issues = unsupported_integrations(cfg)
        if issues:
            raise ConfigError(issues)
        data = yaml.safe_load(Path(self.config_file).read_text(encoding="utf-8")) or {}
        self.base = data

    async def reload(self) -> None:
        """SIGHUP and POST /-/reload: re-read the base config, merge the resources again."""
        self.load_base()
        self.applied_digest = None
        await self.reconcile()

    # -- admission ------------------------------------------------------------------------

    def review(self, kind: str, body: Mapping[str, Any]) -> admission.Review:
        """Validate one resource for the admission webhook (see :mod:`admission`)."""
        return admission.review(
            Resource.from_body(kind, body),
            base=self.base,
            known=self.store,
            enforce=self.settings.enforce_namespace,
            validate=self.validate,
        )

    # -- reconcile ------------------------------------------------------------------------

    async def reconcile(self) -> None:
        async with self._lock:
            self.reconciles += 1
            resources = list(self.store.values())
            secrets = await self._fetch_secrets(resources)
            result = assemble(
                self.base, resources, secrets, enforce=self.settings.enforce_namespace, validate=self.validate
            )
            await self._apply(result)
            wanted, silence_verdicts = self._desired_silences(resources)
            self.engine.silences.owners = {
                silences.silence_id(r.uid): f"the Silence resource {r.namespace}/{r.name}"
                for r in resources
                if r.ref.kind == names.SILENCE.kind and silences.silence_id(r.uid) in wanted
            }
            now = now_ns()
            failed = await silences.sync(self.engine.silences, wanted, now)
            for sid, error in failed.items():
                log.error("engine refused silence %s: %s", sid, error)
            self.silence_errors = failed
            self._arm_timer(silences.next_transition(wanted, now))
            self.last = result
            if self.leading:
                await self._write(resources, result, wanted, silence_verdicts)

    async def _apply(self, result: Assembly) -> None:
        digest = result.digest
        if digest == self.applied_digest:
            return
        try:
            result.config.reveal_webhook_urls = False  # they come from Secrets
            await self.engine.apply(result.config)
        except Exception as e:  # the engine refused what its loader accepted: keep the old config
            log.exception("applying the assembled config failed")
            self.apply_error = str(e)
            return
        self.applied_digest, self.apply_error = digest, None
        accepted = sum(v.accepted for v in result.verdicts.values())
        log.info("applied config from %d resources (%d rejected)", accepted, len(result.verdicts) - accepted)

    async def _fetch_secrets(self, resources: list[Resource]) -> dict[str, Secrets]:
        """The Secrets Receivers refer to, by namespace: as their watches last saw them, else
        read now (and again at the next resync)."""
        refs = {
            (r.namespace, secret)
            for r in resources
            if r.ref.kind == names.RECEIVER.kind and not r.deleting
            for secret in integrations.secret_names(r.spec)
        }
        if self.secret_watches is not None:
            self.secret_watches.track(refs)
        for gone in self._secrets.keys() - refs:
            del self._secrets[gone]
        out: dict[str, dict[str, Mapping[str, str] | Unreadable | None]] = {}
        for ref in sorted(refs):
            if ref not in self._secrets:
                try:
                    self._secrets[ref] = await self.kube.secret(*ref)
                except KubeError as e:
                    log.warning("cannot read Secret %s/%s: %s", *ref, e)
                    self._secrets[ref] = unreadable(ref, e)  # its watch retries, and tells
                except (TimeoutError, OSError) as e:
                    log.warning("cannot read Secret %s/%s: %s", *ref, e)
                    continue  # not cached: tried again next time
            out.setdefault(ref[0], {})[ref[1]] = self._secrets[ref]
        return dict(out)

    def _desired_silences(
        self, resources: list[Resource]
    ) -> tuple[dict[str, silences.DesiredSilence], dict[Ref, Verdict]]:
        wanted: dict[str, silences.DesiredSilence] = {}
        verdicts: dict[Ref, Verdict] = {}
        for r in resources:
            if r.ref.kind != names.SILENCE.kind or r.deleting:
                continue
            try:
                d = silences.desired_silence(r, enforce=self.settings.enforce_namespace)
            except Rejected as e:
                verdicts[r.ref] = Verdict(False, e.reason, e.message)
                continue
            wanted[d.id] = d
            verdicts[r.ref] = Verdict(True, "Valid", f"engine silence {d.id}")
        return wanted, verdicts

    # -- writes (leader only) ---------------------------------------------------------------

    async def _write(
        self,
        resources: list[Resource],
        result: Assembly,
        wanted: Mapping[str, silences.DesiredSilence],
        silence_verdicts: Mapping[Ref, Verdict],
    ) -> None:
        now = now_ns()
        stamp = now_rfc3339()
        for r in resources:
            if r.deleting:
                await self._release_finalizer(r)
                continue
            extra: dict[str, Any] = {}
            ready: Condition | None = None
            if r.ref.kind == names.SILENCE.kind:
                await self._ensure_finalizer(r)
                verdict = silence_verdicts[r.ref]
                if verdict.accepted:
                    sid = silences.silence_id(r.uid)
                    d = wanted[sid]
                    seen = silences.observe(self.engine.silences, d, now)
                    refused = self.silence_errors.get(sid)
                    if refused is not None:
                        ready = Condition("Ready", "False", "EngineRefused", refused)
                    else:
                        ready = Condition(
                            "Ready",
                            "True" if seen.state == "active" else "False",
                            seen.state.capitalize(),
                            f"the silence is {seen.state}",
                        )
                    extra = {
                        "silenceID": sid,
                        "state": seen.state,
                        "startsAt": _rfc3339(seen.starts_at),
                        "endsAt": _rfc3339(seen.ends_at),
                        "matchers": silences.matchers_text(d.matchers),
                    }
            else:
                verdict = result.verdicts.get(r.ref) or Verdict(False, "Unknown", "not evaluated")
                if verdict.accepted and self.apply_error is not None:
                    ready = Condition("Ready", "False", "ApplyFailed", self.apply_error)
                if verdict.accepted and r.ref.kind in (names.RECEIVER.kind, names.TIME_INTERVAL.kind):
                    extra = {"configName": config_name(r.namespace, r.name)}
            await self._write_status(r, conditions(verdict, ready), extra, stamp)

    async def _write_status(
        self, r: Resource, conds: list[Condition], extra: dict[str, Any], stamp: str
    ) -> None:
        seen = r
        written = self._written.get(r.uid)
        if written is not None:
            seen = replace(r, status=written)
        update = status_update(seen, conds, extra, stamp)
        if update is None:
            return
        try:
            await self.kube.patch_status(r, update.patch)
        except KubeError as e:
            if e.status != 404:
                log.warning("cannot write the status of %s: %s", r.ref, e)
            return
        self._written[r.uid] = {k: v for k, v in update.patch["status"].items() if v is not None}
        if update.accepted_changed:
            accepted = conds[0]
            await self._event(
                r,
                "Normal" if accepted.status == "True" else "Warning",
                "Accepted" if accepted.status == "True" else accepted.reason,
                accepted.message,
            )
        elif r.ref.kind == names.SILENCE.kind and conds[1].reason != _reason(seen.status, "Ready"):
            await self._event(r, "Normal", conds[1].reason, conds[1].message)

    async def _event(self, r: Resource, type_: str, reason: str, message: str) -> None:
        try:
            await self.kube.post_event(r, type_, reason, message, self.settings.identity)
        except KubeError as e:
            log.warning("cannot post an Event for %s: %s", r.ref, e)

    async def _ensure_finalizer(self, r: Resource) -> None:
        if names.FINALIZER in r.finalizers:
            return
        try:
            await self.kube.set_finalizers(r, [*r.finalizers, names.FINALIZER])
        except KubeError as e:
            if e.status == 409:
                self._retry_later()
            elif e.status != 404:
                log.warning("cannot add the finalizer to %s: %s", r.ref, e)

    async def _release_finalizer(self, r: Resource) -> None:
        """The resource is going: the silence was expired by this reconcile (on every
        replica, as each sees the deletion), so let Kubernetes finish deleting it."""
        if names.FINALIZER not in r.finalizers:
            return
        try:
            await self.kube.set_finalizers(r, [f for f in r.finalizers if f != names.FINALIZER])
        except KubeError as e:
            if e.status == 409:
                self._retry_later()
            elif e.status != 404:
                log.warning("cannot remove the finalizer from %s: %s", r.ref, e)


def _reason(status: Mapping[str, Any], type_: str) -> str | None:
    for c in status.get("conditions") or []:
        if isinstance(c, Mapping) and c.get("type") == type_:
            return str(c.get("reason"))
    return None
