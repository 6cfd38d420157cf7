"""The rule-based answer when the provider cannot give one (``ai.fallback_enabled``): the
alerts' own severity, summary and runbook, so a notification still says what and what next."""

from __future__ import annotations

from collections.abc import Sequence

from ..model.alert import Alert
from ..model.severity import severity as normalise
from .model import SEVERITIES, Enrichment

_RANK = {s: i for i, s in enumerate(SEVERITIES)}


def classify(alerts: Sequence[Alert], provider: str, model: str, reason: str) -> Enrichment:
    levels = [normalise(a.labels.get("severity"), "warning") for a in alerts] or ["warning"]
    level = min(levels, key=lambda s: _RANK[s])
    first = alerts[0]
    name = first.labels.get("alertname", "alert")
    text = (
        first.annotations.get("summary")
        or first.annotations.get("description")
        or first.annotations.get("message")
    )
    where = ", ".join(
        f"{k}={first.labels[k]}" for k in ("instance", "service", "namespace", "job") if k in first.labels
    )
    summary = text or f"{name} is firing" + (f" ({where})" if where else "")
    if len(alerts) > 1:
        summary += f" ({len(alerts)} alerts in this group)"
    runbook = first.annotations.get("runbook_url") or first.annotations.get("runbook")
    action = f"Follow the runbook: {runbook}" if runbook else f"Check {where or name} and the alert's source."
    return Enrichment(level, summary, action, 0.3, provider, model, False, "fallback", reason)
