"""What the API calls: /history, /history/{fingerprint} and /report answers, cached."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping, Sequence

import orjson

from ..model.timefmt import now_ns
from ..store.base import Storage
from .cache import QueryCache
from .query import BadParameter, derive, parse_history_query, run_history, run_report
from .recorder import HistoryRecorder, event_json


class HistoryService:
    def __init__(self, storage: Storage, recorder: HistoryRecorder, cache: QueryCache) -> None:
        # Cache keys are per database: several engines (or tests) may share one Redis.
        where = str(getattr(storage, "path", None) or getattr(storage, "dsn", None) or "")
        self.namespace = hashlib.sha256(where.encode()).hexdigest()[:12]
        self.storage = storage
        self.recorder = recorder
        self.cache = cache

    async def _cached(self, kind: str, normalized: str, compute: object) -> bytes:
        key = self.cache.key(f"{self.namespace}:{kind}", self.recorder.version, normalized)
        hit = await self.cache.get(key)
        if hit is not None:
            return hit
        assert callable(compute)
        body: bytes = orjson.dumps(await compute())
        await self.cache.set(key, body)
        return body

    async def history(self, params: Mapping[str, Sequence[str]]) -> bytes:
        h = parse_history_query(params)

        async def compute() -> object:
            events = await self.storage.load_history()
            # Deriving is pure Python over every event: off the event loop, so a history query
            # never delays routing or notifications.
            return await asyncio.to_thread(lambda: run_history(h, derive(events), now_ns()))

        return await self._cached("history", h.normalized, compute)

    async def report(self, params: Mapping[str, Sequence[str]]) -> bytes:
        allowed = {"from", "to", "flapping", "flapping_window"}
        extra = sorted(set(params) - allowed)
        if extra:
            raise BadParameter(f"{extra[0]}: unknown parameter")
        h = parse_history_query(params)
        threshold = h.flapping if h.flapping is not None else 3

        async def compute() -> object:
            events = await self.storage.load_history()
            return await asyncio.to_thread(
                lambda: run_report(derive(events), h.from_, h.to, now_ns(), threshold, h.flapping_window)
            )

        return await self._cached("report", h.normalized, compute)

    async def timeline(self, fingerprint: str) -> bytes | None:
        if len(fingerprint) != 16 or any(c not in "0123456789abcdef" for c in fingerprint):
            raise BadParameter(f"fingerprint: not 16 lowercase hex digits: {fingerprint!r}")

        async def compute() -> object:
            events = await self.storage.load_history()
            own = [e for e in events if e.fingerprint == fingerprint]
            if not own:
                return None
            silences = {s for e in own if e.kind == "alert.silenced" for s in (e.details or {}).get("by", [])}
            out = [
                e
                for e in events
                if e.fingerprint == fingerprint
                or (e.kind.startswith("notify.") and fingerprint in (e.details or {}).get("fingerprints", []))
                or (e.silence_id is not None and e.silence_id in silences)
            ]
            derived = derive(out)
            return {
                "fingerprint": fingerprint,
                "labels": own[-1].labels,
                "occurrences": run_history(parse_history_query({"limit": ["1000"]}), derived, now_ns())[
                    "items"
                ],
                "events": [event_json(e) for e in out],
            }

        body = await self._cached("timeline", fingerprint, compute)
        return None if body == b"null" else body
