"""Schemathesis against a target: the in-process mock, a running mock, or the real service.

The target is fuzzed through the real network stack (a mock is started on a
free loopback port), with every Schemathesis check, and authenticated through
the service's own token endpoint, refetching a token when one is refused.
Against a target that is not a Skymock mock, only reading operations run and
requests are rate-limited unless the caller says otherwise. Every run ends with
one line counting the test cases Schemathesis ran and the failures it found,
read from its JSON run report.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests

from mockserver.app import ADMIN_PREFIX, ADMIN_SPEC, SPECS
from mockserver.core.service import Settings
from mockserver.server import LiveServer
from mockserver.services import get_service


@dataclass
class FuzzOptions:
    service_id: str
    base_url: str | None = None          # None: start an in-process mock
    credentials: dict[str, str] = field(default_factory=dict)
    max_examples: int = 25
    seed: int | None = 42
    junit: str | None = None
    allow_writes: bool | None = None     # None: writes only against a mock
    rate_limit: str | None = None        # None: unlimited on a mock, 30/m elsewhere
    workers: int = 1
    phases: str | None = None
    control_api: bool = False            # fuzz the /__skymock control API instead of the service
    extra_args: list[str] = field(default_factory=list)


def _toml_value(value: object) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


def auth_config(service_id: str, credentials: dict[str, str]) -> str:
    """The Schemathesis config that logs in through the service's own token endpoint."""
    login = get_service(service_id).login
    if login is None:
        return ""
    return "\n".join([
        f"[auth.dynamic.openapi.{login.scheme}]",
        f"path = {_toml_value(login.path)}",
        f"method = {_toml_value(login.method)}",
        f"payload = {_toml_value(login.payload_for(credentials))}",
        f"payload_content_type = {_toml_value(login.content_type)}",
        f"extract_selector = {_toml_value(login.token_pointer)}",
        # 401 and 403 both refetch: a real target may answer either to a token it dropped
        f"retry_on = {_toml_value(sorted({401, 403, *login.dead_statuses}))}",
        "",
    ])


def headers_config(headers: dict[str, str]) -> str:
    """Headers sent with every request (a token issued out of band), in Schemathesis's config."""
    return f"headers = {_toml_value(headers)}\n" if headers else ""


def service_config(service_id: str) -> str:
    """The service's own Schemathesis settings (conformance/schemathesis/<id>.toml), each with its reason."""
    path = Path(__file__).resolve().parent / "schemathesis" / f"{service_id}.toml"
    return path.read_text() if path.is_file() else ""


def _root(url: str) -> str:
    """scheme://host:port of a URL: where a mock's control API lives."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    return f"{parts.scheme}://{parts.netloc}"


def is_skymock(base_url: str) -> bool:
    """A target is a Skymock mock when its control API answers health for a service."""
    try:
        answer = requests.get(f"{_root(base_url)}{ADMIN_PREFIX}/health", timeout=3)
        return answer.ok and answer.json().get("status") == "ok"
    except (requests.RequestException, ValueError):
        return False


def demo_credentials(base_url: str, service_id: str) -> dict[str, str]:
    """The first demo credential of a running mock (the one with every scope)."""
    answer = requests.get(f"{_root(base_url)}{ADMIN_PREFIX}/credentials", timeout=5)
    answer.raise_for_status()
    first = answer.json()["credentials"][0]
    return {k: v for k, v in first.items() if isinstance(v, str)}


@dataclass
class FuzzResult:
    """What one run did: Schemathesis's exit status and, when its reports were read, the counts."""
    exit_status: int
    cases: int | None = None          # test cases generated and sent (None: no report to read them from)
    operations: int | None = None     # operations tested
    failures: int = 0                 # distinct failures found
    errors: int = 0                   # cases or operations that could not be run
    seconds: float = 0.0

    def summary(self, target: str) -> str:
        cases = "an unknown number of test cases" if self.cases is None else f"{self.cases} test cases"
        operations = "" if self.operations is None else f" over {self.operations} operations"
        return (f"skymock fuzz {target}: {cases}{operations}, {self.failures} failures, {self.errors} errors "
                f"in {self.seconds:.1f} s (exit {self.exit_status})")


def _option_value(args: list[str], name: str) -> tuple[str | None, list[str]]:
    """The value of ``name`` in ``args`` (``--x V`` or ``--x=V``, the last one given) and the args without it."""
    value, rest, i = None, [], 0
    while i < len(args):
        if args[i] == name and i + 1 < len(args):
            value, i = args[i + 1], i + 2
            continue
        if args[i].startswith(name + "="):
            value = args[i].split("=", 1)[1]
        else:
            rest.append(args[i])
        i += 1
    return value, rest


