"""The ``global`` block, and what each integration inherits from it.

Checks that need the ``global`` block (inherited URLs, keys, SMTP settings) are done by
:func:`apply_global_defaults`, which fills the inherited values in place, as
``Config.UnmarshalYAML`` does, and returns every problem with its location.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import (
    Field,
    model_validator,
)

from ..model.labels import go_quote
from .base import URL, Duration, Secret
from .blocks import Block, HostPort, Secret_, SecretURL_, is_set, with_trailing_slash
from .httpclient import Authorization, HTTPConfig, TLSConfig
from .notifiers import (
    DEFAULT_SLACK_APP_URL,
    EmailConfig,
    HTTPNotifierConfig,
    JiraConfig,
    MattermostConfig,
    MSTeamsV2Config,
    NotifierConfig,
    OpsGenieConfig,
    PagerdutyConfig,
    RocketchatConfig,
    SlackConfig,
    TelegramConfig,
    VictorOpsConfig,
    WebexConfig,
    WebhookURLNotifierConfig,
    WechatConfig,
)
from .receivers import Receiver

# --------------------------------------------------------------------------------------------
# Global block


class GlobalConfig(Block):
    """The ``global`` block: defaults every receiver inherits (DefaultGlobalConfig)."""

    resolve_timeout: Duration = 300.0
    http_config: HTTPConfig = Field(default_factory=HTTPConfig)

    jira_api_url: URL | None = None
    smtp_from: str = ""
    smtp_hello: str = "localhost"
    smtp_smarthost: HostPort = ""
    smtp_auth_username: str = ""
    smtp_auth_password: Secret_ | None = None
    smtp_auth_password_file: str = ""
    smtp_auth_secret: Secret_ | None = None
    smtp_auth_secret_file: str = ""
    smtp_auth_identity: str = ""
    smtp_require_tls: bool = True
    smtp_tls_config: TLSConfig | None = Field(default_factory=TLSConfig)
    smtp_force_implicit_tls: bool | None = None
    slack_api_url: SecretURL_ | None = None
    slack_api_url_file: str = ""
    slack_app_token: Secret_ | None = None
    slack_app_token_file: str = ""
    slack_app_url: URL | None = DEFAULT_SLACK_APP_URL
    pagerduty_url: URL | None = "https://events.pagerduty.com/v2/enqueue"
    opsgenie_api_url: URL | None = "https://api.opsgenie.com/"
    opsgenie_api_key: Secret_ | None = None
    opsgenie_api_key_file: str = ""
    wechat_api_url: URL | None = "https://qyapi.weixin.qq.com/cgi-bin/"
    wechat_api_secret: Secret_ | None = None
    wechat_api_secret_file: str = ""
    wechat_api_corp_id: str = ""
    victorops_api_url: URL | None = "https://alert.victorops.com/integrations/generic/20131114/alert/"
    victorops_api_key: Secret_ | None = None
    victorops_api_key_file: str = ""
    telegram_api_url: URL | None = "https://api.telegram.org"
    telegram_bot_token: Secret_ | None = None
    telegram_bot_token_file: str = ""
    webex_api_url: URL | None = "https://webexapis.com/v1/messages"
    rocketchat_api_url: URL | None = "https://open.rocket.chat/"
    rocketchat_token: Secret_ | None = None
    rocketchat_token_file: str = ""
    rocketchat_token_id: Secret_ | None = None
    rocketchat_token_id_file: str = ""
    mattermost_webhook_url: SecretURL_ | None = None
    mattermost_webhook_url_file: str = ""

    @model_validator(mode="after")
    def _validate(self) -> GlobalConfig:
        """The global-level checks at the top of Config.UnmarshalYAML, in upstream's order."""
        slack_url = self.slack_api_url is not None or bool(self.slack_api_url_file)
        slack_token = is_set(self.slack_app_token) or bool(self.slack_app_token_file)
        if is_set(self.slack_app_token) and self.slack_app_token_file:
            raise ValueError("at most one of slack_app_token & slack_app_token_file must be configured")
        if self.slack_api_url is not None and self.slack_api_url_file:
            raise ValueError("at most one of slack_api_url & slack_api_url_file must be configured")
        # Upstream tolerates both when slack_api_url is the app URL (the #2513 workaround).
        if slack_token and slack_url and (self.slack_api_url or "") != (self.slack_app_url or ""):
            raise ValueError(
                "at most one of slack_app_token/slack_app_token_file & "
                "slack_api_url/slack_api_url_file must be configured"
            )
        pairs: list[tuple[bool, str]] = [
            (
                is_set(self.opsgenie_api_key) and bool(self.opsgenie_api_key_file),
                "opsgenie_api_key & opsgenie_api_key_file",
            ),
            (
                is_set(self.victorops_api_key) and bool(self.victorops_api_key_file),
                "victorops_api_key & victorops_api_key_file",
            ),
            (
                is_set(self.telegram_bot_token) and bool(self.telegram_bot_token_file),
                "telegram_bot_token & telegram_bot_token_file",
            ),
            (
                is_set(self.smtp_auth_password) and bool(self.smtp_auth_password_file),
                "smtp_auth_password & smtp_auth_password_file",
            ),
            (
                self.rocketchat_token is not None and bool(self.rocketchat_token_file),
                "rocketchat_token & rocketchat_token_file",
            ),
            (
                self.rocketchat_token_id is not None and bool(self.rocketchat_token_id_file),
                "rocketchat_token_id & rocketchat_token_id_file",
            ),
            (
                is_set(self.smtp_auth_secret) and bool(self.smtp_auth_secret_file),
                "smtp_auth_secret & smtp_auth_secret_file",
            ),
            (
                is_set(self.wechat_api_secret) and bool(self.wechat_api_secret_file),
                "wechat_api_secret & wechat_api_secret_file",
            ),
            (
                self.mattermost_webhook_url is not None and bool(self.mattermost_webhook_url_file),
                "mattermost_webhook_url & mattermost_webhook_url_file",
            ),
        ]
        for conflict, what in pairs:
            if conflict:
                raise ValueError(f"at most one of {what} must be configured")
        return self


