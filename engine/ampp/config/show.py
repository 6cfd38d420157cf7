"""``ampp config show``: the engine's settings as they will run, each with where it came from.

Secrets print as ``<secret>`` (their serializer), so the output can be pasted anywhere.
"""

from __future__ import annotations

from typing import Any

import yaml

from .layers import origin_of
from .loader import SECTIONS, Config
from .yamlsource import Path


def render_settings(cfg: Config) -> str:
    """YAML of every engine section, a comment after each value not from the defaults."""
    out: list[str] = [
        "# flags > config.yaml > environment (AMPP_<SECTION>_<KEY>) > defaults; secrets hidden",
    ]
    for name in SECTIONS:
        model = getattr(cfg, name)
        if model is None:  # no auth: section
            out.append(f"{name}: null")
            continue
        data = model.model_dump(mode="json", by_alias=True)
        out.extend(_lines(cfg, (name,), data, 0))
    return "\n".join(out) + "\n"


def _origin(cfg: Config, path: Path) -> str:
    found = origin_of(cfg.origins, path)
    if found is not None:
        return found
    if cfg.extended and path in cfg.lines:
        return f"{cfg.source}:{cfg.lines[path]}"
    return ""


def _scalar(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=1 << 16, allow_unicode=True).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def _lines(cfg: Config, path: Path, value: Any, depth: int) -> list[str]:
    indent = "  " * depth
    key = str(path[-1])
    if isinstance(value, dict) and value:
        lines = [f"{indent}{key}:"]
        for k, v in value.items():
            lines.extend(_lines(cfg, (*path, k), v, depth + 1))
        return lines
    origin = _origin(cfg, path)
    comment = f"  # {origin}" if origin else ""
    return [f"{indent}{key}: {_scalar(value)}{comment}"]
