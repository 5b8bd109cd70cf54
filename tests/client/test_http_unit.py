"""Unit tests of clients._http against a scripted in-process transport.

No server and no real waiting: a fake requests adapter answers from a script
and records what was sent, and a fake clock stands in for sleep/monotonic.
"""
from __future__ import annotations

import json
import os
from email.utils import formatdate
from typing import Any, Callable

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from clients._http import (ApiError, ApiSession, RetryPolicy, Token, TokenAuth,
                           parse_retry_after, poll, settings_from)

BASE = "http://fake.test"


class FakeClock:
    """monotonic() reads the virtual time; sleep() records and advances it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class FakeTransport(BaseAdapter):
    """Answers /token with tok-1, tok-2, ... and other paths from a script."""

    def __init__(self, script: list[Any] | None = None) -> None:
        super().__init__()
        self.script = list(script or [])
        self.sent: list[requests.PreparedRequest] = []
        self.tokens_issued = 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sent.append(request)
        if request.path_url.startswith("/token"):
            self.tokens_issued += 1
            return self._response(request, 200, {"token": f"tok-{self.tokens_issued}"}, {})
        reply = self.script.pop(0) if self.script else (200, {"ok": True}, {})
        if isinstance(reply, Exception):
            raise reply
        status, body, headers = reply
        return self._response(request, status, body, headers)

    @staticmethod
    def _response(request: requests.PreparedRequest, status: int, body: Any,
                  headers: dict[str, str]) -> requests.Response:
        resp = requests.Response()
        resp.status_code = status
        resp._content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        resp.headers = CaseInsensitiveDict(headers)
        resp.url = request.url or ""
        resp.request = request
        resp.encoding = "utf-8"
        return resp

    def close(self) -> None:
        pass

    def api_requests(self) -> list[requests.PreparedRequest]:
        return [r for r in self.sent if not r.path_url.startswith("/token")]


class FakeAuth(TokenAuth):
    """Fetches tokens from the fake /token endpoint with a chosen lifetime."""

    def __init__(self, dead: set[int], lifetime: float | None = None,
                 margin: float = 5.0) -> None:
        self.dead_statuses = frozenset(dead)
        self.lifetime = lifetime
        self.refresh_margin = margin

    def fetch(self, session: ApiSession) -> Token:
        resp = session.request("POST", "/token/", data={"secret": "s3cret"}, authenticate=False)
        return Token.expiring(resp.json()["token"], self.lifetime, session.monotonic())


def make_session(script: list[Any] | None = None, *, dead: set[int] = frozenset({403}),
                 lifetime: float | None = None, auth: bool = True,
                 retry: RetryPolicy | None = None) -> tuple[ApiSession, FakeTransport, FakeClock]:
    clock = FakeClock()
    transport = FakeTransport(script)
    http = requests.Session()
    http.mount("http://", transport)
    session = ApiSession(BASE, auth=FakeAuth(set(dead), lifetime) if auth else None,
                         retry=retry, sleep=clock.sleep, monotonic=clock.monotonic,
                         session=http)
    return session, transport, clock


def bearer(request: requests.PreparedRequest) -> str | None:
    return request.headers.get("Authorization")


# -- tokens ----------------------------------------------------------------
def test_token_fetched_once_and_reused() -> None:
    session, transport, _ = make_session()
    for _ in range(3):
        session.request("GET", "/data")
    assert transport.tokens_issued == 1
    assert [bearer(r) for r in transport.api_requests()] == ["Bearer tok-1"] * 3
    assert "user-agent" in {k.lower() for k in transport.sent[-1].headers}
    assert transport.sent[-1].headers["User-Agent"].startswith("skymock-client/")


def test_dead_token_renewed_once_and_request_resent() -> None:
    session, transport, clock = make_session([(403, {"detail": "expired"}, {})])
    resp = session.request("GET", "/data")
    assert resp.status_code == 200
    assert transport.tokens_issued == 2
    assert [bearer(r) for r in transport.api_requests()] == ["Bearer tok-1", "Bearer tok-2"]
    assert clock.sleeps == []  # renewal is not a retry: no backoff


def test_persistent_dead_status_raises_without_looping() -> None:
    denied = (403, {"detail": "scope ods:write required"}, {})
    session, transport, _ = make_session([denied, denied, denied, denied])
    with pytest.raises(ApiError) as err:
        session.request("GET", "/data")
    assert err.value.status == 403
    assert "scope ods:write required" in str(err.value)
    assert transport.tokens_issued == 2
    assert len(transport.api_requests()) == 2


def test_dead_status_is_per_auth_strategy() -> None:
    # 401 is not "dead" for an auth whose dead statuses are {403}.
    session, transport, _ = make_session([(401, {"detail": "nope"}, {})])
    with pytest.raises(ApiError):
        session.request("GET", "/data")
    assert transport.tokens_issued == 1


def test_proactive_refresh_when_token_nearly_expired() -> None:
    session, transport, clock = make_session(lifetime=100.0)  # margin 5 s
    session.request("GET", "/data")
    clock.now += 94.0  # 6 s left: still good
    session.request("GET", "/data")
    assert transport.tokens_issued == 1
    clock.now += 1.0  # 5 s left: within the margin
    session.request("GET", "/data")
    assert transport.tokens_issued == 2
    assert bearer(transport.api_requests()[-1]) == "Bearer tok-2"


def test_token_repr_and_errors_do_not_leak_secrets() -> None:
    assert "abc123" not in repr(Token("abc123", 5.0))
    session, transport, _ = make_session([(400, {"detail": "bad"}, {})])
    with pytest.raises(ApiError) as err:
        session.request("GET", "/data", params={"api_key": "k3y"})
    assert "tok-1" not in str(err.value) and "k3y" not in str(err.value)
    assert "k3y" not in err.value.url


# -- retries ---------------------------------------------------------------
def test_retry_after_seconds_honoured() -> None:
    session, transport, clock = make_session([(503, "busy", {"Retry-After": "7"})])
    assert session.request("GET", "/data").status_code == 200
    assert len(clock.sleeps) == 1 and clock.sleeps[0] >= 7
    assert len(transport.api_requests()) == 2


def test_retry_after_http_date_honoured() -> None:
    wall = 1_700_000_000.0
    retry = RetryPolicy(wall_clock=lambda: wall)
    date = formatdate(wall + 20, usegmt=True)
    session, _, clock = make_session([(429, "slow down", {"Retry-After": date}),
                                      (429, "slow down", {"Retry-After": "3"})], retry=retry)
    session.request("GET", "/data")
    assert clock.sleeps[0] >= 20 and clock.sleeps[1] >= 3


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after("12", now=0) == 12
    assert parse_retry_after(formatdate(100, usegmt=True), now=40) == 60
    assert parse_retry_after(formatdate(10, usegmt=True), now=40) == 0  # date in the past
    assert parse_retry_after("soon", now=0) is None
    assert parse_retry_after(None, now=0) is None


def test_retries_stop_at_max_attempts() -> None:
    session, transport, clock = make_session([(500, "boom", {})] * 10)
    with pytest.raises(ApiError) as err:
        session.request("GET", "/data")
    assert err.value.status == 500
    assert len(transport.api_requests()) == 4
    assert clock.sleeps == [0.5, 1.0, 2.0]  # exponential backoff between attempts
    assert "4 attempts" in str(err.value)


def test_client_error_not_retried_and_detail_reported() -> None:
    session, transport, clock = make_session([(400, {"detail": "row 3, column az: not a number"}, {})])
    with pytest.raises(ApiError) as err:
        session.request("POST", "/upload")
    assert len(transport.api_requests()) == 1 and clock.sleeps == []
    assert "row 3, column az: not a number" in str(err.value)
    assert err.value.method == "POST" and err.value.url == BASE + "/upload"


def test_validation_error_list_is_joined() -> None:
    body = {"detail": [{"type": "missing", "loc": ["body", "client_id"],
                        "msg": "Field required", "input": None}]}
    session, _, _ = make_session([(422, body, {})], auth=False)
    with pytest.raises(ApiError) as err:
        session.request("POST", "/form")
    assert "body.client_id: Field required" in str(err.value)


def test_retry_after_beyond_cap_gives_up() -> None:
    session, transport, clock = make_session([(429, "later", {"Retry-After": "3600"})])
    with pytest.raises(ApiError) as err:
        session.request("GET", "/data")
    assert err.value.status == 429
    assert clock.sleeps == [] and len(transport.api_requests()) == 1


def test_connection_errors_retried_then_wrapped() -> None:
    session, transport, clock = make_session([requests.ConnectionError("down"),
                                              requests.Timeout("slow")])
    assert session.request("GET", "/data").status_code == 200
    assert len(clock.sleeps) == 2
    session, _, _ = make_session([requests.ConnectionError("down")] * 4)
    with pytest.raises(ApiError) as err:
        session.request("GET", "/data")
    assert err.value.status is None


def test_upload_resent_intact_on_retry() -> None:
    content = b"SAT-1\n1 25544U ...\n2 25544 ...\n" * 50
    session, transport, _ = make_session([(503, "busy", {}), (201, {"ingested_records": 50}, {})])
    resp = session.request("POST", "/tle_data", expected=(201,),
                           files={"tle_file": ("sats.tle", content, "text/plain")})
    assert resp.json() == {"ingested_records": 50}
    uploads = transport.api_requests()
    assert len(uploads) == 2
    for req in uploads:
        body = req.body if isinstance(req.body, bytes) else b""
        assert content in body
        assert b'name="tle_file"; filename="sats.tle"' in body
        assert b"Content-Type: text/plain" in body


def test_base_url_path_prefix_kept() -> None:
    transport = FakeTransport()
    http = requests.Session()
    http.mount("http://", transport)
    ApiSession(BASE + "/nrao/", session=http).request("GET", "/ods_data/")
    assert transport.sent[-1].url == BASE + "/nrao/ods_data/"


# -- poll ------------------------------------------------------------------
def counter() -> tuple[Callable[[], int], list[int]]:
    """A status source returning 1, 2, 3, ... and recording its calls."""
    calls: list[int] = []

    def fetch() -> int:
        calls.append(len(calls) + 1)
        return calls[-1]
    return fetch, calls


def test_poll_returns_when_done_and_backs_off() -> None:
    clock = FakeClock()
    fetch, calls = counter()
    seen: list[int] = []
    result = poll(fetch, lambda n: n >= 5, interval=1.0, timeout=100, max_interval=2.0,
                  progress=seen.append, sleep=clock.sleep, monotonic=clock.monotonic)
    assert result == 5 and calls == [1, 2, 3, 4, 5] and seen == [1, 2, 3, 4, 5]
    assert clock.sleeps == [1.0, 1.5, 2.0, 2.0]


def test_poll_times_out() -> None:
    clock = FakeClock()
    fetch, calls = counter()
    with pytest.raises(TimeoutError):
        poll(fetch, lambda n: False, interval=2.0, timeout=7.0,
             sleep=clock.sleep, monotonic=clock.monotonic)
    assert sum(clock.sleeps) == pytest.approx(7.0)
    assert len(calls) == 5  # at 0, 2, 4, 6 and a last look at the deadline


def test_session_poll_uses_session_clock() -> None:
    session, _, clock = make_session(auth=False)
    states = iter(["queued", "running", "done"])
    assert session.poll(lambda: next(states), lambda s: s == "done",
                        interval=3, timeout=60) == "done"
    assert clock.sleeps == [3, 3]


# -- settings --------------------------------------------------------------
def test_settings_precedence(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / "svc.env"
    env_file.write_text("SVC_A=from-file\nSVC_B=from-file\nSVC_C=from-file\nSVC_D=${HOME}x\n")
    monkeypatch.setenv("SVC_B", "from-env")
    monkeypatch.setenv("SVC_C", "from-env")
    monkeypatch.delenv("SVC_A", raising=False)
    monkeypatch.delenv("SVC_D", raising=False)
    got = settings_from("SVC", args={"a": None, "b": None, "c": "from-arg"},
                        env_file=str(env_file), names=("d", "e"))
    assert got == {"a": "from-file", "b": "from-env", "c": "from-arg",
                   "d": "${HOME}x", "e": None}
    assert "SVC_A" not in os.environ  # the dotenv file was read, not loaded


def test_settings_without_env_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SVC_X", "")
    assert settings_from("SVC_", args={"x": None}, env_file=None) == {"x": None}


def test_a_write_whose_answer_was_lost_is_not_resent() -> None:
    session, transport, clock = make_session([(504, "gateway timeout", {}), (201, {"id": 1}, {})])
    with pytest.raises(ApiError) as err:
        session.request("POST", "/bookings", json={"slot": 1}, expected=(201,))
    assert len(transport.api_requests()) == 1 and clock.sleeps == []
    assert "may have done it" in str(err.value)


def test_a_write_refused_unprocessed_or_marked_idempotent_is_resent() -> None:
    session, transport, _ = make_session([(503, "busy", {"Retry-After": "1"}), (201, {"id": 1}, {})])
    assert session.request("POST", "/bookings", json={}, expected=(201,)).status_code == 201
    session, transport, _ = make_session([(500, "boom", {}), (200, {"token": "t"}, {})])
    assert session.request("POST", "/search", data={}, idempotent=True).status_code == 200
    assert len(transport.api_requests()) == 2
