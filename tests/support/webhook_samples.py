"""Vendors' webhook payloads as their public documentation shows them, the source beside each.

Where a documentation page shows a template (Datadog's ``$VARIABLES``, Dynatrace's
``{Placeholders}``, Zabbix's ``{MACROS}``), the values are the examples that vendor's page gives
for each variable. Where the stored copy of a page was cut short, the sample keeps the fields
shown (never a field the page does not have). SNS envelopes are signed in the tests by a local
stand-in certificate, so only their field set and example values come from the page.
"""

from __future__ import annotations

import json
from typing import Any

# https://docs.rs/crate/alertmanager-webhook-types/latest/source/assets/sample-v4-payload.json
# (the shape documented at https://prometheus.io/docs/alerting/latest/configuration/#webhook_config)
ALERTMANAGER: dict[str, Any] = {
    "receiver": "sms",
    "status": "firing",
    "alerts": [
        {
            "status": "firing",
            "labels": {
                "alertname": "ProbeFailure",
                "instance": "https://server.example.org",
                "job": "http_checks",
                "monitor": "master",
                "severity": "critical",
            },
            "annotations": {
                "description": "Instance https://server.example.org has been down for over 5m. Job: http_checks",  # noqa: E501
                "summary": "BlackBox Probe Failure: https://server.example.org",
            },
            "startsAt": "2023-02-06T13:08:45.828Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.org:9090/graph?g0.expr=probe_success+%3D%3D+0\\u0026g0.tab=1",
            "fingerprint": "1a30ba71cca2921f",
        }
    ],
    "groupLabels": {"alertname": "ProbeFailure"},
    "commonLabels": {
        "alertname": "ProbeFailure",
        "instance": "https://server.example.org",
        "job": "http_checks",
        "monitor": "master",
        "severity": "critical",
    },
    "commonAnnotations": {
        "description": "Instance https://server.example.org has been down for over 5m. Job: http_checks",
        "summary": "BlackBox Probe Failure: https://server.example.org",
    },
    "externalURL": "http://prometheus.example.org:9093",
    "version": "4",
    "groupKey": '{}/{severity="critical"}:{alertname="ProbeFailure"}',
    "truncatedAlerts": 0,
}

# https://github.com/prometheus/alertmanager/blob/main/api/v2/openapi.yaml (postableAlerts)
POSTABLE_ALERTS: list[dict[str, Any]] = [
    {
        "labels": {
            "alertname": "ProbeFailure",
            "instance": "https://server.example.org",
            "severity": "critical",
        },
        "annotations": {"summary": "BlackBox Probe Failure: https://server.example.org"},
        "startsAt": "2023-02-06T13:08:45.828Z",
        "generatorURL": "http://prometheus.example.org:9090/graph",
    }
]

# https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/
GRAFANA: dict[str, Any] = {
    "receiver": "My Super Webhook",
    "status": "firing",
    "orgId": 1,
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "High memory usage", "team": "blue", "zone": "us-1"},
            "annotations": {
                "description": "The system has high memory usage",
                "runbook_url": "https://myrunbook.com/runbook/1234",
                "summary": "This alert was triggered for zone us-1",
            },
            "startsAt": "2021-10-12T09:51:03.157076+02:00",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "https://play.grafana.org/alerting/1afz29v7z/edit",
            "fingerprint": "c6eadffa33fcdf37",
            "silenceURL": "https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT2%2Cteam%3Dblue%2Czone%3Dus-1",
            "dashboardURL": "",
            "panelURL": "",
            "values": {"B": 44.23943737541908, "C": 1},
        },
        {
            "status": "firing",
            "labels": {"alertname": "High CPU usage", "team": "blue", "zone": "eu-1"},
            "annotations": {
                "description": "The system has high CPU usage",
                "runbook_url": "https://myrunbook.com/runbook/1234",
                "summary": "This alert was triggered for zone eu-1",
            },
            "startsAt": "2021-10-12T09:56:03.157076+02:00",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "https://play.grafana.org/alerting/d1rdpdv7k/edit",
            "fingerprint": "bc97ff14869b13e3",
            "silenceURL": "https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT1%2Cteam%3Dblue%2Czone%3Deu-1",
            "dashboardURL": "",
            "panelURL": "",
            "values": {"B": 44.23943737541908, "C": 1},
        },
    ],
    "groupLabels": {},
    "commonLabels": {"team": "blue"},
    "commonAnnotations": {},
    "externalURL": "https://play.grafana.org/",
    "version": "1",
    "groupKey": "{}:{}",
    "truncatedAlerts": 0,
    "title": "[FIRING:2] (blue)",
    "state": "alerting",
}

