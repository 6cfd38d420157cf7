"""The e2e harness itself: a real kube-apiserver + etcd, kubectl and helm work as the
operator and chart tests will need them."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
import yaml
from envtest import CommandError, ControlPlane

pytestmark = pytest.mark.e2e

GO_MOD = Path(__file__).parent / "controlplane" / "go.mod"


def pinned_version(module: str) -> str:
    for line in GO_MOD.read_text().splitlines():
        fields = line.split()
        if fields[:1] == ["require"]:
            fields = fields[1:]
        if len(fields) >= 2 and fields[0] == module:
            return fields[1]
    raise AssertionError(f"{module} not in {GO_MOD}")


def test_apiserver_is_ready(controlplane: ControlPlane) -> None:
    status, body = controlplane.get("/readyz")
    assert (status, body.strip()) == (200, b"ok")
    assert controlplane.running()

    version = json.loads(controlplane.kubectl("version", "-o", "json").stdout)
    k8s = pinned_version("k8s.io/kubernetes")
    assert version["serverVersion"]["gitVersion"] == k8s
    assert version["clientVersion"]["gitVersion"] == k8s

    who = controlplane.kubectl("auth", "whoami", "-o", "json").stdout
    user = json.loads(who)["status"]["userInfo"]
    assert user["username"] == "admin"
    assert "system:masters" in user["groups"]

    namespaces = controlplane.kubectl("get", "namespaces", "-o", "name").stdout.split()
    assert "namespace/default" in namespaces


CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: maintenancewindows.e2e.alertmanagerpp.test
spec:
  group: e2e.alertmanagerpp.test
  scope: Namespaced
  names:
    plural: maintenancewindows
    singular: maintenancewindow
    kind: MaintenanceWindow
    listKind: MaintenanceWindowList
  versions:
    - name: v1alpha1
      served: true
      storage: true
      subresources:
        status: {}
      additionalPrinterColumns:
        - name: Ends
          type: string
          jsonPath: .spec.endsAt
        - name: Age
          type: date
          jsonPath: .metadata.creationTimestamp
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [startsAt, endsAt]
              properties:
                startsAt: {type: string, format: date-time}
                endsAt: {type: string, format: date-time}
                comment: {type: string, maxLength: 64}
              x-kubernetes-validations:
                - rule: self.endsAt > self.startsAt
                  message: endsAt must be after startsAt
            status:
              type: object
              properties:
                observedGeneration: {type: integer, format: int64}
"""


def window(name: str, starts: str, ends: str) -> str:
    return textwrap.dedent(
        f"""\
        apiVersion: e2e.alertmanagerpp.test/v1alpha1
        kind: MaintenanceWindow
        metadata:
          name: {name}
        spec:
          startsAt: "{starts}"
          endsAt: "{ends}"
          comment: e2e
        """
    )


def test_crd_with_cel_validation(controlplane: ControlPlane, namespace: str) -> None:
    kubectl = controlplane.kubectl
    kubectl("apply", "-f", "-", input=CRD)
    kubectl(
        "wait", "--for=condition=Established", "--timeout=60s",
        "crd/maintenancewindows.e2e.alertmanagerpp.test",
    )  # fmt: skip

    ok = kubectl(
        "apply", "-n", namespace, "-f", "-",
        input=window("good", "2030-01-01T00:00:00Z", "2030-01-01T02:00:00Z"),
    )  # fmt: skip
    assert "maintenancewindow.e2e.alertmanagerpp.test/good created" in ok.stdout
    got = json.loads(kubectl("get", "-n", namespace, "maintenancewindow", "good", "-o", "json").stdout)
    assert got["spec"]["endsAt"] == "2030-01-01T02:00:00Z"
    listed = kubectl("get", "-n", namespace, "maintenancewindows").stdout
    assert re.search(r"^NAME\s+ENDS\s+AGE$", listed, re.M), listed

    bad = kubectl(
        "apply", "-n", namespace, "-f", "-", check=False,
        input=window("bad", "2030-01-01T02:00:00Z", "2030-01-01T00:00:00Z"),
    )  # fmt: skip
    assert bad.returncode != 0
    assert "endsAt must be after startsAt" in bad.stderr, bad.stderr
    assert "Invalid value" in bad.stderr

    # The structural schema is enforced too (format and required fields).
    not_a_time = kubectl(
        "apply", "-n", namespace, "-f", "-", check=False,
        input=window("not-a-time", "soon", "2030-01-01T00:00:00Z"),
    )  # fmt: skip
    assert not_a_time.returncode != 0
    assert "spec.startsAt" in not_a_time.stderr, not_a_time.stderr
    missing = kubectl(
        "create", "-n", namespace, "-f", "-", check=False,
        input=window("missing", "2030-01-01T00:00:00Z", "x").replace('  endsAt: "x"\n', ""),
    )  # fmt: skip
    assert missing.returncode != 0
    assert "spec.endsAt: Required value" in missing.stderr, missing.stderr

    names = kubectl("get", "-n", namespace, "maintenancewindows", "-o", "name").stdout.split()
    assert names == ["maintenancewindow.e2e.alertmanagerpp.test/good"]


