"""Schemathesis against the mock, through `skymock fuzz`: zero failures, and a failing target fails."""
from __future__ import annotations

import os
import re
import tomllib
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs

import pytest
import requests

from conformance.fuzz import FuzzOptions, auth_config, command, fuzz, run
from mockserver.server import LiveServer, free_port
from mockserver.services import service_ids

CI_EXAMPLES = 40


def junit_totals(path) -> dict[str, int]:
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    return {key: sum(int(s.get(key, 0)) for s in suites) for key in ("tests", "failures", "errors")}


@pytest.mark.parametrize("service_id", service_ids())
def test_fuzzing_the_mock_finds_nothing(service_id, tmp_path):
    report = tmp_path / "junit.xml"
    assert run(FuzzOptions(service_id, max_examples=CI_EXAMPLES, junit=str(report))) == 0
    totals = junit_totals(report)
    assert totals["tests"] > 0
    assert totals["failures"] == 0 and totals["errors"] == 0


def test_fuzzing_the_control_api_finds_nothing(tmp_path):
    report = tmp_path / "junit.xml"
    assert run(FuzzOptions("nrao-ods", control_api=True, max_examples=CI_EXAMPLES, junit=str(report))) == 0
    assert junit_totals(report)["failures"] == 0


def test_against_a_target_that_is_not_a_mock_fuzzing_only_reads_and_is_rate_limited():
    args = command(FuzzOptions("nrao-ods", base_url="https://ods.example"), "https://ods.example", "cfg", mock=False)
    assert args[args.index("--include-method") + 1] == "GET"
    assert args[args.index("--rate-limit") + 1] == "30/m"
    allowed = command(FuzzOptions("nrao-ods", allow_writes=True, rate_limit="5/s"), "https://x", "cfg", mock=False)
    assert "--include-method" not in allowed and allowed[allowed.index("--rate-limit") + 1] == "5/s"


def test_fuzzing_logs_in_through_the_token_endpoint_and_refetches_on_401_and_403():
    config = tomllib.loads(auth_config("nrao-ods", {"client_id": "a", "client_secret": "b"}))
    login = config["auth"]["dynamic"]["openapi"]["BearerAuth"]
    assert login["path"] == "/token/" and login["extract_selector"] == "/token"
    assert login["payload"] == {"grant_type": "client_credentials", "client_id": "a", "client_secret": "b"}
    assert login["payload_content_type"] == "application/x-www-form-urlencoded"
    assert login["retry_on"] == [401, 403]


@pytest.mark.fuzz_long
@pytest.mark.skipif(not os.environ.get("SKYMOCK_FUZZ_EXAMPLES"),
                    reason="long fuzzing is opt-in: SKYMOCK_FUZZ_EXAMPLES=200 python -m pytest -m fuzz_long -s")
@pytest.mark.parametrize("service_id", service_ids())
def test_long_fuzzing_finds_nothing(service_id):
    """The opt-in long profile: a random seed and SKYMOCK_FUZZ_EXAMPLES examples per operation."""
    examples = int(os.environ["SKYMOCK_FUZZ_EXAMPLES"])
    result = fuzz(FuzzOptions(service_id, max_examples=examples, seed=None))
    print(f"\nlong fuzz {service_id}: {result.cases} cases over {result.operations} operations, "
          f"{result.failures} failures, {result.errors} errors in {result.seconds:.0f} s")
    assert result.cases and result.cases > 0
    assert result.failures == 0 and result.errors == 0
    assert result.exit_status == 0


def test_every_run_ends_with_the_count_of_cases_and_failures(capsys):
    result = fuzz(FuzzOptions("lco-thumbnails", max_examples=3))
    assert result.exit_status == 0 and result.cases and result.cases > 0 and result.operations
    assert result.failures == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith(f"skymock fuzz lco-thumbnails: {result.cases} test cases over {result.operations}")
    assert "0 failures" in last


