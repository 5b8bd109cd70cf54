"""The published okapi-python-connector, unmodified, against a live OKAPI mock."""
from __future__ import annotations

from typing import Iterator

import pytest
from okapidata import NOW, pass_request, propagation_request
from sandbox import Control

from clients.okapi_connector import auth0_at
from mockserver.core.clock import parse_instant
from mockserver.core.service import Settings
from mockserver.server import LiveServer

okapi_init = pytest.importorskip("okapi_pkg.okapi_init").okapi_init
okapi_send_request = pytest.importorskip("okapi_pkg.okapi_send_request").okapi_send_request
okapi_get_result = pytest.importorskip("okapi_pkg.okapi_get_result").okapi_get_result


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer("okapi", Settings(clock_start=parse_instant(NOW))) as live:
        yield live


@pytest.fixture
def okapi(server):
    control = Control(server.root)
    control.call("POST", "/reset")
    control.call("POST", "/jobs", json={"seconds": None, "polls": 2})
    user = control.call("GET", "/credentials")["credentials"][0]
    with auth0_at(server.url):
        login, error = okapi_init(server.url + "/", user["username"], user["password"])
    assert error == {"message": "NONE", "status": "OK", "web_status": 200}
    return login, control


def test_okapi_init_logs_in_through_the_mock_and_the_login_carries_a_bearer_token(okapi):
    login, _ = okapi
    assert login["header"]["Authorization"].startswith("Bearer ey")
    assert login["token"]["expires_in"] == 86400 and login["header"]["expires_in"] == "86400"


def test_a_wrong_password_is_reported_as_the_connector_reports_auth0s_403(server):
    with auth0_at(server.url):
        login, error = okapi_init(server.url + "/", "analyst@okapi.example", "wrong")
    assert login == {}
    assert error == {"message": "Got error from Auth0: invalid_grant: Wrong email or password.",
                     "status": "FATAL", "web_status": 403}


def test_auth0_at_only_routes_the_login_while_it_is_active(server):
    with auth0_at(server.url) as target:
        assert target == server.url + "/oauth/token"
    login, error = okapi_init(server.url + "/", "a", "b")      # the real Auth0 address again: unreachable here
    assert login == {} and error["status"] == "FATAL" and error["web_status"] != 200


def test_send_then_poll_through_202_to_the_passes(okapi):
    login, control = okapi
    request, error = okapi_send_request(login, pass_request(), "predict-passes/sgp4/requests")
    assert error["status"] == "NONE" and error["web_status"] == 202 and set(request) == {"id"}
    statuses = []
    while True:
        result, error = okapi_get_result(login, request, "predict-passes/sgp4/results/{}/simple")
        statuses.append((error["web_status"], error["status"]))
        if error["web_status"] != 202:
            break
        assert error["message"] == "Result has been accepted but not been fully processed yet."
        assert len(statuses) < 10
    assert statuses == [(202, "WARNING"), (202, "WARNING"), (200, "NONE")]
    assert error["message"] == "Done" and len(result["pass_predictions"]) >= 2
    polls = [e for e in control.journal() if "/results/" in e["path"]]
    assert [e["status"] for e in polls] == [202, 202, 200]


def test_propagation_with_the_connector_and_a_leading_slash_endpoint(okapi):
    login, _ = okapi
    request, error = okapi_send_request(login, propagation_request(), "/propagate-orbit/neptune/requests")
    assert error["web_status"] == 202
    for _ in range(5):
        result, error = okapi_get_result(login, request, "propagate-orbit/neptune/results/{}/oem")
        if error["web_status"] == 200:
            break
    assert error["status"] == "REMARK" and "NEPTUNE is simulated" in error["message"]
    assert result["orbit"]["OEM_META_DATA_DATA"][0]["OEM_DATA"][0]["X"] != 0


def test_errors_reach_the_caller_as_the_connector_reports_them(okapi, server):
    login, control = okapi
    bad = pass_request(time_window={"type": "tw.json", "content": {"start": "2018-08-08T00:00:00Z",
                                                                   "end": "2018-08-07T00:00:00Z"}})
    request, error = okapi_send_request(login, bad, "predict-passes/sgp4/requests")
    assert error["status"] == "FATAL" and error["web_status"] == 400
    result, error = okapi_get_result(login, {"id": "0b9f0c2e-0000-4000-8000-000000000000"},
                                     "predict-passes/sgp4/results/{}/simple")
    assert result == {} and error["web_status"] == 404
    control.call("POST", "/tokens/expire", json={})
    request, error = okapi_send_request(login, pass_request(), "predict-passes/sgp4/requests")
    assert error["status"] == "FATAL" and error["web_status"] == 401


def test_a_server_error_carries_state_msg_so_the_connector_can_read_it(okapi):
    login, control = okapi
    control.call("POST", "/faults", json={"status": 500, "count": 1, "path": "/requests$"})
    request, error = okapi_send_request(login, pass_request(), "predict-passes/sgp4/requests")
    assert error["status"] == "FATAL" and error["web_status"] == 500

