"""The pytest plugin, as an integrator uses it: test files of their own run in a pytest session of their
own (pytester), with nothing but the installed kit."""
from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.app import create_app
from mockserver.server import LiveServer
from mockserver.testing import ControlApi

LOGIN = '''
import requests

def token(ods):
    fields = {k: ods.credential[k] for k in ("client_id", "client_secret")}
    answer = requests.post(f"{ods.url}/token/", data={"grant_type": "client_credentials", **fields}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]

def feed(ods, value):
    return requests.get(f"{ods.url}/ods_data/", headers={"Authorization": f"Bearer {value}"}, timeout=10)
'''


@pytest.fixture(scope="module", autouse=True)
def imported_once() -> None:
    """The inner sessions run in this process, and pytester takes away the modules each one imported;
    numpy cannot be imported twice in a process, so what the mocks import is imported here first."""
    for service_id in ("nrao-ods", "lco-observe", "lco-archive"):
        create_app(service_id)


def run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_integrator=LOGIN + source)
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", "-rs", *args)


def test_a_service_fixture_gives_the_mock_its_logins_and_a_fresh_state_for_each_test(pytester):
    result = run(pytester, '''
import pytest
URLS = []

def test_first(skymock_nrao_ods):
    ods = skymock_nrao_ods
    assert ods.target == "mock" and ods.url.startswith("http://127.0.0.1:")
    assert feed(ods, token(ods)).status_code == 200
    ods.control.mint(client_id="made-by-first")
    URLS.append(ods.url)

def test_second(skymock_nrao_ods):
    ids = [c["client_id"] for c in skymock_nrao_ods.control.credentials()]
    assert "made-by-first" not in ids and "skymock-operator" in ids
    skymock_nrao_ods.control.mint(client_id="made-by-second")
    URLS.append(skymock_nrao_ods.url)

@pytest.mark.skymock_keep_state
def test_third_keeps_the_state(skymock_nrao_ods):
    assert "made-by-second" in [c["client_id"] for c in skymock_nrao_ods.control.credentials()]
    URLS.append(skymock_nrao_ods.url)
    assert len(set(URLS)) == 1      # one mock for the session
''')
    result.assert_outcomes(passed=3)


def test_clock_journal_and_faults_act_on_the_mock_the_test_uses(pytester):
    result = run(pytester, '''
from datetime import timedelta

def test_token_expiry_on_the_virtual_clock(skymock_nrao_ods, skymock_clock, skymock_journal):
    start = skymock_clock.freeze()
    assert skymock_clock.frozen and skymock_clock.now() == start
    value = token(skymock_nrao_ods)
    assert feed(skymock_nrao_ods, value).status_code == 200
    assert skymock_clock.advance(timedelta(hours=1, seconds=1)) == start + timedelta(seconds=3601)
    refused = feed(skymock_nrao_ods, value)
    assert refused.status_code == 403 and refused.json() == {"detail": "Token has expired"}
    assert skymock_journal.requests() == ["POST /token/", "GET /ods_data/", "GET /ods_data/"]
    assert [(e["status"], e["auth"]) for e in skymock_journal.entries("/ods_data/")] == [(200, "valid"), (403, "expired")]
    skymock_journal.clear()
    assert skymock_journal.count() == 0

def test_an_injected_503_with_retry_after(skymock_nrao_ods, skymock_faults):
    value = token(skymock_nrao_ods)
    skymock_faults.inject(503, path="^/ods_data", count=1, retry_after=7)
    assert len(skymock_faults.armed()) == 1
    first = feed(skymock_nrao_ods, value)
    assert first.status_code == 503 and first.headers["Retry-After"] == "7"
    assert feed(skymock_nrao_ods, value).status_code == 200
    assert skymock_faults.armed() == []

def test_the_lco_services_share_one_clock(skymock_lco_observe, skymock_lco_archive, skymock_clock):
    start = skymock_clock.freeze()
    skymock_clock.advance(100)
    assert skymock_clock.now("lco-observe") == skymock_clock.now("lco-archive") == start + timedelta(seconds=100)

def test_a_service_by_id_is_the_fixture_of_that_service(skymock, skymock_dsn, skymock_journal):
    assert skymock("dsn") is skymock_dsn
    mmoda = skymock("mmoda")
    assert mmoda.service_id == "mmoda" and mmoda.url.endswith("/mmoda/dispatch-data")
    assert skymock_journal.count(service="mmoda") == 0

def test_a_clock_without_a_service_says_what_to_ask_for(skymock_clock):
    import pytest
    from mockserver.testing import SkymockError
    with pytest.raises(SkymockError, match="ask for a service fixture such as skymock_nrao_ods"):
        skymock_clock.advance(1)
''')
    result.assert_outcomes(passed=5)


