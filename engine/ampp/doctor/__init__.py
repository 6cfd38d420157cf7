"""``ampp doctor``: is this config ready to run here? A report to paste into a bug report.

It loads the config as ``ampp serve`` would (the same flags, environment and refusals), then
checks what the engine will reach: the storage (connected and read, never changed), Redis, the
OTLP receiver, the LLM provider and every receiver's endpoint (DNS, TCP, the TLS handshake the
engine would make). Nothing is sent to anyone unless ``--send-test`` asks for one test
notification per integration and one LLM call. One line per check, each with its verdict;
the exit code is 1 when any check failed. Secrets never appear: a URL is shown as its scheme,
host and port only.
"""

from __future__ import annotations

__all__ = ["Check", "Report", "run"]

from .report import Check, Report
from .run import run
