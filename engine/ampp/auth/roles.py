"""The roles, in order: each one may do what the ones below it may.

viewer reads; operator also posts alerts, creates, updates and expires silences and re-drives
dead letters; admin also reloads the config, manages API keys and reads the audit log.
"""

from __future__ import annotations

from enum import IntEnum


class Role(IntEnum):
    ANONYMOUS = 0
    VIEWER = 1
    OPERATOR = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, name: str) -> Role:
        """A role by its config name (``viewer``, ``operator``, ``admin``)."""
        return cls[name.upper()]
