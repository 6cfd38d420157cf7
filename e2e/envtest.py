"""A real etcd + kube-apiserver for tests, started the way controller-runtime's envtest does.

No kubelet, scheduler or controller-manager: the API server, admission, CRDs with CEL
validation, RBAC, server-side apply, TokenRequest and Helm work; Pods never run, and
namespaces stay Terminating when deleted (no namespace controller), so tests use fresh
namespaces rather than deleting them.

    from envtest import ControlPlane, build_binaries

    with ControlPlane(build_binaries()) as cp:
        cp.kubectl("get", "namespaces")
        sa_kubeconfig = cp.kubeconfig_for_service_account("ns", "operator")

The binaries come from ``controlplane/build.sh`` (built from the Go module proxy and cached).
Run ``python e2e/envtest.py`` to start one by hand; it prints a KUBECONFIG to export.

Only the standard library, PyYAML and, if installed, ``cryptography`` are used; without
``cryptography`` the certificates are made with the ``openssl`` command.
"""

from __future__ import annotations

import base64
import datetime
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import yaml

HERE = Path(__file__).resolve().parent
BUILD_SCRIPT = HERE / "controlplane" / "build.sh"
LOOPBACK = "127.0.0.1"
ADMIN_USER = "admin"
ADMIN_GROUP = "system:masters"
CERT_VALIDITY = datetime.timedelta(days=365)

__all__ = [
    "CertificateAuthority",
    "CommandError",
    "ControlPlane",
    "ControlPlaneError",
    "build_binaries",
    "die_with_parent",
    "free_port",
    "until_signalled",
]


class ControlPlaneError(RuntimeError):
    """The control plane could not be built, started or queried."""


class CommandError(subprocess.CalledProcessError):
    """kubectl or helm exited non-zero; ``str()`` includes its stderr."""

    def __str__(self) -> str:
        return f"{super().__str__()}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"


# ---------------------------------------------------------------------------------------
# Binaries


def build_binaries(*, env: Mapping[str, str] | None = None) -> Path:
    """Return the directory holding etcd, kube-apiserver, kubectl and helm.

    ``$AMPP_K8S_BIN_DIR`` names a ready directory; otherwise ``controlplane/build.sh`` runs
    (instant when its cache already has the binaries, a long Go build when not).
    """
    environ = dict(os.environ if env is None else env)
    given = environ.get("AMPP_K8S_BIN_DIR")
    if given:
        bin_dir = Path(given)
    else:
        proc = subprocess.run(
            ["bash", str(BUILD_SCRIPT)],
            stdout=subprocess.PIPE,
            stderr=None,  # progress goes straight to our stderr
            text=True,
            env=environ,
            check=False,
        )
        lines = proc.stdout.strip().splitlines()
        if proc.returncode != 0 or not lines:
            raise ControlPlaneError(f"{BUILD_SCRIPT} failed with exit code {proc.returncode}")
        bin_dir = Path(lines[-1])
    missing = [n for n in ("etcd", "kube-apiserver", "kubectl", "helm") if not (bin_dir / n).is_file()]
    if missing:
        raise ControlPlaneError(f"{bin_dir} lacks {', '.join(missing)}")
    return bin_dir


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that was free a moment ago (the caller retries if it races)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------------------------------
# Certificates


def _have_cryptography() -> bool:
    try:
        import cryptography.x509  # noqa: F401
    except ImportError:
        return False
    return True


