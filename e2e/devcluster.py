"""`make dev-cluster`: try the operator and the custom resources on a local control plane.

The same etcd and kube-apiserver the e2e tier starts (envtest.py; no Docker, no kubelet), the
chart installed into it, and `ampp operator` run here as the chart's Deployment would run it
(its arguments, environment and ServiceAccount token; paths and ports made local), until Ctrl-C:

    make dev-cluster                 # or: python e2e/devcluster.py --port 9093
    export KUBECONFIG=.dev-cluster/kubeconfig        # as printed
    kubectl apply -f examples/kubernetes/

Nothing runs the chart's Pods here, so the engine and the operator are this one process, on
127.0.0.1; the chart's admission webhook is pointed at it (the API server cannot reach a
Service without a kube-proxy), with the certificates the operator makes and renews itself.
The e2e tier uses the same functions (``installed_operator``, ``point_webhooks_at``).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from envtest import ControlPlane, build_binaries, die_with_parent, free_port, until_signalled

ROOT = Path(__file__).resolve().parent.parent
CHART = ROOT / "charts" / "alertmanager-plusplus"
CRDS = ROOT / "crds"
RELEASE = "ampp"
FULLNAME = "ampp-alertmanager-plusplus"
NAMESPACE = "ampp-system"

__all__ = ["LocalOperator", "installed_operator", "main", "point_webhooks_at", "refusals"]


@dataclass
class LocalOperator:
    """`ampp operator` started as an installed Deployment of the chart says."""

    proc: subprocess.Popen[bytes]
    log: Path
    port: int
    env: dict[str, str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ready(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(
                f"ampp operator exited ({self.proc.returncode}):\n{self.log.read_text()[-4000:]}"
            )
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def stop(self) -> int:
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def _secret_value(cp: ControlPlane, namespace: str, name: str, key: str) -> str:
    out = cp.kubectl("get", "secret", name, "-n", namespace, "-o", "json").stdout
    return base64.b64decode(json.loads(out)["data"][key]).decode()


@contextmanager
def installed_operator(
    cp: ControlPlane,
    namespace: str,
    workdir: Path,
    local: Mapping[str, str] | None = None,
    extra: Iterable[str] = (),
    *,
    port: int | None = None,
    within: float = 60.0,
) -> Iterator[LocalOperator]:
    """Run `ampp operator` with the installed Deployment's arguments and environment and its
    ServiceAccount's token: the config file, storage path and listen addresses made local,
    ``local`` replacing more flags, ``extra`` appended. Ready when it yields; stopped after."""
    deployment = json.loads(cp.kubectl("get", "deployment", FULLNAME, "-n", namespace, "-o", "json").stdout)
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "alertmanager.yml"
    config.write_text(_secret_value(cp, namespace, f"{FULLNAME}-config", "alertmanager.yml"))
    port = port or free_port()
    local = {
        "--config.file": str(config),
        "--storage.path": str(workdir / "data"),
        "--web.listen-address": f"127.0.0.1:{port}",
        "--admission.listen-address": f"127.0.0.1:{free_port()}",
        **(local or {}),
    }
    args = [container["args"][0]]
    for arg in container["args"][1:]:
        flag = arg.split("=", 1)[0]
        args.append(f"{flag}={local[flag]}" if flag in local else arg)
    args += [*extra, f"--kubeconfig={cp.kubeconfig_for_service_account(namespace, FULLNAME, duration='24h')}"]
    pod = {"metadata.name": f"{FULLNAME}-0", "metadata.namespace": namespace, "status.podIP": "127.0.0.1"}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AMPP_", "KUBECONFIG"))}
    for var in container["env"]:
        source = var.get("valueFrom")  # an empty value comes back from the API server as no value
        env[var["name"]] = pod[source["fieldRef"]["fieldPath"]] if source else var.get("value", "")
    log = workdir / "operator.log"
    code = "import sys; from ampp.cli import main; sys.exit(main(sys.argv[1:]))"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", code, *args], stdout=out, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,  # Ctrl-C reaches the owner, which stops it before the API server
            preexec_fn=die_with_parent,  # and it never outlives its owner
        )  # fmt: skip
    op = LocalOperator(proc, log, port, env)
    try:
        deadline = time.monotonic() + within
        while not op.ready():
            if time.monotonic() > deadline:
                raise RuntimeError(f"ampp operator not ready after {within:g}s:\n{log.read_text()[-4000:]}")
            time.sleep(0.2)
        yield op
    finally:
        op.stop()


def refusals(log: str) -> list[str]:
    """The requests the API server refused an operator (RBAC it lacks), in its log; but for
    Secrets in namespaces where it may not read them: a cluster-wide operator sees every
    Receiver, and only some namespaces bind it the Secrets (the chart's secretNamespaces)."""
    return [
        line
        for line in log.splitlines()
        if re.search(r"\b403\b|[Ff]orbidden|[Nn]ot enough permissions", line)
        and not re.search(r"cannot (watch|read) Secret ", line)
    ]


def point_webhooks_at(cp: ControlPlane, configuration: str, address: str) -> None:
    """Make the chart's webhooks call ``https://address/validate-<plural>`` instead of its
    Service, which the API server cannot reach without a kube-proxy; the caBundle stays."""
    conf = json.loads(cp.kubectl("get", "validatingwebhookconfiguration", configuration, "-o", "json").stdout)
    patch: list[dict[str, Any]] = []
    for i, w in enumerate(conf["webhooks"]):
        path = w["clientConfig"]["service"]["path"]
        patch += [
            {"op": "remove", "path": f"/webhooks/{i}/clientConfig/service"},
            {"op": "add", "path": f"/webhooks/{i}/clientConfig/url", "value": f"https://{address}{path}"},
        ]
    cp.kubectl(
        "patch", "validatingwebhookconfiguration", configuration, "--type=json", "-p", json.dumps(patch)
    )


DEV_VALUES: dict[str, Any] = {
    # SQLite under --storage.path, no database Pods to wait for (nothing would run them).
    "postgresql": {"enabled": False},
    "redis": {"enabled": False},
    # Receivers of any namespace may reference Secrets: this is a sandbox.
    "operator": {"secretNamespaces": ["*"]},
}


@contextmanager
def dev_cluster(
    state: Path, port: int, admission_port: int, config: Path | None = None
) -> Iterator[tuple[ControlPlane, LocalOperator]]:
    """The control plane, the CRDs, the chart (release "ampp" in ampp-system) and the
    operator, all up when it yields."""
    with ControlPlane(build_binaries(), root_dir=state / "controlplane") as cp:
        cp.kubectl(
            "apply", "--server-side", "--force-conflicts", "--field-manager=ampp-dev", "-f", str(CRDS)
        )  # fmt: skip
        cp.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd", "-l",
                   "app.kubernetes.io/part-of=alertmanager-plusplus")  # fmt: skip
        cp.kubectl("create", "namespace", NAMESPACE)
        values = dict(DEV_VALUES)
        if config is not None:
            values["config"] = yaml.safe_load(config.read_text())
        values_file = state / "values.yaml"
        values_file.write_text(yaml.safe_dump(values))
        # --no-hooks: no kubelet would run the secret-init Job (no database passwords to make here).
        cp.helm(
            "install",
            RELEASE,
            str(CHART),
            "-n",
            NAMESPACE,
            "--skip-crds",
            "--no-hooks",
            "-f",
            str(values_file),
        )
        conf = f"{NAMESPACE}-{FULLNAME}"[:52].rstrip("-")
        point_webhooks_at(cp, conf, f"127.0.0.1:{admission_port}")
        shutil.copy(cp.kubeconfig, state / "kubeconfig")
        with installed_operator(
            cp,
            NAMESPACE,
            state / "operator",
            {"--admission.listen-address": f"127.0.0.1:{admission_port}"},
            ["--admission.dns-name=127.0.0.1"],
            port=port,
        ) as op:
            yield cp, op


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--dir", type=Path, default=Path(".dev-cluster"), help="state directory (made afresh)")
    p.add_argument("--port", type=int, default=9093, help="the API, UI and amtool port (127.0.0.1)")
    p.add_argument(
        "--admission-port", type=int, default=0, help="the admission webhook's port (default: free)"
    )
    p.add_argument(
        "--config.file", dest="config", type=Path, help="a base alertmanager.yml (the chart's `config`)"
    )
    args = p.parse_args(argv)
    shutil.rmtree(args.dir, ignore_errors=True)
    args.dir.mkdir(parents=True)
    state = args.dir.resolve()
    stopped = until_signalled()
    with dev_cluster(state, args.port, args.admission_port or free_port(), args.config) as (cp, op):
        print(
            f"""dev-cluster ready: ampp operator on {op.url} (log: {op.log}), API server {cp.server}

    export KUBECONFIG={state / "kubeconfig"}
    kubectl apply -f examples/kubernetes/           # see examples/kubernetes/README.md
    kubectl get ampp -A
    amtool --alertmanager.url={op.url} config routes

Ctrl-C stops everything.""",
            flush=True,
        )
        while not stopped() and op.proc.poll() is None:
            time.sleep(0.5)
        if op.proc.poll() is not None:
            print(f"ampp operator exited ({op.proc.returncode}); log: {op.log}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
