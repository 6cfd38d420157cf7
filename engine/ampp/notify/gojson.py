"""Go's encoding/json output, byte for byte.

Receivers compare payloads byte for byte against Alertmanager's, so the encoder mirrors Go's
encoding/json Encoder: compact, HTML characters escaped, a trailing newline. Map keys come out
in the order the caller built them (Go sorts them: build sorted maps).
"""

from __future__ import annotations

import json
from typing import Any


def go_json(value: Any) -> bytes:
    """encoding/json's Encoder output: compact, HTML-safe escapes, newline-terminated."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
    return (text + "\n").encode()
