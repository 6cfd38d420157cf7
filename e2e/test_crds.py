"""The CRDs in crds/ against a real API server: they install, the API server keeps valid
resources and refuses invalid ones with the CEL rules' messages, and kubectl prints the
columns. No operator runs here (see test_operator.py)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from envtest import ControlPlane

pytestmark = pytest.mark.e2e

API = "alerting.ampp.io/v1alpha1"
KINDS = {
    "AlertRoute": ("alertroutes", ["amroute", "amroutes"]),
    "Receiver": ("receivers", ["amreceiver", "amrcv"]),
    "InhibitRule": ("inhibitrules", ["aminhibit", "aminhibits"]),
    "Silence": ("silences", ["amsilence", "amsil"]),
    "TimeInterval": ("timeintervals", ["amti", "amtimeinterval"]),
}


def doc(kind: str, name: str, spec: dict[str, Any]) -> str:
    return json.dumps({"apiVersion": API, "kind": kind, "metadata": {"name": name}, "spec": spec})


def apply(cp: ControlPlane, ns: str, kind: str, name: str, spec: dict[str, Any], check: bool = True) -> Any:
    return cp.kubectl("apply", "-n", ns, "-f", "-", input=doc(kind, name, spec), check=check)


M = {"name": "alertname", "value": "Foo"}

VALID: list[tuple[str, dict[str, Any]]] = [
    (
        "AlertRoute",
        {
            "receiver": "pager",
            "matchers": [{"name": "severity", "value": "critical|page", "matchType": "=~"}],
            "groupBy": ["alertname", "cluster"],
            "groupWait": "30s",
            "groupInterval": "5m",
            "repeatInterval": "4h",
            "continue": False,
            "muteTimeIntervals": ["weekends"],
            "routes": [
                {
                    "matchers": [{"name": "team", "value": "db"}],
                    "receiver": "db",
                    "activeTimeIntervals": ["office-hours"],
                    "routes": [{"matchers": [M], "groupBy": ["..."]}],
                }
            ],
        },
    ),
    (
        "Receiver",
        {
            "webhookConfigs": [
                {
                    "url": {"name": "hooks", "key": "url"},
                    "sendResolved": False,
                    "maxAlerts": 10,
                    "timeout": "10s",
                    "httpConfig": {"authorization": {"credentials": {"name": "hooks", "key": "token"}}},
                }
            ],
            "slackConfigs": [{"apiUrl": {"name": "slack", "key": "url"}, "channel": "#alerts"}],
            "pagerdutyConfigs": [{"routingKey": {"name": "pd", "key": "key"}, "details": {"a": "b"}}],
            "emailConfigs": [{"to": "oncall@example.com", "authPassword": {"name": "smtp", "key": "pw"}}],
        },
    ),
    (
        "InhibitRule",
        {
            "sourceMatchers": [{"name": "severity", "value": "critical"}],
            "targetMatchers": [{"name": "severity", "value": "warning"}],
            "equal": ["cluster", "service"],
        },
    ),
    (
        "Silence",
        {
            "matchers": [M],
            "startsAt": "2030-01-01T00:00:00Z",
            "endsAt": "2030-01-01T02:00:00Z",
            "comment": "deploy",
        },
    ),
    (
        "Silence",
        {
            "matchers": [M, {"name": "env", "value": ".*", "matchType": "=~"}],
            "duration": "2h",
            "comment": "x",
        },
    ),
    (
        "TimeInterval",
        {
            "timeIntervals": [
                {
                    "times": [{"startTime": "09:00", "endTime": "17:30"}],
                    "weekdays": ["monday:friday"],
                    "daysOfMonth": ["1:7", "-1"],
                    "months": ["january:march"],
                    "years": ["2030:2031"],
                    "location": "Europe/Berlin",
                }
            ]
        },
    ),
]


def test_crds_install(controlplane: ControlPlane, ampp_crds: list[str]) -> None:
    assert sorted(ampp_crds) == sorted(f"{plural}.alerting.ampp.io" for plural, _ in KINDS.values())
    listed = controlplane.kubectl("api-resources", "--api-group=alerting.ampp.io", "-o", "wide").stdout
    for kind, (plural, short) in KINDS.items():
        line = next(line for line in listed.splitlines() if line.startswith(plural + " "))
        assert ",".join(short) in line and kind in line and " true " in line  # namespaced
        assert line.split()[-1] == "ampp"  # the category
    for name in ampp_crds:
        crd = json.loads(controlplane.kubectl("get", "crd", name, "-o", "json").stdout)
        version = crd["spec"]["versions"][0]
        assert version["name"] == "v1alpha1" and version["subresources"] == {"status": {}}
        assert crd["spec"]["names"]["categories"] == ["ampp"]
        assert version["additionalPrinterColumns"][-1]["name"] == "Age"
        conds = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
        assert conds["Established"] == "True" and conds["NamesAccepted"] == "True"
        # Structural: the API server found nothing to complain about.
        assert "NonStructuralSchema" not in conds


@pytest.mark.parametrize(("kind", "spec"), VALID, ids=[f"{k}-{i}" for i, (k, _) in enumerate(VALID)])
def test_valid_resources_are_stored(
    controlplane: ControlPlane, ampp_crds: list[str], namespace: str, kind: str, spec: dict[str, Any]
) -> None:
    apply(controlplane, namespace, kind, "ok", spec)
    got = json.loads(controlplane.kubectl("get", "-n", namespace, KINDS[kind][0], "ok", "-o", "json").stdout)
    # Nothing pruned (every field is in the schema); defaults filled in.
    if kind == "Receiver":
        assert got["spec"] == spec
    if kind == "Silence":  # the schema's defaults are filled in
        assert got["spec"]["matchers"][0] == {"name": "alertname", "value": "Foo", "matchType": "="}


def _rejects(cp: ControlPlane, ns: str, kind: str, spec: dict[str, Any], message: str) -> str:
    out = apply(cp, ns, kind, "bad", spec, check=False)
    assert out.returncode != 0, f"{kind} {spec} was accepted"
    assert message in out.stderr, out.stderr
    return str(out.stderr)


def sil(**fields: Any) -> dict[str, Any]:
    """A Silence spec: one matcher and a comment, plus ``fields`` (None removes one)."""
    spec: dict[str, Any] = {"matchers": [M], "comment": "x", **fields}
    return {k: v for k, v in spec.items() if v is not None}


def re_(name: str, value: str, op: str = "=~") -> dict[str, str]:
    return {"name": name, "value": value, "matchType": op}


T0, T1 = "2030-01-01T00:00:00Z", "2030-01-02T00:00:00Z"
ROUTE = {"receiver": "r"}
WEBHOOK = {"url": {"name": "a", "key": "b"}}

INVALID: list[tuple[str, dict[str, Any], str]] = [
    # Silence: CEL rules
    ("Silence", sil(duration="1h", endsAt=T0), "set exactly one of endsAt or duration"),
    ("Silence", sil(), "set exactly one of endsAt or duration"),
    ("Silence", sil(startsAt=T1, endsAt=T0), "endsAt must be after startsAt"),
    # The same instant in two offsets: compared as times, not as strings.
    ("Silence", sil(startsAt="2030-01-01T01:00:00+01:00", endsAt=T0), "endsAt must be after startsAt"),
    ("Silence", sil(duration="0s"), "duration must be longer than zero"),
    ("Silence", sil(duration="1h", matchers=[re_("a", ".*"), re_("b", "", "=")]),
     "at least one matcher must not match the empty string"),
    ("Silence", sil(duration="1h", matchers=[re_("a", "(")]), "error parsing regexp"),
    ("Silence", sil(duration="1h", matchers=[re_("a", "x", "==")]),
     'spec.matchers[0].matchType: Unsupported value: "=="'),
    ("Silence", sil(duration="1h", matchers=[re_("bad-name", "x", "=")]), "spec.matchers[0].name"),
    ("Silence", sil(duration="1h", matchers=[]), "spec.matchers"),
    ("Silence", sil(duration="1h", comment=None), "spec.comment: Required value"),
    ("Silence", sil(duration="an hour"), "spec.duration"),
    ("Silence", sil(endsAt="tomorrow"), "spec.endsAt"),
    # AlertRoute
    ("AlertRoute", {"matchers": [M]}, "spec.receiver: Required value"),
    ("AlertRoute", {**ROUTE, "groupBy": ["...", "alertname"]},
     "groupBy cannot list '...' together with label names"),
    ("AlertRoute", {**ROUTE, "groupInterval": "0s"}, "groupInterval cannot be zero"),
    ("AlertRoute", {**ROUTE, "repeatInterval": "0m"}, "repeatInterval cannot be zero"),
    ("AlertRoute", {**ROUTE, "groupWait": "soon"}, "spec.groupWait"),
    ("AlertRoute", {**ROUTE, "routes": [{"matchers": [re_("a", "", "~")]}]},
     "spec.routes[0].matchers[0].matchType"),
    # InhibitRule
    ("InhibitRule", {"sourceMatchers": [M]}, "spec.targetMatchers: Required value"),
    ("InhibitRule", {"sourceMatchers": [M], "targetMatchers": [M], "equal": ["not-a-label"]},
     "spec.equal[0]"),
    # TimeInterval
    ("TimeInterval", {"timeIntervals": [{"times": [{"startTime": "17:00", "endTime": "09:00"}]}]},
     "startTime must be before endTime"),
    ("TimeInterval", {"timeIntervals": [{"times": [{"startTime": "25:00", "endTime": "26:00"}]}]},
     "spec.timeIntervals[0].times[0].startTime"),
    ("TimeInterval", {"timeIntervals": [{"weekdays": ["someday"]}]}, "spec.timeIntervals[0].weekdays[0]"),
    ("TimeInterval", {"timeIntervals": []}, "spec.timeIntervals"),
    # Receiver: secrets are references, never inline values
    ("Receiver", {"webhookConfigs": [{"url": "http://hooks.example/token"}]}, "spec.webhookConfigs[0].url"),
    ("Receiver", {"webhookConfigs": [{"url": {"name": "hooks"}}]},
     "spec.webhookConfigs[0].url.key: Required value"),
    ("Receiver", {"webhookConfigs": [{**WEBHOOK, "timeout": "ten seconds"}]},
     "spec.webhookConfigs[0].timeout"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "spec", "message"), INVALID, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(INVALID)]
)
def test_invalid_resources_are_refused(
    controlplane: ControlPlane,
    ampp_crds: list[str],
    namespace: str,
    kind: str,
    spec: dict[str, Any],
    message: str,
) -> None:
    _rejects(controlplane, namespace, kind, spec, message)
    listed = controlplane.kubectl("get", "-n", namespace, KINDS[kind][0], "-o", "name").stdout
    assert listed.strip() == ""


def test_unknown_fields_are_refused(controlplane: ControlPlane, ampp_crds: list[str], namespace: str) -> None:
    """``*_file`` fields name files on the operator's filesystem: not part of the API."""
    out = controlplane.kubectl(
        "apply", "-n", namespace, "--validate=strict", "-f", "-", check=False,
        input=doc("Receiver", "files", {"webhookConfigs": [{"urlFile": "/var/run/secrets/token"}]}),
    )  # fmt: skip
    assert out.returncode != 0 and 'unknown field "spec.webhookConfigs[0].urlFile"' in out.stderr, out.stderr


