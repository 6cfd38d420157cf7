"""Fixtures for tests against a real kube-apiserver + etcd (see envtest.py).

``controlplane`` is session-scoped: one etcd + kube-apiserver for the whole run (they start
in a few seconds; building them the first time on a machine takes much longer, see
controlplane/README.md). Tests share it, so each test works in its own namespace
(``namespace`` fixture) and never relies on cluster-wide state another test made.

Environment:
  AMPP_K8S_BIN_DIR   use the binaries in this directory instead of running build.sh
  AMPP_K8S_CACHE     where build.sh caches binaries (default ~/.cache/ampp/k8s)
  AMPP_ENVTEST_KEEP=1  keep the control plane's temp dir (certs, logs) after the run
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from envtest import ControlPlane, build_binaries


@pytest.fixture(scope="session")
def k8s_bin_dir() -> Path:
    """Directory with etcd, kube-apiserver, kubectl and helm (built once per machine)."""
    return build_binaries()


@pytest.fixture(scope="session")
def controlplane(k8s_bin_dir: Path) -> Iterator[ControlPlane]:
    """A running etcd + kube-apiserver. Use ``.kubeconfig`` (admin), ``.server``,
    ``.kubectl(...)``, ``.helm(...)``, ``.helm_bin``, ``.env()`` and
    ``.kubeconfig_for_service_account(ns, name)``."""
    with ControlPlane(k8s_bin_dir) as cp:
        yield cp


@pytest.fixture
def namespace(controlplane: ControlPlane, request: pytest.FixtureRequest) -> str:
    """A fresh namespace for one test (left behind: there is no namespace controller to
    finish deleting it, and the cluster dies with the session anyway)."""
    base = "".join(c if c.isalnum() else "-" for c in request.node.name.lower())[:40].strip("-")
    name = f"{base}-{uuid.uuid4().hex[:6]}"
    controlplane.kubectl("create", "namespace", name)
    return name
