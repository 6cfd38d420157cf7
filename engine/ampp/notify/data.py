"""The data every notification is built from (Alertmanager's template.Data), and Go-style JSON.

Receivers compare payloads byte for byte against Alertmanager's, so the JSON encoder mirrors
Go's encoding/json: keys of label maps sorted, HTML characters escaped, a trailing newline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..model.alert import Alert
from ..model.timefmt import format_rfc3339nano

_GO_META = re.compile(r"([\\.+*?()|\[\]{}^$])")


def quote_meta(s: str) -> str:
    """Go's regexp.QuoteMeta, which Alertmanager applies to the receiver name."""
    return _GO_META.sub(r"\\\1", s)


def _common(maps: Sequence[Mapping[str, str]]) -> dict[str, str]:
    if not maps:
        return {}
    common = dict(maps[0])
    for m in maps[1:]:
        if not common:
            break
        for k in [k for k, v in common.items() if m.get(k) != v]:
            del common[k]
    return dict(sorted(common.items()))


def template_data(
    receiver: str, group_labels: Mapping[str, str], alerts: Sequence[Alert], external_url: str, now: int
) -> dict[str, Any]:
    items = []
    firing = False
    for a in alerts:
        status = a.status(now)
        firing = firing or status == "firing"
        items.append(
            {
                "status": status,
                "labels": dict(sorted(a.labels.items())),
                "annotations": dict(sorted(a.annotations.items())),
                "startsAt": format_rfc3339nano(a.starts_at),
                "endsAt": format_rfc3339nano(a.ends_at),
                "generatorURL": a.generator_url,
                "fingerprint": f"{a.fingerprint:016x}",
            }
        )
    return {
        "receiver": quote_meta(receiver),
        "status": "firing" if firing else "resolved",
        "alerts": items,
        "groupLabels": dict(sorted(group_labels.items())),
        "commonLabels": _common([a.labels for a in alerts]),
        "commonAnnotations": _common([a.annotations for a in alerts]),
        "externalURL": external_url,
    }


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
