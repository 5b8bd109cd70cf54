"""``skymock coverage``: per service, every operation of its source document against its spec and its mock,
the behaviours the mock simulates with the tests that show them, and what is known to differ from the real service.

The facts nobody can compute are curated per service in ``mockserver/services/<package>/coverage.yaml``, next to the
rules they describe (a new service brings its own; this module does not change). Computed are *in spec* (``find``:
method and path, without the base path, parameters compared by position, a literal of the document fitting a
parameter whose enum or type allows it) and *in mock* (``served``: the operationId is a handler, and the in-process
mock answers a probe with neither 405 nor a server error, nor 404 on a path without parameters). The report is
deterministic: the probes run on a frozen clock with the default seed, and nothing is timestamped.
"""
from __future__ import annotations

import importlib
import re
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import yaml

from .services import PACKAGES, get_service, service_ids

FACTS_FILE = "coverage.yaml"
DEFAULT_OUTPUT = "docs/coverage.md"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
#: the behaviour kinds every coverage file accounts for, and their names in the report
KINDS: dict[str, str] = {
    "token-expiry": "Token expiry",
    "async-202": "Asynchronous work (202, polling)",
    "403-refresh": "A dead token and its remedy",
    "scopes": "Scopes and roles",
    "rate-limits": "Rate limits (429, Retry-After)",
    "upload-caps": "Upload caps (413)",
    "ownership": "Ownership",
}
SIMULATED, ABSENT, NOT_SIMULATED = "simulated", "not in the real service", "not simulated"
DOCUMENT, REAL, MOCK_ONLY = "document", "real", "mock-only"
PARAMETER = re.compile(r"^(\{[^/{}]*\}|<[^/<>]*>|:[^/]+)$")
#: the probes' frozen clock: an instant no test starts a sandbox at (the LCO services share a world per settings)
PROBE_START = datetime(2030, 7, 1, 12, 0, 7, tzinfo=UTC)


class CoverageError(ValueError):
    """A coverage file that does not say what it must; the message names the file and the place."""


@dataclass(frozen=True)
class Listed:
    """An operation a coverage file names: from the document, or beyond it (real, or the mock's own)."""

    method: str
    path: str            # as written: a full URL or a path from the host's root
    where: str           # where the document describes it, or where it is known from
    kind: str = DOCUMENT
    note: str = ""
    path_from: str = ""  # where the path comes from, when the document names the operation without it


@dataclass(frozen=True)
class Behaviour:
    kind: str
    status: str
    text: str                       # what is simulated, or why not
    shown_by: tuple[str, ...]       # pytest node ids


@dataclass(frozen=True)
class Facts:
    service_id: str
    title: str                      # the source document: which of the real service's documentation
    operations: tuple[Listed, ...]
    beyond: tuple[Listed, ...]
    behaviours: tuple[Behaviour, ...]
    differences: tuple[str, ...]


@dataclass(frozen=True)
class SpecOperation:
    method: str
    path: str                                   # the spec's template, relative to the base path
    operation_id: str
    parameters: dict[str, dict[str, Any]]       # path parameter name -> its definition


@dataclass(frozen=True)
class Row:
    listed: Listed
    spec: SpecOperation | None
    in_mock: bool


@dataclass(frozen=True)
class ServiceCoverage:
    facts: Facts
    documented: tuple[Row, ...]
    beyond: tuple[Row, ...]
    unlisted: tuple[SpecOperation, ...]         # spec operations no coverage entry names


# --- the curated facts ---------------------------------------------------------------------------------
def facts_path(service_id: str) -> Any:
    """The service's coverage file (a Traversable: in the source tree or in the installed package)."""
    return resources.files(f"mockserver.services.{PACKAGES[service_id]}").joinpath(FACTS_FILE)


