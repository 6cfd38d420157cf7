"""Amazon SNS Publish, signed with AWS Signature V4, as Alertmanager's notify/sns.

The request is the AWS query protocol the SDK sends: a form-encoded ``Action=Publish`` to
``https://sns.<region>.amazonaws.com/`` (or the templated ``api_url``) with TopicArn,
TargetArn or PhoneNumber, the Subject and Message (256 KiB at most, 1600 bytes for SMS,
with a ``truncated`` attribute when cut), the rendered ``attributes`` as String message
attributes, and for a FIFO topic the SHA-256 of the group key as deduplication and group id.

Credentials: the sigv4 block's keys, else the AWS SDK's default chain (_awscreds: the
environment, a web identity token, the shared credentials file, the container endpoint, the
instance's role); with ``role_arn`` they assume that role through STS first. An AWS error
answer's status decides:
5xx retry, 4xx do not (throttling, 429 or 400 ``Throttling``, retries).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from ...config.notifiers import SNSConfig
from ...model.alert import Alert
from ..http import parse_retry_after
from ..stage import FlushContext, NotifyError
from . import _awscreds, _sigv4
from ._common import HTTPIntegration, Renderer, key_hash

FORM = "application/x-www-form-urlencoded; charset=utf-8"
MAX_MESSAGE_BYTES = 256 * 1024
MAX_SMS_BYTES = 1600
THROTTLING = frozenset({"Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded"})


class SNSIntegration(HTTPIntegration[SNSConfig]):
    name = "sns"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._default = _awscreds.DefaultCredentials(self.conf.sigv4.profile or "")
        self._assumed: _sigv4.Credentials | None = None

    # -- credentials

    async def _base_credentials(self, region: str) -> _sigv4.Credentials:
        s = self.conf.sigv4
        if s.access_key and s.secret_key:
            return _sigv4.Credentials(s.access_key, str(s.secret_key))
        return await self._default.get(region, self.sender.post)

    def _region(self) -> str:
        s = self.conf.sigv4
        region = s.region or _sigv4.default_region(_sigv4.default_profile(s.profile))
        if not region:
            raise NotifyError(
                "region not configured in sns.sigv4.region or in default credentials chain", retry=False
            )
        return region

    async def _credentials(self, region: str) -> _sigv4.Credentials:
        s = self.conf.sigv4
        base = await self._base_credentials(region)
        if not s.role_arn:
            return base
        if _awscreds.fresh(self._assumed):
            return self._assumed
        url = _awscreds.sts_url(region, s.use_fips_sts_endpoint)
        params = {
            "Action": "AssumeRole",
            "RoleArn": s.role_arn,
            "RoleSessionName": f"ampp-{int(time.time())}",
            "Version": "2011-06-15",
        }
        if s.external_id:
            params["ExternalId"] = s.external_id
        body = urlencode(sorted(params.items())).encode()
        headers = _sigv4.sign("POST", url, {"Content-Type": FORM}, body, base, region, "sts")
        resp = await self.sender.post(url, body, FORM, headers)
        self._assumed = _awscreds.sts_credentials(resp, f"failed to assume role {s.role_arn}")
        return self._assumed

    # -- the message

    def _publish_params(self, r: Renderer, group_key: str) -> list[tuple[str, str]]:
        c = self.conf
        params: dict[str, str] = {"Action": "Publish", "Version": "2010-03-31"}
        attributes = {r.text(k, "attributes"): r.text(v, f"attributes {k}") for k, v in c.attributes.items()}
        limit = MAX_MESSAGE_BYTES
        if c.topic_arn:
            topic = r.text(c.topic_arn, "topic_arn")
            params["TopicArn"] = topic
            if topic.endswith(".fifo"):
                params["MessageDeduplicationId"] = params["MessageGroupId"] = key_hash(group_key)
        if c.phone_number:
            params["PhoneNumber"] = r.text(c.phone_number, "phone_number")
            limit = MAX_SMS_BYTES
        if c.target_arn:
            params["TargetArn"] = r.text(c.target_arn, "target_arn")
        message = r.text(c.message, "message")
        raw = message.encode()
        if len(raw) > limit:
            message = raw[:limit].decode("utf-8", errors="ignore")  # never half a character
            attributes["truncated"] = "true"
        params["Message"] = message
        if c.subject:
            params["Subject"] = r.text(c.subject, "subject")
        for i, name in enumerate(sorted(attributes), start=1):
            prefix = f"MessageAttributes.entry.{i}"
            params[f"{prefix}.Name"] = name
            params[f"{prefix}.Value.DataType"] = "String"
            params[f"{prefix}.Value.StringValue"] = attributes[name]
        return sorted(params.items())

    async def notify(self, ctx: FlushContext, alerts: Sequence[Alert]) -> None:
        c = self.conf
        r = self.renderer(ctx, alerts)
        region = self._region()
        url = r.text(c.api_url, "api_url") or _awscreds.endpoint("sns", region)
        if not url.endswith("/") and "?" not in url and url.count("/") < 3:
            url += "/"
        body = urlencode(self._publish_params(r, ctx.group_key)).encode()
        creds = await self._credentials(region)
        service = c.sigv4.service_name or "sns"
        headers = _sigv4.sign("POST", url, {"Content-Type": FORM}, body, creds, region, service)
        resp = await self.sender.post(url, body, FORM, headers)
        if resp.status_code // 100 == 2:
            return
        code, message = _awscreds.aws_error(resp)
        text = f"unexpected status code {resp.status_code}" + (f": {message}" if message else "")
        if resp.status_code == 429 or code in THROTTLING:
            raise NotifyError(text, retry_after=parse_retry_after(resp.headers.get("Retry-After")))
        raise NotifyError(text, retry=resp.status_code // 100 == 5)
