"""Amazon SNS against a local stand-in that checks AWS Signature V4, and side by side with 0.25."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
from ampp.notify.integrations.sns import SNSIntegration
from ampp.notify.stage import NotifyError

from tests.support.integrations import Compared, build_integration, ctx, integration_from_config
from tests.support.prereq import AWS_SDK_GO, GO, GO_1_19, GO_SRC
from tests.support.vendors import (
    FAR_FUTURE,
    GROUP_KEY,
    RESOLVED_AT,
    ReferenceRun,
    Reply,
    VendorServer,
    api_alerts,
    sns_error,
    to_alerts,
    verify_sigv4,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("built_integrations")]

AKID, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def sns(receiver_yaml: str) -> SNSIntegration:
    return build_integration(SNSIntegration, receiver_yaml)


BASE = f"""\
  sns_configs:
  - api_url: '{{url}}/sns/'
    sigv4:
      region: eu-west-1
      access_key: {AKID}
      secret_key: {SECRET}
"""


async def test_publish_to_a_topic_signed(vendor: VendorServer) -> None:
    s = sns(
        BASE.replace("{url}", vendor.url) + "    topic_arn: arn:aws:sns:eu-west-1:123456789012:alerts\n"
        "    subject: Disk\n    message: 'full & more'\n"
        "    attributes: {team: storage, severity: '{{ .CommonLabels.severity }}'}\n"
    )
    await s.notify(ctx(), to_alerts(api_alerts(1)))
    (req,) = vendor.requests
    assert req.method == "POST" and req.path == "/sns/"
    assert req.headers["Content-Type"] == "application/x-www-form-urlencoded; charset=utf-8"
    assert (
        req.headers["Authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={AKID}/")
        and "/eu-west-1/sns/aws4_request, SignedHeaders=content-type;host;x-amz-date, "
        in req.headers["Authorization"]
    )
    assert verify_sigv4(req, SECRET)
    assert not verify_sigv4(req, "another-secret")
    form = {k: v[0] for k, v in req.form().items()}
    assert form == {
        "Action": "Publish",
        "Version": "2010-03-31",
        "TopicArn": "arn:aws:sns:eu-west-1:123456789012:alerts",
        "Subject": "Disk",
        "Message": "full & more",
        "MessageAttributes.entry.1.Name": "severity",
        "MessageAttributes.entry.1.Value.DataType": "String",
        "MessageAttributes.entry.1.Value.StringValue": "critical",
        "MessageAttributes.entry.2.Name": "team",
        "MessageAttributes.entry.2.Value.DataType": "String",
        "MessageAttributes.entry.2.Value.StringValue": "storage",
    }


async def test_fifo_topic_gets_group_and_dedup_ids(vendor: VendorServer) -> None:
    s = sns(BASE.replace("{url}", vendor.url) + "    topic_arn: arn:aws:sns:eu-west-1:1:alerts.fifo\n")
    await s.notify(ctx(), to_alerts(api_alerts(1)))
    form = vendor.requests[0].form()
    digest = hashlib.sha256(GROUP_KEY.encode()).hexdigest()
    assert form["MessageDeduplicationId"] == [digest] and form["MessageGroupId"] == [digest]


async def test_sms_is_cut_at_1600_bytes(vendor: VendorServer) -> None:
    s = sns(
        BASE.replace("{url}", vendor.url)
        + "    phone_number: '+15555550100'\n    message: '"
        + "\u00e9" * 1000
        + "'\n"
    )
    await s.notify(ctx(), to_alerts(api_alerts(1)))
    form = vendor.requests[0].form()
    assert form["PhoneNumber"] == ["+15555550100"]
    assert form["Message"] == ["\u00e9" * 800]
    assert form["MessageAttributes.entry.1.Name"] == ["truncated"]
    assert form["MessageAttributes.entry.1.Value.StringValue"] == ["true"]


async def test_credentials_from_the_environment(
    vendor: VendorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ENVKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "envsecret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "envtoken")
    monkeypatch.setenv("AWS_REGION", "us-east-2")
    s = sns(
        f"  sns_configs:\n  - api_url: '{vendor.url}/sns/'\n"
        "    target_arn: arn:aws:sns:us-east-2:1:endpoint/x\n"
    )
    await s.notify(ctx(), to_alerts(api_alerts(1)))
    req = vendor.requests[0]
    assert req.headers["X-Amz-Security-Token"] == "envtoken"
    assert (
        "Credential=ENVKEY/" in req.headers["Authorization"]
        and "/us-east-2/sns/" in req.headers["Authorization"]
    )
    assert "x-amz-security-token" in req.headers["Authorization"]
    assert verify_sigv4(req, "envsecret")


async def test_profile_from_the_shared_credentials_file(
    vendor: VendorServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY", "AWS_SECRET_KEY"):
        monkeypatch.delenv(var, raising=False)
    f = tmp_path / "credentials"
    f.write_text("[alerts]\naws_access_key_id = PROFKEY\naws_secret_access_key = profsecret\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(f))
    s = sns(
        f"  sns_configs:\n  - api_url: '{vendor.url}/sns/'\n    topic_arn: t\n"
        "    sigv4: {region: eu-central-1, profile: alerts}\n"
    )
    await s.notify(ctx(), to_alerts(api_alerts(1)))
    assert verify_sigv4(vendor.requests[0], "profsecret")


async def test_assume_role(vendor: VendorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    s = sns(
        BASE.replace("{url}", vendor.url)
        + "      role_arn: arn:aws:iam::1:role/am\n      external_id: ext\n    topic_arn: t\n"
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", f"{vendor.url}/sts/")  # STS, played by the stand-in
    vendor.reply(
        "/sts/",
        Reply(
            200,
            '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>'
            "<Credentials><AccessKeyId>ASIATEMP</AccessKeyId><SecretAccessKey>tempsecret</SecretAccessKey>"
            "<SessionToken>temptoken</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration>"
            "</Credentials></AssumeRoleResult></AssumeRoleResponse>",
            content_type="text/xml",
        ),
    )
    await s.notify(ctx(), to_alerts(api_alerts(1)))
    await s.notify(ctx(), to_alerts(api_alerts(1)))
    sts, publish, again = vendor.requests
    assert sts.path == "/sts/" and verify_sigv4(sts, SECRET)
    assert {k: v[0] for k, v in sts.form().items() if k != "RoleSessionName"} == {
        "Action": "AssumeRole",
        "RoleArn": "arn:aws:iam::1:role/am",
        "ExternalId": "ext",
        "Version": "2011-06-15",
    }
    assert publish.headers["X-Amz-Security-Token"] == "temptoken" and verify_sigv4(publish, "tempsecret")
    assert again.path == "/sns/"  # the assumed credentials are kept until they expire


@pytest.mark.parametrize(
    ("reply", "retry", "text"),
    [
        (
            Reply(400, sns_error("InvalidParameter", "Invalid parameter: TopicArn"), content_type="text/xml"),
            False,
            "unexpected status code 400: Invalid parameter: TopicArn",
        ),
        (
            Reply(403, sns_error("AuthorizationError", "not authorized"), content_type="text/xml"),
            False,
            "unexpected status code 403: not authorized",
        ),
        (
            Reply(500, sns_error("InternalError", "oops", "Receiver"), content_type="text/xml"),
            True,
            "unexpected status code 500: oops",
        ),
    ],
)
async def test_aws_errors(vendor: VendorServer, reply: Reply, retry: bool, text: str) -> None:
    s = sns(BASE.replace("{url}", vendor.url) + "    topic_arn: t\n")
    vendor.reply("/sns/", reply)
    with pytest.raises(NotifyError) as e:
        await s.notify(ctx(), to_alerts(api_alerts(1)))
    assert e.value.retry is retry and str(e.value) == text


async def test_throttling_is_retried(vendor: VendorServer) -> None:
    s = sns(BASE.replace("{url}", vendor.url) + "    topic_arn: t\n")
    vendor.reply("/sns/", Reply(400, sns_error("Throttling", "Rate exceeded"), content_type="text/xml"))
    with pytest.raises(NotifyError) as e:
        await s.notify(ctx(), to_alerts(api_alerts(1)))
    assert e.value.retry


async def test_missing_region_is_permanent(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    s = sns(f"  sns_configs:\n  - topic_arn: t\n    sigv4: {{access_key: {AKID}, secret_key: x}}\n")
    with pytest.raises(NotifyError) as e:
        await s.notify(ctx(), to_alerts(api_alerts(1)))
    assert not e.value.retry and "region not configured" in str(e.value)


# --------------------------------------------------------------------------------------------
# The SDK's default chain when the config has no keys: the pod's or the instance's role

AWS_ENV = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_SESSION_TOKEN",
    "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL",
)  # fmt: skip
NO_KEYS = "  sns_configs:\n  - api_url: '{url}/sns/'\n    topic_arn: t\n    sigv4: {{region: eu-west-1}}\n"


def _iso(seconds_from_now: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + seconds_from_now))


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No AWS settings at all, and no shared files: each test adds the one source it is about."""
    for var in AWS_ENV:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return monkeypatch


