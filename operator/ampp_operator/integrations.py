"""The engine's receiver models, seen from a Receiver custom resource.

The Receiver CRD is not written by hand: its schema is derived from the pydantic models in
``ampp.config.receivers`` and ``ampp.config.notifiers`` (every integration, every field), and
so is the translation of a Receiver's spec back into an ``alertmanager.yml`` receiver. An
integration or field added to the engine therefore appears in the CRD when
``python -m ampp_operator.crds`` is re-run, and a unit test fails until it is.

Three rules turn the file format into a Kubernetes API:

* field names are camelCase (``send_resolved`` -> ``sendResolved``); map keys that are data
  (header names, label names, PagerDuty details) are kept verbatim;
* every value the engine treats as a secret (printed as ``<secret>``: passwords, tokens, keys,
  and URLs that carry credentials such as the webhook ``url``) is a ``SecretKeySelector``
  ``{name, key}`` naming a Secret in the Receiver's namespace, never an inline string;
* ``*_file`` fields are left out: they name files on the operator's own filesystem, and a
  Receiver must not be able to make the operator send, say, its service-account token.
"""

from __future__ import annotations

import functools
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Union

from ampp.config.base import Secret
from ampp.config.docstrings import field_docstrings
from ampp.config.receivers import Receiver
from pydantic import BaseModel

__all__ = [
    "SECRET_KEY_SELECTOR_SCHEMA",
    "MissingSecretError",
    "ModelShape",
    "Shape",
    "SpecError",
    "Unreadable",
    "UnreadableSecretError",
    "camel",
    "receiver_schema",
    "receiver_shape",
    "secret_names",
    "to_config",
]

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Unreadable:
    """A Secret the operator could not read (forbidden to it, or the API server failed)."""

    reason: str


Secrets = Mapping[str, Mapping[str, str] | Unreadable | None]
"""Secret name -> its decoded data (None: the Secret does not exist)."""

ShapeKind = Literal["string", "integer", "boolean", "duration", "secret", "model", "list", "map", "any"]


class SpecError(ValueError):
    """A spec that does not fit the schema (only reachable without the API server's pruning)."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


class MissingSecretError(LookupError):
    """A SecretKeySelector that names a Secret or key that does not exist (yet)."""

    def __init__(self, path: Path, name: str, key: str, secret_exists: bool) -> None:
        what = f"key {key!r} of Secret {name!r}" if secret_exists else f"Secret {name!r}"
        super().__init__(f"{what} not found")
        self.path = path
        self.name = name
        self.key = key


class UnreadableSecretError(LookupError):
    """A SecretKeySelector naming a Secret the operator cannot read."""

    def __init__(self, path: Path, name: str, reason: str) -> None:
        super().__init__(f"cannot read Secret {name!r}: {reason}")
        self.path = path
        self.name = name


@dataclass(frozen=True)
class Shape:
    """What one value is: a scalar, a secret reference, a nested model, a list or a map."""

    kind: ShapeKind
    model: ModelShape | None = None
    item: Shape | None = None
    minimum: int | None = None


@dataclass(frozen=True)
class FieldShape:
    yaml: str
    camel: str
    shape: Shape
    doc: str = ""
    """The field's docstring in the engine's model: its description in the CRD."""


@dataclass(frozen=True)
class ModelShape:
    """A pydantic model reduced to what the CRD and the translation need."""

    name: str
    doc: str
    fields: tuple[FieldShape, ...]
    by_camel: dict[str, FieldShape] = field(compare=False, hash=False, repr=False)


def camel(name: str) -> str:
    """``send_resolved`` -> ``sendResolved``; names without underscores are unchanged."""
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _skipped(yaml_name: str) -> bool:
    return yaml_name.endswith("_file") or yaml_name == "files"


def _shape(tp: Any, metadata: tuple[Any, ...] = ()) -> Shape:
    origin = typing.get_origin(tp)
    if origin is Annotated:
        inner, *meta = typing.get_args(tp)
        return _shape(inner, (*metadata, *meta))
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) != 1:
            return Shape("any")
        return _shape(args[0], metadata)
    if origin is list:
        return Shape("list", item=_shape(typing.get_args(tp)[0]))
    if origin is dict:
        return Shape("map", item=_shape(typing.get_args(tp)[1]))
    if tp is Any:
        return Shape("any")
    if isinstance(tp, type):
        if issubclass(tp, Secret):
            return Shape("secret")
        if issubclass(tp, BaseModel):
            return Shape("model", model=_model(tp))
        if issubclass(tp, bool):
            return Shape("boolean")
        if issubclass(tp, int):
            minimum = next((m.ge for m in metadata if hasattr(m, "ge")), None)
            return Shape("integer", minimum=minimum)
        if issubclass(tp, float):
            return Shape("duration")  # every float in the receiver models is a duration
        if issubclass(tp, str):
            return Shape("string")
    raise TypeError(f"no CRD shape for {tp!r}")


def _prose(text: str) -> str:
    """A docstring's first paragraph on one line, reST's ``code`` as Markdown's `code`."""
    return " ".join(text.strip().split("\n\n")[0].split()).replace("``", "`")


