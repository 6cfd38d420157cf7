"""Versioned schema migrations, kept as SQL files beside the driver that applies them.

A driver's migrations are the ``NNNN_what.sql`` files of one folder of its package
(``sqlite/migrations/state``, ``sqlite/migrations/history``, ``postgres/migrations``),
numbered from 0001 without gaps: version N is the file numbered N, which is what each
database's ``schema_migrations`` table records. Migrations are append-only: a change is a new
file, never an edit of one a database may already have applied.
"""

from __future__ import annotations

import re
from importlib import resources

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationFilesError(RuntimeError):
    """The migration files of a folder are not numbered 0001, 0002, ... (a packaging error)."""


def load(package: str, folder: str) -> list[str]:
    """The SQL of each migration in ``folder`` of ``package``, in order (index 0: version 1)."""
    found: dict[int, str] = {}
    for entry in resources.files(package).joinpath(folder).iterdir():
        if not entry.name.endswith(".sql"):
            continue
        m = _NAME.match(entry.name)
        if m is None:
            raise MigrationFilesError(f"{package}/{folder}/{entry.name}: not named NNNN_what.sql")
        n = int(m.group(1))
        if n in found:
            raise MigrationFilesError(f"{package}/{folder}: two migrations numbered {n:04d}")
        found[n] = entry.read_text(encoding="utf-8")
    if sorted(found) != list(range(1, len(found) + 1)):
        raise MigrationFilesError(
            f"{package}/{folder}: migrations must be numbered 0001 to {len(found):04d} without gaps,"
            f" found {', '.join(f'{n:04d}' for n in sorted(found))}"
        )
    return [found[n] for n in sorted(found)]
