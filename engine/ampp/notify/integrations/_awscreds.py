"""AWS credentials when the config holds no keys: the default chain of the AWS SDK behind
Alertmanager's SNS (aws-sdk-go v1 sessions), so that an Alertmanager relying on its pod's or
instance's role (EKS, ECS, EC2) keeps publishing after the switch.

In the SDK's order:

1. the environment's keys (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
   ``AWS_SESSION_TOKEN``);
2. a web identity token (``AWS_WEB_IDENTITY_TOKEN_FILE`` with ``AWS_ROLE_ARN``, as EKS sets
   for IAM roles for service accounts), exchanged by STS ``AssumeRoleWithWebIdentity``;
3. the profile of the shared credentials file;
4. the container credentials endpoint: ``AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`` (ECS) or
   ``AWS_CONTAINER_CREDENTIALS_FULL_URI`` with ``AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]`` (EKS
   Pod Identity); a full URI must name a loopback host or the ECS/EKS agent's address;
5. the EC2 instance's role from the instance metadata service (IMDSv2, IMDSv1 where tokens
   are refused), unless ``AWS_EC2_METADATA_DISABLED`` is true.

A profile named in the config is read first and 1 and 2 are skipped, as the SDK does.
Temporary keys are kept until five minutes before they expire. ``AWS_ENDPOINT_URL_STS`` (or
``AWS_ENDPOINT_URL``) and ``AWS_EC2_METADATA_SERVICE_ENDPOINT`` move STS and the metadata
service, as in current SDKs.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import time
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeGuard
from urllib.parse import urlencode, urlsplit

import httpx

from ..stage import NotifyError
from . import _sigv4

FORM = "application/x-www-form-urlencoded; charset=utf-8"
REFRESH_BEFORE_S = 300
"""Temporary keys are fetched again this long before they expire."""
LOCAL_TIMEOUT_S = 2.0
"""The metadata service and the container endpoint are on the host: they answer at once or
are not there (off EC2, 169.254.169.254 may not answer at all)."""
ECS_HOST = "http://169.254.170.2"
AGENT_ADDRESSES = frozenset({"169.254.170.2", "169.254.170.23", "fd00:ec2::23"})
"""The ECS agent and the EKS Pod Identity agent: the full URIs allowed besides loopback."""
IMDS = "http://169.254.169.254"

Post = Callable[[str, bytes, str, dict[str, str]], Awaitable[httpx.Response]]
"""The integration's sender: STS is reached through the receiver's http_config (proxy, TLS)."""


def endpoint(service: str, region: str) -> str:
    """A service's regional endpoint (``sts-fips`` is a service name here)."""
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://{service}.{region}.{suffix}/"


def sts_url(region: str, fips: bool = False) -> str:
    override = os.environ.get("AWS_ENDPOINT_URL_STS") or os.environ.get("AWS_ENDPOINT_URL")
    return override or endpoint("sts-fips" if fips else "sts", region)


def _tag(el: ET.Element) -> str:
    return el.tag.rsplit("}", 1)[-1]


def aws_error(resp: httpx.Response) -> tuple[str, str]:
    """(code, message) of an AWS query-protocol ErrorResponse (SNS, STS); the text if unreadable."""
    try:
        root = ET.fromstring(resp.content)
    except ET.ParseError:
        return "", resp.text.strip()[:512]
    code = message = ""
    for el in root.iter():
        if _tag(el) == "Code" and not code:
            code = (el.text or "").strip()
        elif _tag(el) == "Message" and not message:
            message = (el.text or "").strip()
    return code, message