def test_printer_columns_and_category(
    controlplane: ControlPlane, ampp_crds: list[str], namespace: str
) -> None:
    kubectl = controlplane.kubectl
    for kind, spec in VALID:
        if kind != "Silence":
            apply(controlplane, namespace, kind, kind.lower(), spec)
    apply(controlplane, namespace, "Silence", "maintenance", VALID[3][1])
    silences = kubectl("get", "silences", "-n", namespace).stdout
    assert re.match(
        r"^NAME\s+MATCHERS\s+STATE\s+STARTS\s+ENDS\s+ACCEPTED\s+REASON\s+AGE$", silences.splitlines()[0]
    ), silences
    assert silences.splitlines()[1].startswith("maintenance ")
    wide = kubectl("get", "amsil", "-n", namespace, "-o", "wide").stdout
    assert re.match(
        r"^NAME\s+MATCHERS\s+STATE\s+STARTS\s+ENDS\s+ACCEPTED\s+REASON\s+ID\s+COMMENT\s+AGE$",
        wide.splitlines()[0],
    ), wide
    assert "deploy" in wide
    routes = kubectl("get", "alertroutes", "-n", namespace).stdout
    assert re.match(r"^NAME\s+RECEIVER\s+ACCEPTED\s+REASON\s+AGE$", routes.splitlines()[0]), routes
    assert re.match(r"^alertroute\s+pager\s+", routes.splitlines()[1]), routes
    everything = kubectl("get", "ampp", "-n", namespace, "-o", "name").stdout.split()
    assert sorted(everything) == sorted(
        [
            "alertroute.alerting.ampp.io/alertroute",
            "receiver.alerting.ampp.io/receiver",
            "inhibitrule.alerting.ampp.io/inhibitrule",
            "silence.alerting.ampp.io/maintenance",
            "timeinterval.alerting.ampp.io/timeinterval",
        ]
    )


