"""Amazon SNS against a local stand-in that checks AWS Signature V4, and side by side with 0.25."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from ampp.config.loader import load_text
from ampp.model.timefmt import now_ns
from ampp.notify.integrations._common import RetryLater
from ampp.notify.integrations.sns import SNSIntegration
from ampp.notify.stage import FlushContext, NotifyError
from ampp.notify.templates import Templates

from tests.support.vendors import (
    EXTERNAL_URL,
    FAR_FUTURE,
    GROUP_KEY,
    GROUP_LABELS,
    RESOLVED_AT,
    ReferenceRun,
    Reply,
    VendorServer,
    api_alerts,
    capture_reference,
    reference_available,
    reference_config,
    sns_error,
    to_alerts,
    verify_sigv4,
)

pytestmark = pytest.mark.integration

AKID, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

_made: list[SNSIntegration] = []


@pytest.fixture(autouse=True)
async def _close_integrations() -> AsyncIterator[None]:
    yield
    while _made:
        await _made.pop().close()


@pytest.fixture
def vendor() -> Iterator[VendorServer]:
    with VendorServer() as v:
        yield v


def ctx() -> FlushContext:
    return FlushContext(GROUP_KEY, dict(GROUP_LABELS), "team-a", 3600, now_ns())


def sns(receiver_yaml: str) -> SNSIntegration:
    cfg = load_text(reference_config(receiver_yaml))
    s = SNSIntegration(
        0, cfg.alerting.receivers[0].sns_configs[0], "team-a", EXTERNAL_URL, Templates.load([])
    )
    _made.append(s)
    return s


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
    # the STS endpoint of the region, played by the stand-in
    monkeypatch.setattr("ampp.notify.integrations.sns._endpoint", lambda svc, region: f"{vendor.url}/{svc}/")
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
    with pytest.raises(RetryLater):
        await s.notify(ctx(), to_alerts(api_alerts(1)))


async def test_missing_region_is_permanent(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    s = sns(f"  sns_configs:\n  - topic_arn: t\n    sigv4: {{access_key: {AKID}, secret_key: x}}\n")
    with pytest.raises(NotifyError) as e:
        await s.notify(ctx(), to_alerts(api_alerts(1)))
    assert not e.value.retry and "region not configured" in str(e.value)


# --------------------------------------------------------------------------------------------
# Side by side with Alertmanager 0.25 (aws-sdk-go signs its request; the stand-in checks both)

COMPARED = (
    BASE
    + """\
    topic_arn: arn:aws:sns:eu-west-1:123456789012:alerts
    attributes:
      alertname: '{{ .CommonLabels.alertname }}'
      status: '{{ .Status }}'
"""
)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceRun]:
    if not reference_available():
        pytest.skip("Debian's prometheus-alertmanager (the reference) is not installed")
    with VendorServer() as v:
        yield capture_reference(COMPARED, tmp_path_factory.mktemp("sns-ref"), v)


@pytest.mark.parametrize("status", ["firing", "resolved"])
async def test_same_publish_as_alertmanager(reference: ReferenceRun, status: str) -> None:
    conf = load_text(reference.config).alerting.receivers[0].sns_configs[0]
    s = SNSIntegration(0, conf, "team-a", EXTERNAL_URL, Templates.load([]))
    _made.append(s)
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
    import shutil
    import subprocess

    from ampp.notify.integrations._sigv4 import Credentials, sign

    go, gopath = shutil.which("go"), "/usr/share/gocode"
    if go is None or not Path(gopath, "src/github.com/aws/aws-sdk-go/aws/signer/v4").is_dir():
        pytest.skip("no Go toolchain or aws-sdk-go source (golang-github-aws-aws-sdk-go-dev)")
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
