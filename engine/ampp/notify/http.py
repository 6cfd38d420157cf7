"""The one HTTP sender every integration posts through: auth, TLS, proxy, timeouts, redaction.

Built from an http_config block (prometheus/common's HTTPClientConfig). Credentials files are
read at send time so a rotated secret is picked up without a reload, as Prometheus does.
"""

from __future__ import annotations

import email.utils
import importlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    import httpx

from .. import ALERTMANAGER_VERSION
from ..auth.urlpolicy import OutboundRefused, UrlPolicy, guard
from ..config.httpclient import HTTPConfig, OAuth2
from .stage import NotifyError
from .tls import default_context, tls_context

USER_AGENT = f"Alertmanager/{ALERTMANAGER_VERSION}"

# httpx (with httpcore and its anyio backend, which it would load on the first request) costs
# ~0.15 s to import: not on the start-up path, where Alertmanager's acceptance suite pushes its
# first alert a second after spawning the server. `ampp serve` loads them, and the system CAs,
# in a thread while it starts (preload), so that its first notification does not wait for
# them; a sender built earlier loads them itself. The same goes for template.Data, which every
# integration builds its notification from.
_HTTP_MODULES = (
    "httpx",
    "httpcore._backends.anyio",
    "anyio._backends._asyncio",
    "ampp.notify.templates._data",
)


def preload() -> None:
    """Import the HTTP client stack and load the system CAs (safe from any thread)."""
    for name in _HTTP_MODULES:
        importlib.import_module(name)
    default_context()


def _read(path: str | None) -> str | None:
    if not path:
        return None
    try:
        return Path(path).read_text().strip()
    except OSError as e:
        raise NotifyError(f"unable to read {path}: {e.strerror}", retry=False) from None


class CircuitBreaker:
    """Per-target (scheme, host, port) breaker shared by every sender in the process.

    After ``threshold`` consecutive connection failures the target is skipped for ``cooldown``
    seconds (attempts fail at once, still retryable), then one probe decides. A dead endpoint
    then costs nothing per attempt, so it cannot slow ingestion or the other receivers.
    """

    def __init__(self, threshold: int = 5, cooldown: float = 5.0) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self._failures: dict[str, int] = {}
        self._open_until: dict[str, float] = {}
        self._seen: set[str] = set()  # every target that ever failed: reported while closed too

    def check(self, target: str) -> None:
        until = self._open_until.get(target)
        if until is None:
            return
        now = time.monotonic()
        if now < until:
            raise NotifyError(f"circuit open for {target} after repeated connection failures")
        self._open_until[target] = now + self.cooldown  # half-open: this caller probes

    def success(self, target: str) -> None:
        self._failures.pop(target, None)
        self._open_until.pop(target, None)

    def failure(self, target: str) -> None:
        self._seen.add(target)
        n = self._failures.get(target, 0) + 1
        self._failures[target] = n
        if n >= self.threshold:
            self._open_until[target] = time.monotonic() + self.cooldown

    def open_targets(self) -> list[str]:
        now = time.monotonic()
        return [t for t, until in self._open_until.items() if until > now]

    def states(self) -> dict[str, str]:
        """closed, open or half_open (the cooldown is over: the next attempt probes), per target
        that has failed since start-up (ampp_notify_circuit_state)."""
        now = time.monotonic()
        out = {}
        for t in self._seen:
            until = self._open_until.get(t)
            out[t] = "closed" if until is None else "open" if until > now else "half_open"
        return out


BREAKER = CircuitBreaker()

CIRCUIT_STATES = {"closed": 0, "open": 1, "half_open": 2}


