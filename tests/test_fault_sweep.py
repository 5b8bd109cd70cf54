"""Every kind of fault the control API accepts, and every scenario's timeline, against each service on a real
socket: injected answers are exactly as configured, the service's own answers are never 5xx, malformed fault
bodies are refused in the control API's shape, a reset clears every fault, and the server stays up throughout."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

import pytest
import requests
from lcodata import EXAMPLE
from mmodadata import DUMMY
from odsdata import HEADER, LOG_NAME, TLE_TEXT, log_rows
from okapidata import pass_request

from conformance.scenario import load
from mockserver.core.errors import ApiError
from mockserver.server import LiveServer
from mockserver.services import get_service, service_ids

CONTROL = "/__skymock"
TIMEOUT = 30
#: one of each family a client must tell apart: refusals, conflicts, throttling, outages, the edges of the range
STATUSES = [400, 401, 403, 404, 409, 418, 422, 429, 451, 499, 500, 501, 502, 503, 504, 599]


@dataclass(frozen=True)
class Call:
    """One representative request, its path relative to the service's base path."""
    method: str
    path: str
    options: dict[str, Any] = field(default_factory=dict, hash=False)
    auth: bool = True


def service_calls(service_id: str) -> list[Call]:
    """A few requests that reach each service's main kinds of work: a login, reads, writes."""
    if service_id == "nrao-ods":
        return [Call("POST", "/token/", {"data": {"grant_type": "client_credentials"}}, auth=False),
                Call("GET", "/ods_data/"),
                Call("POST", "/tle_data", {"files": {"tle_file": ("tle.txt", TLE_TEXT, "text/plain")}}),
                Call("POST", "/sat_avoidance_logs",
                     {"files": {"file": (LOG_NAME, HEADER + log_rows(3), "text/csv")}})]
    if service_id == "dsn":
        slot = {"start": "2031-03-01T10:00:00Z", "end": "2031-03-01T10:20:00Z", "gs_id": "3886"}
        return [Call("GET", "/satellites", {"params": {"start": 0, "limit": 3}}, auth=False),
                Call("POST", "/passes/search", {"json": {"noradId": 25544, "days": 1, "groundStationIds": ["3886"]}}),
                Call("POST", "/bookings", {"json": {"norad_cat_id": 25544, "type": "data", "slots": [slot]}}),
                Call("GET", "/bookings")]
    if service_id == "okapi":
        return [Call("POST", "/predict-passes/sgp4/requests", {"json": pass_request()}),
                Call("GET", "/predict-passes/sgp4/results/no-such-request/simple"),
                Call("POST", "/oauth/token", {"data": {"grant_type": "password"}}, auth=False)]
    if service_id == "mmoda":
        return [Call("GET", "/run_analysis", {"params": DUMMY}),
                Call("GET", "/api/par-names", {"params": {"instrument": "isgri"}}, auth=False),
                Call("GET", "/api/instr-list", auth=False)]
    if service_id == "lco-observe":
        return [Call("GET", "/proposals/"),
                Call("POST", "/userrequests/validate/", {"json": EXAMPLE}),
                Call("POST", "/userrequests/", {"json": EXAMPLE}),
                Call("GET", "/userrequests/")]
    if service_id == "lco-archive":
        return [Call("GET", "/frames/", {"params": {"limit": 2}}),
                Call("GET", "/profile/"),
                Call("GET", "/frames/aggregate/")]
    if service_id == "lco-thumbnails":
        return [Call("GET", "/1/"), Call("GET", "/1/", {"params": {"width": 100}}, auth=False)]
    raise AssertionError(f"no representative requests for {service_id}")


