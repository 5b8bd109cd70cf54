"""The /__skymock control API, as users' tests and CI scripts call it."""
from __future__ import annotations

import time

import pytest

START = "2026-05-06T10:00:00Z"


@pytest.fixture
def mock(make_mock):
    return make_mock("nrao-ods")


def test_clock_get_set_freeze_advance(mock):
    http = mock.http
    assert set(http.get("/__skymock/clock").json()) == {"now", "frozen"}
    frozen = http.post("/__skymock/clock", json={"set": START, "frozen": True}).json()
    assert frozen == {"now": START, "frozen": True}
    time.sleep(1.1)
    assert http.get("/__skymock/clock").json()["now"] == START
    assert http.post("/__skymock/clock", json={"advance": 3600}).json()["now"] == "2026-05-06T11:00:00Z"
    running = http.post("/__skymock/clock", json={"frozen": False}).json()
    assert running == {"now": "2026-05-06T11:00:00Z", "frozen": False}


@pytest.mark.parametrize("body, field", [({"advance": "soon"}, "advance"), ({"set": "yesterday"}, "set"),
                                         ({"frozen": "yes"}, "frozen"), ({}, "advance"),
                                         ({"advance": 1e12}, "advance")])
def test_bad_clock_change_is_400_naming_the_field(mock, body, field):
    answer = mock.http.post("/__skymock/clock", json=body)
    assert answer.status_code == 400
    assert answer.json()["field"] == field


def test_reset_restores_seeded_state(mock):
    http = mock.http
    http.post("/__skymock/clock", json={"set": START, "frozen": True})
    http.post("/__skymock/credentials", json={"owner": "x"})
    http.post("/__skymock/faults", json={"status": 500})
    http.get("/ods_data/")
    assert mock.journal()
    answer = http.post("/__skymock/reset")
    assert answer.status_code == 200 and answer.json()["reset"] is True
    assert len(mock.credentials()) == 2
    assert http.get("/__skymock/faults").json() == {"faults": []}
    assert mock.journal() == []
    assert http.get("/__skymock/clock").json()["frozen"] is False


def test_demo_credentials_are_deterministic_per_seed(make_mock):
    assert make_mock("nrao-ods", seed=1).credentials() == make_mock("nrao-ods", seed=1).credentials()
    assert make_mock("nrao-ods", seed=1).credentials() != make_mock("nrao-ods", seed=2).credentials()
    fields = set(make_mock("nrao-ods").credentials()[0])
    assert {"client_id", "client_secret", "owner", "scopes"} <= fields


def test_expiring_an_unknown_token_is_404(mock):
    answer = mock.http.post("/__skymock/tokens/expire", json={"token": "never-issued"})
    assert answer.status_code == 404
    assert answer.json()["field"] == "token"


def test_journal_lists_client_requests_and_clears(mock):
    mock.http.get("/ods_data/", params={"x": "1"})
    mock.http.get("/__skymock/clock")  # control calls are not the client's traffic
    [entry] = mock.journal()
    assert entry["method"] == "GET" and entry["path"] == "/ods_data/" and entry["query"] == "x=1"
    assert entry["status"] == 403 and entry["auth"] == "missing"
    assert mock.http.delete("/__skymock/journal").json() == {"cleared": 1}
    assert mock.journal() == []


def test_fault_with_count_status_and_retry_after(mock):
    armed = mock.http.post("/__skymock/faults", json={"status": 429, "count": 2, "path": "^/ods_data",
                                                      "retry_after": 7, "message": "slow down"})
    assert armed.status_code == 201
    for _ in range(2):
        answer = mock.http.get("/ods_data/")
        assert answer.status_code == 429
        assert answer.headers["Retry-After"] == "7"
        assert answer.json() == {"detail": "slow down"}  # in the service's own error shape
    assert mock.http.get("/ods_data/").status_code == 403  # spent: the service answers again
    assert mock.http.get("/__skymock/faults").json() == {"faults": []}
    assert [e["notes"] for e in mock.journal()] == [["fault"], ["fault"], []]


def test_fault_path_and_method_filters(mock):
    mock.http.post("/__skymock/faults", json={"status": 500, "path": "^/tle_data$", "method": "POST"})
    assert mock.http.get("/ods_data/").status_code == 403
    assert mock.http.post("/tle_data").status_code == 500
    assert mock.http.post("/tle_data").status_code == 500  # no count: until cleared
    assert mock.http.delete("/__skymock/faults").json() == {"cleared": 1}
    assert mock.http.post("/tle_data").status_code == 403


def test_latency_fault_delays_without_changing_the_answer(mock):
    mock.http.post("/__skymock/faults", json={"latency_ms": 300, "count": 1})
    started = time.perf_counter()
    answer = mock.http.get("/ods_data/")
    assert time.perf_counter() - started >= 0.3
    assert answer.status_code == 403


@pytest.mark.parametrize("body, field", [({"status": 200}, "status"), ({"status": 500, "path": "("}, "path"),
                                         ({"status": 500, "count": 0}, "count"), ({}, "status"),
                                         ({"latency_ms": -1}, "latency_ms")])
def test_bad_fault_is_400_naming_the_field(mock, body, field):
    answer = mock.http.post("/__skymock/faults", json=body)
    assert answer.status_code == 400
    assert answer.json()["field"] == field


def test_health_names_the_service(mock):
    assert mock.http.get("/__skymock/health").json()["service"] == "nrao-ods"


def test_swagger_ui_for_the_service_and_the_control_api(mock):
    for path in ("/ui/", "/__skymock/ui/"):
        answer = mock.http.get(path)
        assert answer.status_code == 200 and "swagger" in answer.text.lower()
    assert mock.http.get("/openapi.json").json()["info"]["title"] == "NRAO ODS API"