class CircuitCollector(Collector):
    """ampp_notify_circuit_state{target}: the breaker's state per target, read at scrape time
    (the engine registers one on its metrics registry)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        g = GaugeMetricFamily(
            "ampp_notify_circuit_state",
            "Circuit breaker per notification target (scheme://host:port): 0 closed, 1 open "
            "(attempts fail at once), 2 half-open (one probe allowed).",
            labels=["target"],
        )
        for target, state in sorted(BREAKER.states().items()):
            g.add_metric([target], CIRCUIT_STATES[state])
        yield g

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily("ampp_notify_circuit_state", "", labels=["target"])


def _target(url: str) -> str:
    import httpx

    u = httpx.URL(url)
    return f"{u.scheme}://{u.host}:{u.port or (443 if u.scheme == 'https' else 80)}"


class HTTPSender:
    """An integration's HTTP client, built from its http_config (None: common's defaults), and
    held to the outbound URL ``policy`` (``security.outbound``; its defaults when not given):
    a refused target is a permanent failure, so the notification is dead-lettered with the
    reason rather than retried."""

    def __init__(
        self,
        http_config: HTTPConfig | None = None,
        timeout: float | None = None,
        policy: UrlPolicy | None = None,
    ) -> None:
        self.config = http_config
        self.policy = policy if policy is not None else UrlPolicy()
        tls = http_config.tls_config if http_config is not None else None
        self.server_name = (tls.server_name if tls is not None else "") or None
        self._options: dict[str, Any] = {
            "proxy": (http_config.proxy_url or None) if http_config is not None else None,
            "follow_redirects": http_config.follow_redirects if http_config is not None else True,
            # The environment's proxy variables only with proxy_from_environment, as in Go's
            # common (httpx reads them by default).
            "trust_env": http_config.proxy_from_environment if http_config is not None else False,
            "headers": {"User-Agent": USER_AGENT},
        }
        self._timeout = timeout
        # A configured TLS block is checked now (a bad CA or key file fails the config load); the
        # default context (the system CAs, tens of ms to load) is made with the client.
        self._verify = tls_context(tls)
        self._client: httpx.AsyncClient | None = None
        self._oauth_token: tuple[str, float] | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        """Made on first use, so that building a config's senders imports no HTTP stack."""
        if self._client is None:
            preload()
            import httpx

            t = self._timeout
            self._client = guard(
                httpx.AsyncClient(
                    verify=self._verify or default_context(),
                    timeout=httpx.Timeout(t) if t else httpx.Timeout(None),
                    **self._options,
                ),
                self.policy,
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def _auth_headers(self) -> dict[str, str]:
        c = self.config
        if c is None:
            return {}
        basic = c.basic_auth
        if basic is not None:
            user = basic.username or _read(basic.username_file) or ""
            password = basic.password or _read(basic.password_file) or ""
            import httpx

            return {"Authorization": httpx.BasicAuth(user, str(password))._auth_header}
        authz = c.authorization
        if authz is not None:
            cred = authz.credentials or _read(authz.credentials_file) or ""
            return {"Authorization": f"{authz.type or 'Bearer'} {cred}"}
        bearer = c.bearer_token or _read(c.bearer_token_file)
        if bearer:
            return {"Authorization": f"Bearer {bearer}"}
        if c.oauth2 is not None:
            return {"Authorization": f"Bearer {await self._oauth2(c.oauth2)}"}
        return {}

    def _custom_headers(self) -> dict[str, str]:
        """http_config's ``http_headers``: each one's values, secrets and files (read at every
        request, as they may rotate), several values joined as one field."""
        c = self.config
        if c is None or not c.http_headers:
            return {}
        out: dict[str, str] = {}
        for name, header in c.http_headers.items():
            values = [*header.values, *map(str, header.secrets), *(_read(f) or "" for f in header.files)]
            if values:
                out[name] = ", ".join(values)
        return out

    async def _oauth2(self, oauth: OAuth2) -> str:
        if self._oauth_token and self._oauth_token[1] > time.monotonic():
            return self._oauth_token[0]
        secret = oauth.client_secret or _read(oauth.client_secret_file) or ""
        data = {"grant_type": "client_credentials", **oauth.endpoint_params}
        scopes = oauth.scopes
        if scopes:
            data["scope"] = " ".join(scopes)
        import httpx

        try:
            resp = await self.client.post(
                str(oauth.token_url), data=data, auth=(str(oauth.client_id), str(secret))
            )
            resp.raise_for_status()
            body = resp.json()
        except OutboundRefused as e:
            raise NotifyError(f"oauth2 token request refused: {e}", retry=False) from None
        except (httpx.HTTPError, ValueError) as e:
            raise NotifyError(f"oauth2 token request failed: {e}") from None
        token = str(body["access_token"])
        self._oauth_token = (token, time.monotonic() + float(body.get("expires_in", 3600)) * 0.9)
        return token

    async def post(
        self,
        url: str,
        body: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        secret_url: bool = False,
    ) -> httpx.Response:
        return await self.request("POST", url, body, content_type, headers, secret_url)

    async def request(
        self,
        method: str,
        url: str,
        body: bytes = b"",
        content_type: str | None = "application/json",
        headers: dict[str, str] | None = None,
        secret_url: bool = False,
    ) -> httpx.Response:
        """Send; connection errors become retryable NotifyErrors with the URL's secrets hidden."""
        h = {**({"Content-Type": content_type} if content_type else {}), **(await self._auth_headers())}
        h.update(self._custom_headers())
        h.update(headers or {})
        extensions = {"sni_hostname": self.server_name} if self.server_name else None
        target = _target(url)
        BREAKER.check(target)
        import httpx

        try:
            resp = await self.client.request(method, url, content=body, headers=h, extensions=extensions)
        except OutboundRefused as e:
            shown = "<redacted>" if secret_url else _redact_url(url)
            raise NotifyError(f'{method.capitalize()} "{shown}": {e}', retry=False) from None
        except httpx.HTTPError as e:
            if isinstance(e, (httpx.ConnectError, httpx.ConnectTimeout)):
                BREAKER.failure(target)
            shown = "<redacted>" if secret_url else _redact_url(url)
            raise NotifyError(f'{method.capitalize()} "{shown}": {str(e) or type(e).__name__}') from None
        BREAKER.success(target)
        return resp


def _redact_url(url: str) -> str:
    import httpx

    u = httpx.URL(url)
    if u.userinfo:
        u = u.copy_with(username="<redacted>", password=None)
    return str(u.copy_with(query=None)) if u.query else str(u)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """The Retry-After header (RFC 9110): delay in seconds or an HTTP date; None if absent."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def check_response(
    resp: httpx.Response,
    retry_codes: frozenset[int] = frozenset(),
    details: str | None = None,
    prefix: str = "",
) -> None:
    """notify.Retrier.Check, plus Retry-After: 2xx passes; 5xx and ``retry_codes`` retry.

    A 429 always retries (a rate limit is temporary even where Alertmanager gives up), after
    the delay the vendor asked for. ``details`` replaces the response body in the message.
    """
    code = resp.status_code
    if code // 100 == 2:
        return
    if details is None:  # the body, bounded: it is kept with the dead letter and the history
        details = resp.text[:1024].strip() if resp.content else ""
    message = f"{prefix}unexpected status code {code}" + (f": {details}" if details else "")
    if code == 429:
        raise NotifyError(message, retry_after=parse_retry_after(resp.headers.get("Retry-After")))
    raise NotifyError(message, retry=code // 100 == 5 or code in retry_codes)