async def test_web_identity_token_as_on_eks(
    vendor: VendorServer, bare_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6bW9uOmFtIn0.c2ln\n")
    bare_env.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(token))
    bare_env.setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/alertmanager")
    bare_env.setenv("AWS_ENDPOINT_URL_STS", f"{vendor.url}/sts/")
    vendor.reply("/sts/", Reply(200,
        '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        "<AssumeRoleWithWebIdentityResult><Credentials><SessionToken>webtoken</SessionToken>"
        f"<SecretAccessKey>websecret</SecretAccessKey><Expiration>{_iso(3600)}</Expiration>"
        "<AccessKeyId>ASIAWEB</AccessKeyId></Credentials></AssumeRoleWithWebIdentityResult>"
        "</AssumeRoleWithWebIdentityResponse>", content_type="text/xml"))  # fmt: skip
    s = sns(NO_KEYS.format(url=vendor.url))
    await s.notify(ctx(), to_alerts(api_alerts(1)))
    await s.notify(ctx(), to_alerts(api_alerts(1)))
    assert len(vendor.requests) == 3, f"expected STS, publish, publish with the same keys: {vendor.requests}"
    sts, publish, again = vendor.requests
    assert "Authorization" not in sts.headers, "AssumeRoleWithWebIdentity is unsigned: the token is the proof"
    form = {k: v[0] for k, v in sts.form().items()}
    assert form.pop("RoleSessionName").startswith("ampp-")
    assert form == {
        "Action": "AssumeRoleWithWebIdentity",
        "RoleArn": "arn:aws:iam::123456789012:role/alertmanager",
        "Version": "2011-06-15",
        "WebIdentityToken": token.read_text().strip(),
    }
    assert publish.headers["X-Amz-Security-Token"] == "webtoken" and verify_sigv4(publish, "websecret")
    assert again.path == "/sns/", "the temporary keys were not kept until they expire"


