"""Amazon SNS HTTP(S) deliveries, and CloudWatch alarms that arrive through them.

The envelope (Type, MessageId, TopicArn, Message, Signature...) is checked by
``ampp.ingest.sns_signature`` before it is parsed here; a SubscriptionConfirmation is answered
(its SubscribeURL visited) rather than turned into an alert. A Message holding a CloudWatch
alarm becomes one alert named after the alarm, resolved when the alarm returns to OK; any other
Message becomes an alert named after the Subject.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from .base import FIRING, RESOLVED, FormatError, Incoming, Parsed, add_labels, put, required, text, timestamp

MESSAGE_TYPES = ("Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation")
_STATE_SEVERITY = {"ALARM": "critical", "INSUFFICIENT_DATA": "info"}


class SNS:
    name = "sns"
    resends = False

    def detect(self, body: Any, headers: Mapping[str, str]) -> bool:
        if headers.get("x-amz-sns-message-type") in MESSAGE_TYPES:
            return True
        return isinstance(body, dict) and body.get("Type") in MESSAGE_TYPES and "TopicArn" in body

    def parse(self, body: Any, headers: Mapping[str, str]) -> Parsed:
        if not isinstance(body, dict):
            raise FormatError("body", "an SNS message must be a JSON object")
        kind = required(body, "Type")
        message_id = str(required(body, "MessageId"))
        if kind == "SubscriptionConfirmation":
            return Parsed([], message_id, {"confirm": str(required(body, "SubscribeURL"))})
        if kind == "UnsubscribeConfirmation":
            return Parsed([], message_id, {"unsubscribed": str(body.get("TopicArn", ""))})
        message = body.get("Message")
        if not isinstance(message, str):
            raise FormatError("Message", "is required (a string)")
        try:
            inner = orjson.loads(message)
        except orjson.JSONDecodeError:
            inner = None
        if isinstance(inner, dict) and "AlarmName" in inner and "NewStateValue" in inner:
            alert = cloudwatch_alarm(inner, body)
        else:
            labels = {"alertname": text(body.get("Subject")) or "SNSNotification", "severity": "warning"}
            put(labels, "topic_arn", body.get("TopicArn"))
            alert = Incoming(
                labels, {"description": message}, FIRING, timestamp(body.get("Timestamp"), "Timestamp")
            )
        alert.event_id = message_id
        return Parsed([alert], message_id)


def cloudwatch_alarm(alarm: dict[str, Any], envelope: dict[str, Any]) -> Incoming:
    """A CloudWatch alarm state change (the Message of the SNS notification)."""
    state = str(alarm.get("NewStateValue"))
    labels = {"alertname": text(alarm["AlarmName"]), "severity": _STATE_SEVERITY.get(state, "warning")}
    put(labels, "alarm_arn", alarm.get("AlarmArn"))
    put(labels, "account_id", alarm.get("AWSAccountId"))
    put(labels, "region", alarm.get("Region"))
    trigger = alarm.get("Trigger")
    if isinstance(trigger, dict):
        put(labels, "namespace", trigger.get("Namespace"))
        put(labels, "metric_name", trigger.get("MetricName"))
        dims = trigger.get("Dimensions")
        if isinstance(dims, list):
            add_labels(
                labels, ((d["name"], d.get("value")) for d in dims if isinstance(d, dict) and d.get("name"))
            )
    annotations: dict[str, str] = {}
    put(annotations, "summary", envelope.get("Subject"))
    put(annotations, "description", alarm.get("AlarmDescription"))
    put(annotations, "reason", alarm.get("NewStateReason"))
    put(annotations, "old_state", alarm.get("OldStateValue"))
    put(annotations, "state", state)
    changed = timestamp(alarm.get("StateChangeTime"), "Message.StateChangeTime")
    if state == "OK":
        return Incoming(labels, annotations, RESOLVED, ends_at=changed)
    return Incoming(labels, annotations, FIRING, starts_at=changed)