# --------------------------------------------------------------------------------------------
# Inheritance from the global block

Path = tuple[str | int, ...]


def _http(cfg: HTTPNotifierConfig, glob: GlobalConfig) -> None:
    if cfg.http_config is None:
        cfg.http_config = glob.http_config.model_copy(deep=True)


def _email(ec: EmailConfig, g: GlobalConfig) -> str | None:
    if ec.tls_config is None and g.smtp_tls_config is not None:
        ec.tls_config = g.smtp_tls_config.model_copy(deep=True)
    ec.smarthost = ec.smarthost or g.smtp_smarthost
    if not ec.smarthost:
        return "no global SMTP smarthost set"
    ec.from_ = ec.from_ or g.smtp_from
    if not ec.from_:
        return "no global SMTP from set"
    ec.hello = ec.hello or g.smtp_hello
    ec.auth_username = ec.auth_username or g.smtp_auth_username
    if not is_set(ec.auth_password) and not ec.auth_password_file:
        ec.auth_password = g.smtp_auth_password
        ec.auth_password_file = g.smtp_auth_password_file
    if not is_set(ec.auth_secret) and not ec.auth_secret_file:
        ec.auth_secret = g.smtp_auth_secret
        ec.auth_secret_file = g.smtp_auth_secret_file
    ec.auth_identity = ec.auth_identity or g.smtp_auth_identity
    if ec.require_tls is None:
        ec.require_tls = g.smtp_require_tls
    if ec.force_implicit_tls is None:
        ec.force_implicit_tls = g.smtp_force_implicit_tls
    return None


def _slack(sc: SlackConfig, g: GlobalConfig) -> str | None:
    sc.app_url = sc.app_url or g.slack_app_url
    if sc.app_url is None:
        return "no global Slack App URL set"
    # The global app token applies only when nothing local authenticates the request.
    local_auth = sc.http_config is not None and sc.http_config.authorization is not None
    if not is_set(sc.app_token) and not sc.app_token_file and not local_auth and sc.api_url is None:
        sc.app_token = g.slack_app_token
        sc.app_token_file = g.slack_app_token_file
    if sc.api_url is None and not sc.api_url_file:
        sc.api_url = g.slack_api_url
        sc.api_url_file = g.slack_api_url_file
    token = is_set(sc.app_token) or bool(sc.app_token_file)
    if sc.api_url is None and not sc.api_url_file and not token:
        return "no Slack API URL nor App token set either inline or in a file"
    _http(sc, g)
    assert sc.http_config is not None
    if token:
        if sc.http_config.authorization is not None:
            return "http authorization can't be set when using Slack App tokens"
        sc.http_config.authorization = Authorization.model_validate(
            {"type": "Bearer", "credentials": sc.app_token, "credentials_file": sc.app_token_file}
        )
        sc.api_url = Secret(sc.app_url)
    return None