# https://grafana.com/docs/grafana/v7.5/alerting/notifications/#webhook (legacy alerting's
# webhook body: the rule, its state, the matched series and the rule's tags)
GRAFANA_LEGACY: dict[str, Any] = {
    "dashboardId": 1,
    "evalMatches": [{"value": 1, "metric": "Count", "tags": {}}],
    "imageUrl": "https://grafana.com/assets/img/blog/mixed_styles.png",
    "message": "Notification Message",
    "orgId": 1,
    "panelId": 2,
    "ruleId": 1,
    "ruleName": "Panel Title alert",
    "ruleUrl": "http://localhost:3000/d/hZ7BuVbWz/test-dashboard?fullscreen&edit&tab=alert&panelId=2&orgId=1",
    "state": "alerting",
    "tags": {"tag name": "tag value"},
    "title": "[Alerting] Panel Title alert",
}

# https://www.servicenow.com/docs/r/UMl~97STJe3fa_KTmzD1Gg/Uo7dzIFJ08YXCa9rWkeTiA (the Datadog
# payload template), values from the examples of https://docs.datadoghq.com/integrations/webhooks/
DATADOG: dict[str, Any] = {
    "body": "@webhook-url Sending to the webhook",
    "last_updated": "1406662672000",
    "event_type": "metric_alert_monitor",
    "title": "[Triggered] [Memory Alert]",
    "date": "1406662672000",
    "org": {"id": "1234", "name": "Datadog"},
    "id": "1234567890",
    "alert_id": "1234",
    "alert_metric": "system.load.1",
    "alert_priority": "P1",
    "alert_transition": "Triggered",
    "alert_status": "system.load.1 over host:my-host was > 0 at least once during the last 1m",
    "alert_title": "[Triggered on {host:ip-012345}] Host is Down",
    "alert_type": "error",
    "host_name": "my-host",
    "priority": "normal",
    "tags": "availability-zone:us-east-1a, role:computing-node",
    "alert_scope": "availability-zone:us-east-1a, role:computing-node",
}

# The CloudWatch alarm Message: https://github.com/aws/aws-lambda-go/blob/main/events/testdata/cloudwatch-alarm-sns-payload-single-metric.json
CLOUDWATCH_ALARM: dict[str, Any] = {
    "AlarmName": "EXAMPLE",
    "AlarmDescription": "EXAMPLE",
    "AWSAccountId": "123456789012",
    "NewStateValue": "ALARM",
    "NewStateReason": "Threshold Crossed: 1 out of the last 1 datapoints [1234.0 (06/03/15 17:43:27)] was greater "  # noqa: E501
    "than the threshold (0.0) (minimum 1 datapoint for OK -> ALARM transition).",
    "StateChangeTime": "2015-06-03T17:43:27.123+0000",
    "Region": "EXAMPLE",
    "AlarmArn": "arn:aws:cloudwatch:REGION:ACCOUNT_NUMBER:alarm:EXAMPLE",
    "OldStateValue": "INSUFFICIENT_DATA",
    "Trigger": {
        "MetricName": "NetworkOut",
        "Namespace": "AWS/EC2",
        "StatisticType": "Statistic",
        "Statistic": "AVERAGE",
        "Unit": "Bytes",
        "Dimensions": [{"value": "TestInstance", "name": "InstanceId"}],
        "Period": 60,
        "EvaluationPeriods": 1,
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": 0.0,
        "TreatMissingData": "- TreatMissingData: missing",
        "EvaluateLowSampleCountPercentile": "",
    },
}