def field_doc(model: type[BaseModel], name: str) -> str:
    """The docstring of a model's field (``name`` as in Python), from the class that declares
    it or the nearest base class that documents it, else its pydantic description."""
    doc = field_docstrings(model).get(name)
    if doc:
        return _prose(doc)
    info = model.model_fields.get(name)
    return _prose(info.description or "") if info is not None else ""


@functools.cache
def _model(model: type[BaseModel]) -> ModelShape:
    fields: list[FieldShape] = []
    for name, info in model.model_fields.items():
        yaml_name = info.alias or name
        if _skipped(yaml_name) or (model is Receiver and yaml_name == "name"):
            continue
        shape = _shape(info.annotation, tuple(info.metadata))
        fields.append(FieldShape(yaml_name, camel(yaml_name), shape, field_doc(model, name)))
    return ModelShape(
        model.__name__, _prose(model.__doc__ or ""), tuple(fields), {f.camel: f for f in fields}
    )


def receiver_shape() -> ModelShape:
    """The Receiver spec: ``labels`` and one ``<kind>Configs`` list per integration."""
    return _model(Receiver)


# --------------------------------------------------------------------------------------------
# OpenAPI schema

SECRET_KEY_SELECTOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A key of a Secret in the same namespace as the Receiver.",
    "required": ["name", "key"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 253, "description": "The Secret's name."},
        "key": {"type": "string", "minLength": 1, "maxLength": 253, "description": "The key in its data."},
    },
}


def _schema(shape: Shape) -> dict[str, Any]:
    if shape.kind in ("string", "boolean"):
        return {"type": shape.kind}
    if shape.kind == "integer":
        out: dict[str, Any] = {"type": "integer"}
        if shape.minimum is not None:
            out["minimum"] = shape.minimum
        return out
    if shape.kind == "duration":
        return {"type": "string", "pattern": r"^(0|[-+]?([0-9]*(\.[0-9]*)?(ns|us|µs|μs|ms|s|m|h))+)$"}
    if shape.kind == "secret":
        return dict(SECRET_KEY_SELECTOR_SCHEMA)
    if shape.kind == "any":
        return {"x-kubernetes-preserve-unknown-fields": True}
    if shape.kind == "list":
        assert shape.item is not None
        return {"type": "array", "items": _schema(shape.item)}
    if shape.kind == "map":
        assert shape.item is not None
        if shape.item.kind == "any":
            return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
        return {"type": "object", "additionalProperties": _schema(shape.item)}
    assert shape.model is not None
    return _model_schema(shape.model)


def _model_schema(model: ModelShape) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object"}
    if model.doc:
        out["description"] = model.doc
    out["properties"] = {f.camel: _described(_schema(f.shape), f) for f in model.fields}
    return out