def _opsgenie(oc: OpsGenieConfig, g: GlobalConfig) -> str | None:
    _http(oc, g)
    oc.api_url = oc.api_url or g.opsgenie_api_url
    if oc.api_url is None:
        return "no global OpsGenie URL set"
    oc.api_url = with_trailing_slash(oc.api_url)
    if not is_set(oc.api_key) and not oc.api_key_file:
        if not is_set(g.opsgenie_api_key) and not g.opsgenie_api_key_file:
            return "no global OpsGenie API Key set either inline or in a file"
        oc.api_key = g.opsgenie_api_key
        oc.api_key_file = g.opsgenie_api_key_file
    return None


def _wechat(wc: WechatConfig, g: GlobalConfig) -> str | None:
    _http(wc, g)
    wc.api_url = wc.api_url or g.wechat_api_url
    if wc.api_url is None:
        return "no global Wechat URL set"
    if not is_set(wc.api_secret) and not wc.api_secret_file:
        if not is_set(g.wechat_api_secret) and not g.wechat_api_secret_file:
            return "no global Wechat Api Secret set either inline or in a file"
        wc.api_secret = g.wechat_api_secret
        wc.api_secret_file = g.wechat_api_secret_file
    wc.corp_id = wc.corp_id or g.wechat_api_corp_id
    if not wc.corp_id:
        return "no global Wechat CorpID set"
    wc.api_url = with_trailing_slash(wc.api_url)
    return None


def _victorops(vc: VictorOpsConfig, g: GlobalConfig) -> str | None:
    _http(vc, g)
    vc.api_url = vc.api_url or g.victorops_api_url
    if vc.api_url is None:
        return "no global VictorOps URL set"
    vc.api_url = with_trailing_slash(vc.api_url)
    if not is_set(vc.api_key) and not vc.api_key_file:
        if not is_set(g.victorops_api_key) and not g.victorops_api_key_file:
            return "no global VictorOps API Key set"
        vc.api_key = g.victorops_api_key
        vc.api_key_file = g.victorops_api_key_file
    return None


def _pagerduty(pc: PagerdutyConfig, g: GlobalConfig) -> str | None:
    _http(pc, g)
    pc.url = pc.url or g.pagerduty_url
    if pc.url is None:
        return "no global PagerDuty URL set"
    return None


def _telegram(tc: TelegramConfig, g: GlobalConfig) -> str | None:
    _http(tc, g)
    tc.api_url = tc.api_url or g.telegram_api_url
    if not is_set(tc.bot_token) and not tc.bot_token_file:
        if not is_set(g.telegram_bot_token) and not g.telegram_bot_token_file:
            return "missing bot_token or bot_token_file on telegram_config"
        tc.bot_token = g.telegram_bot_token
        tc.bot_token_file = g.telegram_bot_token_file
    return None


def _webex(wc: WebexConfig, g: GlobalConfig) -> str | None:
    _http(wc, g)
    wc.api_url = wc.api_url or g.webex_api_url
    if wc.api_url is None:
        return "no global Webex URL set"
    return None


def _webhook_url_kind(kind: str) -> Callable[[WebhookURLNotifierConfig, GlobalConfig], str | None]:
    def apply(c: WebhookURLNotifierConfig, g: GlobalConfig) -> str | None:
        _http(c, g)
        if c.webhook_url is None and not c.webhook_url_file:
            return f"no {kind} webhook URL or URLFile provided"
        return None

    return apply