def _text(entry: dict[str, Any], name: str, where: str, required: bool = True) -> str:
    value = entry.get(name, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise CoverageError(f"{where}: `{name}` must be {'a non-empty' if required else 'a'} string")
    return value.strip()


def _listed(entry: Any, where: str, kind: str | None) -> Listed:
    if not isinstance(entry, dict):
        raise CoverageError(f"{where}: an operation must be a mapping with method and path")
    method = _text(entry, "method", where).upper()
    if method.lower() not in HTTP_METHODS:
        raise CoverageError(f"{where}: `method` {method!r} is not an HTTP method")
    found = kind or _text(entry, "kind", where)
    if found not in ((kind,) if kind else (REAL, MOCK_ONLY)):
        raise CoverageError(f"{where}: `kind` must be {REAL!r} or {MOCK_ONLY!r}, not {found!r}")
    return Listed(method, _text(entry, "path", where), _text(entry, "where" if kind else "source", where), found,
                  _text(entry, "note", where, False), _text(entry, "path_from", where, False))


def _behaviour(kind: str, entry: Any, where: str) -> Behaviour:
    if not isinstance(entry, dict) or entry.get("status") not in (SIMULATED, ABSENT, NOT_SIMULATED):
        raise CoverageError(f"{where}: `status` must be one of {SIMULATED!r}, {ABSENT!r}, {NOT_SIMULATED!r}")
    status = entry["status"]
    shown = entry.get("shown_by") or []
    if not isinstance(shown, list) or not all(isinstance(s, str) and "::" in s for s in shown):
        raise CoverageError(f"{where}: `shown_by` must list pytest node ids (tests/<file>.py::<test>)")
    if status == SIMULATED and not shown:
        raise CoverageError(f"{where}: a simulated behaviour needs the test that shows it in `shown_by`")
    return Behaviour(kind, status, _text(entry, "what" if status == SIMULATED else "why", where), tuple(shown))


def load_facts(service_id: str) -> Facts:
    source = facts_path(service_id)
    name = f"mockserver/services/{PACKAGES[service_id]}/{FACTS_FILE}"
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise CoverageError(f"{name}: cannot be read: {error}") from None
    if not isinstance(data, dict):
        raise CoverageError(f"{name}: must be a mapping")
    behaviours = data.get("behaviours") or {}
    if not isinstance(behaviours, dict) or set(behaviours) != set(KINDS):
        raise CoverageError(f"{name}: `behaviours` must account for exactly {', '.join(KINDS)}")
    differences = data.get("differences") or []
    if not differences or not all(isinstance(d, str) and d.strip() for d in differences):
        raise CoverageError(f"{name}: `differences` must list what is known to differ from the real service")
    documented, beyond = data.get("operations") or [], data.get("beyond_document") or []
    facts = Facts(
        service_id, _text(data, "title", name),
        tuple(_listed(e, f"{name}: operations[{i}]", DOCUMENT) for i, e in enumerate(documented)),
        tuple(_listed(e, f"{name}: beyond_document[{i}]", None) for i, e in enumerate(beyond)),
        tuple(_behaviour(kind, behaviours[kind], f"{name}: behaviours.{kind}") for kind in KINDS),
        tuple(d.strip() for d in differences))
    base = get_service(service_id).base_path
    for listed in facts.operations + facts.beyond:
        normalise(listed.path, base, f"{name}: {listed.method} {listed.path}")       # refuses a path off the base
    return facts


# --- paths ---------------------------------------------------------------------------------------------
def normalise(path: str, base: str, where: str = "") -> str:
    """A path as the spec writes it: no scheme or host, no base path, single slashes, parameters as ``{}``."""
    parts = urlsplit(path)
    text = re.sub(r"/{2,}", "/", (parts.path if parts.scheme else path) or "/")
    base = base.rstrip("/")
    if base:
        if text == base:
            text = "/"
        elif text.startswith(base + "/"):
            text = text[len(base):]
        else:
            raise CoverageError(f"{where or path}: the path is not under the service's base path {base}")
    return "/".join("{}" if PARAMETER.match(segment) else segment for segment in text.split("/"))


def _literal_fits(literal: str, parameter: dict[str, Any]) -> bool:
    schema = parameter.get("schema") or {}
    if "enum" in schema:
        return literal in [str(value) for value in schema["enum"]]
    if schema.get("type") in ("integer", "number"):
        return re.fullmatch(r"-?\d+(\.\d+)?", literal) is not None
    return True


def fits(wanted: str, operation: SpecOperation) -> int:
    """2: the normalised path is the spec's; 1: it is a case of the spec's template; 0: neither."""
    if wanted == normalise(operation.path, "/"):
        return 2
    ours, theirs = wanted.split("/"), operation.path.split("/")
    if len(ours) != len(theirs):
        return 0
    for mine, spec in zip(ours, theirs):
        if mine == spec:
            continue
        name = spec[1:-1] if spec.startswith("{") and spec.endswith("}") else None
        if name is None or (mine != "{}" and not _literal_fits(mine, operation.parameters.get(name, {}))):
            return 0
    return 1


def find(listed: Listed, operations: list[SpecOperation], base: str) -> SpecOperation | None:
    wanted = normalise(listed.path, base)
    same = [op for op in operations if op.method == listed.method]
    for score in (2, 1):
        for operation in same:
            if fits(wanted, operation) == score:
                return operation
    return None


# --- the spec and the mock -------------------------------------------------------------------------------
def _resolve(spec: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    ref = item.get("$ref")
    if not ref:
        return item
    node: Any = spec
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _app() -> Any:
    """mockserver.app, imported without the deprecation notice Connexion's test-client import raises."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from . import app
    return app


def spec_operations(service_id: str) -> list[SpecOperation]:
    document = _app().spec(get_service(service_id).spec)
    found = []
    for path, item in document.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            parameters = [_resolve(document, p) for p in shared + operation.get("parameters", [])]
            found.append(SpecOperation(method.upper(), path, operation.get("operationId", ""),
                                       {p["name"]: p for p in parameters if p.get("in") == "path"}))
    return found


def _example(parameter: dict[str, Any]) -> str:
    schema = parameter.get("schema") or {}
    examples = [e.get("value") for e in (parameter.get("examples") or {}).values() if isinstance(e, dict)]
    for value in (parameter.get("example"), *examples, schema.get("example"), *(schema.get("enum") or [])[:1],
                  schema.get("default")):
        if value is not None:
            return str(value)
    return "1"


def _probe_path(operation: SpecOperation) -> str:
    """The operation's path with each parameter given the spec's example value."""
    return re.sub(r"\{([^/{}]+)\}", lambda m: quote(_example(operation.parameters.get(m[1], {})), safe=""),
                  operation.path)


def _answers(status: int, operation: SpecOperation) -> bool:
    if status == 405 or status >= 500:         # 501 included
        return False
    return status != 404 or bool(operation.parameters)


def served(service_id: str, operations: list[SpecOperation]) -> set[tuple[str, str]]:
    """The spec operations the mock serves: a handler resolves, and the in-process app answers a probe."""
    from starlette.testclient import TestClient

    from .core.service import Settings

    create_app = _app().create_app
    service = get_service(service_id)
    handlers = importlib.import_module(service.handlers)
    resolved = [op for op in operations if callable(getattr(handlers, op.operation_id, None))]
    try:
        app = create_app(service_id, Settings(clock_start=PROBE_START, frozen=True))
    except Exception:  # noqa: BLE001 - an app that does not build serves nothing
        return set()
    base = service.base_path.rstrip("/")
    found = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # the test client's deprecation notice is not the user's business
        client = TestClient(app, raise_server_exceptions=False)
        for operation in resolved:
            path = _probe_path(operation)
            answer = client.request(operation.method, base + path, follow_redirects=False)
            if _answers(answer.status_code, operation):
                found.add((operation.method, operation.path))
    return found


def coverage(service_id: str) -> ServiceCoverage:
    facts = load_facts(service_id)
    base = get_service(service_id).base_path
    operations = spec_operations(service_id)
    live = served(service_id, operations)

    def row(listed: Listed) -> Row:
        operation = find(listed, operations, base)
        return Row(listed, operation, operation is not None and (operation.method, operation.path) in live)

    named = facts.operations + facts.beyond
    unlisted = tuple(op for op in operations
                     if not any(listed.method == op.method and fits(normalise(listed.path, base), op)
                                for listed in named))
    return ServiceCoverage(facts, tuple(row(o) for o in facts.operations), tuple(row(o) for o in facts.beyond),
                           unlisted)


# --- the report ----------------------------------------------------------------------------------------
HOW_TO_READ = f"""\
Generated by `skymock coverage` from each service's `mockserver/services/<package>/coverage.yaml`, its spec and its
mock. Do not edit it by hand: run `skymock coverage --output {DEFAULT_OUTPUT}` (tests/test_coverage.py fails when
this file is stale).

- **Operations in the document**: every operation the service's source document (its public developer documentation)
  describes, with the method and path as the document gives them.
- **in spec**: the spec has the method and path, compared without the base path and with path parameters by
  position (a literal of the document fits a parameter whose enum or type allows it); the cell names the operationId.
- **in mock**: the operationId is a handler of the service, and the in-process mock answers a request to it (no
  credentials, no body) with neither 405, 501 nor a server error; 404 counts only on a path with parameters.
- **Beyond the document**: real operations known from elsewhere (the published clients and the services' own code),
  and the mock's own operations.
- Every service also serves the control API under `/__skymock` (`specs/skymock-admin.yaml`), not listed here, and
  refuses hostile input alike (README, Hostile input), including a body over the mock's size cap (1 MiB unless a
  service sets another) with 413: a limit of the mock's own."""
SUMMARY_HEAD = ("| service | source document | operations in the document | in spec | in mock | real operations "
                "beyond the document (in spec / known) | mock-only operations | behaviours simulated |")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _yes(row: Row) -> tuple[str, str]:
    if row.spec is None:
        return "**no**", "-"
    return f"yes (`{row.spec.operation_id}`)", "yes" if row.in_mock else "**no**"


def _summary(report: list[ServiceCoverage]) -> list[str]:
    lines = [SUMMARY_HEAD, "|---|---|---|---|---|---|---|---|"]
    for service in report:
        rows, facts = service.documented, service.facts
        real = [r for r in service.beyond if r.listed.kind == REAL]
        simulated = sum(b.status == SIMULATED for b in facts.behaviours)
        lines.append(f"| [{facts.service_id}](#{facts.service_id}) | {_cell(facts.title)} | {len(rows)} "
                     f"| {sum(r.spec is not None for r in rows)} | {sum(r.in_mock for r in rows)} "
                     f"| {sum(r.spec is not None for r in real)} / {len(real)} "
                     f"| {sum(r.listed.kind == MOCK_ONLY for r in service.beyond)} | {simulated} of {len(KINDS)} |")
    return lines


def _operations(service: ServiceCoverage) -> list[str]:
    lines = ["| operation | in spec | in mock | where in the document | note |", "|---|---|---|---|---|"]
    for row in service.documented:
        listed = row.listed
        note = " ".join(filter(None, [listed.note, listed.path_from and (
            f"The document does not give the path; it comes from {listed.path_from}.")]))
        shown = (urlsplit(listed.path).path or "/") if urlsplit(listed.path).scheme else listed.path
        spec, mock = _yes(row)
        lines.append(f"| `{listed.method} {shown}` | {spec} | {mock} | {_cell(listed.where)} | {_cell(note)} |")
    lines += ["", "### Beyond the document", ""]
    if not service.beyond and not service.unlisted:
        return [*lines, "Nothing: the spec has exactly the document's operations."]
    lines += ["| operation | what it is | in spec | in mock | known from |", "|---|---|---|---|---|"]
    for row in service.beyond:
        spec, mock = _yes(row)
        what = "mock only" if row.listed.kind == MOCK_ONLY else "real, not in the document"
        lines.append(f"| `{row.listed.method} {row.listed.path}` | {what} | {spec} | {mock} "
                     f"| {_cell(row.listed.where)} |")
    for op in service.unlisted:
        lines.append(f"| `{op.method} {op.path}` | **not accounted for in coverage.yaml** | yes (`{op.operation_id}`) "
                     "| ? | - |")
    return lines


def _service(service: ServiceCoverage) -> list[str]:
    facts = service.facts
    declared = get_service(facts.service_id)
    lines = [f"## {facts.service_id}", "",
             (f"{declared.title}. Source document: {facts.title}. "
              f"Spec `specs/{declared.spec}`, base path `{declared.base_path}`."),
             "", "### Operations in the document", "", *_operations(service),
             "", "### Behaviours", "", "| behaviour | status | what, or why not | shown by |", "|---|---|---|---|"]
    for behaviour in facts.behaviours:
        shown = "<br>".join(f"`{node}`" for node in behaviour.shown_by) or "-"
        lines.append(f"| {KINDS[behaviour.kind]} | {behaviour.status} | {_cell(behaviour.text)} | {shown} |")
    lines += ["", "### Known differences from the real service", ""]
    return lines + [f"- {difference}" for difference in facts.differences] + [""]


def render(report: list[ServiceCoverage]) -> str:
    lines = ["# Coverage of the real services", "", HOW_TO_READ, "", "## Summary", "", *_summary(report), ""]
    for service in report:
        lines += _service(service)
    return "\n".join(lines).rstrip("\n") + "\n"


def build(services: list[str] | None = None) -> str:
    """The Markdown report of the given services (default: all), as `skymock coverage` prints it."""
    return render([coverage(service_id) for service_id in services or service_ids()])


def stale(path: Path) -> str | None:
    """Why the file at ``path`` is not the current report, or None when it is."""
    if not path.is_file():
        return f"{path} does not exist"
    if path.read_text(encoding="utf-8") != build():
        return f"{path} is out of date"
    return None