def sns_notification(message: str, subject: str | None, cert_url: str) -> dict[str, Any]:
    """The fields of https://docs.aws.amazon.com/sns/latest/dg/http-notification-json.html with
    the page's example ids; Signature is added by the test's signer."""
    out = {
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": "arn:aws:sns:us-west-2:123456789012:MyTopic",
        "Message": message,
        "Timestamp": "2012-05-02T00:54:06.655Z",
        "SignatureVersion": "1",
        "SigningCertURL": cert_url,
        "UnsubscribeURL": "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn="
        "arn:aws:sns:us-west-2:123456789012:MyTopic:c9135db0-26c4-47ec-8998-413945fb5a96",
    }
    if subject is not None:
        out["Subject"] = subject
    return out


def sns_subscription_confirmation(subscribe_url: str, cert_url: str) -> dict[str, Any]:
    """The fields of https://docs.aws.amazon.com/sns/latest/dg/http-subscription-confirmation-json.html"""
    return {
        "Type": "SubscriptionConfirmation",
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736",  # noqa: E501
        "TopicArn": "arn:aws:sns:us-west-2:123456789012:MyTopic",
        "Message": "You have chosen to subscribe to the topic arn:aws:sns:us-west-2:123456789012:MyTopic.\n"
        "To confirm the subscription, visit the SubscribeURL included in this message.",
        "SubscribeURL": subscribe_url,
        "Timestamp": "2012-04-26T20:45:04.751Z",
        "SignatureVersion": "1",
        "SigningCertURL": cert_url,
    }


# https://learn.microsoft.com/en-us/azure/azure-monitor/alerts/alerts-payload-samples
AZURE: dict[str, Any] = {
    "schemaId": "azureMonitorCommonAlertSchema",
    "data": {
        "essentials": {
            "alertId": "/subscriptions/<subscription ID>/providers/Microsoft.AlertsManagement/alerts/"
            "aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e",
            "alertRule": "WCUS-R2-Gen2",
            "severity": "Sev3",
            "signalType": "Metric",
            "monitorCondition": "Resolved",
            "monitoringService": "Platform",
            "alertTargetIDs": [
                "/subscriptions/<subscription ID>/resourcegroups/pipelinealertrg/providers/"
                "microsoft.compute/virtualmachines/wcus-r2-gen2"
            ],
            "configurationItems": ["wcus-r2-gen2"],
            "originAlertId": "3f2d4487-b0fc-4125-8bd5-7ad17384221e_PipeLineAlertRG_microsoft.insights_"
            "metricAlerts_WCUS-R2-Gen2_-117781227",
            "firedDateTime": "2019-03-22T13:58:24.3713213Z",
            "resolvedDateTime": "2019-03-22T14:03:16.2246313Z",
            "description": "",
            "essentialsVersion": "1.0",
            "alertContextVersion": "1.0",
        },
        "alertContext": {"properties": None},
    },
}

# https://www.servicenow.com/docs/r/t~YvqQkg2oQX4L7ySrpyuQ/dJAykq4lSFNNU0et3hYP8A ("Sample payload
# from Google Monitor"; schema version 1.2 of https://cloud.google.com/monitoring/support/notification-options)
GCP: dict[str, Any] = {
    "incident": {
        "incident_id": "0.lsnwib31sglo",
        "resource_id": "",
        "resource_name": "deductive-reach-207607 VM Instance",
        "resource": {"type": "gce_instance", "labels": {}},
        "resource_type_display_name": "VM Instance",
        "metric": {"type": "compute.googleapis.com/instance/cpu/usage_time", "displayName": "CPU usage"},
        "started_at": 1602000626,
        "policy_name": "CPU Usage",
        "condition_name": "VM Instance - CPU usage for deductive-reach-207607 by label.instance_name [SUM]",
        "url": "https://console.cloud.google.com/monitoring/alerting/incidents/0.lsnwib31sglo?project=deductive-reach-207607",
        "state": "open",
        "ended_at": None,
        "summary": "CPU usage for deductive-reach-207607 VM Instance is above the threshold of 0.6.",
    },
    "version": "1.2",
}