async def test_container_endpoint_as_eks_pod_identity(
    vendor: VendorServer, bare_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    auth = tmp_path / "eks-pod-identity-token"
    auth.write_text("pod-identity-jwt")
    bare_env.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{vendor.url}/v1/credentials")
    bare_env.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", str(auth))
    bare_env.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored: the file wins")
    answers = [
        {"AccessKeyId": f"ASIAPOD{i}", "SecretAccessKey": f"podsecret{i}", "Token": f"podtoken{i}",
         "AccountId": "123456789012", "Expiration": _iso(120)}
        for i in (1, 2)
    ]  # fmt: skip
    vendor.script("/v1/credentials", *[Reply(200, a) for a in answers])
    s = sns(NO_KEYS.format(url=vendor.url))
    await s.notify(ctx(), to_alerts(api_alerts(1)))
    await s.notify(ctx(), to_alerts(api_alerts(1)))
    assert len(vendor.requests) == 4, f"expected fetch, publish, fetch again, publish: {vendor.requests}"
    creds, publish, refetch, again = vendor.requests
    assert creds.method == "GET" and creds.headers["Authorization"] == "pod-identity-jwt"
    assert publish.headers["X-Amz-Security-Token"] == "podtoken1" and verify_sigv4(publish, "podsecret1")
    # two minutes left is inside the five-minute window: fetched again before the next publish
    assert refetch.path == "/v1/credentials" and verify_sigv4(again, "podsecret2")


async def test_a_container_endpoint_off_the_host_is_refused(bare_env: pytest.MonkeyPatch) -> None:
    bare_env.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://credentials.example.com/latest")
    s = sns(NO_KEYS.format(url="http://127.0.0.1:9"))
    with pytest.raises(NotifyError) as e:
        await s.notify(ctx(), to_alerts(api_alerts(1)))
    assert not e.value.retry
    want = "AWS_CONTAINER_CREDENTIALS_FULL_URI http://credentials.example.com/latest: only loopback"
    assert want in str(e.value)


@pytest.mark.parametrize("imds_v2", [True, False], ids=["imdsv2", "imdsv1-only"])
async def test_instance_role_from_the_metadata_service(
    vendor: VendorServer, bare_env: pytest.MonkeyPatch, imds_v2: bool
) -> None:
    bare_env.delenv("AWS_EC2_METADATA_DISABLED")
    bare_env.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", vendor.url)
    vendor.reply("/latest/api/token", Reply(200, "imds-session-token") if imds_v2 else Reply(403))
    vendor.reply("/security-credentials/", Reply(200, "am-instance-role"))
    vendor.reply("/security-credentials/am-instance-role", Reply(200, {"Code": "Success",
        "LastUpdated": _iso(-60), "Type": "AWS-HMAC", "AccessKeyId": "ASIAEC2",
        "SecretAccessKey": "ec2secret",
        "Token": "ec2token", "Expiration": _iso(6 * 3600)}))  # fmt: skip
    s = sns(NO_KEYS.format(url=vendor.url))
    await s.notify(ctx(), to_alerts(api_alerts(1)))
    token, roles, role, publish = vendor.requests
    assert (token.method, token.headers["X-aws-ec2-metadata-token-ttl-seconds"]) == ("PUT", "21600")
    sent = [r.headers.get("X-aws-ec2-metadata-token") for r in (roles, role)]
    assert sent == (["imds-session-token"] * 2 if imds_v2 else [None, None])
    assert publish.headers["X-Amz-Security-Token"] == "ec2token" and verify_sigv4(publish, "ec2secret")


async def test_no_credentials_anywhere_is_permanent_and_says_where_it_looked(
    vendor: VendorServer, bare_env: pytest.MonkeyPatch
) -> None:
    s = sns(NO_KEYS.format(url=vendor.url))
    with pytest.raises(NotifyError) as e:
        await s.notify(ctx(), to_alerts(api_alerts(1)))
    assert not e.value.retry and not vendor.requests
    assert str(e.value) == (
        "failed to find AWS credentials: none in sigv4, the environment, a web identity token, profile "
        "'default' of the shared credentials file, the container credentials endpoint or the instance "
        "metadata service (AWS_EC2_METADATA_DISABLED is true)"
    )


# --------------------------------------------------------------------------------------------
# Side by side with Alertmanager 0.25 (aws-sdk-go signs its request; the stand-in checks both)

COMPARED = Compared(
    BASE
    + """\
    topic_arn: arn:aws:sns:eu-west-1:123456789012:alerts
    attributes:
      alertname: '{{ .CommonLabels.alertname }}'
      status: '{{ .Status }}'
"""
)


@pytest.mark.parametrize("status", ["firing", "resolved"])
async def test_same_publish_as_alertmanager(reference: ReferenceRun, status: str) -> None:
    s = integration_from_config(SNSIntegration, reference.config)
    reference.vendor.clear()
    await s.notify(ctx(), to_alerts(api_alerts(2, ends_at=FAR_FUTURE if status == "firing" else RESOLVED_AT)))
    ours = reference.vendor.requests[0]
    theirs = (reference.firing if status == "firing" else reference.resolved)[0]
    assert verify_sigv4(theirs, SECRET) and verify_sigv4(ours, SECRET)
    assert (ours.method, ours.path, ours.headers["Content-Type"]) == (
        theirs.method,
        theirs.path,
        theirs.headers["Content-Type"],
    )
    assert ours.form() == theirs.form()
    assert ours.body.decode() == theirs.body.decode()


# --------------------------------------------------------------------------------------------
# The signer, against aws-sdk-go's own (Debian ships its source for Alertmanager's build)

GO_SIGNER = """\
package main

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go/aws/credentials"
	v4 "github.com/aws/aws-sdk-go/aws/signer/v4"
)

func main() {
	body := os.Args[2]
	req, _ := http.NewRequest("POST", os.Args[1], strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	secret := "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	creds := credentials.NewStaticCredentials("AKIDEXAMPLE", secret, os.Args[3])
	_, err := v4.NewSigner(creds).Sign(req, strings.NewReader(body), "sns", "eu-west-1",
		time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC))
	if err != nil {
		panic(err)
	}
	fmt.Println(req.Header.Get("Authorization"))
}
"""


@pytest.mark.parametrize(
    ("url", "token"),
    [
        ("https://sns.eu-west-1.amazonaws.com/", ""),
        ("http://127.0.0.1:8123/some/path?x=1&a=b%20c", "session-token"),
    ],
)
def test_signature_matches_aws_sdk_go(tmp_path: Path, url: str, token: str) -> None:
    import datetime as dt
    import os
    import subprocess

    from ampp.notify.integrations._sigv4 import Credentials, sign

    GO.require()
    AWS_SDK_GO.require()
    go, gopath = GO_1_19, str(GO_SRC.parent)
    body = (
        "Action=Publish&Message=h%C3%A9llo+%3C5%25%3E&TopicArn=arn%3Aaws%3Asns%3Aeu-west-1%3A1%3At"
        "&Version=2010-03-31"
    )
    (tmp_path / "main.go").write_text(GO_SIGNER)
    env = {**os.environ, "GO111MODULE": "off", "GOFLAGS": "", "GOPATH": gopath}
    done = subprocess.run(
        [go, "run", str(tmp_path / "main.go"), url, body, token],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    ours = sign(
        "POST",
        url,
        {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        body.encode(),
        Credentials(AKID, SECRET, token),
        "eu-west-1",
        "sns",
        dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC),
    )
    assert ours["Authorization"] == done.stdout.strip()