class Sweep:
    """A live mock of one service, its demo client logged in, and the checks every step ends with."""

    def __init__(self, server: LiveServer, service_id: str) -> None:
        self.server = server
        self.service = get_service(service_id)
        self.base = self.service.base_path.rstrip("/")
        self.calls = service_calls(service_id)
        self.http = requests.Session()
        self.headers: dict[str, str] = {}
        self.params: dict[str, str] = {}
        self.credential: dict[str, Any] = {}

    # --- the control API ---------------------------------------------------------------------------
    def control(self, method: str, path: str, **options: Any) -> requests.Response:
        return self.http.request(method, f"{self.server.root}{CONTROL}{path}", timeout=TIMEOUT, **options)

    def arm(self, **fault: Any) -> dict[str, Any]:
        answer = self.control("POST", "/faults", json=fault)
        assert answer.status_code == 201, answer.text
        return answer.json()

    def faults(self) -> list[dict[str, Any]]:
        return self.control("GET", "/faults").json()["faults"]

    def journal(self) -> list[dict[str, Any]]:
        return self.control("GET", "/journal").json()["entries"]

    def reset(self) -> None:
        """Back to the seeded state, then log in again (a reset forgets every token)."""
        assert self.control("POST", "/reset").json()["reset"] is True
        credential = self.control("GET", "/credentials").json()["credentials"][0]
        self.credential = {k: v for k, v in credential.items() if isinstance(v, str)}
        self.headers = self.service.auth_headers(self.credential)
        self.params = {"token": self.credential["token"]} if self.service.id == "mmoda" else {}
        login = self.service.login
        if login is not None:
            payload = login.payload_for(self.credential)
            body = {"data": payload} if "form" in login.content_type else {"json": payload}
            answer = self.http.post(f"{self.server.root}{login.path}", timeout=TIMEOUT, **body)
            assert answer.status_code == 200, answer.text
            token = answer.json()[login.token_pointer.strip("/")]
            self.headers = {"Authorization": f"Bearer {token}"}
        self.control("DELETE", "/journal")

    # --- the service ---------------------------------------------------------------------------------
    def full_path(self, call: Call) -> str:
        return f"{self.base}{call.path}"

    def pattern(self, call: Call) -> str:
        return f"^{re.escape(self.full_path(call))}$"

    def send(self, call: Call) -> requests.Response:
        """The call, with the login's credential where it needs one (the login itself gets its fields)."""
        options = {key: dict(value) if isinstance(value, dict) else value for key, value in call.options.items()}
        if call.auth:
            options["headers"] = {**self.headers, **options.get("headers", {})}
            if self.params:
                options["params"] = {**options.get("params", {}), **self.params}
        login = self.service.login
        if login is not None and call.path == login.path:
            options["data"] = login.payload_for(self.credential)
        return self.http.request(call.method, f"{self.server.root}{self.full_path(call)}", timeout=TIMEOUT,
                                 allow_redirects=False, **options)

    def own(self, call: Call) -> requests.Response:
        """The service's own answer to the call, which is never a server error."""
        answer = self.send(call)
        assert answer.status_code < 500, (call, answer.status_code, answer.text[:300])
        return answer

    def expect_injected(self, answer: requests.Response, call: Call, status: int, message: str,
                        retry_after: str | None = None) -> None:
        """The answer is the fault's: its status and Retry-After, the message in the service's own error shape."""
        _, body, headers = self.service.error_style_for(self.full_path(call)).render(ApiError(status, message))
        assert answer.status_code == status, (call, answer.status_code, answer.text[:300])
        assert answer.content == (b"" if call.method == "HEAD" else body)
        assert answer.headers["content-type"].split(";")[0] == headers["content-type"]
        assert answer.headers.get("Retry-After") == retry_after

    # --- the checks every step ends with ---------------------------------------------------------------
    def check_alive(self) -> None:
        health = self.control("GET", "/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert health.json()["service"] == self.service.id
        assert self.control("GET", "/clock").status_code == 200

    def check_journal(self) -> None:
        """Every server error in the journal was injected (its entry's notes say "fault")."""
        own_errors = [(e["method"], e["path"], e["status"], e["notes"]) for e in self.journal()
                      if e["status"] >= 500 and "fault" not in e["notes"]]
        assert not own_errors


@pytest.fixture(scope="module", params=service_ids())
def server(request) -> Iterator[LiveServer]:
    with LiveServer(request.param) as live:
        yield live


@pytest.fixture
def sweep(server: LiveServer) -> Iterator[Sweep]:
    sweeping = Sweep(server, server.endpoint.service_id)
    sweeping.reset()
    yield sweeping
    sweeping.check_alive()
    sweeping.check_journal()


def test_every_status_is_answered_exactly_as_armed_then_the_service_answers_again(sweep: Sweep) -> None:
    for i, status in enumerate(STATUSES):
        call = sweep.calls[i % len(sweep.calls)]
        fault: dict[str, Any] = {"status": status, "count": 1, "path": sweep.pattern(call), "method": call.method,
                                 "message": f"Injected {status} for the sweep"}
        if status == 429:
            fault["retry_after"] = 3
        sweep.arm(**fault)
        sweep.expect_injected(sweep.send(call), call, status, fault["message"], "3" if status == 429 else None)
        sweep.own(call)                          # the count is spent
        sweep.check_alive()
    assert sweep.faults() == []
    injected = [e for e in sweep.journal() if "fault" in e["notes"]]
    assert [e["status"] for e in injected] == STATUSES


def test_retry_after_as_seconds_and_as_an_http_date_on_the_sandbox_clock(sweep: Sweep) -> None:
    call = sweep.calls[0]
    sweep.arm(status=429, count=1, retry_after=0, message="Too many requests")
    sweep.expect_injected(sweep.send(call), call, 429, "Too many requests", "0")
    sweep.control("POST", "/clock", json={"set": "2030-01-02T03:04:05Z", "frozen": True})
    sweep.arm(status=503, count=1, retry_after=86_400, retry_after_date=True, message="Down for maintenance")
    sweep.expect_injected(sweep.send(call), call, 503, "Down for maintenance", "Thu, 03 Jan 2030 03:04:05 GMT")


def test_latency_delays_the_services_own_answer_or_an_injected_one(sweep: Sweep) -> None:
    sweep.arm(latency_ms=200, count=len(sweep.calls))
    for call in sweep.calls:
        started = time.perf_counter()
        sweep.own(call)
        assert time.perf_counter() - started >= 0.2
    call = sweep.calls[-1]
    sweep.arm(status=504, latency_ms=200, count=1, message="Gateway timeout")
    started = time.perf_counter()
    sweep.expect_injected(sweep.send(call), call, 504, "Gateway timeout")
    assert time.perf_counter() - started >= 0.2
    assert all("fault" in e["notes"] for e in sweep.journal())


def test_a_fault_after_processing_replaces_the_answer_of_work_done(sweep: Sweep) -> None:
    for call in sweep.calls:
        sweep.arm(status=502, count=1, after_processing=True, retry_after=1, path=sweep.pattern(call),
                  method=call.method.lower(), message="Bad gateway")
        sweep.expect_injected(sweep.send(call), call, 502, "Bad gateway", "1")
        sweep.own(call)
    lost = [e for e in sweep.journal() if "processed" in e["notes"]]
    assert len(lost) == len(sweep.calls) and all(e["status"] == 502 and "fault" in e["notes"] for e in lost)


def test_a_count_fires_that_many_times_and_no_count_fires_until_cleared(sweep: Sweep) -> None:
    first = sweep.calls[0]
    sweep.arm(status=500, count=3, message="Transient")
    for i in range(3):
        [armed] = sweep.faults()
        assert armed["remaining"] == 3 - i
        call = sweep.calls[i % len(sweep.calls)]
        sweep.expect_injected(sweep.send(call), call, 500, "Transient")
    assert sweep.faults() == []
    for call in sweep.calls:
        sweep.own(call)
    sweep.arm(status=503, path=sweep.pattern(first), message="Unavailable")
    for _ in range(3):
        sweep.expect_injected(sweep.send(first), first, 503, "Unavailable")
    for call in sweep.calls:
        if sweep.full_path(call) != sweep.full_path(first):
            sweep.own(call)                       # the path pattern spares them
    assert sweep.control("DELETE", "/faults").json() == {"cleared": 1}
    sweep.own(first)


def test_method_and_path_patterns_choose_the_requests_hit(sweep: Sweep) -> None:
    call = sweep.calls[0]
    other_method = "DELETE" if call.method != "DELETE" else "PATCH"
    sweep.arm(status=500, path=sweep.pattern(call), method=other_method)
    sweep.arm(status=500, path="^/no/such/path$")
    sweep.arm(status=500, path=re.escape(sweep.full_path(call)) + "x")
    for each in sweep.calls:
        sweep.own(each)
    assert len(sweep.faults()) == 3 and all(f["fired"] == 0 for f in sweep.faults())
    # faults fire in the order they were armed; a spent one gives way to the next
    sweep.arm(status=418, count=1, message="first")
    sweep.arm(status=451, count=1, message="second")
    sweep.expect_injected(sweep.send(call), call, 418, "first")
    sweep.expect_injected(sweep.send(call), call, 451, "second")
    sweep.own(call)


def test_a_fault_on_every_path_spares_the_control_api(sweep: Sweep) -> None:
    sweep.arm(status=500, message="Everything is down")
    sweep.arm(latency_ms=5_000)                   # never reached: the first fault answers every request
    for call in sweep.calls:
        sweep.expect_injected(sweep.send(call), call, 500, "Everything is down")
    sweep.check_alive()
    assert sweep.control("GET", "/credentials").status_code == 200
    assert sweep.control("GET", "/jobs").status_code == 200
    assert len(sweep.journal()) == len(sweep.calls)


def odd_requests(sweep: Sweep) -> list[Call]:
    """Requests off the spec's beaten track: HEAD, a method the path lacks, an unknown path, a path that
    redirects (a slash added or taken away)."""
    first = sweep.calls[0]
    odd = [Call("HEAD", first.path, first.options), Call("OPTIONS", first.path), Call("DELETE", first.path),
           Call("GET", "/no/such/path"), Call("PUT", "/no/such/path", {"data": b"x"})]
    if sweep.service.slash_redirect:
        slashed = next((c for c in sweep.calls if c.path.endswith("/") and len(c.path) > 1), None)
        if slashed is not None:
            odd.append(Call(slashed.method, slashed.path[:-1], slashed.options))
    return odd


@pytest.mark.parametrize("fault", [{"status": 503, "retry_after": 2}, {"status": 502, "after_processing": True}],
                         ids=["before", "after-processing"])
def test_a_fault_answers_odd_requests_too(sweep: Sweep, fault: dict[str, Any]) -> None:
    sweep.arm(**fault)
    for call in odd_requests(sweep):
        sweep.expect_injected(sweep.send(call), call, fault["status"], "Injected fault",
                              str(fault["retry_after"]) if "retry_after" in fault else None)
    sweep.control("DELETE", "/faults")
    for call in odd_requests(sweep):
        sweep.own(call)


# (body, the field the refusal names)
MALFORMED = [
    ({}, "status"), ({"status": 200}, "status"), ({"status": 600}, "status"), ({"status": "500"}, "status"),
    ({"status": True}, "status"), ({"status": 500.0}, "status"), ({"status": None, "latency_ms": 0}, "status"),
    ({"latency_ms": -1}, "latency_ms"), ({"latency_ms": 60_001}, "latency_ms"), ({"latency_ms": "fast"}, "latency_ms"),
    ({"status": 500, "count": 0}, "count"), ({"status": 500, "count": 10**30}, "count"),
    ({"status": 500, "path": "("}, "path"), ({"status": 500, "path": 5}, "path"),
    ({"status": 500, "path": "a{4294967296}"}, "path"), ({"status": 500, "path": "(?<=a+)b"}, "path"),
    ({"status": 500, "method": "G E T"}, "method"), ({"status": 500, "method": 7}, "method"),
    ({"status": 500, "method": ""}, "method"),
    ({"status": 429, "retry_after": -1}, "retry_after"), ({"status": 429, "retry_after": 86_401}, "retry_after"),
    ({"status": 503, "retry_after_date": True}, "retry_after_date"),
    ({"status": 503, "retry_after": 1, "retry_after_date": "yes"}, "retry_after_date"),
    ({"latency_ms": 100, "after_processing": True}, "after_processing"),
    ({"status": 500, "after_processing": 1}, "after_processing"),
    ({"status": 500, "message": 5}, "message"), ({"status": 500, "delay": 5}, "body"),
]


def test_malformed_fault_bodies_are_refused_in_the_control_apis_shape(sweep: Sweep) -> None:
    for body, named in MALFORMED:
        answer = sweep.control("POST", "/faults", json=body)
        assert answer.status_code == 400, (body, answer.status_code, answer.text)
        refusal = answer.json()
        assert set(refusal) == {"error", "field"} and isinstance(refusal["error"], str), body
        assert refusal["field"] == named, (body, refusal)
    for raw in ("[]", "null", "500", '"status"', "{not json", "", '{"status": 500', "[" * 100_000):
        answer = sweep.control("POST", "/faults", data=raw, headers={"Content-Type": "application/json"})
        assert answer.status_code == 400, (raw[:20], answer.status_code, answer.text[:200])
        assert set(answer.json()) == {"error", "field"}
    answer = sweep.control("POST", "/faults", data="status=500", headers={"Content-Type": "text/plain"})
    assert answer.status_code == 415 and set(answer.json()) == {"error", "field"}
    assert sweep.faults() == []
    sweep.check_alive()
    for call in sweep.calls:
        sweep.own(call)


def test_an_odd_message_is_answered_as_given(sweep: Sweep) -> None:
    call = sweep.calls[0]
    for message in ("", "naïve \u2603 \"quoted\" <b>tag</b>\n\tnext line", "x" * 100_000):
        sweep.arm(status=500, count=1, message=message)
        sweep.expect_injected(sweep.send(call), call, 500, message)


def test_a_reset_clears_every_fault(sweep: Sweep) -> None:
    sweep.arm(status=500)
    sweep.arm(status=429, retry_after=5, count=1000)
    sweep.arm(status=502, after_processing=True)
    sweep.arm(latency_ms=3_000)
    assert len(sweep.faults()) == 4
    sweep.check_journal()
    sweep.reset()
    assert sweep.faults() == []
    for call in sweep.calls:
        started = time.perf_counter()
        sweep.own(call)
        assert time.perf_counter() - started < 3
    assert all("fault" not in e["notes"] for e in sweep.journal())


def test_every_scenarios_timeline_leaves_the_server_up_and_its_own_answers_below_500(sweep: Sweep) -> None:
    """The timeline of each certify scenario of the service, played against the representative requests
    (the reference clients play them in tests/certify; this reaches the same faults in a few seconds)."""
    for scenario in load(sweep.service.id):
        sweep.reset()
        sweep.server.app.sandbox.timeline.load(scenario.events)
        for _ in range(3):
            for call in sweep.calls:
                sweep.send(call)
        faults = [e.fault for e in scenario.events if e.fault is not None and e.after is None]
        if faults and any(f.path is None for f in faults):     # a fault for every path must have hit
            assert any("fault" in e["notes"] for e in sweep.journal()), scenario.name
        sweep.check_alive()
        sweep.check_journal()