# https://docs.sentry.io/integrations/integration-platform/webhooks/issue-alerts/ (as stored: the
# page's example, cut after its first fields; the event's issue_id, issue_url and title as
# https://docs.plural.sh/plural-features/workbenches/integrations/webhooks/sentry quotes them)
SENTRY_ISSUE_ALERT: dict[str, Any] = {
    "action": "triggered",
    "actor": {"id": "sentry", "name": "Sentry", "type": "application"},
    "data": {
        "event": {
            "_ref": 1,
            "_ref_version": 2,
            "contexts": {
                "browser": {"name": "Chrome", "type": "browser", "version": "75.0.3770"},
                "os": {"name": "Mac OS X", "type": "os", "version": "10.14.0"},
            },
            "culprit": "?(<anonymous>)",
            "issue_id": "1117540176",
            "issue_url": "https://sentry.io/api/0/issues/1117540176/",
            "title": "ReferenceError: heck is not defined",
        },
        "triggered_rule": "Very Important Alert Rule!",
    },
}

# https://docs.sentry.io/integrations/integration-platform/webhooks/metric-alerts/ (as stored: cut
# after the alert rule's first fields)
SENTRY_METRIC_ALERT: dict[str, Any] = {
    "action": "resolved",
    "actor": {"id": "sentry", "name": "Sentry", "type": "application"},
    "data": {
        "description_text": "1000 events in the last 10 minutes\nFilter: level:error",
        "description_title": "Resolved: Too many errors",
        "metric_alert": {"alert_rule": {"aggregate": "count()"}},
    },
}

# https://github.com/PagerDuty/developer-docs/blob/main/docs/webhooks/01-v3-Overview.md
PAGERDUTY: dict[str, Any] = {
    "event": {
        "id": "5ac64822-4adc-4fda-ade0-410becf0de4f",
        "event_type": "incident.priority_updated",
        "resource_type": "incident",
        "occurred_at": "2020-10-02T18:45:22.169Z",
        "agent": {
            "html_url": "https://acme.pagerduty.com/users/PLH1HKV",
            "id": "PLH1HKV",
            "self": "https://api.pagerduty.com/users/PLH1HKV",
            "summary": "Tenex Engineer",
            "type": "user_reference",
        },
        "client": {"name": "PagerDuty"},
        "data": {
            "id": "PGR0VU2",
            "type": "incident",
            "self": "https://api.pagerduty.com/incidents/PGR0VU2",
            "html_url": "https://acme.pagerduty.com/incidents/PGR0VU2",
            "number": 2,
            "status": "triggered",
            "title": "A little bump in the road",
            "service": {
                "html_url": "https://acme.pagerduty.com/services/PF9KMXH",
                "id": "PF9KMXH",
                "self": "https://api.pagerduty.com/services/PF9KMXH",
                "summary": "API Service",
                "type": "service_reference",
            },
            "assignees": [
                {
                    "html_url": "https://acme.pagerduty.com/users/PTUXL6G",
                    "id": "PTUXL6G",
                    "self": "https://api.pagerduty.com/users/PTUXL6G",
                    "summary": "User 123",
                    "type": "user_reference",
                }
            ],
            "escalation_policy": {
                "html_url": "https://acme.pagerduty.com/escalation_policies/PUS0KTE",
                "id": "PUS0KTE",
                "self": "https://api.pagerduty.com/escalation_policies/PUS0KTE",
                "summary": "Default",
                "type": "escalation_policy_reference",
            },
            "teams": [
                {
                    "html_url": "https://acme.pagerduty.com/teams/PFCVPS0",
                    "id": "PFCVPS0",
                    "self": "https://api.pagerduty.com/teams/PFCVPS0",
                    "summary": "Engineering",
                    "type": "team_reference",
                }
            ],
            "priority": {
                "html_url": "https://acme.pagerduty.com/account/incident_priorities",
                "id": "PSO75BM",
                "self": "https://api.pagerduty.com/priorities/PSO75BM",
                "summary": "P1",
                "type": "priority_reference",
            },
            "urgency": "high",
            "conference_bridge": {
                "conference_number": "+1 1234123412,,987654321#",
                "conference_url": "https://example.com",
            },
            "resolve_reason": None,
        },
    }
}

