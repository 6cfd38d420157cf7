"""A running cluster (kind, or any other) behind the same interface as envtest.ControlPlane.

The e2e tests only use the ``controlplane`` fixture's public API: ``kubeconfig``, ``server``,
``kubectl()``, ``helm()``, ``env()``, ``get()``, ``kubeconfig_for_service_account()`` and
``kubeconfig_for_user()``. This class provides it for a cluster given by a kubeconfig, so the
same tests run against kind (e2e/kind/run.sh sets AMPP_E2E_KUBECONFIG) with the kubectl and helm
found on PATH. Nothing here starts or stops the cluster.

    from existing_cluster import ExistingCluster
    cp = ExistingCluster(Path(os.environ["AMPP_E2E_KUBECONFIG"]))
"""

from __future__ import annotations

import base64
import os
import shutil
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from envtest import CommandError, ControlPlaneError

__all__ = ["ExistingCluster"]


class ExistingCluster:
    """Talks to the cluster of ``kubeconfig`` (its current context) as that kubeconfig's user,
    which must be cluster-admin (kind's is)."""

    def __init__(self, kubeconfig: Path, *, root_dir: Path | None = None):
        self.kubeconfig = Path(kubeconfig).resolve()
        if not self.kubeconfig.is_file():
            raise ControlPlaneError(f"AMPP_E2E_KUBECONFIG={kubeconfig} does not exist")
        self.dir = Path(root_dir or tempfile.mkdtemp(prefix="ampp-e2e-cluster-"))
        for sub in ("kubeconfigs", "kubectl-cache", "helm", "pki"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        found = {name: shutil.which(name) for name in ("kubectl", "helm")}
        missing = [name for name, path in found.items() if path is None]
        if missing:
            raise ControlPlaneError(f"{', '.join(missing)} not on PATH")
        self.kubectl_bin = Path(str(found["kubectl"]))
        self.helm_bin = Path(str(found["helm"]))
        self.bin_dir = self.kubectl_bin.parent
        config = yaml.safe_load(self.kubeconfig.read_text())
        context_name = config["current-context"]
        context = _named(config["contexts"], context_name)["context"]
        self._cluster: dict[str, Any] = _named(config["clusters"], context["cluster"])["cluster"]
        self._user: dict[str, Any] = _named(config["users"], context["user"])["user"]
        self.server: str = self._cluster["server"]
        self.ca_file = self.dir / "pki" / "ca.crt"
        self.ca_file.write_bytes(base64.b64decode(self._cluster["certificate-authority-data"]))

    # the ControlPlane interface --------------------------------------------------------

    def __enter__(self) -> ExistingCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def running(self) -> bool:
        return self.get("/readyz")[0] == 200

    def ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.ca_file))
        if "client-certificate-data" in self._user:
            cert, key = self.dir / "pki" / "admin.crt", self.dir / "pki" / "admin.key"
            cert.write_bytes(base64.b64decode(self._user["client-certificate-data"]))
            key.write_bytes(base64.b64decode(self._user["client-key-data"]))
            os.chmod(key, 0o600)
            ctx.load_cert_chain(str(cert), str(key))
        return ctx

    def get(self, path: str) -> tuple[int, bytes]:
        """GET ``path`` on the API server as the kubeconfig's user; returns (status, body)."""
        req = urllib.request.Request(self.server + path)
        if "token" in self._user:
            req.add_header("Authorization", f"Bearer {self._user['token']}")
        try:
            with urllib.request.urlopen(req, context=self.ssl_context(), timeout=10) as r:
                return int(r.status), bytes(r.read())
        except urllib.error.HTTPError as e:
            with e:
                return int(e.code), bytes(e.read())

    def write_kubeconfig(
        self,
        path: Path,
        *,
        user: str,
        token: str | None = None,
        client_cert: Path | None = None,
        client_key: Path | None = None,
        namespace: str | None = None,
    ) -> Path:
        creds: dict[str, str] = {}
        if token is not None:
            creds["token"] = token
        if client_cert is not None and client_key is not None:
            creds["client-certificate-data"] = _b64(client_cert.read_bytes())
            creds["client-key-data"] = _b64(client_key.read_bytes())
        context: dict[str, str] = {"cluster": "e2e", "user": user}
        if namespace:
            context["namespace"] = namespace
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "e2e", "cluster": dict(self._cluster)}],
            "users": [{"name": user, "user": creds}],
            "contexts": [{"name": "e2e", "context": context}],
            "current-context": "e2e",
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        os.chmod(path, 0o600)
        return path

    def kubeconfig_for_service_account(
        self, namespace: str, name: str, *, duration: str = "1h", path: Path | None = None
    ) -> Path:
        token = self.kubectl(
            "create", "token", name, "--namespace", namespace, f"--duration={duration}"
        ).stdout.strip()
        if not token:
            raise ControlPlaneError(f"kubectl create token {namespace}/{name} returned nothing")
        path = path or self.dir / "kubeconfigs" / f"sa-{namespace}-{name}.yaml"
        return self.write_kubeconfig(
            path, user=f"system:serviceaccount:{namespace}:{name}", token=token, namespace=namespace
        )

    def kubeconfig_for_user(self, user: str, groups: Sequence[str] = ()) -> Path:
        """A client certificate for ``user`` in ``groups``, signed by the cluster through a
        CertificateSigningRequest (the cluster's CA key is out of reach here)."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in user)
        key = ec.generate_private_key(ec.SECP256R1())
        attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in groups]
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, user))
        csr = (
            x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attrs)).sign(key, hashes.SHA256())
        )
        csr_name = f"ampp-e2e-{safe.lower()[:40]}-{os.urandom(3).hex()}"
        self.kubectl(
            "apply", "-f", "-",
            input=yaml.safe_dump({
                "apiVersion": "certificates.k8s.io/v1",
                "kind": "CertificateSigningRequest",
                "metadata": {"name": csr_name},
                "spec": {
                    "request": _b64(csr.public_bytes(serialization.Encoding.PEM)),
                    "signerName": "kubernetes.io/kube-apiserver-client",
                    "expirationSeconds": 3600,
                    "usages": ["client auth"],
                },
            }),
        )  # fmt: skip
        self.kubectl("certificate", "approve", csr_name)
        deadline = time.monotonic() + 60
        cert_b64 = ""
        while not cert_b64:
            cert_b64 = self.kubectl(
                "get", "csr", csr_name, "-o", "jsonpath={.status.certificate}"
            ).stdout.strip()
            if not cert_b64:
                if time.monotonic() > deadline:
                    raise ControlPlaneError(f"CSR {csr_name} was not signed within 60 s")
                time.sleep(0.5)
        cert_file = self.dir / "pki" / f"user-{safe}.crt"
        key_file = self.dir / "pki" / f"user-{safe}.key"
        cert_file.write_bytes(base64.b64decode(cert_b64))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        os.chmod(key_file, 0o600)
        return self.write_kubeconfig(
            self.dir / "kubeconfigs" / f"user-{safe}.yaml",
            user=user,
            client_cert=cert_file,
            client_key=key_file,
        )

    def env(self, kubeconfig: Path | None = None) -> dict[str, str]:
        env = dict(os.environ)
        helm_home = self.dir / "helm"
        env.update(
            KUBECONFIG=str(kubeconfig or self.kubeconfig),
            HELM_CACHE_HOME=str(helm_home / "cache"),
            HELM_CONFIG_HOME=str(helm_home / "config"),
            HELM_DATA_HOME=str(helm_home / "data"),
        )
        return env

    def kubectl(
        self,
        *args: str,
        input: str | None = None,
        kubeconfig: Path | None = None,
        check: bool = True,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        argv = [
            str(self.kubectl_bin),
            f"--kubeconfig={kubeconfig or self.kubeconfig}",
            f"--cache-dir={self.dir / 'kubectl-cache'}",
            *args,
        ]
        return _run(argv, input, self.env(kubeconfig), check, timeout)

    def helm(
        self,
        *args: str,
        input: str | None = None,
        kubeconfig: Path | None = None,
        check: bool = True,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess[str]:
        argv = [str(self.helm_bin), f"--kubeconfig={kubeconfig or self.kubeconfig}", *args]
        return _run(argv, input, self.env(kubeconfig), check, timeout)


def _named(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    for item in items:
        if item.get("name") == name:
            return item
    raise ControlPlaneError(f"kubeconfig has no entry named {name!r}")


def _run(
    argv: list[str], input: str | None, env: dict[str, str], check: bool, timeout: float
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        argv, input=input, capture_output=True, text=True, env=env, timeout=timeout, check=False
    )
    if check and proc.returncode != 0:
        raise CommandError(proc.returncode, argv, proc.stdout, proc.stderr)
    return proc


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
