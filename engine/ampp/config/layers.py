"""Where each engine setting comes from: flags win over config.yaml, which wins over the
environment, which wins over the defaults.

Every setting of the engine's own sections (``server``, ``storage``, ... everything but
``alerting``) can be given as an environment variable named after its dotted path, upper-cased,
dots as underscores, prefixed ``AMPP_``: ``storage.postgresql.password`` is
``AMPP_STORAGE_POSTGRESQL_PASSWORD``. Variables whose first word after ``AMPP_`` is not a section
(``AMPP_POD_NAME``) are not settings and are left alone; one naming no setting of a section is
refused. A flag maps onto one dotted path too (``--storage.url`` is ``storage.url``).

The environment and the file are merged as raw data and validated together, so a value is
checked the same wherever it comes from; the flags are laid over that validated whole and
checked again, so a bad value in the file is an error even where a flag replaces it. An error
names its origin: the file and line, the variable, or the flag.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Any, Union

import yaml
from pydantic import BaseModel

from .errors import ConfigIssue
from .yamlsource import Path

ENV_PREFIX = "AMPP_"

Layer = dict[str, Any]
"""Raw section data (``{"storage": {"url": ...}}``), as a YAML file would hold it."""
Origins = dict[Path, str]
"""Where a value not from the file came from: ``environment AMPP_X`` or ``flag --x``."""


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The config block an annotation holds (``X``, ``X | None``), if it is one."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_of(arg)
            if found is not None:
                return found
    if typing.get_origin(annotation) is typing.Annotated:
        return _model_of(typing.get_args(annotation)[0])
    return None


def _is_text(annotation: Any) -> bool:
    """Whether a field holds a string (a value to take as written, never parsed as YAML)."""
    if annotation is str:
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _is_text(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return bool(args) and all(_is_text(a) for a in args)
    if origin is typing.Literal:
        return all(isinstance(a, str) for a in typing.get_args(annotation))
    return isinstance(annotation, type) and issubclass(annotation, str)


def env_path(model: type[BaseModel], words: str) -> tuple[tuple[str, ...], bool] | None:
    """The dotted path an environment variable's lower-cased tail names within ``model``, and
    whether its value is text; None if it names no setting."""
    keys = {f.alias or n: f.annotation for n, f in model.model_fields.items()}  # as config.yaml spells them
    for name in sorted(keys, key=len, reverse=True):
        annotation = keys[name]
        if words == name:
            return (name,), _is_text(annotation)
        block = _model_of(annotation)
        if block is not None and words.startswith(name + "_"):
            found = env_path(block, words[len(name) + 1 :])
            if found is not None:
                return (name, *found[0]), found[1]
    return None


def env_name(path: Path) -> str:
    return ENV_PREFIX + "_".join(str(p) for p in path).upper()


def environment_layer(
    environ: Mapping[str, str], sections: Mapping[str, type[BaseModel]]
) -> tuple[Layer, Origins, list[ConfigIssue]]:
    """The settings the environment gives, with their origins, and the variables refused."""
    layer: Layer = {}
    origins: Origins = {}
    issues: list[ConfigIssue] = []
    for var in sorted(environ):
        if not var.startswith(ENV_PREFIX):
            continue
        tail = var[len(ENV_PREFIX) :].lower()
        section = next((s for s in sections if tail.startswith(s + "_")), None)
        if section is None:
            continue
        origin = f"environment {var}"
        found = env_path(sections[section], tail[len(section) + 1 :])
        if found is None:
            example = env_name((section, *next(iter(sections[section].model_fields)).split(".")))
            issues.append(
                ConfigIssue(
                    origin,
                    (),
                    f"names no setting of {section}: (a setting's variable is AMPP_ and its path in "
                    f"capitals, dots as underscores: {example})",
                )
            )
            continue
        path, text = found
        raw = environ[var]
        value: Any = raw
        if not text:
            try:
                value = yaml.safe_load(raw) if raw.strip() else None
            except yaml.YAMLError as e:
                issues.append(ConfigIssue(origin, (section, *path), f"not a YAML value: {e}"))
                continue
        set_path(layer, (section, *path), value)
        origins[(section, *path)] = origin
    return layer, origins, issues


def set_path(layer: Layer, path: tuple[str, ...], value: Any) -> None:
    node = layer
    for key in path[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[path[-1]] = value


def merge(under: Any, over: Any) -> Any:
    """``over`` on top of ``under``: mappings merge key by key, anything else replaces."""
    if isinstance(under, dict) and isinstance(over, dict):
        out = dict(under)
        for k, v in over.items():
            out[k] = merge(out[k], v) if k in out else v
        return out
    return over


def origin_of(origins: Origins, path: Path) -> str | None:
    """The origin of the value at ``path`` or of the block holding it."""
    p = tuple(path)
    while p:
        if p in origins:
            return origins[p]
        p = p[:-1]
    return None