class CertificateAuthority:
    """A throw-away CA that writes PEM files into ``directory``.

    ``backend`` is ``"cryptography"`` or ``"openssl"`` (the CLI); the default is the
    first that is available. Keys are ECDSA P-256, except the RSA service-account key.
    """

    def __init__(self, directory: Path, name: str = "ampp-envtest-ca", backend: str | None = None):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        if backend is None:
            backend = "cryptography" if _have_cryptography() else "openssl"
        if backend not in ("cryptography", "openssl"):
            raise ValueError(f"unknown certificate backend {backend!r}")
        if backend == "openssl" and shutil.which("openssl") is None:
            raise ControlPlaneError("neither the cryptography package nor openssl is available")
        self.backend = backend
        self.cert_file = self.dir / "ca.crt"
        self.key_file = self.dir / "ca.key"
        if backend == "cryptography":
            self._crypto_ca(name)
        else:
            self._openssl_ca(name)

    # public API -------------------------------------------------------------------------

    def issue(
        self,
        name: str,
        common_name: str,
        organizations: Sequence[str] = (),
        *,
        server: bool = False,
        client: bool = False,
        dns_names: Sequence[str] = (),
        ip_addresses: Sequence[str] = (),
    ) -> tuple[Path, Path]:
        """Issue ``<name>.crt``/``<name>.key`` signed by this CA; return their paths."""
        cert, key = self.dir / f"{name}.crt", self.dir / f"{name}.key"
        if self.backend == "cryptography":
            self._crypto_issue(cert, key, common_name, organizations, server, client, dns_names, ip_addresses)
        else:
            self._openssl_issue(
                cert, key, common_name, organizations, server, client, dns_names, ip_addresses
            )
        return cert, key

    def service_account_keys(self, name: str = "sa") -> tuple[Path, Path]:
        """An RSA key pair for signing service-account tokens: (private key, public key)."""
        priv, pub = self.dir / f"{name}.key", self.dir / f"{name}.pub"
        if self.backend == "cryptography":
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric import rsa

            k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            _write_private(priv, _pem_private(k))
            pub.write_bytes(
                k.public_key().public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                )
            )
        else:
            _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", priv)
            os.chmod(priv, 0o600)
            _openssl("pkey", "-in", priv, "-pubout", "-out", pub)
        return priv, pub

    # cryptography -----------------------------------------------------------------------

    def _crypto_ca(self, name: str) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + CERT_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        _write_private(self.key_file, _pem_private(key))
        self.cert_file.write_bytes(_pem_cert(cert))
        self._ca_key, self._ca_cert = key, cert

    def _crypto_issue(
        self,
        cert_file: Path,
        key_file: Path,
        common_name: str,
        organizations: Sequence[str],
        server: bool,
        client: bool,
        dns_names: Sequence[str],
        ip_addresses: Sequence[str],
    ) -> None:
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in organizations]
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
        usages = []
        if server:
            usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
        if client:
            usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
        now = datetime.datetime.now(datetime.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(attrs))
            .issuer_name(self._ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + CERT_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._ca_key.public_key()),
                critical=False,
            )
        )
        sans: list[x509.GeneralName] = [x509.DNSName(d) for d in dns_names]
        sans += [x509.IPAddress(ipaddress.ip_address(i)) for i in ip_addresses]
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(self._ca_key, hashes.SHA256())
        _write_private(key_file, _pem_private(key))
        cert_file.write_bytes(_pem_cert(cert))

    # openssl CLI ------------------------------------------------------------------------

    def _openssl_ca(self, name: str) -> None:
        _openssl_ec_key(self.key_file)
        _openssl(
            "req", "-x509", "-new", "-sha256", "-key", self.key_file,
            "-subj", f"/CN={name}", "-days", str(CERT_VALIDITY.days),
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,digitalSignature,keyCertSign,cRLSign",
            "-addext", "subjectKeyIdentifier=hash",
            "-out", self.cert_file,
        )  # fmt: skip

    def _openssl_issue(
        self,
        cert_file: Path,
        key_file: Path,
        common_name: str,
        organizations: Sequence[str],
        server: bool,
        client: bool,
        dns_names: Sequence[str],
        ip_addresses: Sequence[str],
    ) -> None:
        _openssl_ec_key(key_file)
        subject = "".join(f"/O={_dn_escape(o)}" for o in organizations) + f"/CN={_dn_escape(common_name)}"
        csr = key_file.with_suffix(".csr")
        ext = key_file.with_suffix(".ext")
        usages = [u for u, on in (("serverAuth", server), ("clientAuth", client)) if on]
        lines = [
            "[v3]",
            "basicConstraints = critical,CA:FALSE",
            "keyUsage = critical,digitalSignature",
            "authorityKeyIdentifier = keyid",
        ]
        if usages:
            lines.append("extendedKeyUsage = " + ",".join(usages))
        sans = [f"DNS:{d}" for d in dns_names] + [f"IP:{i}" for i in ip_addresses]
        if sans:
            lines.append("subjectAltName = " + ",".join(sans))
        ext.write_text("\n".join(lines) + "\n")
        try:
            _openssl("req", "-new", "-sha256", "-key", key_file, "-subj", subject, "-out", csr)
            _openssl(
                "x509", "-req", "-sha256", "-in", csr,
                "-CA", self.cert_file, "-CAkey", self.key_file,
                "-set_serial", "0x" + secrets.token_hex(16),
                "-days", str(CERT_VALIDITY.days),
                "-extfile", ext, "-extensions", "v3",
                "-out", cert_file,
            )  # fmt: skip
        finally:
            csr.unlink(missing_ok=True)
            ext.unlink(missing_ok=True)


