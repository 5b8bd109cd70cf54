"""clients/okapi.py against a live OKAPI mock: login, waiting, renewal, typed helpers, the command."""
from __future__ import annotations

from typing import Iterator

import pytest
from okapidata import GROUND, NOW, TLE, WINDOW
from sandbox import Control

from clients import okapi as cli
from clients._http import ApiError, ApiSession, RetryPolicy
from clients.okapi import AUTH0_TOKEN_URL, OkapiClient, token_url_for
from mockserver.core.clock import parse_instant
from mockserver.core.service import Settings
from mockserver.server import LiveServer


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer("okapi", Settings(clock_start=parse_instant(NOW), frozen=True)) as live:
        yield live


@pytest.fixture
def mock(server) -> Control:
    control = Control(server.root)
    control.call("POST", "/reset")
    control.call("POST", "/jobs", json={"seconds": None, "polls": 2})
    return control


def client_for(server, mock, clock: FakeTime | None = None) -> OkapiClient:
    user = mock.call("GET", "/credentials")["credentials"][0]
    clock = clock or FakeTime()
    session = ApiSession(server.url, sleep=clock.sleep, monotonic=clock.monotonic,
                         retry=RetryPolicy(backoff_base=0.01))
    return OkapiClient(user["username"], user["password"], server.url, session=session)


def logins(mock: Control) -> list[int]:
    return [e["status"] for e in mock.journal("/oauth/token")]


def test_the_token_url_is_auth0_for_okapi_and_the_base_url_for_a_mock():
    assert token_url_for("https://api.okapiorbits.com/") == AUTH0_TOKEN_URL
    assert token_url_for("http://127.0.0.1:8707") == "http://127.0.0.1:8707/oauth/token"


def test_predict_passes_logs_in_once_waits_through_202_and_returns_typed_passes(server, mock):
    clock = FakeTime()
    client = client_for(server, mock, clock)
    seen = []
    passes = client.predict_passes(TLE, GROUND["latitude"], GROUND["longitude"], GROUND["altitude"],
                                   WINDOW["start"], WINDOW["end"], progress=lambda n, text: seen.append((n, text)))
    assert len(passes) >= 2 and passes[0].start < passes[0].max_elevation_epoch < passes[0].end
    assert [n for n, _ in seen] == [1, 2, 3] and "still being processed" in seen[0][1] and seen[-1][1] == "Done"
    assert clock.sleeps == [1.0, 1.0, 1.5]                 # a pause before the first look, then growing waits
    assert logins(mock) == [200]


def test_propagate_returns_states_at_the_step(server, mock):
    states = client_for(server, mock).propagate(TLE, "2018-08-07T00:00:00Z", step=3600)
    assert states[-1].epoch == "2018-08-07T00:00:00.000Z" and len(states) == 7
    assert 6600 < (states[0].x ** 2 + states[0].y ** 2 + states[0].z ** 2) ** 0.5 < 6900


def test_a_revoked_token_is_replaced_once_and_the_request_repeated(server, mock):
    client = client_for(server, mock)
    client.propagate(TLE, "2018-08-07T00:00:00Z", step=3600)
    mock.call("POST", "/tokens/expire", json={})
    client.propagate(TLE, "2018-08-07T00:00:00Z", step=3600)
    assert logins(mock) == [200, 200]
    requests_sent = [e["status"] for e in mock.journal("/propagate-orbit/sgp4/requests")]
    assert requests_sent == [202, 401, 202]


def test_the_token_is_renewed_before_its_day_is_over_without_a_401(server, mock):
    clock = FakeTime()
    client = client_for(server, mock, clock)
    client.propagate(TLE, "2018-08-07T00:00:00Z", step=3600)
    clock.now += 86_400 - 200                      # inside the last five minutes of the token's day
    client.propagate(TLE, "2018-08-07T00:00:00Z", step=3600)
    assert logins(mock) == [200, 200]
    assert 401 not in [e["status"] for e in mock.journal()]


def test_a_wrong_password_is_reported_with_auth0s_words(server, mock):
    client = OkapiClient("analyst@okapi.example", "wrong", server.url)
    with pytest.raises(ApiError) as caught:
        client.send("predict-passes", "sgp4", {})
    assert caught.value.status == 403 and "Wrong email or password." in str(caught.value)


def test_waiting_gives_up_at_the_timeout(server, mock):
    mock.call("POST", "/jobs", json={"seconds": None, "polls": 100})
    clock = FakeTime()
    client = client_for(server, mock, clock)
    request_id = client.send("predict-passes", "sgp4", {"tle": TLE, "simple_ground_location": GROUND,
                                                       "time_window": WINDOW})
    with pytest.raises(TimeoutError, match="not done after 10 s"):
        client.wait("predict-passes", "sgp4", request_id, timeout=10)
    assert sum(clock.sleeps) <= 10


def test_a_503_with_retry_after_is_waited_out(server, mock):
    mock.call("POST", "/faults", json={"status": 503, "count": 1, "path": "/results/", "retry_after": 7})
    clock = FakeTime()
    client = client_for(server, mock, clock)
    client.propagate(TLE, "2018-08-07T00:00:00Z", step=3600)
    assert 7 in clock.sleeps


def test_the_command_prints_a_table_of_passes(server, mock, tmp_path, capsys, monkeypatch):
    mock.call("POST", "/jobs", json={"seconds": None, "polls": None})
    user = mock.call("GET", "/credentials")["credentials"][0]
    tle = tmp_path / "iss.tle"
    tle.write_text(TLE + "\n")
    monkeypatch.setenv("OKAPI_USERNAME", user["username"])
    monkeypatch.setenv("OKAPI_PASSWORD", user["password"])
    code = cli.main(["--base-url", server.url, "--quiet", "--env-file", str(tmp_path / "none.env"), "passes",
                     "--tle", str(tle), "--lat", str(GROUND["latitude"]), "--lon", str(GROUND["longitude"]),
                     "--alt", str(GROUND["altitude"]), "--start", WINDOW["start"], "--end", WINDOW["end"]])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0].split()[:3] == ["AOS", "(UTC)", "LOS"] and "pass(es)" in out.splitlines()[-1]


def test_the_command_without_credentials_says_what_to_set(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("OKAPI_USERNAME", raising=False)
    monkeypatch.delenv("OKAPI_PASSWORD", raising=False)
    code = cli.main(["--env-file", str(tmp_path / "none.env"), "propagate", "--tle", "x", "--end", "2018-08-08T00:00Z"])
    assert code == 2 and "OKAPI_USERNAME" in capsys.readouterr().err


def test_waiting_honours_the_retry_after_of_a_202(server, mock):
    mock.call("POST", "/jobs", json={"seconds": None, "polls": 2, "retry_after": 4})
    clock = FakeTime()
    client_for(server, mock, clock).propagate(TLE, "2018-08-07T00:00:00Z", step=3600)
    assert clock.sleeps == [1.0, 4.0, 4.0]                  # Retry-After wins over its own 1 s and 1.5 s
