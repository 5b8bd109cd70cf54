"""`skymock coverage` and docs/coverage.md: the file is current, every test it cites exists, every spec operation
is accounted for, "in spec" and "in mock" are decided right, and `--check` tells a stale file from a current one."""
from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mockserver import cli, coverage
from mockserver.coverage import (
    MOCK_ONLY,
    REAL,
    CoverageError,
    Listed,
    find,
    normalise,
    spec_operations,
)
from mockserver.services import get_service, service_ids

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "coverage.md"
REGENERATE = "skymock coverage --output docs/coverage.md"


@pytest.fixture(scope="module")
def report() -> dict[str, coverage.ServiceCoverage]:
    return {service_id: coverage.coverage(service_id) for service_id in service_ids()}


def test_docs_coverage_md_is_the_current_report(report):
    current = coverage.render(list(report.values()))
    assert DOC.is_file(), f"docs/coverage.md is missing: run `{REGENERATE}`"
    assert DOC.read_text(encoding="utf-8") == current, (
        f"docs/coverage.md is stale (a coverage.yaml, a spec or a handler changed): run `{REGENERATE}`")


# --- the tests the coverage files cite ------------------------------------------------------------------
def cited() -> dict[str, list[str]]:
    """Node id -> the services citing it."""
    found: dict[str, list[str]] = {}
    for service_id in service_ids():
        for behaviour in coverage.load_facts(service_id).behaviours:
            for node in behaviour.shown_by:
                found.setdefault(node, []).append(f"{service_id} {behaviour.kind}")
    return found