def _described(schema: dict[str, Any], f: FieldShape) -> dict[str, Any]:
    """The field's own description wins over its type's (a nested model's docstring moves to
    the items of a list, where it describes each item)."""
    if not f.doc:
        return schema
    if f.shape.kind == "secret":
        return {**schema, "description": f"{f.doc} From a Secret in the Receiver's namespace."}
    return {**schema, "description": f.doc}


def receiver_schema() -> dict[str, Any]:
    """The OpenAPI v3 schema of a Receiver's spec (structural: every field typed)."""
    return _model_schema(receiver_shape())


# --------------------------------------------------------------------------------------------
# Translation


def to_config(spec: Mapping[str, Any], secrets: Secrets) -> dict[str, Any]:
    """A Receiver's spec as the body of an alertmanager.yml receiver (without ``name``).

    Secret references are replaced by the values of the Secrets given; raises
    :class:`MissingSecretError` for one that is absent and :class:`SpecError` for a field the
    schema does not know.
    """
    out = _convert_model(receiver_shape(), spec, (), secrets)
    assert isinstance(out, dict)
    return out


def _convert_model(model: ModelShape, value: Any, path: Path, secrets: Secrets) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise SpecError(path, "expected an object")
    out: dict[str, Any] = {}
    for key, item in value.items():
        f = model.by_camel.get(key)
        if f is None:
            raise SpecError((*path, key), "unknown field")
        out[f.yaml] = _convert(f.shape, item, (*path, key), secrets)
    return out


def _convert(shape: Shape, value: Any, path: Path, secrets: Secrets) -> Any:
    if value is None:
        return None
    if shape.kind == "secret":
        if not isinstance(value, Mapping) or not value.get("name") or not value.get("key"):
            raise SpecError(path, "expected a secret reference {name, key}")
        name, key = str(value["name"]), str(value["key"])
        data = secrets.get(name)
        if isinstance(data, Unreadable):
            raise UnreadableSecretError(path, name, data.reason)
        if data is None or key not in data:
            raise MissingSecretError(path, name, key, data is not None)
        return data[key]
    if shape.kind == "model":
        assert shape.model is not None
        return _convert_model(shape.model, value, path, secrets)
    if shape.kind == "list":
        assert shape.item is not None
        if not isinstance(value, list):
            raise SpecError(path, "expected a list")
        return [_convert(shape.item, v, (*path, i), secrets) for i, v in enumerate(value)]
    if shape.kind == "map":
        assert shape.item is not None
        if not isinstance(value, Mapping):
            raise SpecError(path, "expected an object")
        return {k: _convert(shape.item, v, (*path, k), secrets) for k, v in value.items()}
    return value


def secret_names(spec: Mapping[str, Any]) -> set[str]:
    """The names of the Secrets a Receiver's spec refers to (to fetch before translating)."""
    found: set[str] = set()
    _collect(Shape("model", model=receiver_shape()), spec, found)
    return found


def _collect(shape: Shape, value: Any, found: set[str]) -> None:
    if shape.kind == "secret" and isinstance(value, Mapping) and value.get("name"):
        found.add(str(value["name"]))
    elif shape.kind == "model" and shape.model is not None and isinstance(value, Mapping):
        for key, item in value.items():
            f = shape.model.by_camel.get(key)
            if f is not None:
                _collect(f.shape, item, found)
    elif shape.kind in ("list", "map") and shape.item is not None:
        items = value.values() if isinstance(value, Mapping) else value if isinstance(value, list) else []
        for item in items:
            _collect(shape.item, item, found)


def spec_path(path: Path) -> str:
    """A path inside the engine's receiver model, spelled as in the Receiver's spec:
    ``("webhook_configs", 0, "http_config")`` -> ``webhookConfigs[0].httpConfig``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + (part if re.fullmatch(r"[a-z0-9_]+", part) is None else camel(part))
    return out