RBAC = """
apiVersion: v1
kind: ServiceAccount
metadata:
  name: reader
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: configmap-getter
rules:
  - apiGroups: [""]
    resources: [configmaps]
    verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: reader-gets-configmaps
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: configmap-getter
subjects:
  - kind: ServiceAccount
    name: reader
"""


def test_rbac_with_service_account_token(controlplane: ControlPlane, namespace: str) -> None:
    kubectl = controlplane.kubectl
    kubectl("apply", "-n", namespace, "-f", "-", input=RBAC)
    kubectl("create", "configmap", "visible", "-n", namespace, "--from-literal=k=v")

    sa = controlplane.kubeconfig_for_service_account(namespace, "reader")
    assert "client-certificate-data" not in sa.read_text()

    who = json.loads(kubectl("auth", "whoami", "-o", "json", kubeconfig=sa).stdout)
    assert who["status"]["userInfo"]["username"] == f"system:serviceaccount:{namespace}:reader"

    got = kubectl("get", "configmap", "visible", "-o", "jsonpath={.data.k}", kubeconfig=sa)
    assert got.stdout == "v"

    listing = kubectl("get", "configmaps", kubeconfig=sa, check=False)
    assert listing.returncode != 0
    assert "Forbidden" in listing.stderr
    assert 'cannot list resource "configmaps"' in listing.stderr, listing.stderr

    other = kubectl("get", "configmap", "kube-root-ca.crt", "-n", "default", kubeconfig=sa, check=False)
    assert other.returncode != 0 and "Forbidden" in other.stderr

    can = kubectl("auth", "can-i", "list", "configmaps", kubeconfig=sa, check=False)
    assert (can.returncode, can.stdout.strip()) == (1, "no")
    can = kubectl("auth", "can-i", "get", "configmaps", kubeconfig=sa, check=False)
    assert (can.returncode, can.stdout.strip()) == (0, "yes")

    with pytest.raises(CommandError, match=r"cannot create resource \"configmaps\""):
        kubectl("create", "configmap", "nope", kubeconfig=sa)


def test_user_client_certificate_has_no_rights_until_bound(
    controlplane: ControlPlane, namespace: str
) -> None:
    alice = controlplane.kubeconfig_for_user("alice", ["e2e-viewers"])
    denied = controlplane.kubectl("get", "configmaps", "-n", namespace, kubeconfig=alice, check=False)
    assert denied.returncode != 0 and 'User "alice" cannot list' in denied.stderr
    # A Role of its own: the aggregated ClusterRoles (view, edit, admin) have no rules
    # here, since aggregation is kube-controller-manager's job.
    controlplane.kubectl(
        "create", "role", "cm-viewer", "-n", namespace,
        "--verb=get,list,watch", "--resource=configmaps",
    )  # fmt: skip
    controlplane.kubectl(
        "create", "rolebinding", "viewers", "-n", namespace,
        "--role=cm-viewer", "--group=e2e-viewers",
    )  # fmt: skip
    controlplane.kubectl("get", "configmaps", "-n", namespace, kubeconfig=alice)


def make_chart(root: Path) -> Path:
    chart = root / "tiny"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(
        textwrap.dedent(
            """\
            apiVersion: v2
            name: tiny
            version: 0.1.0
            appVersion: "1.0"
            kubeVersion: ">=1.30.0-0"
            """
        )
    )
    (chart / "values.yaml").write_text("greeting: hello\n")
    (chart / "templates" / "configmap.yaml").write_text(
        textwrap.dedent(
            """\
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: {{ .Release.Name }}-tiny
              labels:
                app.kubernetes.io/managed-by: {{ .Release.Service }}
            data:
              greeting: {{ .Values.greeting | quote }}
              kubeVersion: {{ .Capabilities.KubeVersion.Version | quote }}
            """
        )
    )
    return chart


