"""The operator's settings: flags, with the environment the Helm chart sets as defaults."""

from __future__ import annotations

import argparse
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["CertSettings", "LeaseSettings", "OperatorSettings", "add_flags", "from_args"]


@dataclass(frozen=True)
class LeaseSettings:
    namespace: str
    """Where the Lease lives (the operator's own namespace)."""
    name: str = "ampp-operator"
    identity: str = ""
    """This replica's name in ``holderIdentity`` (the pod name)."""
    lease_duration: float = 15.0
    """How long a Lease that is not renewed stays with its holder."""
    renew_deadline: float = 10.0
    """A leader that has not renewed for this long stops writing (< lease_duration)."""
    retry_period: float = 2.0
    """How often to try to renew, or to acquire."""


@dataclass(frozen=True)
class CertSettings:
    namespace: str
    secret: str
    """The Secret (in ``namespace``) that keeps the CA and the serving certificate."""
    configuration: str
    """The ValidatingWebhookConfiguration whose caBundle to keep current ("": none)."""
    names: tuple[str, ...]
    """What the serving certificate is for: DNS names (the Service's), or IP addresses."""
    validity: float = 90 * 86400.0
    """Of the serving certificate, in seconds."""
    ca_validity: float = 10 * 365 * 86400.0
    check_interval: float = 60.0


_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class OperatorSettings:
    namespaces: tuple[str, ...] = ()
    """Namespaces whose resources are watched; empty: all namespaces (cluster-wide)."""
    enforce_namespace: bool = True
    """Scope routes, inhibit rules and silences to alerts labelled with their namespace."""
    lease: LeaseSettings | None = None
    """Leader election for status, Events and finalizers; None: this replica always writes."""
    identity: str = ""
    """This replica's name (Events' reportingInstance, the Lease holder)."""
    kubeconfig: str | None = None
    """A kubeconfig file; None: in-cluster service account, else $KUBECONFIG."""
    debounce: float = 0.2
    """Quiet time after a change before reconciling (``kubectl apply -f dir/`` is one apply)."""
    resync_interval: float = 60.0
    """Re-check everything this often, re-reading the referenced Secrets whose watch is down."""
    admission_address: str = ""
    """host:port of the validating admission webhook server (HTTPS); empty: no webhook."""
    admission_cert_file: str = ""
    admission_key_file: str = ""
    admission_certificates: CertSettings | None = None
    """Self-managed certificates for the webhook (instead of the files above)."""
    namespace: str = "default"
    """The operator's own namespace (its Lease, its certificate Secret)."""


def _env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    return default if raw is None or raw == "" else raw.strip().lower() in _TRUE