def defined(path: Path) -> set[str]:
    """``name`` of every test function and ``Class::name`` of every test method of a module."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names |= {f"{node.name}::{item.name}" for item in node.body
                      if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))}
    return names


def test_every_cited_test_is_defined_where_the_node_id_says():
    missing = []
    for node, citers in cited().items():
        file, _, name = node.partition("::")
        path = ROOT / file
        if not file.startswith("tests/") or not path.is_file():
            missing.append(f"{node} (no file {file}), cited by {citers}")
        elif name.split("[", 1)[0] not in defined(path):
            missing.append(f"{node} (no such test in {file}), cited by {citers}")
    assert not missing, "coverage.yaml cites tests that do not exist:\n" + "\n".join(missing)


def test_every_cited_parameter_set_is_one_pytest_collects():
    """Ids with a parameter part (``test_x[nrao-ods]``) are checked against one collection of their files."""
    parametrised = sorted(node for node in cited() if "[" in node)
    files = sorted({node.split("::", 1)[0] for node in parametrised})
    run = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *files],
                         check=False, cwd=ROOT, capture_output=True, text=True, timeout=300)
    collected = set(run.stdout.splitlines())
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    unknown = [node for node in parametrised if node not in collected]
    assert not unknown, "coverage.yaml cites parameter sets pytest does not collect:\n" + "\n".join(unknown)


# --- operations ---------------------------------------------------------------------------------------------
def test_every_spec_operation_is_in_the_document_or_listed_beyond_it(report):
    for service_id, found in report.items():
        assert not found.unlisted, (
            f"{service_id}: {[f'{op.method} {op.path}' for op in found.unlisted]} are in the spec but neither in "
            f"the document's operations nor under beyond_document of its coverage.yaml")
        for row in found.beyond:
            if row.listed.kind == MOCK_ONLY:
                assert row.spec is not None, f"{service_id}: mock-only {row.listed.path} is not in the spec"


def test_every_service_accounts_for_every_behaviour_and_its_differences(report):
    for service_id, found in report.items():
        assert [b.kind for b in found.facts.behaviours] == list(coverage.KINDS)
        assert found.facts.differences, f"{service_id}: say what is known to differ from the real service"
        assert found.documented, f"{service_id}: the document's operations are missing"


def test_in_spec_is_yes_for_a_documented_operation_and_no_for_a_missing_one():
    ods = spec_operations("nrao-ods")
    present = find(Listed("POST", "https://ods.nrao.edu/tle_data", "5.4"), ods, "/")
    assert present is not None and present.operation_id == "upload_tle_data"
    assert find(Listed("POST", "https://ods.nrao.edu/tle_data/", "slash"), ods, "/") is None
    assert find(Listed("GET", "https://ods.nrao.edu/tle_data", "method"), ods, "/") is None
    archive = spec_operations("lco-archive")
    assert find(Listed("POST", "https://archive-api.lco.global/frames/zip/", "research", REAL), archive, "/") is None


def test_paths_compare_without_base_path_and_with_parameters_by_position():
    dsn = spec_operations("dsn")
    found = find(Listed("DELETE", "/orbapi/bookings/:bookingId", "doc"), dsn, "/orbapi")
    assert found is not None and found.operation_id == "cancel_booking"
    assert normalise("https://observe.lco.global/api/contention//<instrument>/", "/api") == "/contention/{}/"
    assert normalise("https://observe.lco.global/api", "/api") == "/"
    with pytest.raises(CoverageError, match="not under the service's base path"):
        normalise("/orbit/bookings", "/orbapi")
    okapi, portal = spec_operations("okapi"), spec_operations("lco-observe")
    assert find(Listed("POST", "/predict-passes/sgp4/requests", "enum"), okapi, "/") is not None
    assert find(Listed("POST", "/predict-passes/warp-drive/requests", "enum"), okapi, "/") is None
    # a literal is no value of an integer parameter: the scheduler's endpoint is not GET /userrequests/{id}/
    assert find(Listed("GET", "/api/userrequests/schedulable_requests/", "int"), portal, "/api") is None
    assert find(Listed("GET", "/api/userrequests/12/", "int"), portal, "/api").operation_id == "get_userrequest"


def test_in_mock_needs_a_handler_and_an_answer(monkeypatch):
    operations = spec_operations("nrao-ods")
    assert ("POST", "/tle_data") in coverage.served("nrao-ods", operations)
    handlers = importlib.import_module(get_service("nrao-ods").handlers)
    monkeypatch.delattr(handlers, "upload_tle_data")
    assert ("POST", "/tle_data") not in coverage.served("nrao-ods", operations)
    tle = next(op for op in operations if op.path == "/tle_data")
    assert not coverage._answers(501, tle) and not coverage._answers(405, tle) and not coverage._answers(500, tle)
    assert not coverage._answers(404, tle) and coverage._answers(403, tle)
    booking = next(op for op in spec_operations("dsn") if op.operation_id == "cancel_booking")
    assert coverage._answers(404, booking)            # on a path with parameters: the service's "no such object"


def test_a_malformed_coverage_file_is_refused_naming_the_place(monkeypatch, tmp_path):
    good = yaml.safe_load(coverage.facts_path("dsn").read_text(encoding="utf-8"))
    broken = tmp_path / "coverage.yaml"
    monkeypatch.setattr(coverage, "facts_path", lambda service_id: broken)
    for change, words in [
        (lambda data: data["behaviours"]["scopes"].update(shown_by=[]), "behaviours.scopes: a simulated behaviour"),
        (lambda data: data["behaviours"].pop("ownership"), "`behaviours` must account for exactly"),
        (lambda data: data["operations"][0].update(path="/orbit/passes/search"), "not under the service's base path"),
        (lambda data: data.update(beyond_document=[{"method": "GET", "path": "/orbapi/x", "kind": "document",
                                                    "source": "?"}]), "beyond_document[0]: `kind` must be"),
    ]:
        data = yaml.safe_load(yaml.safe_dump(good))
        change(data)
        broken.write_text(yaml.safe_dump(data), encoding="utf-8")
        with pytest.raises(CoverageError, match=re.escape(words)):
            coverage.load_facts("dsn")


# --- the command ----------------------------------------------------------------------------------------------
def test_check_fails_on_a_stale_copy_with_the_advice_and_passes_on_a_current_one(report, monkeypatch, tmp_path,
                                                                                  capsys):
    current = coverage.render(list(report.values()))
    monkeypatch.setattr(coverage, "build", lambda services=None: current)     # the report, already built once
    copy = tmp_path / "coverage.md"
    copy.write_text(current.replace("| simulated |", "| not simulated |", 1), encoding="utf-8")
    assert cli.main(["coverage", "--check", str(copy)]) == 1
    err = capsys.readouterr().err
    assert "out of date" in err and f"skymock coverage --output {copy}" in err
    assert cli.main(["coverage", "--check", str(tmp_path / "absent.md")]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert cli.main(["coverage", "--output", str(copy)]) == 0
    assert copy.read_text(encoding="utf-8") == current
    assert cli.main(["coverage", "--check", str(copy)]) == 0
    capsys.readouterr()
    assert cli.main(["coverage"]) == 0
    assert capsys.readouterr().out == current


def test_check_of_the_repository_file_gives_the_documented_advice(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(coverage, "build", lambda services=None: "# another report\n")
    assert cli.main(["coverage", "--check", "docs/coverage.md"]) == 1
    assert f"`{REGENERATE}`" in capsys.readouterr().err