def test_helm_template_and_install(controlplane: ControlPlane, namespace: str, tmp_path: Path) -> None:
    helm = controlplane.helm
    version = helm("version", "--short").stdout.strip()
    assert version.startswith(pinned_version("helm.sh/helm/v3")), version

    chart = make_chart(tmp_path)
    helm("lint", str(chart))
    rendered = helm("template", "demo", str(chart), "--set", "greeting=hi").stdout
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    assert len(docs) == 1
    cm = docs[0]
    assert cm["kind"] == "ConfigMap"
    assert cm["metadata"]["name"] == "demo-tiny"
    assert cm["data"]["greeting"] == "hi"
    # helm template uses its built-in capabilities, stamped with our Kubernetes minor.
    minor = pinned_version("k8s.io/kubernetes").split(".")[1]
    assert cm["data"]["kubeVersion"] == f"v1.{minor}.0"

    # helm install talks to the real API server (kubeVersion constraint is checked against it).
    helm("install", "demo", str(chart), "--namespace", namespace)
    releases = json.loads(helm("list", "--namespace", namespace, "-o", "json").stdout)
    assert [(r["name"], r["status"]) for r in releases] == [("demo", "deployed")]
    data = json.loads(
        controlplane.kubectl("get", "configmap", "demo-tiny", "-n", namespace, "-o", "json").stdout
    )["data"]
    assert data["greeting"] == "hello"
    assert data["kubeVersion"] == pinned_version("k8s.io/kubernetes")
    helm("uninstall", "demo", "--namespace", namespace)
    gone = controlplane.kubectl("get", "configmap", "demo-tiny", "-n", namespace, check=False)
    assert gone.returncode != 0 and "NotFound" in gone.stderr


CONFIGMAP = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: ssa
data:
  a: "1"
"""


def test_server_side_apply_dry_run(controlplane: ControlPlane, namespace: str) -> None:
    kubectl = controlplane.kubectl
    dry = kubectl(
        "apply", "--server-side", "--dry-run=server", "--field-manager=ampp-e2e",
        "-n", namespace, "-f", "-", input=CONFIGMAP,
    )  # fmt: skip
    assert "configmap/ssa serverside-applied (server dry run)" in dry.stdout
    absent = kubectl("get", "configmap", "ssa", "-n", namespace, check=False)
    assert absent.returncode != 0 and "NotFound" in absent.stderr

    kubectl(
        "apply", "--server-side", "--field-manager=ampp-e2e", "-n", namespace, "-f", "-",
        input=CONFIGMAP,
    )  # fmt: skip
    cm = json.loads(
        kubectl("get", "configmap", "ssa", "-n", namespace, "-o", "json", "--show-managed-fields").stdout
    )
    managers = {(m["manager"], m["operation"]) for m in cm["metadata"]["managedFields"]}
    assert ("ampp-e2e", "Apply") in managers

    # A second manager claiming the same field conflicts (what GitOps tools rely on).
    conflict = kubectl(
        "apply", "--server-side", "--field-manager=someone-else", "-n", namespace, "-f", "-",
        input=CONFIGMAP.replace('a: "1"', 'a: "2"'), check=False,
    )  # fmt: skip
    assert conflict.returncode != 0 and "conflict" in conflict.stderr.lower(), conflict.stderr


def test_second_control_plane_with_openssl_certs(k8s_bin_dir: Path) -> None:
    """Two control planes side by side (ports don't clash), certificates from the
    openssl CLI instead of the cryptography package, and a clean stop."""
    cp = ControlPlane(k8s_bin_dir, cert_backend="openssl", keep_dir=False)
    with cp:
        assert cp.get("/readyz") == (200, b"ok")
        cp.kubectl("create", "serviceaccount", "robot", "-n", "default")
        sa = cp.kubeconfig_for_service_account("default", "robot")
        who = json.loads(cp.kubectl("auth", "whoami", "-o", "json", kubeconfig=sa).stdout)
        assert who["status"]["userInfo"]["username"] == "system:serviceaccount:default:robot"
        state_dir = cp.dir
        procs = [cp._apiserver, cp._etcd]
    assert not cp.running()
    assert all(p is not None and p.proc.returncode is not None for p in procs)
    assert not state_dir.exists()
