"""The CRDs in crds/: generated from the code (and up to date), structural, and carrying the
validation rules, columns, names and status the operator and users rely on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from ampp_operator import crds, names

pytestmark = pytest.mark.unit

CRD_DIR = Path(__file__).resolve().parents[2] / "crds"


def load(name: str) -> dict[str, Any]:
    return dict(yaml.safe_load((CRD_DIR / name).read_text()))


def test_files_are_generated_and_up_to_date() -> None:
    assert sorted(p.name for p in CRD_DIR.glob("*.yaml")) == sorted(crds.all_crds())
    assert crds.main(["--check", str(CRD_DIR)]) == 0, "run: python -m ampp_operator.crds crds/"


def _walk(schema: dict[str, Any], path: str, out: list[str]) -> None:
    """Structural-schema rule: every node has a type, unless it preserves unknown fields."""
    if "type" not in schema and not schema.get("x-kubernetes-preserve-unknown-fields"):
        out.append(path)
    for key, sub in (schema.get("properties") or {}).items():
        _walk(sub, f"{path}.{key}", out)
    if isinstance(schema.get("items"), dict):
        _walk(schema["items"], f"{path}[]", out)
    if isinstance(schema.get("additionalProperties"), dict):
        _walk(schema["additionalProperties"], f"{path}{{}}", out)


@pytest.mark.parametrize("name", sorted(crds.all_crds()))
def test_structural_and_well_formed(name: str) -> None:
    crd = load(name)
    spec = crd["spec"]
    kind = names.BY_PLURAL[spec["names"]["plural"]]
    assert crd["metadata"]["name"] == kind.crd_name
    assert spec["group"] == "alerting.ampp.io" and spec["scope"] == "Namespaced"
    assert spec["names"]["categories"] == ["ampp"] and spec["names"]["shortNames"] == list(kind.short_names)
    (version,) = spec["versions"]
    assert version["name"] == "v1alpha1" and version["subresources"] == {"status": {}}
    assert version["additionalPrinterColumns"][-1] == {
        "name": "Age",
        "type": "date",
        "jsonPath": ".metadata.creationTimestamp",
    }
    schema = version["schema"]["openAPIV3Schema"]
    untyped: list[str] = []
    _walk(schema, "", untyped)
    assert untyped == []
    status = schema["properties"]["status"]["properties"]
    assert status["conditions"]["x-kubernetes-list-map-keys"] == ["type"]
    assert "observedGeneration" in status["conditions"]["items"]["properties"]


def test_silence_rules_and_columns() -> None:
    version = load("silence.yaml")["spec"]["versions"][0]
    rules = {
        r["message"]
        for r in version["schema"]["openAPIV3Schema"]["properties"]["spec"]["x-kubernetes-validations"]
    }
    assert rules == {
        "set exactly one of endsAt or duration",
        "endsAt must be after startsAt",
        "duration must be longer than zero",
        "at least one matcher must not match the empty string",
    }
    columns = [c["name"] for c in version["additionalPrinterColumns"] if not c.get("priority")]
    assert columns == ["Matchers", "State", "Starts", "Ends", "Accepted", "Reason", "Age"]


def test_receiver_has_no_inline_secrets_or_files() -> None:
    text = (CRD_DIR / "receiver.yaml").read_text()
    assert "File:" not in text and "files:" not in text
    webhook = load("receiver.yaml")["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    url = webhook["properties"]["webhookConfigs"]["items"]["properties"]["url"]
    assert url["type"] == "object" and url["required"] == ["name", "key"]


def test_alert_route_nests_routes() -> None:
    schema = load("alertroute.yaml")["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    depth = 0
    while "routes" in schema["properties"]:
        schema = schema["properties"]["routes"]["items"]
        depth += 1
    assert depth == crds.ROUTE_DEPTH


def undescribed(schema: dict[str, Any], path: str = "") -> list[str]:
    """Every field (a property, at any depth) without a description: what `kubectl explain`
    would show as <no description>."""
    out: list[str] = []
    for key, sub in (schema.get("properties") or {}).items():
        if not sub.get("description"):
            out.append(f"{path}.{key}")
        out += undescribed(sub, f"{path}.{key}")
    for part, suffix in (("items", "[]"), ("additionalProperties", "{}")):
        if isinstance(schema.get(part), dict):
            out += undescribed(schema[part], path + suffix)
    return out


@pytest.mark.parametrize("name", sorted(crds.all_crds()))
def test_every_field_is_described(name: str) -> None:
    version = crds.all_crds()[name]["spec"]["versions"][0]
    # metadata: the API server's ObjectMeta, described by it (a CRD may only say it is an object).
    assert undescribed(version["schema"]["openAPIV3Schema"]) == [".metadata"]


def test_field_docs_come_from_attribute_docstrings() -> None:
    """What the Receiver CRD says of a field is the docstring below it in the engine's model
    (the nearest class of the engine's that documents it), else its pydantic description."""
    from ampp_operator.integrations import field_doc
    from pydantic import BaseModel, Field

    class Base(BaseModel):
        a: int = 0
        """Inherited, with ``code`` in it.

        A second paragraph is left out."""

    class Child(Base):
        b: str = Field("", description="From the field's description.")
        c: bool = False

    assert field_doc(Child, "a") == "Inherited, with `code` in it."
    assert field_doc(Child, "b") == "From the field's description."
    assert field_doc(Child, "c") == ""
