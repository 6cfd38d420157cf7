"""Alertmanager++: a drop-in replacement for Prometheus Alertmanager."""

__version__ = "0.1.0"
ALERTMANAGER_VERSION = "0.25.0"
"""The Alertmanager release whose API and behaviour this engine reproduces.

Reported as versionInfo.version so amtool, Grafana and other clients that compare versions
treat the engine as that Alertmanager; the engine's own version is in versionInfo.revision.
"""
__all__ = ["ALERTMANAGER_VERSION", "__version__"]
