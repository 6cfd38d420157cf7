"""Where each integration of each receiver sends, as the engine would reach it: the endpoint of
its URL (after the global block filled it in), through its proxy, with its tls_config; an
email's smarthost. Only the scheme, host and port are ever shown: a Slack or Teams webhook URL
is a secret in its path.
"""

from __future__ import annotations

import os
import ssl
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..config.httpclient import HTTPConfig, TLSConfig
from ..config.notifiers import EmailConfig, NotifierConfig, SNSConfig
from ..notify.tls import default_context, tls_context
from .reach import Endpoint

URL_FIELDS = ("url", "api_url", "webhook_url")
"""The field holding an integration's URL, by kind: webhook, pagerduty and incidentio have
``url``; slack, opsgenie, wechat, victorops, telegram, webex, jira, rocketchat and sns
``api_url``; discord, msteams(v2) and mattermost ``webhook_url``. Each may come from a file
(``<field>_file``) instead."""


class NotChecked(Exception):
    """An endpoint known only at send time (a templated URL, an SNS region from the AWS
    credential chain): said, not failed."""


@dataclass(frozen=True, slots=True)
class Target:
    endpoint: Endpoint
    via: str
    """How it is reached: ``direct``, or ``proxy`` (the endpoint is then the proxy's)."""


def target(kind: str, conf: NotifierConfig) -> Target:
    """Where ``conf`` (a ``kind`` integration) connects; NotChecked or ValueError saying why not."""
    if isinstance(conf, EmailConfig):
        return Target(_smtp(conf), "direct")
    url = _url(kind, conf)
    if "{{" in url:
        raise NotChecked("its URL is a template, rendered for each notification")
    http: HTTPConfig | None = getattr(conf, "http_config", None)
    proxy = _proxy(http, url)
    if proxy is not None:
        return Target(Endpoint.of_url(proxy), "proxy")
    tls = http.tls_config if http is not None else None
    return Target(Endpoint.of_url(url, _context(tls), tls.server_name or None if tls else None), "direct")


def _url(kind: str, conf: NotifierConfig) -> str:
    if kind == "pushover":
        from ..notify.integrations.pushover import PushoverIntegration

        return PushoverIntegration.API_URL
    for name in URL_FIELDS:
        value: Any = getattr(conf, name, None)
        if value:
            return str(value)
        path = getattr(conf, f"{name}_file", "")
        if path:
            with open(path, encoding="utf-8") as f:  # a small file: the CLI's own thread
                return f.read().strip()
    if isinstance(conf, SNSConfig):
        return _sns(conf)
    raise NotChecked(f"no URL in its config ({kind})")


def _sns(conf: SNSConfig) -> str:
    """The regional endpoint: sigv4.region, the topic ARN's region, or AWS_REGION."""
    from ..notify.integrations._awscreds import endpoint

    arn = conf.topic_arn.split(":") if conf.topic_arn else []
    region = conf.sigv4.region or (arn[3] if len(arn) > 3 else "") or os.environ.get("AWS_REGION", "")
    if not region:
        raise NotChecked("its region comes from the AWS credential chain at send time")
    return endpoint("sns", region)


def _smtp(conf: EmailConfig) -> Endpoint:
    host, _, port = conf.smarthost.rpartition(":")
    implicit = conf.force_implicit_tls if conf.force_implicit_tls is not None else port == "465"
    tls = _context(conf.tls_config) if implicit else None
    server_name = conf.tls_config.server_name if conf.tls_config is not None else ""
    return Endpoint(host.strip("[]"), int(port), tls, server_name or None, "smtps" if implicit else "smtp")


def _context(tls: TLSConfig | None) -> ssl.SSLContext:
    return tls_context(tls) or default_context()


def _proxy(http: HTTPConfig | None, url: str) -> str | None:
    """The proxy the engine's sender goes through for ``url``: ``proxy_url``, else with
    ``proxy_from_environment`` the environment's (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), else none;
    ``no_proxy`` is not applied yet (see the README's "Not yet built")."""
    if http is not None and http.proxy_url:
        return str(http.proxy_url)
    if http is None or not http.proxy_from_environment:
        return None
    host = urlsplit(url).hostname or ""
    if urllib.request.proxy_bypass(host):
        return None
    return urllib.request.getproxies().get(urlsplit(url).scheme)