def _pem_private(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _pem_cert(cert: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return bytes(cert.public_bytes(serialization.Encoding.PEM))


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _dn_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("/", "\\/")


def _openssl(*args: object) -> None:
    proc = subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ControlPlaneError(f"openssl {args[0]} failed: {proc.stderr.strip()}")


def _openssl_ec_key(path: Path) -> None:
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path)
    os.chmod(path, 0o600)


# ---------------------------------------------------------------------------------------
# Processes


def die_with_parent() -> None:
    """Linux: have the child get SIGKILL when the test process dies, so a crashed or killed
    pytest leaves no etcd or kube-apiserver behind. (SIGKILL, not SIGTERM: both would get
    it at once, and kube-apiserver's graceful shutdown hangs once etcd is gone. The signal
    follows the *thread* that started the child: start a ControlPlane from a thread that
    outlives it, e.g. the main thread.) Best effort elsewhere."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass


class _Process:
    """One child process with its output in a log file."""

    def __init__(self, name: str, argv: Sequence[str], log_file: Path):
        self.name = name
        self.argv = list(argv)
        self.log_file = log_file
        self._log: IO[bytes] | None = open(log_file, "ab")
        try:
            self.proc: subprocess.Popen[bytes] = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent if sys.platform.startswith("linux") else None,
                start_new_session=True,  # Ctrl-C reaches the owner, which stops them in order
            )
        except BaseException:
            self._log.close()
            raise

    def running(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float) -> int | None:
        """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL. Returns the exit code."""
        try:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(10)
            return self.proc.returncode
        finally:
            if self._log is not None:
                self._log.close()
                self._log = None


def _wait_until(what: str, check: Any, proc: _Process, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last_error = ""
    while True:
        if not proc.running():
            raise ControlPlaneError(
                f"{proc.name} exited with code {proc.proc.returncode} before {what}; "
                f"log {proc.log_file}:\n{proc.log_tail()}"
            )
        try:
            if check():
                return
        except (OSError, urllib.error.URLError, ssl.SSLError) as e:
            last_error = str(e)
        if time.monotonic() > deadline:
            raise ControlPlaneError(
                f"{proc.name} not {what} after {timeout:.0f}s ({last_error}); "
                f"log {proc.log_file}:\n{proc.log_tail()}"
            )
        time.sleep(0.2)


# ---------------------------------------------------------------------------------------
# Control plane


class ControlPlane:
    """etcd + kube-apiserver on free loopback ports, with an admin kubeconfig.

    Attributes once started: ``server`` (https URL), ``kubeconfig`` (admin, CN=admin in
    system:masters), ``ca_file``, ``etcd_url``, ``dir`` (everything, logs in ``dir/logs``),
    ``bin_dir``, ``kubectl_bin``, ``helm_bin``.
    """

    def __init__(
        self,
        bin_dir: Path | str,
        *,
        root_dir: Path | str | None = None,
        apiserver_args: Iterable[str] = (),
        etcd_args: Iterable[str] = (),
        start_timeout: float = 90.0,
        stop_timeout: float = 20.0,
        cert_backend: str | None = None,
        keep_dir: bool | None = None,
    ):
        self.bin_dir = Path(bin_dir).resolve()
        self.etcd_bin = self.bin_dir / "etcd"
        self.apiserver_bin = self.bin_dir / "kube-apiserver"
        self.kubectl_bin = self.bin_dir / "kubectl"
        self.helm_bin = self.bin_dir / "helm"
        self._root_dir = Path(root_dir) if root_dir is not None else None
        self.extra_apiserver_args = list(apiserver_args)
        self.extra_etcd_args = list(etcd_args)
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.cert_backend = cert_backend
        self.keep_dir = keep_dir if keep_dir is not None else os.environ.get("AMPP_ENVTEST_KEEP") == "1"
        self.dir: Path = Path()
        self.server = ""
        self.etcd_url = ""
        self.kubeconfig: Path = Path()
        self.ca_file: Path = Path()
        self.ca: CertificateAuthority | None = None
        self._etcd: _Process | None = None
        self._apiserver: _Process | None = None
        self._made_dir = False

    # lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> ControlPlane:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        if self._apiserver is not None:
            raise ControlPlaneError("already started")
        for b in (self.etcd_bin, self.apiserver_bin, self.kubectl_bin):
            if not os.access(b, os.X_OK):
                raise ControlPlaneError(f"missing binary {b}")
        if self._root_dir is None:
            self.dir = Path(tempfile.mkdtemp(prefix="ampp-envtest-"))
            self._made_dir = True
        else:
            self.dir = self._root_dir
            self.dir.mkdir(parents=True, exist_ok=True)
        for sub in ("pki", "etcd", "logs", "kubeconfigs", "kubectl-cache", "helm"):
            (self.dir / sub).mkdir(mode=0o700, exist_ok=True)
        try:
            self._make_pki()
            self._start_with_retries("etcd", self._start_etcd)
            self._start_with_retries("kube-apiserver", self._start_apiserver)
            self.kubeconfig = self.write_kubeconfig(
                self.dir / "kubeconfigs" / "admin.yaml",
                user=ADMIN_USER,
                client_cert=self.dir / "pki" / "admin.crt",
                client_key=self.dir / "pki" / "admin.key",
            )
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop kube-apiserver, then etcd (SIGTERM, then SIGKILL after ``stop_timeout``)."""
        for attr in ("_apiserver", "_etcd"):
            p: _Process | None = getattr(self, attr)
            if p is not None:
                p.stop(self.stop_timeout)
                setattr(self, attr, None)
        if self._made_dir and not self.keep_dir and self.dir.is_dir():
            shutil.rmtree(self.dir, ignore_errors=True)

    def running(self) -> bool:
        return bool(self._apiserver and self._apiserver.running() and self._etcd and self._etcd.running())

    @property
    def log_dir(self) -> Path:
        return self.dir / "logs"

    def _start_with_retries(self, name: str, start: Any, attempts: int = 3) -> None:
        # A port picked by free_port() can be taken before the server binds it.
        for attempt in range(1, attempts + 1):
            try:
                start()
                return
            except ControlPlaneError as e:
                if attempt == attempts or "address already in use" not in str(e):
                    raise
                if name == "etcd":
                    shutil.rmtree(self.dir / "etcd", ignore_errors=True)
                    (self.dir / "etcd").mkdir(mode=0o700)

    def _make_pki(self) -> None:
        pki = self.dir / "pki"
        self.ca = CertificateAuthority(pki, backend=self.cert_backend)
        self.ca_file = self.ca.cert_file
        self.ca.issue(
            "apiserver", "kube-apiserver", server=True,
            dns_names=("localhost", "kubernetes", "kubernetes.default",
                       "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"),
            ip_addresses=(LOOPBACK, "::1", "10.0.0.1"),
        )  # fmt: skip
        self.ca.issue("admin", ADMIN_USER, (ADMIN_GROUP,), client=True)
        self.ca.service_account_keys("sa")

    def _start_etcd(self) -> None:
        client, peer = free_port(), free_port()
        self.etcd_url = f"http://{LOOPBACK}:{client}"
        peer_url = f"http://{LOOPBACK}:{peer}"
        argv = [
            str(self.etcd_bin),
            "--name=envtest",
            f"--data-dir={self.dir / 'etcd'}",
            f"--listen-client-urls={self.etcd_url}",
            f"--advertise-client-urls={self.etcd_url}",
            f"--listen-peer-urls={peer_url}",
            f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=envtest={peer_url}",
            "--unsafe-no-fsync=true",
            "--log-level=warn",
            *self.extra_etcd_args,
        ]
        if self._etcd is not None:
            self._etcd.stop(self.stop_timeout)
        self._etcd = _Process("etcd", argv, self.log_dir / "etcd.log")

        def healthy() -> bool:
            with urllib.request.urlopen(f"{self.etcd_url}/health", timeout=2) as r:
                return bool(r.status == 200 and b'"health":"true"' in r.read())

        _wait_until("healthy", healthy, self._etcd, self.start_timeout)

    def _start_apiserver(self) -> None:
        pki = self.dir / "pki"
        port = free_port()
        self.server = f"https://{LOOPBACK}:{port}"
        argv = [
            str(self.apiserver_bin),
            f"--etcd-servers={self.etcd_url}",
            f"--cert-dir={pki}",
            f"--tls-cert-file={pki / 'apiserver.crt'}",
            f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--client-ca-file={pki / 'ca.crt'}",
            f"--secure-port={port}",
            f"--bind-address={LOOPBACK}",
            f"--advertise-address={LOOPBACK}",
            # Since 1.37 a loopback advertise address is refused while the API server
            # maintains the "kubernetes" Service endpoints; nothing here routes to them.
            "--endpoint-reconciler-type=none",
            "--service-cluster-ip-range=10.0.0.0/24",
            "--allow-privileged=true",
            # As envtest: nothing creates the "default" ServiceAccount without a
            # controller-manager, so this admission plugin would reject every Pod.
            "--disable-admission-plugins=ServiceAccount",
            "--authorization-mode=RBAC",
            f"--service-account-issuer={self.server}",
            f"--service-account-key-file={pki / 'sa.pub'}",
            f"--service-account-signing-key-file={pki / 'sa.key'}",
            *self.extra_apiserver_args,
        ]
        if self._apiserver is not None:
            self._apiserver.stop(self.stop_timeout)
        self._apiserver = _Process("kube-apiserver", argv, self.log_dir / "kube-apiserver.log")

        def ready() -> bool:
            status, body = self._admin_get("/readyz")
            return status == 200 and body.strip() == b"ok"

        _wait_until("ready", ready, self._apiserver, self.start_timeout)

    # HTTP ------------------------------------------------------------------------------

    def ssl_context(self) -> ssl.SSLContext:
        """Trusts the cluster CA and presents the admin client certificate."""
        ctx = ssl.create_default_context(cafile=str(self.dir / "pki" / "ca.crt"))
        ctx.load_cert_chain(str(self.dir / "pki" / "admin.crt"), str(self.dir / "pki" / "admin.key"))
        return ctx

    def _admin_get(self, path: str) -> tuple[int, bytes]:
        req = urllib.request.Request(self.server + path)
        try:
            with urllib.request.urlopen(req, context=self.ssl_context(), timeout=5) as r:
                return int(r.status), bytes(r.read())
        except urllib.error.HTTPError as e:
            with e:
                return int(e.code), bytes(e.read())

    def get(self, path: str) -> tuple[int, bytes]:
        """GET ``path`` on the API server as admin; returns (status, body)."""
        return self._admin_get(path)

    # kubeconfigs -----------------------------------------------------------------------

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
        """Write a kubeconfig for this API server with embedded CA and credentials."""
        creds: dict[str, str] = {}
        if token is not None:
            creds["token"] = token
        if client_cert is not None and client_key is not None:
            creds["client-certificate-data"] = _b64(client_cert.read_bytes())
            creds["client-key-data"] = _b64(client_key.read_bytes())
        context: dict[str, str] = {"cluster": "envtest", "user": user}
        if namespace:
            context["namespace"] = namespace
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "envtest",
                    "cluster": {
                        "server": self.server,
                        "certificate-authority-data": _b64(self.ca_file.read_bytes()),
                    },
                }
            ],
            "users": [{"name": user, "user": creds}],
            "contexts": [{"name": "envtest", "context": context}],
            "current-context": "envtest",
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_private(path, yaml.safe_dump(config, sort_keys=False).encode())
        return path

    def kubeconfig_for_service_account(
        self,
        namespace: str,
        name: str,
        *,
        duration: str = "1h",
        path: Path | None = None,
    ) -> Path:
        """A kubeconfig that authenticates as ``system:serviceaccount:<namespace>:<name>``
        with a bound token from the TokenRequest API (``kubectl create token``), so a process
        given it has exactly the RBAC permissions bound to that ServiceAccount. The
        ServiceAccount must exist."""
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
        """A kubeconfig with a client certificate for ``user`` in ``groups`` (no RBAC
        bindings are made: bind what the test needs)."""
        if self.ca is None:
            raise ControlPlaneError("not started")
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in user)
        cert, key = self.ca.issue(f"user-{safe}", user, tuple(groups), client=True)
        return self.write_kubeconfig(
            self.dir / "kubeconfigs" / f"user-{safe}.yaml",
            user=user,
            client_cert=cert,
            client_key=key,
        )

    # commands --------------------------------------------------------------------------

    def env(self, kubeconfig: Path | None = None) -> dict[str, str]:
        """Environment for a subprocess that should talk to this cluster (KUBECONFIG,
        hermetic Helm directories, the bin dir first on PATH)."""
        env = dict(os.environ)
        helm_home = self.dir / "helm"
        env.update(
            KUBECONFIG=str(kubeconfig or self.kubeconfig),
            HELM_CACHE_HOME=str(helm_home / "cache"),
            HELM_CONFIG_HOME=str(helm_home / "config"),
            HELM_DATA_HOME=str(helm_home / "data"),
            PATH=f"{self.bin_dir}{os.pathsep}{env.get('PATH', '')}",
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
        """Run kubectl against this cluster (as admin unless ``kubeconfig`` is given).
        Raises :class:`CommandError` on failure when ``check``."""
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
        """Run helm against this cluster with its own cache/config/data directories."""
        argv = [str(self.helm_bin), f"--kubeconfig={kubeconfig or self.kubeconfig}", *args]
        return _run(argv, input, self.env(kubeconfig), check, timeout)


def _run(
    argv: list[str],
    input: str | None,
    env: dict[str, str],
    check: bool,
    timeout: float,
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        argv, input=input, capture_output=True, text=True, env=env, timeout=timeout, check=False
    )
    if check and proc.returncode != 0:
        raise CommandError(proc.returncode, argv, proc.stdout, proc.stderr)
    return proc


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# ---------------------------------------------------------------------------------------
# By hand: python e2e/envtest.py [--bin-dir DIR]


def until_signalled() -> Callable[[], bool]:
    """Catch SIGINT and SIGTERM (Ctrl-C, kill): the function returned says whether one came, so
    a script can stop what it started, in order, instead of dying in the middle."""
    came: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, _frame: came.append(signum))
    return lambda: bool(came)


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Run etcd + kube-apiserver until Ctrl-C.")
    parser.add_argument("--bin-dir", type=Path, help="directory with the binaries (default: build.sh)")
    parser.add_argument("--dir", type=Path, help="state directory (default: a temp dir, removed)")
    args = parser.parse_args(argv)
    bin_dir = args.bin_dir or build_binaries()
    stopped = until_signalled()
    with ControlPlane(bin_dir, root_dir=args.dir) as cp:
        print(f"server:     {cp.server}")
        print(f"logs:       {cp.log_dir}")
        print(f"export KUBECONFIG={cp.kubeconfig}")
        print(f"export PATH={cp.bin_dir}:$PATH")
        sys.stdout.flush()
        while not stopped() and cp.running():
            time.sleep(0.5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
