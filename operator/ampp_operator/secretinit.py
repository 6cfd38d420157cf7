"""``ampp init-secrets``: generated passwords made in the cluster, not in the chart.

The Helm chart renders no random value: ``helm template`` (what Argo CD runs) would otherwise
render a new password every time, and GitOps tools would see drift and hand PostgreSQL a
password it no longer accepts. The chart runs this command in a hook Job instead (before
install and upgrade; Argo CD runs it as a PreSync hook). For each Secret it names, it creates
the Secret with random values if it does not exist, adds the keys it lacks, and never changes a
value that is there: the bundled databases read their password only when their volume is first
initialised, so a kept Secret keeps matching them across upgrades, re-syncs and reinstalls.

It needs ``create`` on Secrets in its namespace and ``get``/``patch`` on the Secrets it names;
it logs in like ``ampp operator`` (in-cluster ServiceAccount, else ``--kubeconfig``).
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import string
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import names

if TYPE_CHECKING:  # kube imports kopf, which registering this command must not
    from .kube import Requests

__all__ = ["SecretSpec", "ensure", "generate", "register"]

ALPHABET = string.ascii_letters + string.digits
"""Letters and digits only: the values go into URLs and command lines unescaped."""
LENGTH = 32
FIELD_MANAGER = f"{names.COMPONENT}-init-secrets"


def generate() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


@dataclass(frozen=True)
class SecretSpec:
    """A Secret to ensure, the keys it must hold, and how a missing value is made."""

    name: str
    keys: tuple[str, ...]
    make: Callable[[], str] = generate

    @classmethod
    def parse(cls, text: str) -> SecretSpec:
        """``NAME:KEY[,KEY...]``."""
        name, sep, keys = text.partition(":")
        parts = tuple(k.strip() for k in keys.split(",") if k.strip())
        if not sep or not name.strip() or not parts:
            raise argparse.ArgumentTypeError(f"expected NAME:KEY[,KEY...], got {text!r}")
        return cls(name.strip(), parts)

    @classmethod
    def parse_api_keys(cls, text: str) -> SecretSpec:
        """The same, for API keys of the engine: made as ``ampp apikey create`` makes them."""
        from ampp.auth.apikeys import new_secret

        spec = cls.parse(text)
        return cls(spec.name, spec.keys, new_secret)


async def ensure(kube: Requests, namespace: str, spec: SecretSpec, labels: dict[str, str]) -> str:
    """Create the Secret or add the keys it lacks; say what was done."""
    path = f"/api/v1/namespaces/{namespace}/secrets"
    existing = await kube.secret_object(namespace, spec.name)
    if existing is None:
        body = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": spec.name, "namespace": namespace, "labels": labels},
            "type": "Opaque",
            "stringData": {key: spec.make() for key in spec.keys},
        }
        await kube.request("POST", path, body=body, params={"fieldManager": FIELD_MANAGER})
        return f"created Secret {namespace}/{spec.name} ({', '.join(spec.keys)})"
    have = set((existing.get("data") or {}).keys())
    missing = [k for k in spec.keys if k not in have]
    if not missing:
        return f"kept Secret {namespace}/{spec.name}"
    patch = {
        "metadata": {"resourceVersion": existing["metadata"]["resourceVersion"]},  # no lost update
        "stringData": {key: spec.make() for key in missing},
    }
    await kube.request(
        "PATCH",
        f"{path}/{spec.name}",
        body=patch,
        params={"fieldManager": FIELD_MANAGER},
        content_type="application/merge-patch+json",
    )
    return f"added {', '.join(missing)} to Secret {namespace}/{spec.name}"


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> Callable[[argparse.Namespace], int]:
    p = subparsers.add_parser(
        "init-secrets",
        help="create Secrets with generated passwords, keeping every value already there",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    p.add_argument("--namespace", required=True, help="the namespace of the Secrets")
    p.add_argument(
        "--secret",
        dest="secrets",
        action="append",
        type=SecretSpec.parse,
        metavar="NAME:KEY[,KEY...]",
        help="a Secret and the keys it must hold, random passwords (repeatable)",
    )
    p.add_argument(
        "--api-keys",
        dest="secrets",
        action="append",
        type=SecretSpec.parse_api_keys,
        metavar="NAME:KEY[,KEY...]",
        help="a Secret of API keys for the engine's auth.api_keys (ampp_...; repeatable)",
    )
    p.add_argument(
        "--label", dest="labels", action="append", default=[], metavar="KEY=VALUE",
        help="a label for Secrets this creates (repeatable)",
    )  # fmt: skip
    p.add_argument("--kubeconfig", default=None, help="default: in-cluster ServiceAccount, else $KUBECONFIG")
    return _main


def _main(args: argparse.Namespace) -> int:
    if not args.secrets:
        print("ampp init-secrets: error: name a Secret: --secret or --api-keys", file=sys.stderr)
        return 2
    labels = dict(label.partition("=")[::2] for label in args.labels)
    return asyncio.run(_run(args.kubeconfig, args.namespace, args.secrets, labels))


async def _run(
    kubeconfig: str | None, namespace: str, specs: Sequence[SecretSpec], labels: dict[str, str]
) -> int:
    import kopf

    from .kube import Kube, KubeError
    from .runtime import login

    kube = Kube(lambda: login(kubeconfig))
    try:
        for spec in specs:
            print(await ensure(kube, namespace, spec, labels))
    except (KubeError, kopf.LoginError, OSError) as e:
        print(f"ampp init-secrets: error: {e}", file=sys.stderr)
        return 1
    finally:
        await kube.close()
    return 0
