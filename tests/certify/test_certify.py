"""`skymock certify`: the kit's reference clients pass every scenario of their service; deliberately
bad clients fail exactly the rule they break, with a report saying why; any command can be examined."""
from __future__ import annotations

import io
import json
import os
import shutil
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance.certify import CertifyOptions, certify
from conformance.rules import FAILED, PASSED
from conformance.scenario import ScenarioError, available, load
from mockserver import cli
from mockserver.services import service_ids

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
BAD = str(Path(__file__).with_name("bad_clients.py"))

#: a command per service that does what every scenario of the service needs (see each scenario's `run`)
REFERENCE = {
    "nrao-ods": [PY, "-m", "clients.nrao_ods", "upload-logs", "conformance/examples/nrao-ods"],
    "dsn": [PY, "-m", "conformance.examples.dsn.book_next_pass"],
    "okapi": [PY, "-m", "clients.okapi", "--quiet", "passes", "--tle", "conformance/examples/okapi/iss.tle",
              "--lat", "52.33", "--lon", "10.65", "--start", "2018-08-07T18:00:00Z", "--end", "2018-08-08T00:00:00Z"],
    "mmoda": [PY, "-m", "clients.mmoda", "run", "--instrument", "empty-async", "--product", "numerical", "-pp=5",
              "--quiet"],
    "lco-observe": [PY, "-m", "conformance.examples.lco.submit_m42"],
    "lco-archive": [PY, "-m", "clients.lco", "frames", "--rlevel", "91"],
    "lco-thumbnails": [PY, "-m", "clients.lco", "thumbnail", "1", "--out", "thumbnail.jpg"],
}


@pytest.fixture(autouse=True)
def in_the_kit(monkeypatch, tmp_path):
    """Commands run from the kit's root (they name its example files) with no dotenv files of their own."""
    monkeypatch.chdir(ROOT)
    for name in ("ODS_", "DSN_", "OKAPI_", "MMODA_", "ODA_", "LCO_"):
        for variable in [v for v in list(os.environ) if v.startswith(name)]:
            monkeypatch.delenv(variable)


def examine(tmp_path: Path, service: str, command: list[str], **options) -> tuple[int, str, dict]:
    out = io.StringIO()
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    code = certify(CertifyOptions(service, command, json_report=report, junit=junit, **options), out)
    return code, out.getvalue(), json.loads(report.read_text())


def outcomes(report: dict) -> dict[tuple[str, str], str]:
    return {(s["scenario"], r["rule"]): r["outcome"] for s in report["scenarios"] for r in s["rules"]}


@pytest.mark.parametrize("service", list(REFERENCE))
def test_the_reference_client_passes_every_scenario_of_its_service(service, tmp_path):
    code, text, report = examine(tmp_path, service, REFERENCE[service])
    results = outcomes(report)
    assert {scenario for scenario, _ in results} == set(available(service))
    assert all(outcome == PASSED for outcome in results.values()), text
    assert code == 0 and report["certified"] and f"CERTIFIED: {len(available(service))} of" in text
    # the mock's own answers are never server errors: every 5xx in a run is one the scenario injected
    own_errors = [(s["scenario"], e["method"], e["path"], e["status"]) for s in report["scenarios"]
                  for e in s["journal"] if e["status"] >= 500 and "fault" not in e["notes"]]
    assert not own_errors


# (behaviour, service, scenario, the rule it breaks, words of the reason, options)
BAD_CLIENTS = [
    ("token-per-request", "okapi", "revoked", "reactive-refresh", "keep a token and reuse it", {}),
    ("ignores-retry-after", "dsn", "rate-limited", "retry-after", "sooner than Retry-After asked", {}),
    ("tight-polling", "mmoda", "slow-job", "polling", "wait at least 0.5 s", {}),
    ("no-upload-pause", "nrao-ods", "uploads", "upload-pacing", "closer than the 10 s", {}),
    ("retries-forever", "dsn", "outage", "bounded-retries", "give up after at most 10", {"time_limit": 12}),
]


@pytest.mark.parametrize("behaviour, service, scenario, broken, reason, options", BAD_CLIENTS,
                         ids=[b[0] for b in BAD_CLIENTS])