# https://docs.opsgenie.com/docs/marid-alert-action-data ("Create")
OPSGENIE: dict[str, Any] = {
    "source": {"name": "web", "type": "API"},
    "alert": {
        "updatedAt": 1420452193166002000,
        "tags": ["tag1", "tag2"],
        "teams": ["team1", "team2"],
        "recipients": ["recipient1", "recipient2"],
        "message": " test alert",
        "username": "fili@ifountain.com",
        "alertId": "052652ac-5d1c-464a-812a-7dd18bbfba8c",
        "source": "fili@ifountain.com",
        "alias": "aliastest",
        "tinyId": "23",
        "createdAt": 1420452191104,
        "userId": "daed1180-0ce8-438b-8f8e-57e1a5920a2d",
        "entity": "",
    },
    "action": "Create",
    "integrationId": "37c8f316-17c6-49d7-899b-9c7e540c048d",
    "integrationName": "Integration1",
}

# The default workflow payload template of https://zulip.com/integrations/newrelic (New Relic's
# own default template, https://docs.newrelic.com/docs/alerts/get-notified/notification-integrations/),
# values from https://docs.plural.sh/plural-features/workbenches/integrations/webhooks/new-relic
NEWRELIC: dict[str, Any] = {
    "id": "d1b1f3fd-995a-4066-88ab-8ce4f6960654",
    "issueUrl": "https://radar-api.service.newrelic.com/accounts/1/issues/0ea2df1c-adab-45d2-aae0-042b609d2322",
    "title": "Memory Used % > 90 for at least 2 minutes on 'checkout'",
    "priority": "CRITICAL",
    "totalIncidents": 1,
    "state": "ACTIVATED",
    "createdAt": 1617881246260,
    "updatedAt": 1617881246260,
    "alertPolicyNames": ["Golden Signals"],
    "alertConditionNames": ["Memory high"],
}

# Zabbix webhook media type parameters named after Zabbix's macros, as in iLert's published
# media type (https://raw.githubusercontent.com/iLert/ilert-zabbix/master/media_ilert.xml); the
# values are of the forms Zabbix's macro reference gives (dates as 2023.02.06, severities as
# High...), https://www.zabbix.com/documentation/current/en/manual/appendix/macros/supported_by_location
ZABBIX: dict[str, Any] = {
    "EVENT.ID": "12345",
    "EVENT.NAME": "High CPU utilization (over 90% for 5m)",
    "EVENT.SEVERITY": "High",
    "EVENT.VALUE": "1",
    "EVENT.DATE": "2023.02.06",
    "EVENT.TIME": "13:08:45",
    "EVENT.TAGS": "scope:performance, component:cpu",
    "HOST.NAME": "web-01",
    "HOST.IP": "192.0.2.10",
    "TRIGGER.ID": "23456",
    "TRIGGER.NAME": "High CPU utilization",
    "TRIGGER.SEVERITY": "High",
    "TRIGGER.STATUS": "PROBLEM",
    "TRIGGER.URL": "",
    "ALERT.MESSAGE": "Problem started at 13:08:45 on 2023.02.06",
}

