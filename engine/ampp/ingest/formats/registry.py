"""Every vendor format, in the order detection tries them (the most specific shapes first)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .alerta import Alerta
from .alertmanager import AlertmanagerWebhook, PostableAlerts
from .azure import AzureMonitor
from .base import WebhookFormat
from .datadog import Datadog
from .dynatrace import Dynatrace
from .gcp import GoogleCloudMonitoring
from .grafana import GrafanaLegacy, GrafanaUnified
from .keep import Keep
from .newrelic import NewRelic
from .opsgenie import Opsgenie
from .pagerduty import PagerDuty
from .pingdom import Pingdom
from .sentry import Sentry
from .sns import SNS
from .splunk import Splunk
from .zabbix import Zabbix

FORMATS: tuple[WebhookFormat, ...] = (
    PostableAlerts(),
    AlertmanagerWebhook(),
    GrafanaUnified(),
    GrafanaLegacy(),
    SNS(),
    AzureMonitor(),
    GoogleCloudMonitoring(),
    Sentry(),
    PagerDuty(),
    Opsgenie(),
    NewRelic(),
    Datadog(),
    Zabbix(),
    Pingdom(),
    Splunk(),
    Dynatrace(),
    Keep(),
    Alerta(),
)
BY_NAME: dict[str, WebhookFormat] = {f.name: f for f in FORMATS}
NAMES: tuple[str, ...] = tuple(BY_NAME)


def detect(body: Any, headers: Mapping[str, str]) -> WebhookFormat | None:
    """The first format that recognises the body (headers are lower-cased)."""
    for fmt in FORMATS:
        if fmt.detect(body, headers):
            return fmt
    return None
