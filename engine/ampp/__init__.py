"""Alertmanager++: a drop-in replacement for Prometheus Alertmanager."""

__version__ = "0.1.0"
__all__ = ["__version__"]