# https://www.pingdom.com/resources/webhooks/ (HTTP check)
PINGDOM: dict[str, Any] = {
    "check_id": 12345,
    "check_name": "Name of HTTP check",
    "check_type": "HTTP",
    "check_params": {
        "basic_auth": False,
        "encryption": True,
        "full_url": "",
        "header": "User-Agent:Pingdom.com_bot",
        "hostname": "",
        "ipv6": False,
        "port": 443,
        "url": "/path",
    },
    "tags": ["example_tag"],
    "previous_state": "UP",
    "current_state": "DOWN",
    "importance_level": "HIGH",
    "state_changed_timestamp": 1451610061,
    "state_changed_utc_time": "2016-01-01T01:01:01",
    "long_description": "Long error message",
    "description": "Short error message",
    "first_probe": {"ip": "", "ipv6": "2001:4800:1020:209::5", "location": "Stockholm, Sweden"},
    "second_probe": {
        "ip": "",
        "ipv6": "2001:4800:1020:209::5",
        "location": "Austin, US",
        "version": 1,
    },
}

# https://help.splunk.com/splunk-enterprise/alert-and-respond/alerting-manual/10.0/configure-alert-actions/use-a-webhook-alert-action
SPLUNK: dict[str, Any] = {
    "result": {"sourcetype": "mongod", "count": "8"},
    "sid": "scheduler_admin_search_W2_at_14232356_132",
    "results_link": "http://web.example.local:8000/app/search/@go?sid=scheduler_admin_search_W2_at_14232356_132",
    "search_name": None,
    "owner": "admin",
    "app": "search",
}

# https://docs.dynatrace.com/docs/analyze-explore-automate/notifications-and-alerting/problem-notifications/webhook-integration
# (the page's placeholder payload; ImpactedEntities as its populated example shows, the other
# values as the page's placeholder list describes them)
DYNATRACE: dict[str, Any] = {
    "ImpactedEntities": [{"type": "HOST", "name": "MyHost1", "entity": "HOST-XXXXXXXXXXXXX"}],
    "ImpactedEntity": "MyHost1",
    "PID": "99999999999999999",
    "ProblemDetailsText": "Dynatrace problem notification test run details",
    "ProblemID": "999",
    "ProblemImpact": "INFRASTRUCTURE",
    "ProblemSeverity": "AVAILABILITY",
    "ProblemTitle": "Dynatrace problem notification test run",
    "Problem URL": "https://example.com",
    "State": "OPEN",
    "Tags": "testtag1, testtag2",
}

# https://docs.alerta.io/api/alert.html (the attributes the page lists; event, value, type and
# tags are the page's examples, the rest plain values of the documented types)
ALERTA: dict[str, Any] = {
    "resource": "web01",
    "event": "NodeDown",
    "environment": "Production",
    "severity": "major",
    "correlate": ["NodeDown", "NodeUp"],
    "status": "open",
    "service": ["Web"],
    "group": "Network",
    "value": "Down",
    "text": "Node web01 is not responding",
    "tags": ["aTag"],
    "attributes": {"region": "EU"},
    "origin": "alerta/macbook.lan",
    "type": "snmptrapAlert",
    "createTime": "2021-04-05T12:45:18.421Z",
    "timeout": 86400,
}

# https://docs.keephq.dev/api-ref/alerts/get-alert
KEEP: dict[str, Any] = {
    "id": "1234",
    "name": "Pod 'api-service-production' lacks memory",
    "status": "firing",
    "lastReceived": "2021-01-01T00:00:00.000Z",
    "environment": "production",
    "service": "backend",
    "source": ["prometheus"],
    "message": "The pod 'api-service-production' lacks memory causing high error rate",
    "description": "Due to the lack of memory, the pod 'api-service-production' is experiencing high error rate",  # noqa: E501
    "severity": "critical",
    "pushed": True,
    "url": "https://www.keephq.dev?alertId=1234",
    "labels": {"pod": "api-service-production", "region": "us-east-1", "cpu": "88", "memory": "100Mi"},
    "ticket_url": "https://www.keephq.dev?enrichedTicketId=456",
    "fingerprint": "1234",
}


def as_json(value: Any) -> str:
    return json.dumps(value)
