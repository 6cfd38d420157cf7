"""The Helm chart (charts/alertmanager-plusplus) against a real kube-apiserver.

Helm lints and renders it; values.schema.json and the chart's own checks refuse bad values
with a clear message; every rendered manifest passes a server-side dry run in a namespace that
enforces the "restricted" Pod Security Standard; and the operator's RBAC, installed for real,
lets its ServiceAccount (a real token) do exactly what the operator needs, and nothing more.

There is no kubelet here (see controlplane/README.md): nothing runs, so `helm test` and the
probes are checked as rendered. e2e/kind/run.sh runs the chart for real on a kind cluster.
"""

from __future__ import annotations

import base64
import json
import re
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from cryptography import x509
from devcluster import LocalOperator, installed_operator, point_webhooks_at, refusals
from envtest import ControlPlane, free_port

from tests.support.eventually import eventually

pytestmark = pytest.mark.e2e
T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "charts" / "alertmanager-plusplus"
CRDS = ROOT / "crds"
CHART_CRDS = CHART / "crds"
SYNC_SCRIPT = ROOT / "scripts" / "sync-chart-crds.sh"
OPERATOR_RBAC = ROOT / "operator" / "ampp_operator" / "rbac.yaml"

GROUP = "alerting.ampp.io"
PLURALS = ("alertroutes", "receivers", "inhibitrules", "silences", "timeintervals")
RELEASE = "ampp"
FULLNAME = "ampp-alertmanager-plusplus"
STANDARD_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
    "helm.sh/chart",
)

EXTERNAL = {
    "postgresql": {"enabled": False},
    "externalPostgresql": {"url": "postgresql://ampp:s3cret@db.example.invalid:5432/ampp?sslmode=require"},
    "redis": {"enabled": False},
    "externalRedis": {"url": "rediss://:s3cret@cache.example.invalid:6380/0"},
}
# Value sets that exercise every branch of the templates.
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "external": EXTERNAL,
    "external-secrets": {
        "postgresql": {"enabled": False},
        "externalPostgresql": {"existingSecret": "db-url", "existingSecretKey": "dsn"},
        "redis": {"enabled": False},
        "externalRedis": {"existingSecret": "cache-url"},
    },
    "namespaced": {"operator": {"clusterWide": False, "namespaceEnforcement": False}},
    "sqlite": {
        "replicaCount": 1,
        "postgresql": {"enabled": False},
        "redis": {"enabled": False},
        "persistence": {"enabled": True, "size": "2Gi", "storageClass": "-"},
    },
    "serve-only": {"operator": {"enabled": False}, "replicaCount": 1, "postgresql": {"enabled": False}},
    "auth": {
        "auth": {
            "enabled": True,
            "publicMetrics": False,
            "apiKeys": [
                {"name": "admin", "role": "admin"},
                {
                    "name": "prometheus",
                    "role": "operator",
                    "existingSecret": "prom-key",
                    "existingSecretKey": "k",
                },
            ],
            "jwt": {"jwks_url": "https://sso.example.invalid/certs", "audience": ["ampp"]},
        },
        "security": {"rate_limits": {"api": {"per_ip": 200}}},
        "serviceMonitor": {"enabled": True},
    },
    "cert-manager": {
        "admission": {"failurePolicy": "Fail", "certificates": {"source": "cert-manager"}},
        "operator": {"clusterWide": False},
    },
    "everything": {
        "replicaCount": 3,
        "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
        "web": {"externalUrl": "https://alerts.example.invalid/am/"},
        "postgresql": {"auth": {"existingSecret": "pg", "existingSecretKey": "pw"}},
        "podDisruptionBudget": {"maxUnavailable": None, "minAvailable": 2},
        "service": {"type": "NodePort", "nodePort": 30093},
        "extraArgs": ["--alerts.gc-interval=10m"],
        "commonLabels": {"team": "sre"},
        "prometheusRule": {"enabled": True, "labels": {"release": "prometheus"}},
        "grafanaDashboard": {"enabled": True},
    },
}


# ---------------------------------------------------------------------------------------
# helpers


def write_values(tmp_path: Path, values: Mapping[str, Any]) -> Path:
    path = tmp_path / f"values-{uuid.uuid4().hex[:8]}.yaml"
    path.write_text(yaml.safe_dump(dict(values)))
    return path


def render(
    cp: ControlPlane,
    tmp_path: Path,
    values: Mapping[str, Any] | None = None,
    *,
    namespace: str = "monitoring",
) -> list[dict[str, Any]]:
    """`helm template` the chart; the rendered documents (hooks included, CRDs not)."""
    out = cp.helm(
        "template", RELEASE, str(CHART), "--namespace", namespace,
        "--values", str(write_values(tmp_path, values or {})),
    ).stdout  # fmt: skip
    return [d for d in yaml.safe_load_all(out) if d]


def helm_fails(cp: ControlPlane, tmp_path: Path, values: Mapping[str, Any], *cmd: str) -> str:
    """Run `helm <cmd> CHART -f values`, expect it to fail, return what it said."""
    proc = cp.helm(*cmd, str(CHART), "--values", str(write_values(tmp_path, values)), check=False)
    assert proc.returncode != 0, f"helm {' '.join(cmd)} accepted {values}:\n{proc.stdout}"
    return proc.stdout + proc.stderr


