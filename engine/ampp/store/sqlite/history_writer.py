"""The engine's side of the history writer process (see history_worker for why a process).

One request at a time; a process that is gone is started again on the next request, so a
crash of the writer costs a retry of the recorder's batch, never the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import sys
from typing import Any

from ... import logs
from .history_worker import FRAME, encode

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 30.0
"""How long close() waits for the last request to finish before killing the process."""


class HistoryWriterError(RuntimeError):
    """A request failed; its transaction was rolled back."""


class HistoryWriterLost(HistoryWriterError):
    """The process ended during a request: whether that request was committed is unknown."""


def _package_root() -> str:
    """The folder holding the ``ampp`` package, so the child imports this very code."""
    # <root>/ampp/store/sqlite/history_writer.py
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


class HistoryWriter:
    def __init__(self, path: str, nice: int = 0) -> None:
        self.path = path
        self.nice = nice
        self._proc: asyncio.subprocess.Process | None = None
        """The process, once it has said it is ready."""
        self._lock = asyncio.Lock()
        self._starting: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def start(self) -> None:
        """Start the process in the background: the engine's start does not wait for it (a
        Python start-up, a quarter of a second on a busy machine), its first write does."""
        if self._starting is None:
            self._starting = asyncio.create_task(self._start(), name="history-writer-start")

    async def _start(self) -> None:
        try:
            async with self._lock:
                if not self._up():
                    await self._spawn()
        except Exception:
            log.exception("starting the history writer failed; its first request tries again")

    async def ready(self) -> None:
        """Return once a writer is up, and so has summarized what a migration left pending:
        readers of the summary wait for this, the engine's start does not."""
        if self._up():
            return
        async with self._lock:
            if not self._up():
                await self._spawn()

    def _up(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    async def call(self, op: str, *args: Any) -> Any:
        """Run ``op`` in the writer process and return its result."""
        async with self._lock:
            if not self._up():
                await self._spawn()
            assert self._proc is not None
            ok, value = await self._exchange(self._proc, encode((op, args)))
        if not ok:
            raise HistoryWriterError(f"history writer: {op} failed: {value}")
        return value

    async def close(self) -> None:
        if self._starting is not None and not self._starting.cancelled():
            await self._starting  # it logs its own failure; a spawn is short
        async with self._lock:
            proc, self._proc = self._proc, None
            if proc is None:
                return
            assert proc.stdin is not None
            proc.stdin.close()  # end of requests: the process exits after its last reply
            try:
                await asyncio.wait_for(proc.wait(), STOP_TIMEOUT_S)
            except TimeoutError:
                log.error("history writer %d did not exit in %.0fs; killing it", proc.pid, STOP_TIMEOUT_S)
                await self._kill(proc)

    async def _spawn(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_package_root(), env.get("PYTHONPATH")) if p)
        args = (self.path, str(self.nice), logs.active_format())
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ampp.store.sqlite.history_worker", *args,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env,
        )  # fmt: skip
        ok, value = await self._exchange(proc, None)  # its first frame says it is ready
        if not ok:  # pragma: no cover - the worker only ever sends (True, pid) first
            raise HistoryWriterError(f"history writer did not start: {value}")
        self._proc = proc

    async def _exchange(self, proc: asyncio.subprocess.Process, request: bytes | None) -> tuple[bool, Any]:
        assert proc.stdin is not None and proc.stdout is not None
        try:
            if request is not None:
                proc.stdin.write(request)
                await proc.stdin.drain()
            (size,) = FRAME.unpack(await proc.stdout.readexactly(FRAME.size))
            reply: tuple[bool, Any] = pickle.loads(await proc.stdout.readexactly(size))
            return reply
        except (ConnectionError, asyncio.IncompleteReadError) as e:
            self._proc = None
            code = await self._kill(proc)
            raise HistoryWriterLost(f"history writer process ended (exit code {code}): {e}") from None
        except BaseException:
            # Cancelled, or a reply that does not parse: the stream is out of step; start over.
            self._proc = None
            await asyncio.shield(self._kill(proc))
            raise

    @staticmethod
    async def _kill(proc: asyncio.subprocess.Process) -> int | None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        return await proc.wait()
