"""``ampp import --from URL``: copy a running Alertmanager's silences and alerts into storage.

The migration path from Alertmanager: silences keep their ids, creators, comments and times,
and the active alerts come along, so switching loses neither. It writes to the storage that
``ampp serve`` will use (run it before starting ampp, or restart ampp afterwards).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from .api.convert import BadSilence, parse_postable_silence
from .ingest.v2 import parse_postable_alerts
from .model.timefmt import NS, TimestampError, now_ns, parse_rfc3339
from .store.base import Storage


class ImportError_(RuntimeError):
    """The source could not be read; the message says what and where."""


@dataclass
class ImportResult:
    silences: int
    alerts: int
    skipped: list[str]


async def fetch(client: httpx.AsyncClient, path: str) -> Any:
    try:
        resp = await client.get(path)
    except httpx.HTTPError as e:
        raise ImportError_(f"GET {client.base_url}{path}: {e}") from None
    if resp.status_code != 200:
        raise ImportError_(f"GET {client.base_url}{path}: HTTP {resp.status_code}: {resp.text[:200]}")
    return resp.json()


async def import_from(source: str, storage: Storage, resolve_timeout_s: float = 300) -> ImportResult:
    """Read silences and alerts from ``source`` (an Alertmanager base URL) into ``storage``."""
    skipped: list[str] = []
    async with httpx.AsyncClient(base_url=source.rstrip("/"), timeout=30) as client:
        raw_silences = await fetch(client, "/api/v2/silences")
        raw_alerts = await fetch(client, "/api/v2/alerts?active=true&silenced=true&inhibited=true")
    await storage.open()
    try:
        copied = 0
        for raw in raw_silences:
            try:
                sil = parse_postable_silence(raw)
                sil.updated_at = (
                    parse_rfc3339(raw.get("updatedAt") or "") if raw.get("updatedAt") else now_ns()
                )
            except (BadSilence, TimestampError) as e:
                skipped.append(f"silence {raw.get('id')!r}: {e}")
                continue
            await storage.save_silence(sil)
            copied += 1
        batch = parse_postable_alerts(
            [
                {k: a.get(k) for k in ("labels", "annotations", "startsAt", "endsAt", "generatorURL")}
                for a in raw_alerts
            ],
            now_ns(),
            int(resolve_timeout_s * NS),
        )
        skipped.extend(batch.errors)
        for alert in batch.alerts:
            # Alertmanager reports the resolve_timeout end it computed: keep it as a timeout
            # end, so the sender's next update wins as it would have there.
            alert.timeout = True
        await storage.write_alerts(batch.alerts, [])
        return ImportResult(copied, len(batch.alerts), skipped)
    finally:
        await storage.close()
