"""YAML parsing that remembers the line of every node, so errors can point into the file."""

from __future__ import annotations

import os
import re
from typing import Any

import yaml

from .errors import ConfigError, ConfigIssue

Path = tuple[str | int, ...]

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_env(text: str) -> str:
    """``${VAR}`` and ``${VAR:-default}``; an unset variable without default stays empty."""
    return _ENV.sub(lambda m: os.environ.get(m.group(1), m.group(2) or ""), text)


class _Loader(yaml.SafeLoader):
    """YAML 1.1 as Go's yaml.v2 reads it: no base-60 numbers, so ``17:00`` stays a string."""


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def load_yaml(text: str, source: str, *, env: bool = False) -> tuple[Any, dict[Path, int]]:
    """Parse YAML into plain data plus a map from each node's path to its 1-based line."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(e, "problem", None) or str(e)
        raise ConfigError([ConfigIssue(source, (), f"invalid YAML: {problem}", line)]) from None
    lines: dict[Path, int] = {}
    if root is None:
        return None, lines
    data = _construct(root, (), lines, source, env)
    return data, lines


def _construct(node: yaml.Node, path: Path, lines: dict[Path, int], source: str, env: bool) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = (
                _Loader(" ").construct_object(key_node)
                if not isinstance(key_node, yaml.ScalarNode)
                else _scalar(key_node)
            )
            if key in out:
                raise ConfigError(
                    [
                        ConfigIssue(
                            source, path, f"mapping key {key!r} already defined", key_node.start_mark.line + 1
                        )
                    ]
                )
            child = (*path, key if isinstance(key, (str, int)) else str(key))
            out[key] = _construct(value_node, child, lines, source, env)
            lines[child] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(v, (*path, i), lines, source, env) for i, v in enumerate(node.value)]
    value = _scalar(node)
    if env and isinstance(value, str):
        value = expand_env(value)
    return value


def _scalar(node: yaml.Node) -> Any:
    loader = _Loader("")
    return loader.construct_object(node, deep=True)


def line_for(lines: dict[Path, int], path: Path) -> int | None:
    """The line of the deepest known node on ``path``."""
    p = tuple(path)
    while p:
        if p in lines:
            return lines[p]
        p = p[:-1]
    return lines.get(())
