"""Fixtures for tests against a real kube-apiserver + etcd (see envtest.py).

``controlplane`` is session-scoped: one etcd + kube-apiserver for the whole run (they start
in a few seconds; building them the first time on a machine takes much longer, see
controlplane/README.md). Tests share it, so each test works in its own namespace
(``namespace`` fixture) and never relies on cluster-wide state another test made.

Environment:
  AMPP_E2E_KUBECONFIG  run against this existing cluster (kind) instead of starting one
  AMPP_K8S_BIN_DIR   use the binaries in this directory instead of running build.sh
  AMPP_K8S_CACHE     where build.sh caches binaries (default ~/.cache/ampp/k8s)
  AMPP_ENVTEST_KEEP=1  keep the control plane's temp dir (certs, logs) after the run
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from envtest import ControlPlane, build_binaries

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.integration.services import pg_url, services  # noqa: E402
from tests.support.prereq import (  # noqa: E402
    pytest_collection_modifyitems,
    pytest_make_collect_report,
    pytest_runtest_makereport,
)

__all__ = [
    "pg_url",  # fixtures: PostgreSQL (scripts/services.sh), for the operator's storage
    "pytest_collection_modifyitems",  # hooks: no skip under CI, every test in a tier
    "pytest_make_collect_report",
    "pytest_runtest_makereport",
    "services",
]


@pytest.fixture(scope="session")
def k8s_bin_dir() -> Path:
    """Directory with etcd, kube-apiserver, kubectl and helm (built once per machine)."""
    return build_binaries()


@pytest.fixture(scope="session")
def controlplane(request: pytest.FixtureRequest) -> Iterator[ControlPlane]:
    """A running etcd + kube-apiserver. Use ``.kubeconfig`` (admin), ``.server``,
    ``.kubectl(...)``, ``.helm(...)``, ``.helm_bin``, ``.env()`` and
    ``.kubeconfig_for_service_account(ns, name)``.

    With AMPP_E2E_KUBECONFIG set (e2e/kind/run.sh), the tests use that running cluster instead,
    with kubectl and helm from PATH, and nothing is built."""
    kubeconfig = os.environ.get("AMPP_E2E_KUBECONFIG")
    if kubeconfig:
        sys.path.insert(0, str(Path(__file__).parent / "kind"))
        from existing_cluster import ExistingCluster

        with ExistingCluster(Path(kubeconfig)) as cluster:
            yield cluster  # type: ignore[misc]
        return
    with ControlPlane(request.getfixturevalue("k8s_bin_dir")) as cp:
        yield cp


@pytest.fixture
def namespace(controlplane: ControlPlane, request: pytest.FixtureRequest) -> str:
    """A fresh namespace for one test (left behind: there is no namespace controller to
    finish deleting it, and the cluster dies with the session anyway)."""
    base = "".join(c if c.isalnum() else "-" for c in request.node.name.lower())[:40].strip("-")
    name = f"{base}-{uuid.uuid4().hex[:6]}"
    controlplane.kubectl("create", "namespace", name)
    return name


# ---------------------------------------------------------------------------------------
# Alertmanager++ custom resources (crds/), shared by test_crds.py and test_operator.py

REPO = Path(__file__).resolve().parent.parent
CRD_DIR = REPO / "crds"


@pytest.fixture(scope="session")
def ampp_crds(controlplane: ControlPlane) -> list[str]:
    """The CRDs in crds/, installed once (server-side apply, as the chart's README says: no
    last-applied copy of the 180 KB Receiver CRD in an annotation) and Established. Returns
    their names."""
    import yaml

    names = [yaml.safe_load(p.read_text())["metadata"]["name"] for p in sorted(CRD_DIR.glob("*.yaml"))]
    controlplane.kubectl(
        "apply", "--server-side", "--force-conflicts", "--field-manager=ampp-e2e", "-f", str(CRD_DIR)
    )
    controlplane.kubectl("wait", "--for=condition=Established", "--timeout=60s", *[f"crd/{n}" for n in names])
    return names
