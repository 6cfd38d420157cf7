"""Every kind of integration builds from a real config, and runs inside the retry stage."""

from __future__ import annotations

import pytest
from ampp.config.loader import load_text
from ampp.config.notifiers import NotifierConfig
from ampp.config.receivers import INTEGRATION_KINDS
from ampp.config.settings import NotifySettings
from ampp.metrics import Metrics
from ampp.model.timefmt import now_ns
from ampp.notify.attempt import Attempts
from ampp.notify.integrations import registry
from ampp.notify.integrations.slack import SlackIntegration
from ampp.notify.stage import FlushContext, NotifyError
from ampp.notify.stages import RetryStage
from ampp.notify.templates import Templates

from tests.support.vendors import (
    EXTERNAL_URL,
    GROUP_KEY,
    GROUP_LABELS,
    Reply,
    VendorServer,
    api_alerts,
    reference_config,
    to_alerts,
)

pytestmark = pytest.mark.integration

EVERY_KIND = """\
  webhook_configs: [{url: 'http://h/w'}]
  email_configs: [{to: a@example.com, from: b@example.com, smarthost: 'localhost:25'}]
  pagerduty_configs: [{routing_key: r}]
  opsgenie_configs: [{api_key: k}]
  wechat_configs: [{api_secret: s, corp_id: c}]
  slack_configs: [{api_url: 'http://h/s'}, {api_url: 'http://h/s2'}]
  victorops_configs: [{api_key: k, routing_key: r}]
  pushover_configs: [{user_key: u, token: t}]
  sns_configs: [{topic_arn: t, sigv4: {region: eu-west-1}}]
  telegram_configs: [{bot_token: t, chat_id: 1}]
  discord_configs: [{webhook_url: 'http://h/d'}]
  webex_configs: [{room_id: r, http_config: {authorization: {credentials: c}}}]
  msteams_configs: [{webhook_url: 'http://h/t'}]
  msteamsv2_configs: [{webhook_url: 'http://h/t2'}]
  jira_configs: [{api_url: 'http://h/rest/api/2/', project: P, issue_type: Bug}]
  incidentio_configs: [{url: 'http://h/i', alert_source_token: t}]
  rocketchat_configs: [{token: t, token_id: i}]
  mattermost_configs: [{webhook_url: 'http://h/m'}]
"""


async def test_every_alertmanager_kind_is_built() -> None:
    assert set(INTEGRATION_KINDS) == registry.KINDS
    rcv = load_text(reference_config(EVERY_KIND)).alerting.receivers[0]
    templates = Templates.load([])
    built = [
        registry.build(kind, idx, conf, rcv.name, EXTERNAL_URL, templates)
        for kind, idx, conf in rcv.integrations()
    ]
    assert [(b.name, b.index) for b in built] == [(kind, idx) for kind, idx, _ in rcv.integrations()]
    # Alertmanager's send_resolved defaults per kind
    resolved = {b.name: b.send_resolved for b in built}
    assert resolved["email"] is False and resolved["slack"] is False and resolved["wechat"] is False
    assert resolved["pagerduty"] is True and resolved["rocketchat"] is False and resolved["webhook"] is True
    for b in built:
        await b.close()
    with pytest.raises(ValueError):
        registry.build("carrier-pigeon", 0, NotifierConfig(), "r", EXTERNAL_URL, templates)


async def test_retry_stage_retries_a_5xx_until_it_passes(vendor: VendorServer) -> None:
    rcv = load_text(reference_config(f"  slack_configs: [{{api_url: '{vendor.url}/slack/x', title: t}}]\n"))
    slack = SlackIntegration(
        0, rcv.alerting.receivers[0].slack_configs[0], "team-a", EXTERNAL_URL, Templates.load([])
    )
    vendor.script("/slack/x", Reply(503, "busy"), Reply(502, "busy"))
    alerts = to_alerts(api_alerts(1))
    ctx = FlushContext(
        GROUP_KEY, dict(GROUP_LABELS), "team-a", 3600, now_ns(), firing=(alerts[0].fingerprint,)
    )
    stage = RetryStage(
        slack, "team-a", Attempts(Metrics()), NotifySettings.model_validate({"initial_backoff": "10ms"})
    )
    try:
        await stage.exec(ctx, alerts)
    finally:
        await slack.close()
    assert [r.path for r in vendor.requests] == ["/slack/x"] * 3


async def test_retry_stage_gives_up_on_a_4xx(vendor: VendorServer) -> None:
    rcv = load_text(reference_config(f"  slack_configs: [{{api_url: '{vendor.url}/slack/x', title: t}}]\n"))
    slack = SlackIntegration(
        0, rcv.alerting.receivers[0].slack_configs[0], "team-a", EXTERNAL_URL, Templates.load([])
    )
    vendor.reply("/slack/x", Reply(404, "no_service"))
    alerts = to_alerts(api_alerts(1))
    ctx = FlushContext(
        GROUP_KEY, dict(GROUP_LABELS), "team-a", 3600, now_ns(), firing=(alerts[0].fingerprint,)
    )
    try:
        with pytest.raises(NotifyError) as e:
            await RetryStage(slack, "team-a", Attempts(Metrics()), NotifySettings()).exec(ctx, alerts)
    finally:
        await slack.close()
    assert not e.value.retry and len(vendor.requests) == 1
    assert "team-a/slack[0]: notify retry canceled due to unrecoverable error after 1 attempts" in str(
        e.value
    )