def test_a_bad_client_fails_exactly_the_rule_it_breaks(behaviour, service, scenario, broken, reason, options,
                                                       tmp_path):
    code, text, report = examine(tmp_path, service, [PY, BAD, behaviour], scenario=scenario, **options)
    results = outcomes(report)
    assert results.pop((scenario, broken)) == FAILED
    assert all(outcome == PASSED for outcome in results.values()), text
    assert code == 1 and not report["certified"]
    failing = next(line for line in text.splitlines() if line.strip().startswith("FAIL"))
    assert broken in failing and reason in text
    assert "#" in text.split(failing, 1)[1]                    # evidence names journal entries
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    failed = [case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None]
    assert failed == [broken] and suite.get("failures") == "1"


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_a_client_in_another_language_is_examined_the_same_way(tmp_path):
    code, text, report = examine(tmp_path, "dsn", [str(Path(__file__).with_name("curl_client.sh"))],
                                 scenario="rate-limited")
    assert code == 0, text
    assert outcomes(report) == {("rate-limited", "retry-after"): PASSED, ("rate-limited", "bounded-retries"): PASSED,
                                ("rate-limited", "valid-requests"): PASSED}
    [scenario] = report["scenarios"]
    assert "satellites and stations read" in scenario["output"]             # the client's own output is kept
    assert [e["status"] for e in scenario["journal"]][:3] == [429, 503, 200]
    assert scenario["journal"][1]["retry_after"].endswith("GMT")              # the HTTP-date form


def test_the_command_gets_the_mock_in_its_environment_and_a_dotenv_file(tmp_path):
    script = ("import os; from dotenv import dotenv_values; f = dotenv_values(os.environ['SKYMOCK_ENV_FILE']); "
              "print(f['ODS_BASE_URL'] == os.environ['ODS_BASE_URL'] == os.environ['SKYMOCK_URL'], "
              "f['ODS_CLIENT_ID'], os.environ['SKYMOCK_SCENARIO'], f['ODS_TOKEN_LIFETIME'])")
    code, text, report = examine(tmp_path, "nrao-ods", [PY, "-c", script], scenario="short-token",
                                 env_file=tmp_path / ".ods.env")
    assert "True skymock-operator short-token 6" in report["scenarios"][0]["output"]
    assert "ODS_CLIENT_SECRET=" in (tmp_path / ".ods.env").read_text()
    # a command that sends nothing is not certified, and the report says why
    assert code == 1 and "sent no request to the mock" in text and "UNTESTED" in text


def test_a_command_that_outlives_the_time_limit_is_stopped(tmp_path):
    code, text, report = examine(tmp_path, "dsn", [f"{PY} -c 'import time; time.sleep(30)'"], scenario="revoked",
                                 time_limit=1)
    [scenario] = report["scenarios"]
    assert scenario["timed_out"] and scenario["exit_status"] is None and scenario["seconds"] < 10
    assert code == 1 and "stopped at the time limit" in text


def test_every_scenario_file_loads_and_names_only_known_rules():
    for service in service_ids():
        scenarios = load(service)
        assert len(scenarios) >= 3 and all(s.rules and s.run and s.example for s in scenarios), service


@pytest.mark.parametrize("mistake, named", [
    ({"rules": {"be-nice": {}}}, "rules.be-nice: no such rule"),
    ({"rules": {"backoff": {"min_wiat": 1}}}, "rules.backoff: unknown parameter(s) ['min_wiat']"),
    ({"rules": {"backoff": {}}, "timeline": [{"at": 1, "do": "explode"}]}, "timeline[0].do: must be one of"),
    ({"rules": {"backoff": {}}, "timeline": [{"at": 1, "after": 2, "do": "revoke-tokens"}]}, "timeline[0].at"),
    ({"rules": {"backoff": {}}, "timeline": [{"at": 0, "do": "fault", "fault": {"status": 200}}]},
     "timeline[0].fault.status: must be an integer from 400 to 599"),
    ({"rules": {"backoff": {}}, "timeline": [{"after": 1, "path": "a{4294967296}", "do": "revoke-tokens"}]},
     "timeline[0].path: must be a regular expression"),
    ({"rules": {"backoff": {}}, "timeline": [{"at": 0, "do": "fault", "fault": {"status": 500, "path": "a{4294967296}"}}]},
     "timeline[0].fault.path: is not a valid regular expression"),
    ({"rules": {"backoff": {}}, "settings": {"token_tll": 5}}, "settings: unknown setting(s) ['token_tll']"),
])
def test_a_mistaken_scenario_file_is_refused_with_the_place_named(mistake, named, tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(json.dumps({"service": "dsn", "scenarios": {"mine": mistake}}))
    with pytest.raises(ScenarioError) as refused:
        load("dsn", path=path)
    assert named in str(refused.value) and "scenarios.mine" in str(refused.value)


def test_the_command_line_lists_scenarios_and_refuses_a_missing_command(capsys):
    assert cli.main(["certify", "okapi", "--list"]) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in available("okapi"))
    assert cli.main(["certify", "okapi", "--scenario", "revoked"]) == 2
    assert "give the client's command after --" in capsys.readouterr().err
    assert cli.main(["certify", "okapi", "--scenario", "nope", "--", "true"]) == 2
    assert "no scenario 'nope'" in capsys.readouterr().err