def one(docs: Iterable[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def kinds(docs: Iterable[dict[str, Any]]) -> list[str]:
    return sorted(d["kind"] for d in docs)


def engine_container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    deployment = one(docs, "Deployment")
    containers: list[dict[str, Any]] = deployment["spec"]["template"]["spec"]["containers"]
    (container,) = containers
    return container


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def config_file(docs: list[dict[str, Any]]) -> str:
    """The base config file the chart renders (a Secret's stringData)."""
    return str(one(docs, "Secret", f"{FULLNAME}-config")["stringData"]["alertmanager.yml"])


def crd_docs(directory: Path) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for f in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        docs += [d for d in yaml.safe_load_all(f.read_text()) if d]
    return docs


def has_resource(cp: ControlPlane, group_version: str, plural: str) -> bool:
    status, body = cp.get(f"/apis/{group_version}")
    return status == 200 and any(r["name"] == plural for r in json.loads(body)["resources"])


def dry_run_apply(cp: ControlPlane, docs: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    return cp.kubectl(
        "apply", "--server-side", "--dry-run=server", "--field-manager=ampp-chart-test",
        "-f", "-", input=yaml.safe_dump_all(docs),
    )  # fmt: skip


# ---------------------------------------------------------------------------------------
# CRDs


def test_chart_crds_are_a_copy_of_crds_folder() -> None:
    """charts/.../crds/ is what Helm installs; crds/ is the source (scripts/sync-chart-crds.sh)."""
    source = {p.name: p.read_bytes() for p in CRDS.glob("*.y*ml")}
    copied = {p.name: p.read_bytes() for p in CHART_CRDS.glob("*.y*ml")}
    stale = sorted(n for n in source.keys() | copied.keys() if source.get(n) != copied.get(n))
    assert not stale, (
        f"chart CRDs differ from crds/ ({', '.join(stale)}): run {SYNC_SCRIPT.relative_to(ROOT)}"
    )
    check = subprocess.run(["bash", str(SYNC_SCRIPT), "--check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_chart_rbac_names_the_crds_it_ships() -> None:
    """The RBAC rules name the five plurals; the CRDs must serve exactly those."""
    crds = [d for d in crd_docs(CHART_CRDS) if d.get("kind") == "CustomResourceDefinition"]
    assert crds, f"{CHART_CRDS} holds no CustomResourceDefinitions"
    served = {(d["spec"]["group"], d["spec"]["names"]["plural"]) for d in crds}
    assert served == {(GROUP, p) for p in PLURALS}
    for d in crds:
        assert d["spec"]["scope"] == "Namespaced", d["metadata"]["name"]
        assert any(v["name"] == "v1alpha1" and v["served"] for v in d["spec"]["versions"])
        assert all("status" in v.get("subresources", {}) for v in d["spec"]["versions"])


@pytest.fixture(scope="module")
def chart_crds(controlplane: ControlPlane) -> list[str]:
    """The chart's CRDs, applied for real (dry runs of custom resources need them)."""
    docs = crd_docs(CHART_CRDS)
    if not docs:
        return []
    controlplane.kubectl(
        "apply", "--server-side", "--force-conflicts", "--field-manager=ampp-e2e",
        "-f", str(CHART_CRDS),
    )  # fmt: skip
    names = [d["metadata"]["name"] for d in docs]
    controlplane.kubectl(
        "wait", "--for=condition=Established", "--timeout=60s",
        *[f"customresourcedefinition/{n}" for n in names],
    )  # fmt: skip
    return names


@pytest.fixture(scope="module")
def third_party_schemas(controlplane: ControlPlane) -> list[str]:
    """The checked-in schemas of the kinds the chart renders from other projects
    (e2e/schemas/: ServiceMonitor, PrometheusRule, cert-manager's Issuer and Certificate),
    installed as CRDs so that dry runs check those too."""
    files = sorted((ROOT / "e2e" / "schemas").glob("*.yaml"))
    names = [d["metadata"]["name"] for f in files for d in yaml.safe_load_all(f.read_text()) if d]
    for f in files:
        controlplane.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(f))
    controlplane.kubectl("wait", "--for=condition=Established", "--timeout=60s", *[f"crd/{n}" for n in names])
    return names


# ---------------------------------------------------------------------------------------
# lint and schema


@pytest.mark.parametrize("variant", ["default", "external", "namespaced", "sqlite", "everything"])
@pytest.mark.parametrize("strict", [False, True], ids=["lint", "lint-strict"])
def test_helm_lint(controlplane: ControlPlane, tmp_path: Path, variant: str, strict: bool) -> None:
    args = ["lint", str(CHART), "--values", str(write_values(tmp_path, VARIANTS[variant]))]
    proc = controlplane.helm(*args, *(["--strict"] if strict else []), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 chart(s) failed" in proc.stdout
    assert "[WARNING]" not in proc.stdout and "[ERROR]" not in proc.stdout, proc.stdout


def test_values_schema_is_draft_07_and_strict() -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is in the test extra: make setup")
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft7Validator(schema).validate(yaml.safe_load((CHART / "values.yaml").read_text()))

    def loose(node: dict[str, Any], path: str) -> Iterator[str]:
        """Objects with declared properties that say nothing about undeclared ones (`config`,
        any Alertmanager configuration, allows them on purpose)."""
        if "properties" in node and "additionalProperties" not in node:
            yield path
        for key, child in node.get("properties", {}).items():
            yield from loose(child, f"{path}.{key}")
        for key, child in node.get("definitions", {}).items():
            yield from loose(child, f"#{key}")

    assert list(loose(schema, "")) == []


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"replicaCount": "two"}, r"replicaCount.*(got string, want integer|Expected: integer)"),
        ({"replicas": 2}, r"additional propert.*replicas"),
        ({"log": {"level": "verbose"}}, r"/log/level|log\.level"),
        ({"image": {"pullPolicy": "Sometimes"}}, r"/image/pullPolicy|image\.pullPolicy"),
        ({"image": {"digest": "latest"}}, r"/image/digest|image\.digest"),
        ({"retention": "5 days"}, r"/retention|retention"),
        ({"operator": {"watchNamespaces": ["Not_A_Namespace"]}}, r"watchNamespaces"),
        ({"externalPostgresql": {"url": "mysql://db"}}, r"externalPostgresql/url|externalPostgresql\.url"),
        ({"resources": {"limits": {"memory": "lots"}}}, r"resources/limits/memory|memory"),
        ({"service": {"port": 70000}}, r"/service/port|service\.port"),
    ],
    ids=[
        "replicaCount-string", "unknown-key", "log-level", "pull-policy", "digest", "retention",
        "namespace-name", "postgres-url", "quantity", "port",
    ],
)  # fmt: skip
def test_schema_rejects_bad_values(
    controlplane: ControlPlane, tmp_path: Path, values: dict[str, Any], expected: str
) -> None:
    for cmd in (("template", RELEASE), ("lint",)):
        said = helm_fails(controlplane, tmp_path, values, *cmd)
        assert "values don't meet the specifications of the schema" in said, said
        assert re.search(expected, said), f"{expected!r} not in:\n{said}"


def test_schema_error_for_replicas_as_string_is_readable(controlplane: ControlPlane, tmp_path: Path) -> None:
    said = helm_fails(controlplane, tmp_path, {"replicaCount": "two"}, "template", RELEASE)
    # e.g. "- at '/replicaCount': got string, want integer"
    line = next(ln for ln in said.splitlines() if "replicaCount" in ln)
    assert "string" in line and "integer" in line, said


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {"externalPostgresql": {"url": "postgresql://db/ampp"}},
            "postgresql.enabled and externalPostgresql are exclusive",
        ),
        (
            {"redis": {"enabled": True}, "externalRedis": {"url": "redis://cache:6379"}},
            "redis.enabled and externalRedis are exclusive",
        ),
        ({"postgresql": {"enabled": False}, "replicaCount": 2}, "replicaCount > 1 needs PostgreSQL"),
        ({"podDisruptionBudget": {"minAvailable": 1}}, "only one of minAvailable and maxUnavailable"),
        (
            {"serviceAccount": {"create": False}},
            "rbac.create with serviceAccount.create=false needs serviceAccount.name",
        ),
    ],
    ids=["two-postgresqls", "two-redises", "replicas-on-sqlite", "pdb-both", "default-sa"],
)
def test_chart_refuses_inconsistent_values(
    controlplane: ControlPlane, tmp_path: Path, values: dict[str, Any], expected: str
) -> None:
    said = helm_fails(controlplane, tmp_path, values, "template", RELEASE)
    assert expected in said, said


# ---------------------------------------------------------------------------------------
# rendering


