"""The Alertmanager++ operator: custom resources -> the engine's config, status back.

``ampp operator`` runs the engine (package ``ampp``) with a kopf operator in one process.
Modules, from the pure core outwards:

* :mod:`names` - the API group, version and kinds;
* :mod:`integrations` - the Receiver schema and translation, derived from the engine's models;
* :mod:`translate` - AlertRoute, InhibitRule, TimeInterval -> config fragments;
* :mod:`assemble` - base config + fragments -> one validated Config, a verdict per resource;
* :mod:`silences` - Silence resources -> engine silences with deterministic ids;
* :mod:`status` - conditions and the status patch;
* :mod:`crds` - the CustomResourceDefinitions (``python -m ampp_operator.crds crds/``);
* :mod:`kube`, :mod:`leader`, :mod:`controller`, :mod:`handlers`, :mod:`runtime`, :mod:`cli`
  - the I/O: API client, Lease election, the reconcile loop, kopf wiring, the process.

The engine never imports this package (nor kopf): it finds ``ampp operator`` through the
``ampp.commands`` entry point.
"""

from __future__ import annotations

from .names import API_VERSION, GROUP, KINDS, VERSION

__all__ = ["API_VERSION", "GROUP", "KINDS", "VERSION"]
