"""Reading request bodies within a bound, so that no body can hold memory or the event loop.

A body announced larger than the bound is refused before a byte of it is read; one that grows
past it while read (chunked, or compressed) is refused as soon as it does, its buffer freed
first. A ``gzip`` or ``deflate`` body is inflated here, a slice at a time with the event loop
served between slices, and never beyond the bound (aiohttp's own decompression is off: it
inflates what arrives regardless of what is read, so a 1 MB bomb became 1 GiB in its buffer).
Other encodings are refused, as Alertmanager reads none. After a refusal the connection is
closed rather than drained (see :func:`runner`).
"""

from __future__ import annotations

import asyncio
import zlib
from typing import Any

import orjson
from aiohttp import web

MAX_BODY = 64 * 1024 * 1024
"""The largest request body read, after decompression: about 100,000 alerts. Alertmanager sets
none; Prometheus sends batches of 64 alerts (a few tens of KiB)."""

INFLATE_SLICE = 1 << 18
"""Bytes inflated between two turns of the event loop (a fraction of a millisecond)."""

READ_TIMEOUT = web.AppKey("read_timeout", float)
"""server.read_timeout: the most a request body may take to arrive (0: no limit)."""

_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


def _refusal(cls: type[web.HTTPClientError], message: str, *args: int) -> web.HTTPClientError:
    e = cls(*args, text=orjson.dumps(message).decode(), content_type="application/json")
    e.force_close()  # the rest of the body is not read: the connection cannot carry another request
    return e


def _too_large(limit: int, what: str) -> web.HTTPClientError:
    return _refusal(
        web.HTTPRequestEntityTooLarge,
        f"the request body is {what} {limit >> 20} MiB, the most this server reads",
        limit,
    )


def _inflater(request: web.Request) -> Any:
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding not in _WBITS:
        raise _refusal(
            web.HTTPUnsupportedMediaType,
            f"Content-Encoding: {encoding!r} is not supported (gzip, deflate or none)",
        )
    return zlib.decompressobj(_WBITS[encoding])  # deflate: the zlib format (RFC 9110)


async def read_body(request: web.Request, limit: int = MAX_BODY) -> bytearray:
    """The whole body (decompressed), or a 413 raised as soon as it is known to exceed ``limit``."""
    announced = request.content_length
    if announced is not None and announced > limit:
        raise _too_large(limit, "announced larger than")
    inflater = _inflater(request)
    body = bytearray()
    limit_s = request.app.get(READ_TIMEOUT)
    if not limit_s:
        await _read(request, inflater, body, limit)
        return body
    try:
        async with asyncio.timeout(limit_s):
            await _read(request, inflater, body, limit)
    except TimeoutError:
        body.clear()
        message = f"the request body did not arrive within server.read_timeout ({limit_s:g}s)"
        raise _refusal(web.HTTPRequestTimeout, message) from None
    return body


async def _read(request: web.Request, inflater: Any, body: bytearray, limit: int) -> None:
    try:
        async for chunk in request.content.iter_any():
            if inflater is None:
                if len(body) + len(chunk) > limit:
                    raise _too_large(limit, "larger than")
                body += chunk
                continue
            while chunk:
                body += inflater.decompress(chunk, min(INFLATE_SLICE, limit + 1 - len(body)))
                if len(body) > limit:
                    raise _too_large(limit, "larger than")
                chunk = inflater.unconsumed_tail
                if chunk:
                    await asyncio.sleep(0)
        if inflater is not None and not inflater.eof:
            raise _refusal(web.HTTPBadRequest, "the compressed request body is truncated")
    except zlib.error as e:
        body.clear()
        raise _refusal(web.HTTPBadRequest, f"the request body does not decompress: {e}") from None
    except web.HTTPException:
        body.clear()  # the traceback keeps this frame while the answer is sent: not its buffer
        raise


def runner(app: web.Application, **options: Any) -> web.AppRunner:
    """The app's runner as the engine serves it: no access log, no signal handling of its own,
    bodies decompressed by :func:`read_body` only, and a connection whose request body was left
    unread closed at once instead of drained for up to 10 s (aiohttp's lingering close), which
    would read a refused body after all."""
    return web.AppRunner(
        app, access_log=None, handle_signals=False, lingering_time=0, auto_decompress=False, **options
    )
