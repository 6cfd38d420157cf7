"""The API the operator serves: group, version, kinds, and the names it writes.

Everything that appears both in the CRDs and in the code that reads them lives here, so a
rename is one edit.
"""

from __future__ import annotations

from dataclasses import dataclass

GROUP = "alerting.ampp.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
CATEGORY = "ampp"
"""``kubectl get ampp`` lists every kind."""

FINALIZER = f"{GROUP}/silence"
"""Held on Silence resources until the engine silence they made has been expired."""

COMPONENT = "ampp-operator"
"""The ``source.component`` of the Events the operator posts, and its field manager."""


@dataclass(frozen=True, slots=True)
class Kind:
    """One custom resource kind and the names Kubernetes knows it by."""

    kind: str
    plural: str
    singular: str
    short_names: tuple[str, ...]

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{GROUP}"


ALERT_ROUTE = Kind("AlertRoute", "alertroutes", "alertroute", ("amroute", "amroutes"))
RECEIVER = Kind("Receiver", "receivers", "receiver", ("amreceiver", "amrcv"))
INHIBIT_RULE = Kind("InhibitRule", "inhibitrules", "inhibitrule", ("aminhibit", "aminhibits"))
SILENCE = Kind("Silence", "silences", "silence", ("amsilence", "amsil"))
TIME_INTERVAL = Kind("TimeInterval", "timeintervals", "timeinterval", ("amti", "amtimeinterval"))

KINDS: tuple[Kind, ...] = (ALERT_ROUTE, RECEIVER, INHIBIT_RULE, SILENCE, TIME_INTERVAL)
BY_KIND: dict[str, Kind] = {k.kind: k for k in KINDS}
BY_PLURAL: dict[str, Kind] = {k.plural: k for k in KINDS}
