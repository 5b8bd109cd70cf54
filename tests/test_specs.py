"""The hand-written specs: valid OpenAPI 3.0, every example valid, every documented endpoint present."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

SPECS = Path(__file__).resolve().parent.parent / "specs"
SPEC_FILES = sorted(SPECS.glob("*.yaml"))
METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def resolve(node: Any, root: dict) -> Any:
    """The node with every local $ref replaced by what it points to."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = root
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return resolve(target, root)
        return {k: resolve(v, root) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, root) for v in node]
    return node


def examples(spec: dict) -> Iterator[tuple[str, dict, Any]]:
    """(where, schema, example) for every example written in the spec."""
    def in_schema(where: str, schema: dict) -> Iterator[tuple[str, dict, Any]]:
        if "example" in schema:
            yield where, schema, schema["example"]
        for name, sub in schema.get("properties", {}).items():
            yield from in_schema(f"{where}.{name}", sub)
        if isinstance(schema.get("items"), dict):
            yield from in_schema(f"{where}[]", schema["items"])

    def in_content(where: str, content: dict) -> Iterator[tuple[str, dict, Any]]:
        for media, body in content.items():
            schema = body.get("schema", {})
            if "example" in body:
                yield f"{where} {media}", schema, body["example"]
            for name, ex in body.get("examples", {}).items():
                yield f"{where} {media} ({name})", schema, ex["value"]
            yield from in_schema(f"{where} {media} schema", schema)

    resolved = resolve(spec, spec)
    for path, item in resolved["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            where = f"{method.upper()} {path}"
            if "requestBody" in op:
                yield from in_content(f"{where} request", op["requestBody"]["content"])
            for status, response in op["responses"].items():
                yield from in_content(f"{where} {status}", response.get("content", {}))
            for parameter in op.get("parameters", []):
                if "example" in parameter:
                    yield f"{where} parameter {parameter['name']}", parameter["schema"], parameter["example"]


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.name)
def test_spec_is_valid_openapi_3_0(path):
    spec = load(path)
    assert spec["openapi"].startswith("3.0.")  # Connexion 3 refuses 3.1
    validate(spec)


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.name)
def test_every_example_validates_against_its_schema(path):
    spec = load(path)
    found = list(examples(spec))
    assert found, "every spec carries examples"
    for where, schema, example in found:
        errors = list(OAS30Validator(schema).iter_errors(example))
        assert not errors, f"{path.name}: {where}: {errors[0].message}"


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.name)
def test_every_operation_has_an_id_a_summary_and_documents_its_errors(path):
    spec = load(path)
    ids = []
    for route, item in spec["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            assert op.get("operationId"), f"{method} {route} has no operationId"
            assert op.get("summary"), f"{method} {route} has no summary"
            ids.append(op["operationId"])
            secured = op.get("security", spec.get("security")) not in (None, [])
            if secured:
                assert {"401", "403"} & set(op["responses"]), f"{method} {route} does not document refusals"
    assert len(ids) == len(set(ids)), "operationIds are unique"


def test_nrao_spec_covers_every_endpoint_of_the_document():
    spec = load(SPECS / "nrao-ods.yaml")
    documented = {("post", "/token/"), ("get", "/ods_data/"), ("post", "/sat_avoidance_logs"), ("post", "/tle_data")}
    present = {(m, p) for p, item in spec["paths"].items() for m in item if m in METHODS}
    assert documented <= present
    record = spec["components"]["schemas"]["OdsRecord"]
    v1_fields = {"corr_integ_time_sec", "dish_diameter_m", "freq_lower_hz", "freq_upper_hz", "site_el_m", "site_id",
                 "site_lat_deg", "site_lon_deg", "slew_sec", "src_dec_j2000_deg", "src_end_utc", "src_id",
                 "src_ra_j2000_deg", "src_start_utc", "subarray", "trk_rate_dec_deg_per_sec",
                 "trk_rate_ra_deg_per_sec", "version"}
    assert v1_fields <= set(record["properties"])
    assert set(record["required"]) == v1_fields - {"corr_integ_time_sec", "src_id", "subarray"}


def test_admin_spec_has_the_contract_paths_of_the_design():
    spec = load(SPECS / "skymock-admin.yaml")
    contract = {("post", "/reset"), ("get", "/clock"), ("post", "/clock"), ("get", "/credentials"),
                ("post", "/credentials"), ("post", "/tokens/expire"), ("get", "/journal"), ("delete", "/journal"),
                ("post", "/faults"), ("delete", "/faults")}
    present = {(m, p) for p, item in spec["paths"].items() for m in item if m in METHODS}
    assert contract <= present