def test_reports_asked_for_after_the_separator_join_skymocks_own():
    options = FuzzOptions("nrao-ods", junit="j.xml", extra_args=["--report", "har", "--checks", "all"])
    args = command(options, "http://x", "cfg", mock=True, run_report="run.json")
    assert args.count("--report") == 1 and args[args.index("--report") + 1] == "har,junit,json"
    assert args[args.index("--report-json-path") + 1] == "run.json" and args[-2:] == ["--checks", "all"]
    mine = command(FuzzOptions("nrao-ods", extra_args=["--report-json-path=mine.json"]), "http://x", "cfg",
                   mock=True, run_report="run.json")
    assert "run.json" not in mine and "--report-json-path=mine.json" in mine


def test_a_target_that_fails_makes_fuzz_fail():
    with LiveServer("nrao-ods") as server:
        requests.post(f"{server.root}/__skymock/faults", json={"status": 500, "path": "^/ods_data"}, timeout=5)
        assert run(FuzzOptions("nrao-ods", base_url=server.url, max_examples=5)) != 0


def test_a_real_target_without_credentials_is_refused_with_advice(capsys):
    closed = f"http://127.0.0.1:{free_port()}"
    assert run(FuzzOptions("nrao-ods", base_url=closed)) == 2
    assert "client_id" in capsys.readouterr().err


def test_the_stateful_phase_follows_every_link_of_the_dsn_spec():
    """create booking -> cancel / attach uplink / list files; create profile -> get / delete / list.

    Random ids almost never name a booking or profile, so a 2xx on each link's target shows
    Schemathesis reached it with an id a create call returned.
    """
    with LiveServer("dsn") as server:
        assert run(FuzzOptions("dsn", base_url=server.url, max_examples=40, phases="stateful")) == 0
        journal = requests.get(f"{server.root}/__skymock/journal", timeout=5).json()["entries"]
    reached = {(e["method"], re.sub(r"/\d+", "/N", e["path"])) for e in journal if 200 <= e["status"] < 300}
    assert {("POST", "/orbapi/bookings"), ("DELETE", "/orbapi/bookings/N"),
            ("POST", "/orbapi/bookings/N/uplink-files"), ("GET", "/orbapi/bookings/N/uplink-files"),
            ("GET", "/orbapi/bookings/N/downlink-files"), ("POST", "/orbapi/satellites/id/N/profiles"),
            ("GET", "/orbapi/satellites/profiles/N"), ("DELETE", "/orbapi/satellites/profiles/N"),
            ("GET", "/orbapi/satellites/id/N/profiles")} <= reached


def test_the_stateful_phase_follows_okapis_links_from_requests_to_results():
    """A made-up request id answers 404; 202 or 200 on a result shows a returned id was followed."""
    with LiveServer("okapi") as server:
        assert run(FuzzOptions("okapi", base_url=server.url, max_examples=20, phases="stateful")) == 0
        journal = requests.get(f"{server.root}/__skymock/journal", timeout=5).json()["entries"]
    reached = {re.sub(r"/results/[^/]+/", "/results/ID/", e["path"]) for e in journal if e["status"] in (200, 202)}
    assert any(path.startswith("/predict-passes/") and "/results/ID/" in path for path in reached)
    assert any(path.startswith("/propagate-orbit/") and "/results/ID/" in path for path in reached)


def test_the_stateful_phase_polls_mmoda_jobs_it_submitted():
    """A poll naming an unknown job id gets 400; one naming a job the dispatcher answered gets 200, or 403 when
    the other values of the question differ from the job's. Either shows the Poll link carried a real job id."""
    with LiveServer("mmoda") as server:
        assert run(FuzzOptions("mmoda", base_url=server.url, max_examples=40, phases="stateful")) == 0
        journal = requests.get(f"{server.root}/__skymock/journal", timeout=5).json()["entries"]
    polls = [(parse_qs(e["query"]), e["status"]) for e in journal
             if e["path"].endswith("/run_analysis") and e["method"] == "GET"]
    followed = [status for query, status in polls
                if query.get("job_id") and query.get("query_status", [""])[0] in ("submitted", "progress")
                and status in (200, 403)]
    assert followed