def _msteamsv2(mc: MSTeamsV2Config, g: GlobalConfig) -> str | None:
    if mc.http_config is None:
        mc.http_config = g.http_config.model_copy(deep=True)
    elif mc.http_config.proxy_url is None:
        # A partial http_config still gets the global proxy, and only that.
        mc.http_config.proxy_url = g.http_config.proxy_url
    if mc.webhook_url is None and not mc.webhook_url_file:
        return "no msteamsv2 webhook URL or URLFile provided"
    return None


def _jira(jc: JiraConfig, g: GlobalConfig) -> str | None:
    _http(jc, g)
    jc.api_url = jc.api_url or g.jira_api_url
    if jc.api_url is None:
        return "no global Jira Cloud URL set"
    return None


def _rocketchat(rc: RocketchatConfig, g: GlobalConfig) -> str | None:
    _http(rc, g)
    rc.api_url = rc.api_url or g.rocketchat_api_url
    if rc.token_id is None:
        rc.token_id = g.rocketchat_token_id
    rc.token_id_file = rc.token_id_file or g.rocketchat_token_id_file
    if rc.token_id is None and not rc.token_id_file:
        return "no global Rocketchat TokenID set either inline or in a file"
    if rc.token is None:
        rc.token = g.rocketchat_token
    rc.token_file = rc.token_file or g.rocketchat_token_file
    if rc.token is None and not rc.token_file:
        return "no global Rocketchat Token set either inline or in a file"
    return None


def _mattermost(mc: MattermostConfig, g: GlobalConfig) -> str | None:
    _http(mc, g)
    if mc.webhook_url is None and not mc.webhook_url_file:
        if g.mattermost_webhook_url is None and not g.mattermost_webhook_url_file:
            return "missing webhook_url or webhook_url_file on mattermost_config"
        mc.webhook_url = g.mattermost_webhook_url
        mc.webhook_url_file = g.mattermost_webhook_url_file
    return None


def _http_only(c: HTTPNotifierConfig, g: GlobalConfig) -> str | None:
    _http(c, g)
    return None


_APPLY: dict[str, Callable[[Any, GlobalConfig], str | None]] = {
    "webhook": _http_only,
    "email": _email,
    "slack": _slack,
    "pushover": _http_only,
    "pagerduty": _pagerduty,
    "incidentio": _http_only,
    "opsgenie": _opsgenie,
    "wechat": _wechat,
    "victorops": _victorops,
    "sns": _http_only,
    "telegram": _telegram,
    "discord": _webhook_url_kind("discord"),
    "webex": _webex,
    "msteams": _webhook_url_kind("msteams"),
    "msteamsv2": _msteamsv2,
    "jira": _jira,
    "rocketchat": _rocketchat,
    "mattermost": _mattermost,
}
"""Per kind, what Config.UnmarshalYAML does with each config (upstream's order of kinds)."""


def apply_global_defaults(receivers: Sequence[Receiver], glob: GlobalConfig) -> list[tuple[Path, str]]:
    """Fill every receiver with what it inherits from ``global``; return what is wrong.

    Mirrors the receiver loop of Config.UnmarshalYAML: unique receiver names, the global
    http_config for unset ones, SMTP/Slack/PagerDuty/... URLs and keys. Upstream stops at the
    first error; here each config reports its first error and the rest are still checked, so
    every mistake of a file is listed at once. Locations are paths inside the config document,
    such as ``("receivers", 2, "email_configs", 0)``. Configs already filled are left alone,
    so calling this twice is harmless.
    """
    errors: list[tuple[Path, str]] = []
    names: set[str] = set()
    for r_idx, rcv in enumerate(receivers):
        if rcv.name in names:
            errors.append(
                (
                    ("receivers", r_idx, "name"),
                    f"notification config name {go_quote(rcv.name)} is not unique",
                )
            )
        names.add(rcv.name)
        for kind, apply in _APPLY.items():
            configs: Sequence[NotifierConfig] = getattr(rcv, f"{kind}_configs")
            for c_idx, cfg in enumerate(configs):
                if cfg._globals_applied:
                    continue
                problem = apply(cfg, glob)
                if problem is not None:
                    errors.append((("receivers", r_idx, f"{kind}_configs", c_idx), problem))
                else:
                    cfg._globals_applied = True
    return errors
