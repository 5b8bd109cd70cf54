"""``skymock certify``: run an integrator's client against a mock scenario and judge what it did.

For each scenario: start the service's mock (and the services sharing its world)
on free ports with the scenario's settings and timeline, run the command with
the mock's URL and demo credentials in its environment and in a dotenv file,
stop it at the time limit, then judge the service's journal by the scenario's
rules. The report names each rule with its evidence; JUnit XML and JSON reports
are written on request. Exit status 0 only when every required rule passed.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from mockserver.app import SPECS
from mockserver.server import LiveServer
from mockserver.services import get_service

from .rules import FAILED, PASSED, Run, Verdict, judge
from .scenario import Scenario, ScenarioError, load

KIT_VERSION = "0.1.0"


@dataclass
class CertifyOptions:
    service_id: str
    command: list[str]
    scenario: str | None = None           # None: every scenario of the service
    scenario_file: Path | None = None     # a user's own scenario file instead of the kit's
    time_limit: float | None = None       # overrides the scenarios' own
    env_file: Path | None = None          # also write the dotenv file here
    junit: Path | None = None
    json_report: Path | None = None
    show_output: bool = True


@dataclass
class ScenarioResult:
    service: str
    scenario: str
    description: str
    run: str
    seed: int
    command: str
    exit_status: int | None
    timed_out: bool
    seconds: float
    output: str
    verdicts: list[Verdict]
    journal: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(v.ok for v in self.verdicts)


# --- running ----------------------------------------------------------------------------------------
def _variables(scenario: Scenario, servers: dict[str, LiveServer]) -> dict[str, str]:
    """The environment of the command: the scenario file's variables filled in, plus SKYMOCK_*."""
    main = servers[scenario.service]
    owner = scenario.credentials_of or scenario.service
    if owner not in servers:
        raise ScenarioError(f"{scenario.service}.yaml: credentials_of names {owner!r}, which is not started with "
                            f"{scenario.service}; choose from {', '.join(servers)}")
    known = servers[owner].app.sandbox.tokens.credentials
    credential = next((c for c in known if scenario.credential in (None, c.name)), None)
    if credential is None:
        raise ScenarioError(f"{scenario.service}.yaml: credential {scenario.credential!r} is not a demo credential; "
                            f"choose from {', '.join(c.name for c in known)}")
    ttl = main.app.sandbox.settings.token_ttl
    values: dict[str, Any] = {**credential.fields, "owner": credential.owner, "url": main.url, "root": main.root,
                              "urls": {sid: s.url for sid, s in servers.items()},
                              "token_ttl": "" if ttl is None else f"{ttl:g}"}
    env = {}
    for name, template in scenario.environment.items():
        try:
            env[name] = template.format(**values)
        except (KeyError, IndexError) as exc:
            raise ScenarioError(f"{scenario.service}.yaml: environment.{name} names {exc}, which is neither url, "
                                f"root, urls[SERVICE], token_ttl, owner nor a field of the demo credential "
                                f"({', '.join(credential.fields)})") from None
    env.update(SKYMOCK_SERVICE=scenario.service, SKYMOCK_SCENARIO=scenario.name, SKYMOCK_URL=main.url,
               SKYMOCK_CONTROL_URL=f"{main.root}/__skymock")
    return env


def _dotenv(variables: dict[str, str]) -> str:
    return "".join(f"{name}={json.dumps(value)}\n" for name, value in variables.items())


def _execute(command: list[str], env: dict[str, str], limit: float) -> tuple[int | None, bool, str, float]:
    """(exit status, stopped by the time limit, output, seconds). One argument is a shell command line."""
    shell = len(command) == 1
    started = time.monotonic()
    process = subprocess.Popen(command[0] if shell else command, shell=shell, env={**os.environ, **env},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               text=True, errors="replace", start_new_session=True)
    try:
        output, _ = process.communicate(timeout=limit)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)          # the whole group: a shell's children too
        output, _ = process.communicate()
        timed_out = True
    return (None if timed_out else process.returncode), timed_out, output, time.monotonic() - started


def run_scenario(scenario: Scenario, options: CertifyOptions) -> ScenarioResult:
    service = get_service(scenario.service)
    settings = scenario.sandbox_settings()
    with ExitStack() as stack:
        servers = {}
        for sid in dict.fromkeys((scenario.service, *service.companions)):
            servers[sid] = stack.enter_context(LiveServer(sid, settings))
        env = _variables(scenario, servers)
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="skymock-certify-")))
        dotenv = folder / ".env"
        dotenv.write_text(_dotenv(env))
        if options.env_file is not None:
            options.env_file.write_text(_dotenv(env))
        env["SKYMOCK_ENV_FILE"] = str(dotenv)
        sandbox = servers[scenario.service].app.sandbox
        sandbox.journal.clear()                  # the run's times count from here
        sandbox.timeline.load(scenario.events)
        limit = options.time_limit or scenario.time_limit
        status, timed_out, output, seconds = _execute(options.command, env, limit)
        entries = sandbox.journal.entries()
    run = Run(entries=entries, token_ttl=settings.token_ttl, timed_out=timed_out, exit_status=status)
    verdicts = [judge(run, rule.name, rule.params, rule.required) for rule in scenario.rules]
    return ScenarioResult(service=scenario.service, scenario=scenario.name, description=scenario.description,
                          run=scenario.run, seed=settings.seed, command=" ".join(options.command),
                          exit_status=status, timed_out=timed_out, seconds=seconds, output=output,
                          verdicts=verdicts, journal=entries)