def sts_credentials(resp: httpx.Response, what: str) -> _sigv4.Credentials:
    """The Credentials element of an STS AssumeRole* answer; NotifyError for an error answer."""
    if resp.status_code // 100 != 2:
        code, message = aws_error(resp)
        retry = resp.status_code // 100 == 5
        raise NotifyError(f"{what}: {code or resp.status_code}: {message}", retry=retry)
    try:
        root = ET.fromstring(resp.content)
    except ET.ParseError as e:
        raise NotifyError(f"{what}: STS answered with unreadable XML: {e}") from None
    fields = {_tag(el): (el.text or "").strip() for el in root.iter()}
    keys = [fields.get(k) for k in ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration")]
    return _temporary(keys, what)


def _temporary(values: list[Any], what: str) -> _sigv4.Credentials:
    """Temporary keys from (AccessKeyId, SecretAccessKey, token, Expiration) as answered."""
    key, secret, token, expiration = values
    if not (isinstance(key, str) and key and isinstance(secret, str) and secret):
        raise NotifyError(f"{what}: the answer holds no AccessKeyId and SecretAccessKey")
    expires = time.time() + 3600
    if isinstance(expiration, str) and expiration:
        try:
            expires = datetime.fromisoformat(expiration.replace("Z", "+00:00")).timestamp()
        except ValueError:
            raise NotifyError(f"{what}: Expiration {expiration!r} is not a date-time") from None
    return _sigv4.Credentials(key, secret, token if isinstance(token, str) else "", expires)


def fresh(creds: _sigv4.Credentials | None) -> TypeGuard[_sigv4.Credentials]:
    return creds is not None and (creds.expires is None or creds.expires - REFRESH_BEFORE_S > time.time())


class DefaultCredentials:
    """The chain above for one integration, its temporary keys cached until near expiry."""

    def __init__(self, profile: str) -> None:
        self.profile = profile
        self._cached: _sigv4.Credentials | None = None

    async def get(self, region: str, post: Post) -> _sigv4.Credentials:
        if fresh(self._cached):
            return self._cached
        creds = await self._resolve(region, post)
        self._cached = creds if creds.expires is not None else None
        return creds

    async def _resolve(self, region: str, post: Post) -> _sigv4.Credentials:
        profile = _sigv4.default_profile(self.profile)
        if not self.profile:
            creds = _sigv4.env_credentials() or await web_identity(region, post)
            if creds is not None:
                return creds
        creds = await asyncio.to_thread(_sigv4.profile_credentials, profile)
        if creds is not None:
            return creds
        async with httpx.AsyncClient(timeout=LOCAL_TIMEOUT_S, trust_env=False) as local:
            creds = await container(local)
            if creds is not None:
                return creds
            creds, why = await instance(local)
        if creds is not None:
            return creds
        raise NotifyError(
            "failed to find AWS credentials: none in sigv4, the environment, a web identity token, "
            f"profile {profile!r} of the shared credentials file, the container credentials endpoint "
            f"or the instance metadata service ({why})",
            retry=False,
        )


async def web_identity(region: str, post: Post) -> _sigv4.Credentials | None:
    token_file, role = os.environ.get("AWS_WEB_IDENTITY_TOKEN_FILE"), os.environ.get("AWS_ROLE_ARN")
    if not token_file:
        return None
    what = f"failed to assume role {role} with the web identity token in {token_file}"
    if not role:
        raise NotifyError(f"{what}: AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not", retry=False)
    try:
        token = await _read(token_file)
    except OSError as e:
        raise NotifyError(f"{what}: {e.strerror}") from None  # retried: the file may be rotating
    params = {
        "Action": "AssumeRoleWithWebIdentity",
        "RoleArn": role,
        "RoleSessionName": os.environ.get("AWS_ROLE_SESSION_NAME") or f"ampp-{time.time_ns()}",
        "Version": "2011-06-15",
        "WebIdentityToken": token,
    }
    # Unsigned: the token is the credential.
    resp = await post(sts_url(region), urlencode(params).encode(), FORM, {})
    return sts_credentials(resp, what)


async def _read(path: str) -> str:
    """A token file (a projected service account token: small, but still not on the loop)."""
    return (await asyncio.to_thread(Path(path).read_text)).strip()


async def _container_endpoint() -> tuple[str, dict[str, str]] | None:
    relative = os.environ.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
    full = os.environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    if relative:
        return ECS_HOST + relative, {}
    if not full:
        return None
    host = urlsplit(full).hostname or ""
    try:
        allowed = ipaddress.ip_address(host).is_loopback or host in AGENT_ADDRESSES
    except ValueError:
        allowed = host == "localhost"
    if not allowed:
        raise NotifyError(
            f"AWS_CONTAINER_CREDENTIALS_FULL_URI {full}: only loopback hosts and the ECS or EKS "
            "agent's address are allowed",
            retry=False,
        )
    headers = {}
    token_file = os.environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
    token = os.environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN")
    if token_file:
        try:
            token = await _read(token_file)
        except OSError as e:
            raise NotifyError(f"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {token_file}: {e.strerror}") from None
    if token:
        headers["Authorization"] = token
    return full, headers


async def container(client: httpx.AsyncClient) -> _sigv4.Credentials | None:
    endpoint = await _container_endpoint()
    if endpoint is None:
        return None
    url, headers = endpoint
    what = f"failed to get credentials from the container endpoint {url}"
    try:
        resp = await client.get(url, headers=headers)
    except httpx.HTTPError as e:
        raise NotifyError(f"{what}: {str(e) or type(e).__name__}") from None
    body = _json(resp)
    if resp.status_code != 200:
        detail = body.get("message") or resp.text.strip()[:512]
        raise NotifyError(f"{what}: status {resp.status_code}: {detail}", retry=resp.status_code // 100 == 5)
    return _temporary(_keys(body), what)


def _keys(body: dict[str, Any]) -> list[Any]:
    """The container endpoint's and the metadata service's JSON name them alike."""
    return [body.get(k) for k in ("AccessKeyId", "SecretAccessKey", "Token", "Expiration")]


def _json(resp: httpx.Response) -> dict[str, Any]:
    try:
        body = resp.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


async def instance(client: httpx.AsyncClient) -> tuple[_sigv4.Credentials | None, str]:
    """The instance role's keys, else None and why there are none."""
    if os.environ.get("AWS_EC2_METADATA_DISABLED", "").lower() == "true":
        return None, "AWS_EC2_METADATA_DISABLED is true"
    base = (os.environ.get("AWS_EC2_METADATA_SERVICE_ENDPOINT") or IMDS).rstrip("/")
    try:
        ttl = {"X-aws-ec2-metadata-token-ttl-seconds": "21600"}
        token = await client.put(f"{base}/latest/api/token", headers=ttl)
        headers = {}
        if token.status_code == 200:
            headers["X-aws-ec2-metadata-token"] = token.text
        elif token.status_code not in (403, 404, 405):  # those: IMDSv1 only
            return None, f"{base} answered the token request with status {token.status_code}"
        roles_url = f"{base}/latest/meta-data/iam/security-credentials/"
        roles = await client.get(roles_url, headers=headers)
        if roles.status_code == 404:
            return None, f"{base}: the instance has no IAM role"
        if roles.status_code != 200 or not roles.text.strip():
            return None, f"{roles_url} answered with status {roles.status_code}"
        role = roles.text.strip().splitlines()[0]
        resp = await client.get(roles_url + role, headers=headers)
    except httpx.HTTPError as e:
        return None, f"{base} did not answer: {str(e) or type(e).__name__}"
    what = f"failed to get the credentials of instance role {role} from {base}"
    body = _json(resp)
    if resp.status_code != 200 or body.get("Code", "Success") != "Success":
        detail = body.get("Message") or resp.text.strip()[:512]
        raise NotifyError(f"{what}: status {resp.status_code}: {detail}")
    return _temporary(_keys(body), what), ""