def test_the_session_settings_can_be_overridden_in_a_conftest(pytester):
    pytester.makeconftest('''
import pytest
from mockserver.core.service import Settings

@pytest.fixture(scope="session")
def skymock_settings():
    return Settings(token_ttl=60, seed=7)
''')
    result = run(pytester, '''
def test_short_lived_tokens(skymock_nrao_ods, skymock_clock):
    assert skymock_nrao_ods.control.health()["seed"] == 7
    skymock_clock.freeze()
    value = token(skymock_nrao_ods)
    skymock_clock.advance(61)
    assert feed(skymock_nrao_ods, value).status_code == 403
''')
    result.assert_outcomes(passed=1)


REAL_OR_MOCK = '''
import pytest

@pytest.mark.skymock_real
def test_feed_anywhere(skymock_nrao_ods):
    assert feed(skymock_nrao_ods, token(skymock_nrao_ods)).status_code == 200
    print("TARGET", skymock_nrao_ods.target, skymock_nrao_ods.url)

def test_mock_only(skymock_nrao_ods):
    pass

@pytest.mark.skymock_real
def test_needs_the_clock(skymock_nrao_ods, skymock_clock):
    pass
'''


@pytest.fixture
def no_real_credentials(monkeypatch):
    for name in ("SKYMOCK_TARGET", "SKYMOCK_NRAO_ODS_URL", "SKYMOCK_NRAO_ODS_CLIENT_ID", "SKYMOCK_NRAO_ODS_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_real_target_without_credentials_skips_saying_which_variables_to_set(pytester, no_real_credentials):
    result = run(pytester, REAL_OR_MOCK, "--skymock-target=real")
    result.assert_outcomes(skipped=3)
    result.stdout.fnmatch_lines([
        "SKIPPED * real service: NRAO ODS API at https://ods.nrao.edu: "
        "set SKYMOCK_NRAO_ODS_CLIENT_ID and SKYMOCK_NRAO_ODS_CLIENT_SECRET to run against it",
        "SKIPPED * runs on the mock only: mark it @pytest.mark.skymock_real if it is safe against the real service",
    ])


def test_the_real_target_with_credentials_runs_the_marked_tests_there(pytester, no_real_credentials):
    # Another Skymock mock stands in for the real service: only its URL and credentials are given.
    with LiveServer("nrao-ods") as stand_in:
        login = ControlApi(stand_in.root).credentials()[0]
        no_real_credentials.setenv("SKYMOCK_NRAO_ODS_URL", stand_in.url)
        no_real_credentials.setenv("SKYMOCK_NRAO_ODS_CLIENT_ID", login["client_id"])
        no_real_credentials.setenv("SKYMOCK_NRAO_ODS_CLIENT_SECRET", login["client_secret"])
        result = run(pytester, REAL_OR_MOCK, "--skymock-target=real", "-s")
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines([f"*TARGET real {stand_in.url}*",
                                 "SKIPPED * needs the mock's virtual clock; the real service has none"])


def test_both_targets_run_the_marked_tests_twice(pytester, no_real_credentials):
    result = run(pytester, REAL_OR_MOCK, "--skymock-target=both", "-v")
    result.assert_outcomes(passed=3, skipped=2)
    result.stdout.fnmatch_lines(["*test_feed_anywhere?mock? PASSED*", "*test_feed_anywhere?real? SKIPPED*",
                                 "*test_mock_only PASSED*"])



def test_the_readme_example_passes_and_fails_for_a_client_that_does_not_refresh(pytester, monkeypatch):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("## In your own pytest suite", 1)[1]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert len([line for line in example.splitlines() if line.strip()]) <= 10
    pytester.makepyfile(test_readme=example)
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
    # a client that keeps its dead token fails the example
    from clients._http import ApiSession
    keep = ApiSession.token
    monkeypatch.setattr(ApiSession, "token", lambda self, force=False: keep(self))
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(failed=1)