# --- reporting ----------------------------------------------------------------------------------------
MARKS = {PASSED: "PASS", FAILED: "FAIL"}
OUTPUT_LINES = 15           # of the client's output, in the printed report (the JSON report has all of it)


def print_result(result: ScenarioResult, out: TextIO, show_output: bool) -> None:
    ended = "stopped at the time limit" if result.timed_out else f"exit {result.exit_status}"
    out.write(f"\n== {result.service} / {result.scenario} (seed {result.seed})\n")
    if result.description:
        out.write(f"   {result.description}\n")
    out.write(f"   command: {result.command}\n   {ended} after {result.seconds:.1f} s; "
              f"{len(result.journal)} request(s)\n")
    if show_output and result.output.strip():
        out.write(f"   --- client output (last {OUTPUT_LINES} lines) ---\n")
        for line in result.output.rstrip().splitlines()[-OUTPUT_LINES:]:
            out.write(f"   | {line}\n")
    width = max(len(v.rule) for v in result.verdicts)
    for verdict in result.verdicts:
        mark = MARKS.get(verdict.outcome, "UNTESTED")
        optional = "" if verdict.required else " (optional)"
        out.write(f"   {mark:<8}  {verdict.rule:<{width}}  {verdict.summary}{optional}\n")
        indent = " " * (width + 13)
        for line in verdict.evidence if verdict.outcome != PASSED else verdict.evidence[:3]:
            out.write(f"{indent}{line}\n")
        if verdict.outcome not in (PASSED, FAILED) and result.run:
            out.write(f"{indent}to exercise it, the command should {result.run}\n")
    counts = {o: sum(v.outcome == o for v in result.verdicts) for o in (PASSED, FAILED)}
    other = len(result.verdicts) - counts[PASSED] - counts[FAILED]
    out.write(f"   {result.service}/{result.scenario}: {counts[PASSED]} passed, {counts[FAILED]} failed, "
              f"{other} not exercised -> {'PASSED' if result.passed else 'FAILED'}\n")


def _spec_digest(service_id: str) -> str:
    return hashlib.sha256((SPECS / get_service(service_id).spec).read_bytes()).hexdigest()


def write_json(results: list[ScenarioResult], path: Path) -> None:
    service = results[0].service if results else ""
    report = {"kit_version": KIT_VERSION, "service": service, "spec_sha256": _spec_digest(service) if service else "",
              "certified": all(r.passed for r in results),
              "scenarios": [{**{k: v for k, v in asdict(r).items() if k != "verdicts"},
                             "passed": r.passed, "rules": [asdict(v) for v in r.verdicts]} for r in results]}
    path.write_text(json.dumps(report, indent=2))


def write_junit(results: list[ScenarioResult], path: Path) -> None:
    suites = ET.Element("testsuites", name="skymock certify")
    for r in results:
        suite = ET.SubElement(suites, "testsuite", name=f"{r.service}.{r.scenario}", tests=str(len(r.verdicts)),
                              failures=str(sum(not v.ok for v in r.verdicts)),
                              skipped=str(sum(v.ok and v.outcome != PASSED for v in r.verdicts)),
                              time=f"{r.seconds:.3f}")
        for v in r.verdicts:
            case = ET.SubElement(suite, "testcase", classname=f"{r.service}.{r.scenario}", name=v.rule)
            text = "\n".join([v.summary, *v.evidence])
            if not v.ok:
                ET.SubElement(case, "failure", message=f"{v.outcome}: {v.summary}").text = text
            elif v.outcome != PASSED:
                ET.SubElement(case, "skipped", message=f"{v.outcome}: {v.summary}")
        ET.SubElement(suite, "system-out").text = r.output
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)


def certify(options: CertifyOptions, out: TextIO = sys.stdout) -> int:
    """Run every chosen scenario, print the report; 0 when all required rules passed, 1 if not, 2 on misuse."""
    try:
        scenarios = load(options.service_id, options.scenario, options.scenario_file)
    except ScenarioError as exc:
        print(f"skymock certify: {exc}", file=sys.stderr)
        return 2
    if not options.command:
        print("skymock certify: give the client's command after --, e.g. "
              "skymock certify nrao-ods -- python my_client.py", file=sys.stderr)
        return 2
    results = []
    for scenario in scenarios:
        try:
            result = run_scenario(scenario, options)
        except (ScenarioError, OSError) as exc:
            print(f"skymock certify: {exc}", file=sys.stderr)
            return 2
        print_result(result, out, options.show_output)
        results.append(result)
    passed = sum(r.passed for r in results)
    verdict = "CERTIFIED" if passed == len(results) else "NOT CERTIFIED"
    out.write(f"\n{verdict}: {passed} of {len(results)} scenario(s) of {options.service_id} passed\n")
    if options.json_report:
        write_json(results, options.json_report)
    if options.junit:
        write_junit(results, options.junit)
    return 0 if passed == len(results) else 1