def test_default_render(controlplane: ControlPlane, tmp_path: Path) -> None:
    docs = render(controlplane, tmp_path)
    assert kinds(docs) == sorted(
        ["ClusterRole", "ClusterRole", "ClusterRole", "ClusterRole", "ClusterRoleBinding",
         "ClusterRoleBinding", "ClusterRoleBinding", "Deployment", "Job", "Pod", "Role", "Role", "Role",
         "RoleBinding", "RoleBinding", "RoleBinding", "RoleBinding", "Secret", "Secret", "Service",
         "Service", "Service", "Service", "Service", "Service", "ServiceAccount", "ServiceAccount",
         "StatefulSet", "StatefulSet", "ValidatingWebhookConfiguration"]
    )  # fmt: skip
    for d in docs:
        labels = d["metadata"].get("labels", {})
        missing = [k for k in STANDARD_LABELS if k not in labels]
        assert not missing, f"{d['kind']}/{d['metadata']['name']} lacks labels {missing}"
        assert labels["app.kubernetes.io/version"] == "0.1.0"
        if d["kind"] not in ("ClusterRole", "ClusterRoleBinding", "ValidatingWebhookConfiguration"):
            assert d["metadata"]["namespace"] == "monitoring", d["metadata"]["name"]

    deployment = one(docs, "Deployment")
    assert deployment["spec"]["replicas"] == 1  # no PodDisruptionBudget for one replica
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == FULLNAME
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 65532
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    c = engine_container(docs)
    assert c["image"] == "alertmanager-plusplus:0.1.0"
    assert c["args"][0] == "operator"
    for flag in (
        "--config.file=/etc/ampp/alertmanager.yml",
        "--storage.path=/data",
        "--web.listen-address=:9093",
        "--cluster.listen-address=:9094",  # the replicas sharing PostgreSQL form the cluster
        "--cluster.advertise-address=$(AMPP_POD_IP):9094",
        "--leader-election.namespace=monitoring",  # the Lease in the release namespace
    ):
        assert flag in c["args"], flag
    # The URLs reach the engine through the environment ($AMPP_STORAGE_URL, $AMPP_CACHE_URL).
    assert not [a for a in c["args"] if a.startswith(("--storage.url", "--cache.url"))]
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert c["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert c["livenessProbe"]["httpGet"] == {"path": "/-/healthy", "port": "http"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/-/ready", "port": "http"}
    assert c["ports"] == [
        {"name": "http", "containerPort": 9093, "protocol": "TCP"},
        {"name": "webhook", "containerPort": 9443, "protocol": "TCP"},
    ]
    assert c["resources"]["requests"] and c["resources"]["limits"]
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    assert mounts == {"/etc/ampp": "config", "/data": "data", "/tmp": "tmp"}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes["data"] and "emptyDir" in volumes["tmp"]
    env = env_of(c)
    assert env["AMPP_NAMESPACE_ENFORCEMENT"] == "true"
    assert env["AMPP_WATCH_NAMESPACES"] == ""
    assert env["AMPP_STORAGE_URL"] == (
        f"postgresql://ampp:$(AMPP_POSTGRES_PASSWORD)@{FULLNAME}-postgresql:5432/ampp"
    )
    assert env["AMPP_POSTGRES_PASSWORD"] == {
        "secretKeyRef": {"name": f"{FULLNAME}-postgresql", "key": "password"}
    }
    assert env["AMPP_CACHE_URL"] == f"redis://:$(AMPP_REDIS_PASSWORD)@{FULLNAME}-redis:6379/0"

    config = config_file(docs)
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert yaml.safe_load(config) == values["config"]
    assert pod["volumes"][0]["secret"]["secretName"] == f"{FULLNAME}-config"

    service = one(docs, "Service", FULLNAME)
    assert service["spec"]["ports"][0]["port"] == 9093
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert service["spec"]["selector"] == selector
    three = render(controlplane, tmp_path, {"replicaCount": 3})
    pdb = one(three, "PodDisruptionBudget")
    assert pdb["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": selector}}
    spread = one(three, "Deployment", FULLNAME)["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
    [term] = spread["preferredDuringSchedulingIgnoredDuringExecution"]
    assert term["podAffinityTerm"] == {
        "topologyKey": "kubernetes.io/hostname",
        "labelSelector": {"matchLabels": selector},
    }
    assert "affinity" not in deployment["spec"]["template"]["spec"]  # one replica: nothing to spread

    for name, image, mount in (
        ("postgresql", "postgres:16.6", "/var/lib/postgresql/data"),
        ("redis", "redis:7.4.1", "/data"),
    ):
        sts = one(docs, "StatefulSet", f"{FULLNAME}-{name}")
        (container,) = sts["spec"]["template"]["spec"]["containers"]
        assert container["image"] == image
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        (claim,) = sts["spec"]["volumeClaimTemplates"]
        assert claim["metadata"]["name"] == "data"
        assert {"name": "data", "mountPath": mount} in container["volumeMounts"]
        assert sts["spec"]["serviceName"] == f"{FULLNAME}-{name}-hl"
        assert one(docs, "Service", f"{FULLNAME}-{name}-hl")["spec"]["clusterIP"] == "None"
    # The passwords are made in the cluster by the secret-init hook, not rendered.
    assert sorted(d["metadata"]["name"] for d in docs if d["kind"] == "Secret") == [
        f"{FULLNAME}-config",
        f"{FULLNAME}-webhook-tls",  # empty: the operator fills it
    ]
    assert "data" not in one(docs, "Secret", f"{FULLNAME}-webhook-tls")
    job = one(docs, "Job")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    (init,) = job["spec"]["template"]["spec"]["containers"]
    assert init["image"] == c["image"]
    assert init["args"][:4] == [
        "init-secrets", "--namespace=monitoring",
        f"--secret={FULLNAME}-postgresql:password", f"--secret={FULLNAME}-redis:password",
    ]  # fmt: skip

    test_pod = one(docs, "Pod")
    assert test_pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    assert test_pod["spec"]["containers"][0]["command"][-1] == (
        f"http://{FULLNAME}.monitoring.svc:9093/-/ready"
    )
    assert not [d for d in docs if d["kind"] == "ServiceMonitor"]


def test_external_databases_render(controlplane: ControlPlane, tmp_path: Path) -> None:
    docs = render(controlplane, tmp_path, EXTERNAL)
    assert "StatefulSet" not in kinds(docs) and "Job" not in kinds(docs)
    secret = one(docs, "Secret", f"{FULLNAME}-external")
    assert set(secret["data"]) == {"storage-url", "cache-url"}
    env = env_of(engine_container(docs))
    assert env["AMPP_STORAGE_URL"] == {"secretKeyRef": {"name": f"{FULLNAME}-external", "key": "storage-url"}}
    assert env["AMPP_CACHE_URL"] == {"secretKeyRef": {"name": f"{FULLNAME}-external", "key": "cache-url"}}
    assert "AMPP_POSTGRES_PASSWORD" not in env

    docs = render(controlplane, tmp_path, VARIANTS["external-secrets"])
    assert sorted(d["metadata"]["name"] for d in docs if d["kind"] == "Secret") == [
        f"{FULLNAME}-config",
        f"{FULLNAME}-webhook-tls",
    ]
    env = env_of(engine_container(docs))
    assert env["AMPP_STORAGE_URL"] == {"secretKeyRef": {"name": "db-url", "key": "dsn"}}
    assert env["AMPP_CACHE_URL"] == {"secretKeyRef": {"name": "cache-url", "key": "url"}}


def test_sqlite_render(controlplane: ControlPlane, tmp_path: Path) -> None:
    docs = render(controlplane, tmp_path, VARIANTS["sqlite"])
    assert "StatefulSet" not in kinds(docs) and "PodDisruptionBudget" not in kinds(docs)
    c = engine_container(docs)
    assert not [a for a in c["args"] if a.startswith(("--storage.url", "--cache.url"))]
    pvc = one(docs, "PersistentVolumeClaim")
    assert pvc["spec"]["resources"]["requests"]["storage"] == "2Gi"
    assert pvc["spec"]["storageClassName"] == ""
    volumes = {v["name"]: v for v in one(docs, "Deployment")["spec"]["template"]["spec"]["volumes"]}
    assert volumes["data"]["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"]


def test_operator_switches(controlplane: ControlPlane, tmp_path: Path) -> None:
    docs = render(controlplane, tmp_path, VARIANTS["namespaced"])
    env = env_of(engine_container(docs))
    assert env["AMPP_NAMESPACE_ENFORCEMENT"] == "false"
    assert env["AMPP_WATCH_NAMESPACES"] == "monitoring"
    assert sorted(d["metadata"]["name"] for d in docs if d["kind"] == "ClusterRole") == [
        f"monitoring-{FULLNAME}-admission",
        f"monitoring-{FULLNAME}-discovery",
        f"monitoring-{FULLNAME}-secrets",
    ]
    assert sorted(
        (d["metadata"]["namespace"], d["metadata"]["name"]) for d in docs if d["kind"] == "Role"
    ) == [
        ("monitoring", f"{FULLNAME}-admission"),
        ("monitoring", f"{FULLNAME}-leader"),
        ("monitoring", f"{FULLNAME}-operator"),
        ("monitoring", f"{FULLNAME}-secret-init"),
    ]

    docs = render(
        controlplane, tmp_path, {"operator": {"clusterWide": False, "watchNamespaces": ["team-a", "team-b"]}}
    )
    assert env_of(engine_container(docs))["AMPP_WATCH_NAMESPACES"] == "team-a,team-b"
    roles = sorted((d["metadata"]["namespace"], d["metadata"]["name"]) for d in docs if d["kind"] == "Role")
    assert roles == [
        ("monitoring", f"{FULLNAME}-admission"),
        ("monitoring", f"{FULLNAME}-leader"),
        ("monitoring", f"{FULLNAME}-secret-init"),
        ("team-a", f"monitoring-{FULLNAME}-operator"),
        ("team-b", f"monitoring-{FULLNAME}-operator"),
    ]

    # Secrets are readable where Receivers may reference them, each namespace by a RoleBinding.
    def secret_bindings(values: dict[str, Any]) -> list[tuple[str, str]]:
        return sorted(
            (d["kind"], d["metadata"].get("namespace", ""))
            for d in render(controlplane, tmp_path, values)
            if d["kind"] in ("RoleBinding", "ClusterRoleBinding")
            and d["roleRef"]["name"].endswith("-secrets")
        )

    assert secret_bindings({}) == [("RoleBinding", "monitoring")]
    assert secret_bindings(VARIANTS["namespaced"]) == [("RoleBinding", "monitoring")]
    assert secret_bindings({"operator": {"clusterWide": False, "watchNamespaces": ["a", "b"]}}) == [
        ("RoleBinding", "a"),
        ("RoleBinding", "b"),
    ]
    assert secret_bindings({"operator": {"secretNamespaces": ["team-a", "team-b"]}}) == [
        ("RoleBinding", "team-a"),
        ("RoleBinding", "team-b"),
    ]
    assert secret_bindings({"operator": {"secretNamespaces": ["*"]}}) == [("ClusterRoleBinding", "")]

    docs = render(controlplane, tmp_path, VARIANTS["serve-only"])
    c = engine_container(docs)
    assert c["args"][0] == "serve"
    assert "AMPP_NAMESPACE_ENFORCEMENT" not in env_of(c)
    engine_rbac = [
        d for d in docs
        if d["kind"] in ("Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")
        and d["metadata"]["labels"]["app.kubernetes.io/component"] != "secret-init"  # the Redis password's
    ]  # fmt: skip
    assert not engine_rbac and "ValidatingWebhookConfiguration" not in kinds(docs)
    assert one(docs, "Deployment")["spec"]["template"]["spec"]["automountServiceAccountToken"] is False


def test_everything_render(controlplane: ControlPlane, tmp_path: Path) -> None:
    docs = render(controlplane, tmp_path, VARIANTS["everything"])
    monitor = one(docs, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert monitor["spec"]["endpoints"][0]["path"] == "/am/metrics"
    assert all(d["metadata"]["labels"]["team"] == "sre" for d in docs)
    c = engine_container(docs)
    assert c["livenessProbe"]["httpGet"]["path"] == "/am/-/healthy"
    assert "--web.external-url=https://alerts.example.invalid/am/" in c["args"]
    assert c["args"][-1] == "--alerts.gc-interval=10m"
    assert env_of(c)["AMPP_POSTGRES_PASSWORD"] == {"secretKeyRef": {"name": "pg", "key": "pw"}}
    (init,) = one(docs, "Job")["spec"]["template"]["spec"]["containers"]
    assert [a for a in init["args"] if a.startswith("--secret=")] == [f"--secret={FULLNAME}-redis:password"]
    assert one(docs, "PodDisruptionBudget")["spec"]["minAvailable"] == 2
    assert one(docs, "Service", FULLNAME)["spec"]["ports"][0]["nodePort"] == 30093
    assert one(docs, "Pod")["spec"]["containers"][0]["command"][-1].endswith(":9093/am/-/ready")


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_two_renders_are_identical(controlplane: ControlPlane, tmp_path: Path, variant: str) -> None:
    """GitOps renders with `helm template` (Argo CD) and compares: nothing random may be in
    the output, or every sync sees drift (and PostgreSQL a new password)."""
    values = str(write_values(tmp_path, VARIANTS[variant]))
    first, second = (
        controlplane.helm("template", RELEASE, str(CHART), "-n", "monitoring", "--values", values).stdout
        for _ in range(2)
    )
    assert first == second


def _containers(docs: Iterable[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for d in docs:
        spec = d.get("spec") or {}
        pod = spec["template"]["spec"] if "template" in spec else spec if d["kind"] == "Pod" else None
        for c in (pod or {}).get("initContainers", []) + (pod or {}).get("containers", []):
            yield f"{d['kind']}/{d['metadata']['name']}/{c['name']}", c


PINNED = re.compile(r"^[^@:]+(:\d+\.\d+(\.\d+)?(-[\w.]+)?|@sha256:[0-9a-f]{64})$")
"""A full version (16.6, 7.4.1, 8.11.1; not 16 or latest) or a digest."""


def test_images_are_pinned_and_one_value_moves_them_all(controlplane: ControlPlane, tmp_path: Path) -> None:
    for variant in VARIANTS:
        for where, c in _containers(render(controlplane, tmp_path, VARIANTS[variant])):
            assert PINNED.match(c["image"]), f"{variant}: {where} runs {c['image']}, not a pinned version"
    mirror = "registry.example.com:5000/mirror"
    values = {**VARIANTS["everything"], "image": {"repository": "ghcr.io/example/ampp"}}
    images = {
        where: c["image"]
        for where, c in _containers(
            render(controlplane, tmp_path, {**values, "global": {"imageRegistry": mirror}})
        )
    }
    assert images == {
        f"Deployment/{FULLNAME}/ampp": f"{mirror}/example/ampp:0.1.0",
        f"Job/{FULLNAME}-secret-init/init-secrets": f"{mirror}/example/ampp:0.1.0",
        f"StatefulSet/{FULLNAME}-postgresql/postgresql": f"{mirror}/library/postgres:16.6",
        f"StatefulSet/{FULLNAME}-redis/redis": f"{mirror}/library/redis:7.4.1",
        f"Pod/{FULLNAME}-test-ready/curl": f"{mirror}/curlimages/curl:8.11.1",
    }


def test_no_password_reaches_a_command_line(controlplane: ControlPlane, tmp_path: Path) -> None:
    """The kubelet expands $(VAR) in args and command, which puts the value in the process's
    command line (readable in /proc by every process of the node): the chart expands only the
    pod's own fields there (its IP), so passwords and URLs holding them only travel in the
    environment or in files."""
    for variant in VARIANTS:
        for where, c in _containers(render(controlplane, tmp_path, VARIANTS[variant])):
            assert not expanded_secrets(c), f"{variant}: {where} expands {expanded_secrets(c)}"


def expanded_secrets(container: Mapping[str, Any]) -> list[str]:
    """The arguments of a container that expand a variable other than a field of its pod."""
    env = {e["name"]: e.get("valueFrom", {}) for e in container.get("env", [])}
    return [
        a
        for a in container.get("command", []) + container.get("args", [])
        for var in re.findall(r"\$\((\w+)\)", a)
        if "fieldRef" not in env.get(var, {})
    ]


def test_base_config_is_a_secret_or_yours(controlplane: ControlPlane, tmp_path: Path) -> None:
    """Receivers in the base config carry webhook URLs and passwords: it is rendered into a
    Secret, or read from a Secret of the user's (sealed or external secrets, GitOps)."""
    docs = render(controlplane, tmp_path)
    assert "ConfigMap" not in kinds(docs)
    assert one(docs, "Secret", f"{FULLNAME}-config")["type"] == "Opaque"
    docs = render(controlplane, tmp_path, {"existingConfigSecret": "my-alertmanager-config"})
    assert [d["metadata"]["name"] for d in docs if d["kind"] == "Secret"] == [f"{FULLNAME}-webhook-tls"]
    pod = one(docs, "Deployment")["spec"]["template"]
    assert pod["spec"]["volumes"][0]["secret"]["secretName"] == "my-alertmanager-config"
    assert "checksum/config" not in (pod["metadata"].get("annotations") or {})


def _ampp(*args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from ampp.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60, check=False
    )


OPERATOR_ONLY_FLAGS = {"--leader-election.name"}


def test_engine_accepts_what_the_chart_passes(controlplane: ControlPlane, tmp_path: Path) -> None:
    """The rendered alertmanager.yml passes `ampp check-config`, and every flag the Deployment
    passes is one the command knows (`ampp operator`'s flags once the operator is installed)."""
    for variant in ("default", "everything", "serve-only", "auth"):
        docs = render(controlplane, tmp_path, VARIANTS[variant])
        config = tmp_path / "alertmanager.yml"
        config.write_text(config_file(docs))
        checked = _ampp("check-config", str(config))
        assert checked.returncode == 0, checked.stdout + checked.stderr

        args = engine_container(docs)["args"]
        command, flags = args[0], {a.split("=", 1)[0] for a in args[1:]}
        help_ = _ampp(command, "--help")
        if help_.returncode != 0 and command == "operator":  # the operator is not installed (yet)
            help_, flags = _ampp("serve", "--help"), flags - OPERATOR_ONLY_FLAGS
        assert help_.returncode == 0, help_.stderr
        for flag in sorted(flags):
            assert re.search(rf"(^|\s){re.escape(flag)}\b", help_.stdout), f"`ampp {command}` lacks {flag}"


def test_auth_from_values_and_secrets_keeps_probes_and_servicemonitor_working(
    controlplane: ControlPlane, tmp_path: Path
) -> None:
    """With auth on: the rendered config serves (keys from the generated Secret and an existing
    one, mounted as files, a JWKS URL), the Deployment's probes answer without credentials, and
    the ServiceMonitor's scrape answers with the credentials it names and only with them."""

    import httpx
    from ampp.auth.apikeys import new_secret

    from tests.support.servers import free_port, run_server

    docs = render(controlplane, tmp_path, VARIANTS["auth"])
    keys = tmp_path / "keys"
    keys.mkdir()
    # Generated by the secret-init hook (test_the_secret_init_job_makes_api_keys), not rendered.
    (init,) = one(docs, "Job")["spec"]["template"]["spec"]["containers"]
    assert f"--api-keys={FULLNAME}-api-keys:admin" in init["args"], "a key with an existingSecret is not made"
    admin = new_secret()
    (keys / "admin").write_text(admin)
    (keys / "prometheus").write_text("prometheus-key-from-its-own-secret")
    volumes = one(docs, "Deployment")["spec"]["template"]["spec"]["volumes"]
    (projected,) = [v["projected"]["sources"] for v in volumes if v["name"] == "api-keys"]
    assert [(s["secret"]["name"], s["secret"]["items"][0]["key"]) for s in projected] == [
        (f"{FULLNAME}-api-keys", "admin"), ("prom-key", "k"),
    ]  # fmt: skip
    config = config_file(docs).replace("/etc/ampp-keys", str(keys))
    container = engine_container(docs)
    monitor = one(docs, "ServiceMonitor")["spec"]["endpoints"][0]
    assert monitor["authorization"]["credentials"] == {"name": "prom-key", "key": "k"}
    with run_server("ampp", config, tmp_path / "engine", port=free_port(), client={}) as srv:
        for probe in ("livenessProbe", "readinessProbe"):
            path = container[probe]["httpGet"]["path"]
            assert httpx.get(srv.url + path, timeout=10).status_code == 200, probe
        scrape = srv.url + monitor["path"]
        assert httpx.get(scrape, timeout=10).status_code == 401
        as_monitor = {"Authorization": "Bearer prometheus-key-from-its-own-secret"}
        assert httpx.get(scrape, headers=as_monitor, timeout=10).status_code == 200
        status = httpx.get(f"{srv.url}/api/v2/status", headers={"X-API-Key": admin}, timeout=10)
        assert status.status_code == 200
        assert "Fetching the JWKS failed" in srv.log()


# ---------------------------------------------------------------------------------------
# server-side dry run


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_manifests_pass_server_side_dry_run(
    controlplane: ControlPlane,
    namespace: str,
    chart_crds: list[str],
    third_party_schemas: list[str],
    tmp_path: Path,
    variant: str,
) -> None:
    """Every rendered object, hooks included, is valid for the API server (strict field
    validation against its OpenAPI schema; other projects' kinds against e2e/schemas/) and every
    Pod template meets the "restricted" Pod Security Standard."""
    controlplane.kubectl(
        "label", "namespace", namespace,
        "pod-security.kubernetes.io/enforce=restricted", "pod-security.kubernetes.io/warn=restricted",
    )  # fmt: skip
    values = dict(VARIANTS[variant])
    if variant == "namespaced":
        other = f"{namespace[:50]}-other"
        controlplane.kubectl("create", "namespace", other)
        values["operator"] = {**values["operator"], "watchNamespaces": [namespace, other]}
    docs = render(controlplane, tmp_path, values, namespace=namespace)
    proc = dry_run_apply(controlplane, docs)
    assert "Warning" not in proc.stderr, proc.stderr
    applied = [ln for ln in proc.stdout.splitlines() if ln.endswith("(server dry run)")]
    assert len(applied) == len(docs), proc.stdout


def test_dry_run_catches_a_pod_security_violation(
    controlplane: ControlPlane, namespace: str, tmp_path: Path
) -> None:
    """The check above has teeth: a container that may escalate privileges is reported."""
    controlplane.kubectl(
        "label", "namespace", namespace,
        "pod-security.kubernetes.io/enforce=restricted", "pod-security.kubernetes.io/warn=restricted",
    )  # fmt: skip
    values = {"securityContext": {"allowPrivilegeEscalation": True, "readOnlyRootFilesystem": True}}
    docs = render(controlplane, tmp_path, values, namespace=namespace)
    proc = dry_run_apply(controlplane, [one(docs, "Deployment")])
    assert 'would violate PodSecurity "restricted' in proc.stderr, proc.stderr
    assert "allowPrivilegeEscalation" in proc.stderr


# ---------------------------------------------------------------------------------------
# RBAC, installed for real and checked with the ServiceAccount's own token


def install(cp: ControlPlane, namespace: str, tmp_path: Path, values: Mapping[str, Any]) -> None:
    """helm install, without hooks: no kubelet runs their Jobs here (``run_secret_init`` does
    what the secret-init Job would)."""
    cp.helm(
        "install", RELEASE, str(CHART), "--namespace", namespace, "--skip-crds", "--no-hooks",
        "--values", str(write_values(tmp_path, in_its_namespace(values, namespace))),
    )  # fmt: skip


def in_its_namespace(values: Mapping[str, Any], namespace: str) -> dict[str, Any]:
    """Values whose admission webhook only sees its own namespace (unless they choose): a
    release's webhook is cluster-scoped and outlives its test, and its Service cannot be
    reached here, so it must not stand in the way of every later test's resources."""
    admission = dict(values.get("admission") or {})
    admission.setdefault("namespaceSelector", {"matchLabels": {"kubernetes.io/metadata.name": namespace}})
    return {**values, "admission": admission}


def can_i(
    cp: ControlPlane, kubeconfig: Path, checks: list[tuple[str, str, str]]
) -> dict[tuple[str, str, str], bool]:
    """SelfSubjectAccessReviews (what `kubectl auth can-i` sends) for (verb, resource,
    namespace) triples, where resource is plural[.group][/subresource][#object-name] and
    namespace "" means cluster-wide. One kubectl call, made with ``kubeconfig``'s identity."""
    reviews = []
    for verb, resource, ns in checks:
        resource, _, object_name = resource.partition("#")
        qualified, _, sub = resource.partition("/")
        plural, _, group = qualified.partition(".")
        attrs = {"verb": verb, "resource": plural, "group": group, "namespace": ns}
        if sub:
            attrs["subresource"] = sub
        if object_name:
            attrs["name"] = object_name
        reviews.append(
            {
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SelfSubjectAccessReview",
                "spec": {"resourceAttributes": attrs},
            }
        )
    out = cp.kubectl(
        "create", "-o", "json", "-f", "-", kubeconfig=kubeconfig,
        input=yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": reviews}),
    ).stdout  # fmt: skip
    answers, decoder, pos = [], json.JSONDecoder(), 0
    while pos < len(out.strip()):
        obj, end = decoder.raw_decode(out, pos)
        answers.append(bool(obj["status"].get("allowed")))
        pos = end
        while pos < len(out) and out[pos].isspace():
            pos += 1
    assert len(answers) == len(checks)
    return dict(zip(checks, answers, strict=True))


def assert_access(
    cp: ControlPlane,
    kubeconfig: Path,
    allowed: list[tuple[str, str, str]],
    denied: list[tuple[str, str, str]],
) -> None:
    answers = can_i(cp, kubeconfig, allowed + denied)
    wrong = [f"cannot {v} {r} in {n or 'all namespaces'}" for (v, r, n) in allowed if not answers[(v, r, n)]]
    wrong += [f"can {v} {r} in {n or 'all namespaces'}" for (v, r, n) in denied if answers[(v, r, n)]]
    assert not wrong, "the operator's ServiceAccount " + "; ".join(wrong)


def watched_access(ns: str) -> list[tuple[str, str, str]]:
    """What the operator needs in a namespace it watches (operator/ampp_operator/rbac.yaml)."""
    need = [(v, f"{p}.{GROUP}", ns) for p in PLURALS for v in ("get", "list", "watch")]
    need += [("patch", f"{p}.{GROUP}/status", ns) for p in PLURALS]
    need += [("patch", f"silences.{GROUP}", ns)]  # the finalizer
    need += [("create", "events", ns)]
    return need


def secret_access(ns: str) -> list[tuple[str, str, str]]:
    """Where Receivers may reference Secrets (operator.secretNamespaces): each one read and
    watched by name, never listed."""
    return [("get", "secrets", ns), ("watch", "secrets", ns)]


def forbidden_everywhere(ns: str) -> list[tuple[str, str, str]]:
    """What it must never be able to do, wherever it looks."""
    verbs = ("create", "update", "delete", "deletecollection")
    deny = [(v, f"{p}.{GROUP}", ns) for p in PLURALS for v in verbs]
    deny += [("patch", f"{p}.{GROUP}", ns) for p in PLURALS if p != "silences"]  # spec is the user's
    deny += [("update", f"{p}.{GROUP}/status", ns) for p in PLURALS]
    deny += [(v, "secrets", ns) for v in ("list", "create", "update", "patch", "delete")]
    deny += [(v, "configmaps", ns) for v in ("get", "update")]
    deny += [("list", "pods", ns), ("create", "pods", ns), ("create", "serviceaccounts/token", ns)]
    deny += [("get", "deployments.apps", ns), ("delete", "events", ns), ("patch", "events", ns)]
    deny += [
        ("delete", "leases.coordination.k8s.io", ns),
        ("create", "rolebindings.rbac.authorization.k8s.io", ns),
        ("bind", "roles.rbac.authorization.k8s.io", ns),
    ]
    return deny


CLUSTER_NEEDS = [
    ("list", "customresourcedefinitions.apiextensions.k8s.io", ""),
    ("watch", "customresourcedefinitions.apiextensions.k8s.io", ""),
]
NAMESPACE_WATCH = [("list", "namespaces", ""), ("watch", "namespaces", "")]  # only when not cluster-wide
CLUSTER_FORBIDDEN = [
    ("get", "customresourcedefinitions.apiextensions.k8s.io", ""),
    ("create", "customresourcedefinitions.apiextensions.k8s.io", ""),
    ("delete", "customresourcedefinitions.apiextensions.k8s.io", ""),
    ("get", "namespaces", ""),
    ("create", "namespaces", ""),
    ("delete", "namespaces", ""),
    ("escalate", "clusterroles.rbac.authorization.k8s.io", ""),
    ("create", "clusterrolebindings.rbac.authorization.k8s.io", ""),
    ("list", "nodes", ""),
]


LEASE = f"leases.coordination.k8s.io#{FULLNAME}"
WEBHOOK_TLS = f"{FULLNAME}-webhook-tls"


def admission_access(ns: str) -> list[tuple[str, str, str]]:
    """The admission webhook's self-managed certificates: its Secret, and its configuration's
    caBundle (cluster-scoped, named after the release and its namespace)."""
    conf = f"{ns}-{FULLNAME}"[:52].rstrip("-")
    return [(v, f"secrets#{WEBHOOK_TLS}", ns) for v in ("get", "patch")] + [
        (v, f"validatingwebhookconfigurations.admissionregistration.k8s.io#{conf}", "")
        for v in ("get", "patch")
    ]


def leader_access(ns: str) -> list[tuple[str, str, str]]:
    """Leader election on the release's own Lease."""
    return [("create", "leases.coordination.k8s.io", ns), ("get", LEASE, ns), ("update", LEASE, ns)]


def someone_elses_lease(ns: str) -> list[tuple[str, str, str]]:
    other = "leases.coordination.k8s.io#kube-scheduler"
    return [("get", other, ns), ("update", other, ns), ("list", "leases.coordination.k8s.io", ns)]


def rules_from_list(cp: ControlPlane, kubeconfig: Path, ns: str) -> set[tuple[str, str]]:
    """`kubectl auth can-i --list`: every (resource[#name], verb) the identity has in ``ns``."""
    out = cp.kubectl(
        "auth", "can-i", "--list", "--namespace", ns, "--no-headers", kubeconfig=kubeconfig
    ).stdout
    found = set()
    for line in out.splitlines():
        m = re.match(r"^(\S+)\s+\[(.*?)\]\s+\[(.*?)\]\s+\[(.*?)\]\s*$", line)
        if m:  # resource rows; non-resource URL rows start with blanks
            names = m[3].split() or [""]
            found |= {(m[1] + (f"#{n}" if n else ""), verb) for n in names for verb in m[4].split()}
    return found


@pytest.fixture
def baseline_rules(controlplane: ControlPlane, namespace: str) -> Iterator[Any]:
    """What any ServiceAccount may do with no bindings (self-reviews, discovery), to subtract."""

    def rules(ns: str) -> set[tuple[str, str]]:
        controlplane.kubectl("create", "serviceaccount", "nobody", "-n", namespace, check=False)
        return rules_from_list(
            controlplane, controlplane.kubeconfig_for_service_account(namespace, "nobody"), ns
        )

    yield rules


def expected_rules(namespaced_needs: list[tuple[str, str, str]]) -> set[tuple[str, str]]:
    return {(r, v) for v, r, _ in namespaced_needs}


def test_cluster_wide_rbac_is_exactly_what_the_operator_needs(
    controlplane: ControlPlane, namespace: str, chart_crds: list[str], tmp_path: Path, baseline_rules: Any
) -> None:
    install(controlplane, namespace, tmp_path, {})
    sa = controlplane.kubeconfig_for_service_account(namespace, FULLNAME)
    elsewhere = f"{namespace[:50]}-else"
    controlplane.kubectl("create", "namespace", elsewhere)

    allowed = watched_access(namespace) + watched_access(elsewhere) + leader_access(namespace)
    allowed += [(v, r, "") for v, r, _ in watched_access("") if v in ("list", "watch")]
    allowed += CLUSTER_NEEDS + secret_access(namespace) + admission_access(namespace)
    denied = forbidden_everywhere(namespace) + forbidden_everywhere(elsewhere) + forbidden_everywhere("")
    denied += leader_access(elsewhere) + someone_elses_lease(namespace) + CLUSTER_FORBIDDEN + NAMESPACE_WATCH
    # Secrets: only where Receivers may reference them (the release namespace by default).
    denied += secret_access(elsewhere) + secret_access("kube-system") + secret_access("")
    assert_access(controlplane, sa, allowed, denied)

    # And nothing beyond that: the complete list, less what every ServiceAccount has.
    extra = rules_from_list(controlplane, sa, namespace) - baseline_rules(namespace)
    assert extra == expected_rules(
        watched_access(namespace) + leader_access(namespace) + CLUSTER_NEEDS + secret_access(namespace)
        + admission_access(namespace)
    )  # fmt: skip
    cluster_wide = [a for a in admission_access(namespace) if not a[2]]
    assert rules_from_list(controlplane, sa, elsewhere) - baseline_rules(namespace) == expected_rules(
        watched_access(elsewhere) + CLUSTER_NEEDS + cluster_wide
    )


def test_namespaced_rbac_stays_in_the_watched_namespaces(
    controlplane: ControlPlane, namespace: str, chart_crds: list[str], tmp_path: Path, baseline_rules: Any
) -> None:
    team = f"{namespace[:50]}-team"
    stranger = f"{namespace[:50]}-stranger"
    for ns in (team, stranger):
        controlplane.kubectl("create", "namespace", ns)
    install(
        controlplane,
        namespace,
        tmp_path,
        {"operator": {"clusterWide": False, "watchNamespaces": [namespace, team]}},
    )
    sa = controlplane.kubeconfig_for_service_account(namespace, FULLNAME)

    allowed = (
        watched_access(namespace)
        + watched_access(team)
        + secret_access(namespace)
        + secret_access(team)
        + leader_access(namespace)
        + admission_access(namespace)
        + CLUSTER_NEEDS
        + NAMESPACE_WATCH
    )
    denied = forbidden_everywhere(namespace) + forbidden_everywhere(team) + forbidden_everywhere(stranger)
    denied += watched_access(stranger) + leader_access(team) + leader_access(stranger) + CLUSTER_FORBIDDEN
    denied += someone_elses_lease(namespace) + secret_access(stranger) + secret_access("kube-system")
    denied += [(v, r, "") for v, r, _ in watched_access("") + secret_access("")]  # nothing across all
    assert_access(controlplane, sa, allowed, denied)

    base = baseline_rules(namespace)
    cluster_wide = CLUSTER_NEEDS + NAMESPACE_WATCH + [a for a in admission_access(namespace) if not a[2]]
    assert rules_from_list(controlplane, sa, namespace) - base == expected_rules(
        watched_access(namespace) + secret_access(namespace) + leader_access(namespace)
        + admission_access(namespace) + cluster_wide
    )  # fmt: skip
    assert rules_from_list(controlplane, sa, team) - base == expected_rules(
        watched_access(team) + secret_access(team) + cluster_wide
    )
    assert rules_from_list(controlplane, sa, stranger) - base == expected_rules(cluster_wide)


def test_serve_only_has_no_rights(
    controlplane: ControlPlane, namespace: str, tmp_path: Path, baseline_rules: Any
) -> None:
    install(controlplane, namespace, tmp_path, VARIANTS["serve-only"])
    sa = controlplane.kubeconfig_for_service_account(namespace, FULLNAME)
    assert rules_from_list(controlplane, sa, namespace) == baseline_rules(namespace)


def _wait(what: str, check: Callable[[], T], op: LocalOperator) -> T:
    """``check`` passing while the operator runs (each check asks the API server)."""

    def running_and_checked() -> T:
        if op.proc.poll() is not None:
            raise RuntimeError(f"ampp operator exited ({op.proc.returncode}):\n{op.log.read_text()[-4000:]}")
        return check()

    try:
        return eventually(running_and_checked, what, within=60, interval=0.5)
    except AssertionError as e:
        raise AssertionError(f"{e}:\n{op.log.read_text()[-4000:]}") from None


@pytest.mark.parametrize("cluster_wide", [True, False], ids=["cluster-wide", "namespaced"])
def test_operator_runs_with_the_charts_flags_env_and_rbac(
    controlplane: ControlPlane, namespace: str, chart_crds: list[str], tmp_path: Path, cluster_wide: bool
) -> None:
    """`ampp operator`, started as the installed Deployment says (its args and environment;
    only paths and the port made local) with its ServiceAccount's token, becomes leader on the
    release's Lease, serves /-/ready and reconciles a Silence: no request it makes is forbidden."""
    helped = _ampp("operator", "--help")
    assert helped.returncode == 0, f"`ampp operator --help` failed: {helped.stderr}"
    assert chart_crds, f"{CHART_CRDS} holds no CustomResourceDefinitions"
    install(
        controlplane, namespace, tmp_path, {**VARIANTS["sqlite"], "operator": {"clusterWide": cluster_wide}}
    )
    # The chart's admission webhook, served by this operator (the Silence below goes through it).
    webhook = f"127.0.0.1:{free_port()}"
    point_webhooks_at(controlplane, webhook_configuration(namespace), webhook)
    local = {"--admission.listen-address": webhook}
    with installed_operator(
        controlplane, namespace, tmp_path, local, ["--admission.dns-name=127.0.0.1"]
    ) as op:
        assert op.env["AMPP_POD_NAMESPACE"] == namespace
        assert op.env["AMPP_WATCH_NAMESPACES"] == ("" if cluster_wide else namespace)

        def holder() -> str:
            lease = controlplane.kubectl("get", "lease", FULLNAME, "-n", namespace, "-o", "json", check=False)
            return json.loads(lease.stdout)["spec"].get("holderIdentity", "") if lease.returncode == 0 else ""

        assert _wait("the Lease", holder, op) == f"{FULLNAME}-0"

        silence = {
            "apiVersion": f"{GROUP}/v1alpha1",
            "kind": "Silence",
            "metadata": {"name": "chart-test", "namespace": namespace},
            "spec": {
                "matchers": [{"name": "alertname", "value": "ChartTest"}],
                "duration": "1h",
                "comment": "chart",
            },
        }
        controlplane.kubectl("apply", "-f", "-", input=json.dumps(silence))

        def accepted() -> bool:
            out = controlplane.kubectl("get", "silence", "chart-test", "-n", namespace, "-o", "json").stdout
            obj = json.loads(out)
            conditions = {c["type"]: c["status"] for c in obj.get("status", {}).get("conditions", [])}
            return conditions.get("Accepted") == "True" and bool(obj["metadata"].get("finalizers"))

        _wait("the Silence to be accepted", accepted, op)
        # The chart's webhook configuration gets its CA bundle from the operator (its RBAC allows it).
        _wait("the caBundle", lambda: all(ca_bundles(controlplane, namespace)), op)
    assert refusals(op.log.read_text()) == []


def webhook_configuration(namespace: str) -> str:
    return f"{namespace}-{FULLNAME}"[:52].rstrip("-")


def ca_bundles(cp: ControlPlane, namespace: str) -> list[str]:
    """The caBundle of each webhook the chart's configuration holds ("" where there is none)."""
    name = webhook_configuration(namespace)
    conf = json.loads(cp.kubectl("get", "validatingwebhookconfiguration", name, "-o", "json").stdout)
    return [w["clientConfig"].get("caBundle", "") for w in conf["webhooks"]]


def _rule_triples(rules: Iterable[Mapping[str, Any]]) -> set[tuple[str, str, str]]:
    return {
        (group, resource, verb)
        for rule in rules
        for group in rule.get("apiGroups", [])
        for resource in rule.get("resources", [])
        for verb in rule.get("verbs", [])
    }


def test_chart_rbac_matches_the_operators_rbac_yaml(controlplane: ControlPlane, tmp_path: Path) -> None:
    """operator/ampp_operator/rbac.yaml is the operator's statement of what it needs; the chart
    grants the same rules (split between namespaces, the release namespace and the cluster),
    the namespace-watching ones only when it does not watch all namespaces."""
    wanted: set[tuple[str, str, str]] = set()
    for doc in yaml.safe_load_all(OPERATOR_RBAC.read_text()):
        if isinstance(doc, list):  # a bare list of rules
            wanted |= _rule_triples(doc)
        elif isinstance(doc, dict):
            items = doc.get("items", [doc]) if doc.get("kind") == "List" else [doc]
            for item in items:
                wanted |= _rule_triples(item.get("rules", []))
    granted: dict[str, set[tuple[str, str, str]]] = {}
    for variant in ("default", "namespaced"):
        docs = render(controlplane, tmp_path, VARIANTS[variant])
        granted[variant] = _rule_triples(
            r
            for d in docs
            if d["kind"] in ("Role", "ClusterRole")
            and d["metadata"]["labels"]["app.kubernetes.io/component"] == "engine"  # not the hook's
            for r in d["rules"]
        )
        assert sorted(granted[variant] - wanted) == [], f"the chart ({variant}) grants more than rbac.yaml"
    assert sorted(wanted - granted["namespaced"]) == [], "the chart lacks rules that rbac.yaml asks for"
    assert wanted - granted["default"] == {("", "namespaces", "list"), ("", "namespaces", "watch")}


# ---------------------------------------------------------------------------------------
# passwords


def secret_data(cp: ControlPlane, namespace: str, name: str) -> dict[str, str]:
    out = cp.kubectl("get", "secret", name, "-n", namespace, "-o", "json").stdout
    return dict(json.loads(out)["data"])


def run_secret_init(
    cp: ControlPlane, namespace: str, tmp_path: Path, values: Mapping[str, Any] | None = None
) -> str:
    """What the secret-init hook Job does, done here (no kubelet runs Jobs): the hook's
    ServiceAccount, Role and RoleBinding as the chart renders them, then its container's
    arguments run as `ampp` with that ServiceAccount's token. Returns what it printed."""
    docs = render(cp, tmp_path, values or {}, namespace=namespace)
    hook = [d for d in docs if d["metadata"]["name"] == f"{FULLNAME}-secret-init"]
    cp.kubectl("apply", "-f", "-", input=yaml.safe_dump_all([d for d in hook if d["kind"] != "Job"]))
    (container,) = one(hook, "Job")["spec"]["template"]["spec"]["containers"]
    token = cp.kubeconfig_for_service_account(namespace, f"{FULLNAME}-secret-init")
    done = _ampp(*container["args"], f"--kubeconfig={token}")
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


PASSWORDS = [f"{FULLNAME}-postgresql", f"{FULLNAME}-redis"]


def test_generated_passwords_survive_upgrade_and_uninstall(
    controlplane: ControlPlane, namespace: str, tmp_path: Path
) -> None:
    """The secret-init hook makes the passwords once; upgrades, re-runs and uninstalls keep
    them (the database volumes only read them when first initialised)."""
    install(controlplane, namespace, tmp_path, {})
    said = run_secret_init(controlplane, namespace, tmp_path)
    assert said.splitlines() == [f"created Secret {namespace}/{n} (password)" for n in PASSWORDS]
    before = {n: secret_data(controlplane, namespace, n) for n in PASSWORDS}
    assert before[PASSWORDS[0]]["password"] != before[PASSWORDS[1]]["password"]
    assert all(len(base64.b64decode(b["password"])) == 32 for b in before.values())

    controlplane.helm(
        "upgrade", RELEASE, str(CHART), "--namespace", namespace, "--skip-crds", "--no-hooks",
        "--values", str(write_values(tmp_path, in_its_namespace({"replicaCount": 3}, namespace))),
    )  # fmt: skip
    said = run_secret_init(controlplane, namespace, tmp_path, {"replicaCount": 3})
    assert said.splitlines() == [f"kept Secret {namespace}/{n}" for n in PASSWORDS]
    assert {n: secret_data(controlplane, namespace, n) for n in PASSWORDS} == before
    deployment = json.loads(
        controlplane.kubectl("get", "deployment", FULLNAME, "-n", namespace, "-o", "json").stdout
    )
    assert deployment["spec"]["replicas"] == 3

    # Helm does not own them: the database volumes outlive the release, and so do they.
    controlplane.helm("uninstall", RELEASE, "--namespace", namespace)
    assert {n: secret_data(controlplane, namespace, n) for n in PASSWORDS} == before
    install(controlplane, namespace, tmp_path, {})
    run_secret_init(controlplane, namespace, tmp_path)
    assert {n: secret_data(controlplane, namespace, n) for n in PASSWORDS} == before


def test_the_secret_init_job_may_touch_only_its_secrets(
    controlplane: ControlPlane, namespace: str, tmp_path: Path
) -> None:
    """It may create Secrets in the release namespace (creation cannot be limited to names),
    and read and patch only the ones it makes; a key missing from one is added, nothing else."""
    run_secret_init(controlplane, namespace, tmp_path)
    token = controlplane.kubeconfig_for_service_account(namespace, f"{FULLNAME}-secret-init")
    allowed = [("create", "secrets", namespace)]
    allowed += [(v, f"secrets#{n}", namespace) for n in PASSWORDS for v in ("get", "patch")]
    denied = [(v, "secrets", namespace) for v in ("list", "watch", "get", "delete", "update")]
    denied += [("get", f"secrets#{FULLNAME}-config", namespace), ("create", "secrets", "kube-system")]
    denied += [("delete", f"secrets#{n}", namespace) for n in PASSWORDS]
    assert_access(controlplane, token, allowed, denied)

    pg = PASSWORDS[0]
    kept = secret_data(controlplane, namespace, pg)["password"]
    controlplane.kubectl(
        "patch",
        "secret",
        pg,
        "-n",
        namespace,
        "--type=merge",
        "-p",
        '{"data": {"password": null, "other": "eA=="}}',
    )
    said = run_secret_init(controlplane, namespace, tmp_path)
    assert said.splitlines()[0] == f"added password to Secret {namespace}/{pg}"
    after = secret_data(controlplane, namespace, pg)
    assert (
        after["other"] == "eA=="
        and after["password"] != kept
        and len(base64.b64decode(after["password"])) == 32
    )


@pytest.mark.parametrize(
    "values",
    [{}, {"tests": {"enabled": False}, "operator": {"clusterWide": False}, "postgresql": {"enabled": False},
          "redis": {"auth": {"existingSecret": "redis-pw"}}, "persistence": {"enabled": True}}],
    ids=["default", "lean"],
)  # fmt: skip
def test_notes_promise_only_what_exists(
    controlplane: ControlPlane, namespace: str, chart_crds: list[str], tmp_path: Path, values: dict[str, Any]
) -> None:
    """Every command the NOTES give runs against what was installed, and every object they
    name exists: nothing they promise is missing from the release."""
    cp = controlplane
    install(cp, namespace, tmp_path, values)
    if [d for d in render(cp, tmp_path, values, namespace=namespace) if d["kind"] == "Job"]:
        run_secret_init(cp, namespace, tmp_path, values)
    notes = cp.helm("get", "notes", RELEASE, "-n", namespace).stdout
    hooks = cp.helm("get", "hooks", RELEASE, "-n", namespace).stdout
    commands = [
        ln.strip().split() for ln in notes.splitlines() if ln.strip().startswith(("kubectl ", "helm "))
    ]
    assert commands, notes
    for words in commands:
        if words[0] == "helm":
            assert words[1:3] == ["test", RELEASE] and "helm.sh/hook: test" in hooks, notes
        elif "get" in words:
            cp.kubectl(*words[1:])  # runs, and what it lists exists
        else:  # rollout status / port-forward: no kubelet here, so the object they name must exist
            (target,) = [w for w in words if "/" in w and not w.startswith("-")]
            cp.kubectl("get", target, "-n", namespace)
    _, marker, secrets = notes.partition("Secrets (key after the colon):")
    for listed in re.findall(r"[\w-]+:[\w-]+(?=[,.])", secrets) if marker else []:
        name, key = listed.split(":")
        assert key in secret_data(cp, namespace, name), listed
    if not values.get("tests", {}).get("enabled", True):
        assert "helm test" not in notes


def test_the_secret_init_job_makes_api_keys(
    controlplane: ControlPlane, namespace: str, tmp_path: Path
) -> None:
    """With auth on, the API keys the chart generates are made by the hook too, in the engine's
    format (ampp_...), in the Secret the Deployment mounts them from."""
    said = run_secret_init(controlplane, namespace, tmp_path, VARIANTS["auth"])
    assert f"created Secret {namespace}/{FULLNAME}-api-keys (admin)" in said.splitlines()
    admin = base64.b64decode(secret_data(controlplane, namespace, f"{FULLNAME}-api-keys")["admin"]).decode()
    assert admin.startswith("ampp_") and len(admin) > 40
    assert run_secret_init(controlplane, namespace, tmp_path, VARIANTS["auth"]).splitlines()[-1] == (
        f"kept Secret {namespace}/{FULLNAME}-api-keys"
    )


PREVIOUS = ROOT / "e2e" / "charts" / "alertmanager-plusplus-0.1.0.tgz"
"""The chart as released before this version (`helm package` of it), to upgrade from."""


def test_upgrade_from_the_previous_chart_version(
    controlplane: ControlPlane, namespace: str, chart_crds: list[str], tmp_path: Path
) -> None:
    """0.1.0 rendered its passwords (lookup, else random) into Secrets it kept; this version
    renders none. helm upgrade passes, those Secrets and their passwords stay, the hook finds
    them and keeps them, and the release runs what this chart renders."""
    controlplane.helm("install", RELEASE, str(PREVIOUS), "--namespace", namespace, "--skip-crds")
    before = {n: secret_data(controlplane, namespace, n) for n in PASSWORDS}
    scoped = str(write_values(tmp_path, in_its_namespace({}, namespace)))
    controlplane.helm(
        "upgrade", RELEASE, str(CHART), "-n", namespace, "--skip-crds", "--no-hooks", "--values", scoped
    )  # fmt: skip
    said = run_secret_init(controlplane, namespace, tmp_path)
    assert said.splitlines() == [f"kept Secret {namespace}/{n}" for n in PASSWORDS]
    assert {n: secret_data(controlplane, namespace, n) for n in PASSWORDS} == before

    history = json.loads(controlplane.helm("history", RELEASE, "-n", namespace, "-o", "json").stdout)
    assert [(h["revision"], h["status"], h["chart"]) for h in history] == [
        (1, "superseded", "alertmanager-plusplus-0.1.0"),
        (2, "deployed", f"alertmanager-plusplus-{chart_version()}"),
    ]
    live = controlplane.kubectl("get", "configmaps,secrets", "-n", namespace, "-o", "name").stdout.split()
    assert f"secret/{FULLNAME}-config" in live and f"configmap/{FULLNAME}" not in live
    deployment = json.loads(
        controlplane.kubectl("get", "deployment", FULLNAME, "-n", namespace, "-o", "json").stdout
    )
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert not expanded_secrets(container)


def chart_version() -> str:
    return str(yaml.safe_load((CHART / "Chart.yaml").read_text())["version"])


# ---------------------------------------------------------------------------------------
# the admission webhook


def test_admission_render(controlplane: ControlPlane, tmp_path: Path) -> None:
    """One webhook per kind at /validate-<plural> behind the chart's Service, CREATE and
    UPDATE only, no side effects; failurePolicy and namespaceSelector from values (the watched
    namespaces by default); certificates self-managed, or cert-manager's."""
    plurals = ["alertroutes", "receivers", "inhibitrules", "silences", "timeintervals"]
    docs = render(controlplane, tmp_path)
    conf = one(docs, "ValidatingWebhookConfiguration")
    assert conf["metadata"]["name"] == f"monitoring-{FULLNAME}" and not conf["metadata"].get("annotations")
    assert [w["name"] for w in conf["webhooks"]] == [f"{p}.validate.alerting.ampp.io" for p in plurals]
    for plural, w in zip(plurals, conf["webhooks"], strict=True):
        service = {"namespace": "monitoring", "name": f"{FULLNAME}-webhook", "path": f"/validate-{plural}"}
        assert w["clientConfig"] == {"service": {**service, "port": 443}}
        assert w["rules"] == [
            {"apiGroups": [GROUP], "apiVersions": ["v1alpha1"], "operations": ["CREATE", "UPDATE"],
             "resources": [plural], "scope": "Namespaced"},
        ]  # fmt: skip
        assert (w["failurePolicy"], w["sideEffects"], w["namespaceSelector"]) == ("Ignore", "None", {})
    webhook_service = one(docs, "Service", f"{FULLNAME}-webhook")
    assert webhook_service["spec"]["ports"] == [
        {"name": "webhook", "port": 443, "targetPort": "webhook", "protocol": "TCP"}
    ]
    args = engine_container(docs)["args"]
    assert [a for a in args if a.startswith("--admission.")] == [
        "--admission.listen-address=:9443",
        f"--admission.certificate-secret={FULLNAME}-webhook-tls",
        f"--admission.webhook-configuration=monitoring-{FULLNAME}",
        f"--admission.dns-name={FULLNAME}-webhook.monitoring.svc",
        f"--admission.dns-name={FULLNAME}-webhook.monitoring.svc.cluster.local",
        "--admission.certificate-validity=2160h",
    ]

    selector = {"matchLabels": {"team": "a"}}
    docs = render(
        controlplane, tmp_path, {"admission": {"failurePolicy": "Fail", "namespaceSelector": selector}}
    )
    hooks = one(docs, "ValidatingWebhookConfiguration")["webhooks"]
    assert {(w["failurePolicy"], json.dumps(w["namespaceSelector"])) for w in hooks} == {
        ("Fail", json.dumps(selector))
    }
    docs = render(controlplane, tmp_path, {"operator": {"clusterWide": False, "watchNamespaces": ["a", "b"]}})
    hooks = one(docs, "ValidatingWebhookConfiguration")["webhooks"]
    assert hooks[0]["namespaceSelector"] == {
        "matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["a", "b"]}]
    }

    docs = render(controlplane, tmp_path, VARIANTS["cert-manager"])
    conf = one(docs, "ValidatingWebhookConfiguration")
    assert conf["metadata"]["annotations"] == {
        "cert-manager.io/inject-ca-from": f"monitoring/{FULLNAME}-webhook"
    }
    assert one(docs, "Issuer")["spec"] == {"selfSigned": {}}
    certificate = one(docs, "Certificate")["spec"]
    assert certificate["secretName"] == f"{FULLNAME}-webhook-tls"
    assert certificate["dnsNames"] == [
        f"{FULLNAME}-webhook.monitoring.svc", f"{FULLNAME}-webhook.monitoring.svc.cluster.local",
    ]  # fmt: skip
    assert certificate["issuerRef"] == {"kind": "Issuer", "name": f"{FULLNAME}-webhook"}
    c = engine_container(docs)
    assert "--admission.cert-file=/var/run/ampp-webhook/tls.crt" in c["args"]
    assert {"name": "webhook-tls", "mountPath": "/var/run/ampp-webhook", "readOnly": True} in c[
        "volumeMounts"
    ]
    assert f"{FULLNAME}-webhook-tls" not in [d["metadata"]["name"] for d in docs if d["kind"] == "Secret"]
    assert not [d for d in docs if d["metadata"]["name"].endswith("-admission")]  # no rights to need
    issuer = {"name": "corporate-ca", "kind": "ClusterIssuer"}
    docs = render(
        controlplane,
        tmp_path,
        {"admission": {"certificates": {"source": "cert-manager", "issuerRef": issuer}}},
    )
    assert "Issuer" not in kinds(docs) and one(docs, "Certificate")["spec"]["issuerRef"] == issuer

    docs = render(controlplane, tmp_path, {"admission": {"enabled": False}})
    assert "ValidatingWebhookConfiguration" not in kinds(docs)
    assert not [a for a in engine_container(docs)["args"] if a.startswith("--admission.")]


def test_the_charts_admission_webhook_refuses_renews_and_follows_its_values(
    controlplane: ControlPlane, namespace: str, chart_crds: list[str], tmp_path: Path
) -> None:
    """Installed by the chart and served by `ampp operator` with the chart's flags and RBAC:
    a resource the operator would reject is refused by kubectl, in the namespaces the selector
    names only; the operator's own certificates are renewed (the CA too) while every request
    keeps being answered; failurePolicy Fail then refuses while no operator answers; and an
    uninstall takes the webhook away. The API server cannot reach a Service here (no kube-proxy),
    so the test points the configuration at the operator's address: the rest is the chart's."""
    cp = controlplane
    mark = uuid.uuid4().hex[:12]
    cp.kubectl("label", "namespace", namespace, f"ampp-e2e-admission={mark}")
    outside = f"{namespace[:50]}-outside"
    cp.kubectl("create", "namespace", outside)
    values = {
        **VARIANTS["sqlite"],
        "admission": {
            "failurePolicy": "Fail",
            "namespaceSelector": {"matchLabels": {"ampp-e2e-admission": mark}},
        },
    }
    install(cp, namespace, tmp_path, values)
    name, port = webhook_configuration(namespace), free_port()
    point_webhooks_at(cp, name, f"127.0.0.1:{port}")

    def attempt(ns: str, obj: str) -> subprocess.CompletedProcess[str]:
        route = {
            "apiVersion": f"{GROUP}/v1alpha1",
            "kind": "AlertRoute",
            "metadata": {"name": obj, "namespace": ns},
            "spec": {"receiver": "r", "matchers": [{"name": "a", "value": "x(?=y)", "matchType": "=~"}]},
        }
        return cp.kubectl("apply", "-f", "-", input=json.dumps(route), check=False)

    def refused(out: subprocess.CompletedProcess[str]) -> bool:
        said = 'admission webhook "alertroutes.validate.alerting.ampp.io" denied the request'
        assert out.returncode != 0 and said in out.stderr and "error parsing regexp" in out.stderr, out.stderr
        return True

    rotation = (
        "--admission.dns-name=127.0.0.1",
        "--admission.certificate-validity=30s",
        "--admission.ca-validity=75s",
    )
    listen = {"--admission.listen-address": f"127.0.0.1:{port}"}
    with installed_operator(cp, namespace, tmp_path, listen, rotation) as op:
        _wait("the caBundle", lambda: all(ca_bundles(cp, namespace)), op)
        stored = secret_data(cp, namespace, f"{FULLNAME}-webhook-tls")
        assert {"ca.crt", "ca.key", "tls.crt", "tls.key", "ca-bundle.crt"} <= set(stored)
        _wait("the webhook's first answer", lambda: refused(attempt(namespace, "lookahead")), op)
        # Outside the selector: stored, and only its status says what is wrong.
        assert attempt(outside, "lookahead").returncode == 0

        # Renewals: every answer still comes from the webhook (with Fail, a certificate the
        # API server did not trust would be an error instead).
        serials: set[int] = set()
        bundles: set[str] = set()
        deadline = time.monotonic() + 85
        while time.monotonic() < deadline and (len(serials) < 4 or len(bundles) < 2):
            pem = ssl.get_server_certificate(("127.0.0.1", port))
            serials.add(x509.load_pem_x509_certificate(pem.encode()).serial_number)
            bundles |= set(ca_bundles(cp, namespace))
            assert refused(attempt(namespace, "lookahead"))
            time.sleep(3)
        assert len(serials) >= 4 and len(bundles) >= 2, (serials, bundles, op.log.read_text()[-3000:])
        assert "admission certificate renewed" in op.log.read_text()
    assert refusals(op.log.read_text()) == []

    # No operator: failurePolicy Fail refuses rather than store unchecked.
    down = attempt(namespace, "while-down")
    assert down.returncode != 0 and "failed calling webhook" in down.stderr, down.stderr
    cp.helm("uninstall", RELEASE, "--namespace", namespace)
    assert cp.kubectl("get", "validatingwebhookconfiguration", name, check=False).returncode != 0
    assert attempt(namespace, "after-uninstall").returncode == 0
