"""WeChat Work (WeCom) application messages, as Alertmanager's notify/wechat.

An access token is fetched with the corp id and secret (``GET <api_url>gettoken``) and kept
for two hours; the message goes to ``POST <api_url>message/send?access_token=...``. WeChat
answers 200 with ``{"errcode": ..., "errmsg": ...}``: 0 is success, 42001 (token expired)
drops the token and retries, any other code is permanent. A non-200 answer retries.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson

from ...config.notifiers import WechatConfig
from ...model.alert import Alert
from ..gojson import go_json
from ..stage import FlushContext, NotifyError
from ._common import HTTPIntegration, Renderer, request, secret

TOKEN_LIFETIME = 2 * 3600.0


def _with(base: str, path: str, params: dict[str, str], keep_query: bool) -> str:
    parts = urlsplit(base)
    query = dict(parse_qsl(parts.query, keep_blank_values=True)) if keep_query else {}
    query.update(params)
    return urlunsplit(parts._replace(path=parts.path + path, query=urlencode(sorted(query.items()))))


class WechatIntegration(HTTPIntegration[WechatConfig]):
    name = "wechat"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._token = ""
        self._token_at = 0.0

    async def _access_token(self, r: Renderer) -> str:
        if self._token and time.monotonic() - self._token_at <= TOKEN_LIFETIME:
            return self._token
        c = self.conf
        params = {
            "corpsecret": r.text(secret(c.api_secret, c.api_secret_file, "api_secret_file"), "api_secret"),
            "corpid": r.text(c.corp_id, "corp_id"),
        }
        resp = await request(
            self.sender,
            "GET",
            _with(str(c.api_url), "gettoken", params, False),
            b"",
            content_type=None,
            secret_url=True,
        )
        try:
            token = orjson.loads(resp.content).get("access_token", "")
        except (orjson.JSONDecodeError, AttributeError):
            raise NotifyError(
                f"gettoken: unexpected answer (status {resp.status_code})", retry=False
            ) from None
        if not token:
            raise NotifyError(f"invalid APISecret for CorpID: {c.corp_id}", retry=False)
        self._token, self._token_at = str(token), time.monotonic()
        return self._token

    async def notify(self, ctx: FlushContext, alerts: Sequence[Alert]) -> None:
        c = self.conf
        r = self.renderer(ctx, alerts)
        token = await self._access_token(r)
        content = {"content": r.text(c.message, "message")}
        empty = {"content": ""}
        markdown = c.message_type == "markdown"
        msg: dict[str, Any] = {"text": empty if markdown else content}  # Go writes both structs
        msg.update(
            {
                k: v
                for k, v in (
                    ("touser", r.text(c.to_user, "to_user")),
                    ("toparty", r.text(c.to_party, "to_party")),
                    ("totag", r.text(c.to_tag, "to_tag")),
                    ("agentid", r.text(c.agent_id, "agent_id")),
                    ("safe", "0"),
                    ("msgtype", c.message_type),
                )
                if v
            }
        )
        msg["markdown"] = content if markdown else empty
        url = _with(str(c.api_url), "message/send", {"access_token": token}, True)
        resp = await self.sender.post(url, go_json(msg), secret_url=True)
        if resp.status_code != 200:
            raise NotifyError(f"unexpected status code {resp.status_code}")
        try:
            answer = orjson.loads(resp.content)
            code, error = int(answer.get("errcode", 0)), str(answer.get("errmsg", ""))
        except (orjson.JSONDecodeError, AttributeError, ValueError, TypeError):
            raise NotifyError(f"unexpected answer: {resp.text[:512]}") from None
        if code == 0:
            return
        if code == 42001:  # the access token expired
            self._token = ""
            raise NotifyError(error)
        raise NotifyError(error, retry=False)