def report_args(options: FuzzOptions, run_report: str | None) -> tuple[list[str], list[str]]:
    """The report options and the caller's other extra arguments.

    Schemathesis keeps only the last ``--report`` it is given, so the JSON run report the
    counts are read from, the JUnit report and any report asked for after ``--`` become one.
    """
    asked, rest = _option_value(list(options.extra_args), "--report")
    formats = [f for f in (asked or "").split(",") if f]
    args: list[str] = []
    if options.junit:
        formats.append("junit")
        args += ["--report-junit-path", options.junit]
    if run_report:
        formats.append("json")
        if not any(a.split("=", 1)[0] == "--report-json-path" for a in rest):   # a path of the caller's own wins
            args += ["--report-json-path", run_report]
    if not formats:
        return [], rest
    return ["--report", ",".join(dict.fromkeys(formats)), *args], rest


def command(options: FuzzOptions, base_url: str, config_file: str, mock: bool,
            run_report: str | None = None) -> list[str]:
    spec = ADMIN_SPEC if options.control_api else get_service(options.service_id).spec
    args = [sys.executable, "-m", "schemathesis.cli", "--config-file", config_file, "run",
            str(SPECS / spec), "--url", base_url,
            "--max-examples", str(options.max_examples), "--workers", str(options.workers)]
    if options.seed is not None:
        args += ["--seed", str(options.seed), "--generation-deterministic"]
    writes = options.allow_writes if options.allow_writes is not None else mock
    if not writes:
        args += ["--include-method", "GET"]
    rate = options.rate_limit or (None if mock else "30/m")
    if rate:
        args += ["--rate-limit", rate]
    if options.phases:
        args += ["--phases", options.phases]
    reports, rest = report_args(options, run_report)
    return args + reports + rest


def read_result(exit_status: int, seconds: float, run_report: Path | None, junit: Path | None) -> FuzzResult:
    """The counts of a finished run, from Schemathesis's JSON run report, or its JUnit report
    (operations and failures only) when there is no JSON one (an older Schemathesis)."""
    result = FuzzResult(exit_status, seconds=seconds)
    try:
        if run_report is not None and run_report.is_file() and run_report.stat().st_size:
            data = json.loads(run_report.read_text())
            cases = data.get("test_cases", {})
            result.cases = int(cases.get("generated", 0))
            result.operations = int(data.get("operations", {}).get("tested", 0))
            result.failures = int(cases.get("unique_failures", 0))
            result.errors = int(cases.get("errored", 0)) + len(data.get("errors") or [])
        elif junit is not None and junit.is_file() and junit.stat().st_size:
            root = ET.parse(junit).getroot()
            suites = [root] if root.tag == "testsuite" else list(root)
            result.operations = sum(int(s.get("tests", 0)) for s in suites)
            result.failures = sum(int(s.get("failures", 0)) for s in suites)
            result.errors = sum(int(s.get("errors", 0)) for s in suites)
    except (OSError, ValueError, ET.ParseError, AttributeError, TypeError):
        pass    # a report cut short (the run was interrupted): the exit status still says how it went
    return result


def run(options: FuzzOptions) -> int:
    """Fuzz the target; the exit status is 0 only when Schemathesis found nothing."""
    return fuzz(options).exit_status


def fuzz(options: FuzzOptions) -> FuzzResult:
    """Fuzz the target and print how many test cases ran and what they found."""
    with ExitStack() as stack:
        mock = options.base_url is None
        if mock:
            server = stack.enter_context(LiveServer(options.service_id, Settings()))
            base_url = server.url
        else:
            base_url = options.base_url.rstrip("/")
            mock = is_skymock(base_url)
        if options.control_api:
            if not mock:
                print("skymock fuzz: --control-api needs a Skymock mock as the target", file=sys.stderr)
                return FuzzResult(2)
            return _schemathesis(options, _root(base_url) + ADMIN_PREFIX, service_config("skymock-admin"), mock)
        credentials = options.credentials or (demo_credentials(base_url, options.service_id) if mock else {})
        service = get_service(options.service_id)
        needed = service.credential_fields
        if needed and not all(credentials.get(name) for name in needed):
            print("skymock fuzz: this target is not a Skymock mock; give its credentials "
                  f"({', '.join(needed)}) as options or environment variables", file=sys.stderr)
            return FuzzResult(2)
        # top-level keys first: in TOML anything after a [table] belongs to that table
        config = (headers_config(service.auth_headers(credentials)) + service_config(options.service_id) + "\n"
                  + auth_config(options.service_id, credentials))
        return _schemathesis(options, base_url, config, mock)


def _schemathesis(options: FuzzOptions, base_url: str, config: str, mock: bool) -> FuzzResult:
    with tempfile.TemporaryDirectory(prefix="skymock-fuzz-") as folder:
        config_file = Path(folder) / "schemathesis.toml"
        config_file.write_text(config)
        args = command(options, base_url, str(config_file), mock, run_report=str(Path(folder) / "run.json"))
        own_path, _ = _option_value(args, "--report-json-path")
        started = time.monotonic()
        status = subprocess.call(args)
        result = read_result(status, time.monotonic() - started, Path(own_path) if own_path else None,
                             Path(options.junit) if options.junit else None)
    target = f"{options.service_id} control API" if options.control_api else options.service_id
    print(result.summary(target), flush=True)
    return result
