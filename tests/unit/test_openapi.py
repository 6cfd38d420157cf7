"""The OpenAPI document engine/ampp/api/openapi.yaml: valid OpenAPI 3.0, and true to the router.

Every route `create_app` registers must be documented with the same method, and every documented
operation must be served; the v2 operations must keep Alertmanager's parameters and error shape.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import OpenAPIV30SpecValidator, validate

from tests.support.apps import build_app

pytestmark = pytest.mark.unit

DOC_PATH = Path(__file__).resolve().parents[2] / "engine" / "ampp" / "api" / "openapi.yaml"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
PARAM = re.compile(r"\{[^}]*\}")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    with DOC_PATH.open(encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    assert isinstance(doc, dict)
    return doc


def _operations(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(METHOD, full path relative to the route prefix, parameters as {}) -> operation."""
    top = doc["servers"][0]["url"]
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for path, item in doc["paths"].items():
        servers = item.get("servers") or doc["servers"]
        assert len(servers) == 1, f"{path}: one server per path keeps the mapping unambiguous"
        base = servers[0]["url"] if "servers" in item else top
        full = PARAM.sub("{}", base.rstrip("/") + path) or "/"
        if full != "/":
            full = full.rstrip("/")
        for method in METHODS:
            if method in item:
                key = (method.upper(), full)
                assert key not in out, f"{key} documented twice"
                out[key] = item[method]
    return out


def _registered(app: Any, route_prefix: str) -> set[tuple[str, str]]:
    """(METHOD, path relative to the route prefix) for every route of the app, HEAD aside."""
    prefix = "/" + route_prefix.strip("/")
    prefix = "" if prefix == "/" else prefix
    routes: set[tuple[str, str]] = set()
    heads: set[str] = set()
    for route in app.router.routes():
        path = PARAM.sub("{}", route.resource.canonical)
        if prefix:
            if path in ("/", prefix):
                continue  # the redirects from the bare root and the bare prefix into the prefix
            inside = path == prefix + "/" or path.startswith(prefix + "/")
            assert inside, f"{path} is outside {prefix}"
            path = path[len(prefix) :]
        if route.method == "HEAD":
            heads.add(path)  # aiohttp's add_get adds HEAD; the document says every GET answers HEAD
            continue
        routes.add((route.method, path))
    assert heads <= {p for m, p in routes if m == "GET"}, "a HEAD route without its GET"
    return routes


def test_document_parses(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.0.3"
    assert document["servers"][0]["url"] == "/api/v2"
    assert document["paths"]
    assert document["components"]["schemas"]


def test_document_is_valid_openapi_30(document: dict[str, Any]) -> None:
    validate(document, cls=OpenAPIV30SpecValidator)


def test_operation_ids_are_unique(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for op in _operations(document).values()]
    assert len(ids) == len(set(ids))


def test_app_serves_this_document() -> None:
    from ampp.api import app as api_app

    assert api_app.OPENAPI.resolve() == DOC_PATH


@pytest.mark.parametrize("route_prefix", ["/", "/am"])
def test_document_matches_router(document: dict[str, Any], tmp_path: Path, route_prefix: str) -> None:
    registered = _registered(build_app(tmp_path, route_prefix), route_prefix)
    documented = set(_operations(document))
    assert sorted(registered - documented) == [], "served but not documented"
    assert sorted(documented - registered) == [], "documented but not served"


def _param_names(doc: dict[str, Any], op: dict[str, Any], item: dict[str, Any]) -> set[str]:
    names = set()
    for p in [*item.get("parameters", []), *op.get("parameters", [])]:
        if "$ref" in p:
            p = doc["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]
        names.add(p["name"])
    return names


def test_v2_contract(document: dict[str, Any]) -> None:
    paths = document["paths"]
    expected = {
        ("/status", "get"): ("getStatus", set()),
        ("/receivers", "get"): ("getReceivers", set()),
        ("/silences", "get"): ("getSilences", {"filter"}),
        ("/silences", "post"): ("postSilences", set()),
        ("/silence/{silenceID}", "get"): ("getSilence", {"silenceID"}),
        ("/silence/{silenceID}", "delete"): ("deleteSilence", {"silenceID"}),
        ("/alerts", "get"): (
            "getAlerts",
            {"active", "silenced", "inhibited", "unprocessed", "filter", "receiver"},
        ),
        ("/alerts", "post"): ("postAlerts", set()),
        ("/alerts/groups", "get"): (
            "getAlertGroups",
            {"active", "silenced", "inhibited", "filter", "receiver"},
        ),
    }
    for (path, method), (op_id, params) in expected.items():
        op = paths[path][method]
        assert op["operationId"] == op_id
        assert _param_names(document, op, paths[path]) == params, (path, method)
    schemas = document["components"]["schemas"]

    def json_schema(part: dict[str, Any]) -> Any:
        return part["content"]["application/json"]["schema"]

    body = json_schema(paths["/silences"]["post"]["requestBody"])
    assert body == {"$ref": "#/components/schemas/postableSilence"}
    body = json_schema(paths["/alerts"]["post"]["requestBody"])
    assert body == {"$ref": "#/components/schemas/postableAlerts"}
    created = json_schema(paths["/silences"]["post"]["responses"]["200"])
    assert created["properties"] == {"silenceID": {"type": "string"}}
    alert_states = schemas["alertStatus"]["properties"]["state"]["enum"]
    assert alert_states == ["unprocessed", "active", "suppressed"]
    silence_states = schemas["silenceStatus"]["properties"]["state"]["enum"]
    assert silence_states == ["expired", "active", "pending"]


def test_v2_errors_are_json_strings(document: dict[str, Any]) -> None:
    components = document["components"]["responses"]
    for path, item in document["paths"].items():
        if "servers" in item:
            continue  # outside /api/v2
        for method in METHODS:
            for code, resp in item.get(method, {}).get("responses", {}).items():
                if not code.startswith(("4", "5")):
                    continue
                if "$ref" in resp:
                    resp = components[resp["$ref"].rsplit("/", 1)[1]]
                if "content" not in resp:
                    continue  # e.g. GET /silence/{id} 404 has no body, as upstream
                schema = resp["content"]["application/json"]["schema"]
                if code == "422":  # go-swagger's validation answer, as upstream's: {code, message}
                    assert schema["required"] == ["code", "message"], (path, method)
                    continue
                assert schema == {"type": "string"}, (path, method, code)
