"""Bearer JWTs: each algorithm family, the claims checked with leeway, and every way a token
must be refused: expired, not yet valid, wrong audience or issuer, wrong key, ``alg: none``,
algorithm confusion; and a provider's key rotation picked up from its JWKS without a restart."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from ampp.auth.roles import Role
from ampp.auth.tokens import InvalidToken, TokenVerifier, role_of
from ampp.config.security import JWTSettings
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

pytestmark = pytest.mark.unit

ISS = "https://sso.example/realms/ops"
AUD = "ampp"


def claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": ISS, "aud": AUD, "sub": "jane", "iat": now, "exp": now + 300, "role": "operator", **extra}


def pem(public: Any) -> bytes:
    out: bytes = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return out


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def settings(**kw: Any) -> JWTSettings:
    return JWTSettings.model_validate({"issuer": ISS, "audience": [AUD], "leeway": "30s", **kw})


async def no_fetch(url: str) -> bytes:
    raise AssertionError(f"nothing to fetch: {url}")


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256", "EdDSA"])
async def test_public_key_algorithms_from_a_pem_file(tmp_path: Path, alg: str) -> None:
    private: Any = {
        "RS256": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "PS256": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ES256": lambda: ec.generate_private_key(ec.SECP256R1()),
        "EdDSA": ed25519.Ed25519PrivateKey.generate,
    }[alg]()
    (tmp_path / "key.pem").write_bytes(pem(private.public_key()))
    v = TokenVerifier(settings(algorithms=[alg], key_file=str(tmp_path / "key.pem")), no_fetch)
    got = await v.verify(jwt.encode(claims(), private, algorithm=alg))
    assert got["sub"] == "jane"


async def test_hs256_and_the_claims_checked(tmp_path: Path) -> None:
    secret = "s3cr3t-of-at-least-thirty-two-bytes!!"
    v = TokenVerifier(settings(algorithms=["HS256"], secret=secret), no_fetch)
    now = int(time.time())

    def token(**kw: Any) -> str:
        return jwt.encode(claims(**kw), secret, algorithm="HS256")

    assert (await v.verify(token()))["role"] == "operator"
    assert (await v.verify(token(exp=now - 10)))["sub"] == "jane", "within the 30 s leeway"
    refused = {
        "expired": (token(exp=now - 120), "expired"),
        "not yet valid": (token(nbf=now + 120), "not yet valid"),
        "wrong audience": (token(aud="other"), "Audience"),
        "wrong issuer": (token(iss="https://evil.example"), "(?i)issuer"),
        "no exp": (jwt.encode({k: v for k, v in claims().items() if k != "exp"}, secret), "exp"),
        "wrong key": (jwt.encode(claims(), "another-secret-of-32-bytes-or-more!!"), "Signature"),
        "alg none": (jwt.encode(claims(), "", algorithm="none"), "'none' is not accepted"),
        "garbage": ("not.a.jwt", "not a JWT"),
    }
    for what, (tok, reason) in refused.items():
        with pytest.raises(InvalidToken, match=reason):
            await v.verify(tok)
            pytest.fail(what)


async def test_algorithm_confusion_is_refused(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    """An attacker signs HS256 with the RSA public key (PEM) as the HMAC secret: refused."""
    public_pem = pem(rsa_key.public_key())
    (tmp_path / "key.pem").write_bytes(public_pem)
    v = TokenVerifier(settings(algorithms=["RS256"], key_file=str(tmp_path / "key.pem")), no_fetch)
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims(role="admin")).encode())
    sig = b64(hmac.new(public_pem, f"{head}.{body}".encode(), hashlib.sha256).digest())
    with pytest.raises(InvalidToken, match="'HS256' is not accepted"):
        await v.verify(f"{head}.{body}.{sig}")
    # Even where HS256 were accepted beside the key, a key is bound to its own algorithm.
    head = b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    with pytest.raises(InvalidToken, match="Signature"):
        await v.verify(f"{head}.{body}.{sig}")
    with pytest.raises(ValueError, match="do not mix HS"):
        settings(algorithms=["RS256", "HS256"], secret="x" * 32, key_file="k.pem")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwk_of(private: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    return {
        **jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key(), as_dict=True),
        "kid": kid,
        "use": "sig",
    }


@pytest.fixture
async def jwks() -> AsyncIterator[tuple[str, list[dict[str, Any]], list[int]]]:
    """A provider's JWKS endpoint on a local port: (url, the keys it serves, requests seen)."""
    keys: list[dict[str, Any]] = []
    hits: list[int] = []

    async def certs(request: web.Request) -> web.Response:
        hits.append(1)
        return web.json_response({"keys": keys})

    app = web.Application()
    app.router.add_get("/certs", certs)
    async with TestServer(app) as server:
        yield str(server.make_url("/certs")), keys, hits


async def test_a_rotated_jwks_key_works_without_a_restart(
    jwks: tuple[str, list[dict[str, Any]], list[int]], rsa_key: rsa.RSAPrivateKey
) -> None:
    from ampp.engine import fetch_url

    url, keys, hits = jwks
    keys.append(jwk_of(rsa_key, "k1"))
    v = TokenVerifier(settings(jwks_url=url, min_refresh_interval="0s"), fetch_url)
    await v.start()
    try:
        assert len(hits) == 1
        old = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "k1"})
        assert (await v.verify(old))["sub"] == "jane"
        rotated = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        keys[:] = [jwk_of(rotated, "k2")]  # the provider rotates: k1 is gone, k2 is new
        new = jwt.encode(claims(), rotated, algorithm="RS256", headers={"kid": "k2"})
        assert (await v.verify(new))["sub"] == "jane", "an unknown kid fetches the set again"
        assert len(hits) == 2
        with pytest.raises(InvalidToken, match="no key for kid 'k1'"):
            await v.verify(old)
        wrong = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "k2"})
        with pytest.raises(InvalidToken, match="Signature"):
            await v.verify(wrong)
    finally:
        await v.close()


def test_role_from_a_configurable_claim() -> None:
    s = settings(algorithms=["HS256"], secret="x" * 32, role_claim="realm_access.roles",
                 roles={"ampp-admins": "admin", "sre": "operator"})  # fmt: skip
    assert role_of({"realm_access": {"roles": ["offline_access", "sre"]}}, s) == Role.OPERATOR
    assert role_of({"realm_access": {"roles": ["sre", "ampp-admins"]}}, s) == Role.ADMIN
    assert role_of({"realm_access": {"roles": ["viewer"]}}, s) == Role.VIEWER
    assert role_of({"realm_access": {"roles": "nobody"}}, s) == Role.ANONYMOUS
    assert role_of({}, s) == Role.ANONYMOUS