def _seconds(text: str) -> float:
    from ampp.model.timefmt import DurationError, parse_duration

    try:
        return parse_duration(text)
    except DurationError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_flags(p: argparse.ArgumentParser, env: Mapping[str, str] | None = None) -> None:
    """The operator's own flags (the engine's come from ``ampp serve``)."""
    env = os.environ if env is None else env
    a = p.add_argument
    a(
        "--kubeconfig",
        default=None,
        help="kubeconfig file (default: in-cluster service account, else $KUBECONFIG)",
    )
    watch = [n.strip() for n in env.get("AMPP_WATCH_NAMESPACES", "").split(",") if n.strip()]
    a(
        "--operator.watch-namespace",
        dest="watch_namespaces",
        action="append",
        default=None,
        help="watch this namespace (repeatable; default $AMPP_WATCH_NAMESPACES, comma-separated; "
        f"none: all namespaces){' [env: ' + ','.join(watch) + ']' if watch else ''}",
    )
    p.set_defaults(env_watch_namespaces=watch)
    a(
        "--operator.namespace-enforcement",
        dest="namespace_enforcement",
        action=argparse.BooleanOptionalAction,
        default=_env_bool(env, "AMPP_NAMESPACE_ENFORCEMENT", True),
        help="routes, inhibit rules and silences of a namespace only match alerts whose "
        "`namespace` label is that namespace (default $AMPP_NAMESPACE_ENFORCEMENT, else true)",
    )
    a(
        "--operator.resync-interval",
        dest="resync_interval",
        type=_seconds,
        default=60.0,
        help="re-check every resource this often, and re-read referenced Secrets whose watch is down "
        "(they are watched: a change applies at once)",
    )
    a(
        "--leader-election",
        dest="leader_election",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="elect one replica (by Lease) to write status, Events and finalizers",
    )
    a(
        "--leader-election.namespace",
        dest="lease_namespace",
        default=env.get("AMPP_POD_NAMESPACE") or None,
        help="namespace of the Lease (default $AMPP_POD_NAMESPACE, else the kubeconfig's namespace)",
    )
    a("--leader-election.name", dest="lease_name", default="ampp-operator", help="name of the Lease")
    a(
        "--leader-election.identity",
        dest="identity",
        default=env.get("AMPP_POD_NAME") or f"{socket.gethostname()}-{os.getpid()}",
        help="this replica's identity (default $AMPP_POD_NAME, else host-pid)",
    )
    a(
        "--admission.listen-address",
        dest="admission_address",
        default="",
        help="serve the validating admission webhook (HTTPS) on host:port, at /validate-<plural>; "
        "empty: no webhook (the ValidatingWebhookConfiguration is the chart's)",
    )
    a(
        "--admission.cert-file",
        dest="admission_cert_file",
        default="",
        help="the webhook's TLS certificate (re-read when it changes, as cert-manager renews it)",
    )
    a("--admission.key-file", dest="admission_key_file", default="", help="the webhook's TLS key")
    a(
        "--admission.certificate-secret",
        dest="admission_secret",
        default="",
        help="instead of the files: keep a CA and a serving certificate of the operator's own in this "
        "Secret (in the operator's namespace), renewed before they expire",
    )
    a(
        "--admission.webhook-configuration",
        dest="admission_configuration",
        default="",
        help="with --admission.certificate-secret: the ValidatingWebhookConfiguration whose caBundle "
        "to keep current",
    )
    a(
        "--admission.dns-name",
        dest="admission_names",
        action="append",
        default=[],
        help="with --admission.certificate-secret: a DNS name (or IP address) the certificate is for, "
        "e.g. the webhook Service's <name>.<namespace>.svc (repeatable)",
    )
    a("--admission.certificate-validity", dest="admission_validity", type=_seconds, default=90 * 86400.0)
    a("--admission.ca-validity", dest="admission_ca_validity", type=_seconds, default=10 * 365 * 86400.0)
    a("--leader-election.lease-duration", dest="lease_duration", type=_seconds, default=15.0)
    a("--leader-election.renew-deadline", dest="renew_deadline", type=_seconds, default=10.0)
    a("--leader-election.retry-period", dest="retry_period", type=_seconds, default=2.0)


def from_args(args: argparse.Namespace, default_namespace: str | None) -> OperatorSettings:
    """Settings from parsed flags; ``default_namespace`` is the kubeconfig's (for the Lease)."""
    namespaces = tuple(args.watch_namespaces or args.env_watch_namespaces or ())
    own = args.lease_namespace or default_namespace or "default"
    files = bool(args.admission_cert_file and args.admission_key_file)
    if args.admission_address and files == bool(args.admission_secret):
        raise ValueError(
            "--admission.listen-address needs either --admission.cert-file and --admission.key-file, "
            "or --admission.certificate-secret"
        )
    certificates = None
    if args.admission_secret:
        if not args.admission_names:
            raise ValueError("--admission.certificate-secret needs --admission.dns-name (the Service's name)")
        certificates = CertSettings(
            namespace=own,
            secret=args.admission_secret,
            configuration=args.admission_configuration,
            names=tuple(args.admission_names),
            validity=args.admission_validity,
            ca_validity=max(args.admission_ca_validity, args.admission_validity),
            check_interval=min(60.0, args.admission_validity / 10),
        )
    lease = None
    if args.leader_election:
        if not args.renew_deadline < args.lease_duration:
            raise ValueError("--leader-election.renew-deadline must be shorter than the lease duration")
        lease = LeaseSettings(
            namespace=own,
            name=args.lease_name,
            identity=args.identity,
            lease_duration=args.lease_duration,
            renew_deadline=args.renew_deadline,
            retry_period=args.retry_period,
        )
    return OperatorSettings(
        namespaces=namespaces,
        enforce_namespace=args.namespace_enforcement,
        lease=lease,
        identity=args.identity,
        kubeconfig=args.kubeconfig,
        resync_interval=args.resync_interval,
        admission_address=args.admission_address,
        admission_cert_file=args.admission_cert_file,
        admission_key_file=args.admission_key_file,
        admission_certificates=certificates,
        namespace=own,
    )