def _undescribed(schema: dict[str, Any], components: dict[str, Any], path: str = "") -> list[str]:
    """Fields of a published OpenAPI v3 schema without a description, where a field whose
    schema is a reference (metadata: ObjectMeta) counts as described by what it refers to."""
    out: list[str] = []
    for key, sub in (schema.get("properties") or {}).items():
        refs = [s["$ref"] for s in [sub, *sub.get("allOf", [])] if "$ref" in s]
        target = components[refs[0].rsplit("/", 1)[-1]] if refs else sub
        if not (sub.get("description") or target.get("description")):
            out.append(f"{path}.{key}")
        if not refs:
            out += _undescribed(sub, components, f"{path}.{key}")
    for part, suffix in (("items", "[]"), ("additionalProperties", "{}")):
        if isinstance(schema.get(part), dict):
            out += _undescribed(schema[part], components, path + suffix)
    return out


def test_kubectl_explain_describes_every_field(controlplane: ControlPlane, ampp_crds: list[str]) -> None:
    """What `kubectl explain` reads, the API server's OpenAPI v3 document of the group, has a
    description for every field of every kind (the Receiver's from the engine model's
    docstrings), and kubectl shows them: no `<no description>` anywhere."""
    published = json.loads(controlplane.kubectl("get", "--raw", f"/openapi/v3/apis/{API}").stdout)
    components = published["components"]["schemas"]
    for kind in KINDS:
        (name,) = [n for n in components if n.endswith(f".{kind}") and ".alerting." in n]
        assert _undescribed(components[name], components) == [], kind
    for field, says in [
        ("receivers.spec.webhookConfigs", "Generic webhooks"),
        ("receivers.spec.webhookConfigs.maxAlerts", "The most alerts sent in one request"),
        ("receivers.spec.slackConfigs.httpConfig.tlsConfig", "The name the server's certificate must carry"),
        ("receivers.spec.emailConfigs.authPassword", "From a Secret in the Receiver's namespace"),
        ("receivers.spec.pagerdutyConfigs.routingKey.key", "The key in its data"),
        ("alertroutes.spec.routes.groupWait", ""),
        ("silences.status.startsAt", "When the engine silence started"),
        ("timeintervals.spec.timeIntervals.times", ""),
        ("inhibitrules.spec.equal", ""),
    ]:
        explained = controlplane.kubectl("explain", f"{field}", f"--api-version={API}").stdout
        assert "<no description>" not in explained, explained
        assert says in " ".join(explained.split()), (field, explained)


def test_status_is_a_subresource(controlplane: ControlPlane, ampp_crds: list[str], namespace: str) -> None:
    """Users (and GitOps tools) write spec; status is written through /status only, so an
    apply that carries a status changes nothing there, and a status write leaves spec alone."""
    body = yaml.safe_load(doc("Silence", "s", VALID[3][1]))
    body["status"] = {"state": "active", "silenceID": "forged"}
    controlplane.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(body))
    got = json.loads(controlplane.kubectl("get", "silence", "s", "-n", namespace, "-o", "json").stdout)
    assert "status" not in got or "silenceID" not in got["status"]
    generation = got["metadata"]["generation"]
    controlplane.kubectl(
        "patch", "silence", "s", "-n", namespace, "--subresource=status", "--type=merge",
        "-p", json.dumps({"status": {"state": "pending", "observedGeneration": generation}}),
    )  # fmt: skip
    got = json.loads(controlplane.kubectl("get", "silence", "s", "-n", namespace, "-o", "json").stdout)
    assert got["status"]["state"] == "pending"
    assert got["metadata"]["generation"] == generation  # status writes do not bump generation
