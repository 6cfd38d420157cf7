"""AWS Signature Version 4 with the standard library, and where AWS credentials come from.

Enough of the AWS SDK for SNS: sign a request (the canonical request, the string to sign, the
derived key), find credentials the way the SDK's default chain does for the cases that
matter here (the config's keys, the environment, a shared-credentials profile, a web identity
is not supported), and assume a role through STS.
"""

from __future__ import annotations

import configparser
import datetime as dt
import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str
    session_token: str = ""
    expires: float | None = None
    """Unix time after which temporary credentials must be fetched again."""


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def _uri_encode_path(path: str) -> str:
    # Each segment encoded once, as AWS services other than S3 expect of the SDK.
    return quote(path or "/", safe="/-_.~")


def _canonical_query(query: str) -> str:
    if not query:
        return ""
    pairs = []
    for item in query.split("&"):
        k, _, v = item.partition("=")
        pairs.append((quote(_unquote(k), safe="-_.~"), quote(_unquote(v), safe="-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _unquote(s: str) -> str:
    from urllib.parse import unquote_plus

    return unquote_plus(s)


def host_header(url: str) -> str:
    """The Host the HTTP client sends: the port only when it is not the scheme's default."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is None or (parts.scheme, port) in (("https", 443), ("http", 80)):
        return host
    return f"{host}:{port}"


def sign(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    creds: Credentials,
    region: str,
    service: str,
    now: dt.datetime | None = None,
) -> dict[str, str]:
    """The headers to add (X-Amz-Date, X-Amz-Security-Token, Authorization) to sign the request.

    ``headers`` are the request's own headers to be signed besides Host (e.g. Content-Type).
    """
    now = now or dt.datetime.now(dt.UTC)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    parts = urlsplit(url)
    signed = {k.lower(): " ".join(v.strip().split()) for k, v in headers.items()}
    signed["host"] = host_header(url)
    signed["x-amz-date"] = amz_date
    added = {"X-Amz-Date": amz_date}
    if creds.session_token:
        signed["x-amz-security-token"] = creds.session_token
        added["X-Amz-Security-Token"] = creds.session_token
    names = sorted(signed)
    canonical = "\n".join(
        [
            method,
            _uri_encode_path(parts.path),
            _canonical_query(parts.query),
            "".join(f"{n}:{signed[n]}\n" for n in names),
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(
        _hmac(_hmac(_hmac(f"AWS4{creds.secret_key}".encode(), date), region), service), "aws4_request"
    )
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    added["Authorization"] = (
        f"{ALGORITHM} Credential={creds.access_key}/{scope}, SignedHeaders={';'.join(names)}, "
        f"Signature={signature}"
    )
    return added


# --------------------------------------------------------------------------------------------
# Where credentials and the region come from


def env_credentials() -> Credentials | None:
    key = os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_ACCESS_KEY")
    secret = os.environ.get("AWS_SECRET_ACCESS_KEY") or os.environ.get("AWS_SECRET_KEY")
    if key and secret:
        return Credentials(key, secret, os.environ.get("AWS_SESSION_TOKEN", ""))
    return None


def _ini(path: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    try:
        parser.read(Path(path).expanduser())
    except configparser.Error:
        pass
    return parser


def profile_credentials(profile: str) -> Credentials | None:
    """A profile of the shared credentials file (~/.aws/credentials, AWS_SHARED_CREDENTIALS_FILE)."""
    path = os.environ.get("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")
    ini = _ini(path)
    if not ini.has_section(profile):
        return None
    sec = ini[profile]
    key, secret = sec.get("aws_access_key_id"), sec.get("aws_secret_access_key")
    if key and secret:
        return Credentials(key, secret, sec.get("aws_session_token", ""))
    return None


def default_region(profile: str) -> str:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        return region
    ini = _ini(os.environ.get("AWS_CONFIG_FILE", "~/.aws/config"))
    section = "default" if profile == "default" else f"profile {profile}"
    if ini.has_section(section):
        return ini[section].get("region", "")
    return ""


def default_profile(profile: str) -> str:
    return profile or os.environ.get("AWS_PROFILE") or "default"
