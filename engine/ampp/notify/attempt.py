"""One notification attempt and what follows a failed one, the same wherever a flush is sent.

The delivery queue's workers (ampp.notify.queue) and the inline RetryStage (the queue's
fallback while storage is down) both send through :class:`Attempts`: the same alerts
(send_resolved), the same timeout, error wrapping, metrics and history, and the same decision
after a failure (give up, or try again after the backoff of ``NotifySettings``).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from .. import tracing
from ..config.settings import NotifySettings
from ..metrics import Metrics
from ..model.alert import Alert
from ..model.timefmt import format_duration
from .stage import FlushContext, Integration, NotifyError

log = logging.getLogger("ampp.notify")


class AttemptSink(Protocol):
    """Told of every notification attempt, sent or failed (the history records them)."""

    def notify_attempted(
        self,
        ctx: FlushContext,
        integration: str,
        alerts: Sequence[Alert],
        latency_s: float,
        error: str | None,
    ) -> None: ...


def alerts_to_send(integration: Integration, ctx: FlushContext, alerts: Sequence[Alert]) -> list[Alert]:
    """Every alert of the flush, or only its firing ones (``ctx.firing``) without send_resolved."""
    if integration.send_resolved:
        return list(alerts)
    firing = set(ctx.firing)
    return [a for a in alerts if a.fingerprint in firing]


def backoff_delay(
    attempts: int, retry_after: float | None, settings: NotifySettings, rand: Callable[[], float]
) -> float:
    """Seconds before the next attempt, after ``attempts`` failed ones.

    Alertmanager's backoff (cenkalti/backoff's exponential defaults): 0.5 s, then x1.5 per
    attempt up to 60 s, each randomized by +-50 %; never sooner than a 429's Retry-After, which
    is honoured up to five minutes.
    """
    s = settings
    interval = min(s.initial_backoff * s.backoff_multiplier ** max(attempts - 1, 0), s.max_backoff)
    delay = interval * (1 + s.jitter * (2 * rand() - 1))
    if retry_after:
        delay = max(delay, min(retry_after, s.max_retry_after))
    return delay


@dataclass(frozen=True, slots=True)
class Failure:
    """What follows a failed attempt: ``given_up`` (permanent or budget) or a retry in ``delay``."""

    given_up: Literal["permanent", "budget"] | None
    reason: str
    """The message a given-up notification ends with (dead letter, or the inline error)."""
    delay: float


class Attempts:
    """Sends one attempt and decides what follows; holds nothing of any one notification."""

    def __init__(
        self,
        metrics: Metrics,
        sinks: Sequence[AttemptSink] = (),
        *,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.metrics = metrics
        self.sinks = tuple(sinks)
        self.rand = rand

    async def send(
        self,
        integration: Integration,
        ctx: FlushContext,
        alerts: Sequence[Alert],
        settings: NotifySettings,
        number: int = 1,
        traceparent: str | None = None,
    ) -> NotifyError | None:
        """Attempt ``number`` within ``settings.attempt_timeout``: the error, or None once sent.

        Counted in Alertmanager's notification metrics and told to the sinks either way; traced
        as a ``notify`` span continuing ``traceparent`` (a queued job's flush) or the current span.
        """
        name = integration.name
        error: NotifyError | None = None
        start = time.monotonic()
        span = tracing.attempt(
            ctx.receiver, f"{name}[{integration.index}]", ctx.group_key, len(alerts), number, traceparent
        )
        try:
            with span:
                async with asyncio.timeout(settings.attempt_timeout):
                    await integration.notify(ctx, alerts)
        except NotifyError as e:
            error = e
        except TimeoutError:
            error = NotifyError(f"notify timed out after {format_duration(settings.attempt_timeout)}")
        except Exception as e:  # an integration's bug must not kill the sender: retry, log it
            log.exception("%s: notify raised", Target.of(ctx.receiver, integration))
            error = NotifyError(f"{type(e).__name__}: {e}")
        latency = time.monotonic() - start
        m = self.metrics
        m.notification_latency.labels(name).observe(latency)
        m.notifications.labels(name).inc()
        if error is not None:
            m.notifications_failed.labels(name).inc()
        message = None if error is None else str(error)
        for sink in self.sinks:
            try:
                sink.notify_attempted(ctx, name, alerts, latency, message)
            except Exception:
                log.exception("attempt sink failed")
        return error

    def failed(
        self,
        error: NotifyError,
        attempts: int,
        settings: NotifySettings,
        where: Target,
        last_error: str | None = None,
    ) -> Failure:
        """After ``attempts`` failed attempts (this one included): give up or wait, and log it."""
        if not error.retry:
            reason = f"notify retry canceled due to unrecoverable error after {attempts} attempts"
            return Failure("permanent", f"{where}: {reason}: {error}", 0.0)
        if attempts >= settings.max_attempts:
            return Failure("budget", f"{where}: retry budget spent after {attempts} attempts: {error}", 0.0)
        delay = backoff_delay(attempts, error.retry_after, settings, self.rand)
        (log.warning if str(error) != last_error else log.debug)(
            "Notify attempt failed, will retry later %s attempts=%d retry_in=%.2fs err=%s",
            where.fields(),
            attempts,
            delay,
            error,
        )
        return Failure(None, "", delay)

    @staticmethod
    def succeeded(where: Target, attempts: int) -> None:
        (log.info if attempts > 1 else log.debug)("Notify success %s attempts=%d", where.fields(), attempts)


@dataclass(frozen=True, slots=True)
class Target:
    """One integration of a receiver, as logs and errors name it: ``team-a/slack[0]``."""

    receiver: str
    integration: str
    index: int

    @classmethod
    def of(cls, receiver: str, integration: Integration) -> Target:
        return cls(receiver, integration.name, integration.index)

    def __str__(self) -> str:
        return f"{self.receiver}/{self.integration}[{self.index}]"

    def fields(self) -> str:
        return f"receiver={self.receiver} integration={self.integration}[{self.index}]"
