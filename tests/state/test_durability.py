"""A mock on a state file, killed with SIGKILL in the middle of a run, loses nothing it acknowledged;
many clients writing at once leave exactly the writes they were told succeeded."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from lcodata import EXAMPLE, NOW, changed
from odsdata import HEADER
from okapidata import AUDIENCE, CLIENT_ID, pass_request

from mockserver.server import free_port

ROOT = Path(__file__).resolve().parents[2]
FROZEN = "2027-01-01T00:00:00Z"
FIRST_SLOT = datetime(2027, 1, 2, tzinfo=timezone.utc)
STATIONS = ("1", "3886", "4567", "4711")


class Served:
    """``skymock serve SERVICE --state FILE`` in a process of its own, which the test may kill."""

    def __init__(self, service_id: str, state: Path | None, workers: int = 1, options: tuple[str, ...] = ()) -> None:
        self.service_id, self.state, self.workers, self.options = service_id, state, workers, options
        self.port = free_port()
        self.root = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Served":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mockserver.cli", "serve", self.service_id, "--port", str(self.port),
             "--workers", str(self.workers), *(["--state", str(self.state)] if self.state else []), *self.options],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{self.root}/__skymock/clock", timeout=1).raise_for_status()
                return self
            except requests.RequestException:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{self.service_id} did not start: {self.process.stderr.read().decode()}")
                time.sleep(0.1)

    def processes(self) -> list[int]:
        """The processes of the mock (its process group)."""
        group = os.getpgid(self.process.pid)
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if os.getpgid(int(entry.name)) == group:
                        found.append(int(entry.name))
                except ProcessLookupError:
                    pass
        return found

    def kill(self) -> None:
        """SIGKILL, to the whole process group (every worker): no chance to flush or close anything."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def control(self, method: str, path: str, **kwargs) -> dict:
        answer = requests.request(method, f"{self.root}/__skymock{path}", timeout=10, **kwargs)
        answer.raise_for_status()
        return answer.json()


@pytest.fixture
def serve(tmp_path):
    started: list[Served] = []

    def make(service_id: str, workers: int = 1, state: Path | None = None, memory: bool = False,
             options: tuple[str, ...] = ()) -> Served:
        served = Served(service_id, None if memory else state or tmp_path / f"{service_id}.sqlite", workers,
                        options).start()
        started.append(served)
        return served

    yield make
    for served in started:
        served.stop()


def write_until_killed(served: Served, write, writers: int = 4, before_kill: int = 40) -> list:
    """Run ``write(session, n)`` from several threads until the server is killed; what was acknowledged."""
    acknowledged: list = []
    lock = threading.Lock()
    enough = threading.Event()

    def writer(index: int) -> None:
        session = requests.Session()
        for n in range(index, 10**6, writers):
            try:
                result = write(session, n)
            except requests.RequestException:
                return                       # the server is gone
            if result is not None:
                with lock:
                    acknowledged.append(result)
                    if len(acknowledged) >= before_kill:
                        enough.set()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    assert enough.wait(60), "the writers did not get going"
    served.kill()                            # with writes in flight
    for thread in threads:
        thread.join(timeout=30)
    return acknowledged


def dsn_headers(served: Served) -> dict[str, str]:
    token = next(c["token"] for c in served.control("GET", "/credentials")["credentials"] if c["owner"] == "client_123")
    return {"Authorization": f"Bearer {token}"}


def slot(n: int, station: str = "1") -> dict[str, str]:
    start = FIRST_SLOT + timedelta(minutes=10 * n)
    return {"start": start.isoformat().replace("+00:00", "Z"),
            "end": (start + timedelta(minutes=5)).isoformat().replace("+00:00", "Z"), "gs_id": station}


def book(session, root: str, headers: dict, n: int, station: str = "1"):
    return session.post(f"{root}/orbapi/bookings", headers=headers, timeout=30,
                        json={"norad_cat_id": 25544, "type": "data", "slots": [slot(n, station)]})


def test_every_acknowledged_booking_survives_a_kill(serve):
    served = serve("dsn")
    served.control("POST", "/clock", json={"set": FROZEN, "frozen": True})
    headers = dsn_headers(served)

    def write(session, n):
        answer = book(session, served.root, headers, n)
        return answer.json()["bookingId"] if answer.status_code == 201 else None

    acknowledged = write_until_killed(served, write)
    again = serve("dsn", state=served.state)
    kept = {b["id"] for b in requests.get(f"{again.root}/orbapi/bookings", headers=headers, timeout=30).json()["bookings"]}
    assert set(acknowledged) <= kept
    assert len(kept) <= len(acknowledged) + 4          # at most the writes in flight when it died


def test_every_acknowledged_upload_survives_a_kill(serve):
    served = serve("nrao-ods")
    client = served.control("GET", "/credentials")["credentials"][0]

    def login(session) -> dict[str, str]:
        form = {"grant_type": "client_credentials", "client_id": client["client_id"],
                "client_secret": client["client_secret"]}
        return {"Authorization": f"Bearer {session.post(f'{served.root}/token/', data=form, timeout=30).json()['token']}"}

    def log_file(n: int) -> str:      # one row of its own per upload
        return HEADER + f"2025-08-30 00:00:00,10700,12700,inner,3.5,{100000 + n}\n"

    def write(session, n):
        answer = session.post(f"{served.root}/sat_avoidance_logs", headers=login(session), timeout=30,
                              files={"file": ("VLA_Logs_2025-08-30_to_2025-08-31.csv", log_file(n), "text/csv")})
        return n if answer.status_code == 200 and answer.json()["ingested_records"] == 1 else None

    acknowledged = write_until_killed(served, write)
    served = serve("nrao-ods", state=served.state)
    session = requests.Session()
    for n in acknowledged:   # a row the mock already holds is not ingested again
        again = session.post(f"{served.root}/sat_avoidance_logs", headers=login(session), timeout=30,
                             files={"file": ("VLA_Logs_2025-08-30_to_2025-08-31.csv", log_file(n), "text/csv")})
        assert again.json()["ingested_records"] == 0, n


def test_every_acknowledged_okapi_request_survives_a_kill(serve):
    served = serve("okapi")
    user = served.control("GET", "/credentials")["credentials"][0]
    form = {"grant_type": "password", "username": user["username"], "password": user["password"],
            "audience": AUDIENCE, "scope": "pass_predictions", "client_id": CLIENT_ID}
    token = requests.post(f"{served.root}/oauth/token", data=form, timeout=30).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    def write(session, n):
        answer = session.post(f"{served.root}/predict-passes/sgp4/requests", json=pass_request(), headers=headers,
                              timeout=30)
        return answer.json()["request_id"] if answer.status_code == 202 else None

    acknowledged = write_until_killed(served, write, before_kill=20)
    served = serve("okapi", state=served.state)
    for request_id in acknowledged:
        answer = requests.get(f"{served.root}/predict-passes/sgp4/results/{request_id}/simple", headers=headers,
                              timeout=30)
        assert answer.status_code in (200, 202), (request_id, answer.status_code, answer.text)


@pytest.mark.parametrize("workers", [1, 3], ids=["in-memory", "3-workers-on-a-state-file"])
def test_many_clients_writing_at_once_leave_exactly_what_they_were_told(serve, workers):
    """50 clients x 200 writes: 100 bookings and 100 profiles each, the bookings on slots of their own."""
    served = serve("dsn", workers=workers, memory=workers == 1)
    assert len(served.processes()) >= workers + (workers > 1)      # the supervisor and its workers
    served.control("POST", "/clock", json={"set": FROZEN, "frozen": True})
    headers = dsn_headers(served)
    clients, each = 50, 200

    def client(index: int) -> tuple[list[int], list[int], Counter]:
        session = requests.Session()
        bookings, profiles, statuses = [], [], Counter()
        for n in range(each // 2):
            booked = book(session, served.root, headers, index * each + n, station=STATIONS[index % len(STATIONS)])
            statuses[booked.status_code] += 1
            if booked.status_code == 201:
                bookings.append(booked.json()["bookingId"])
            stored = session.post(f"{served.root}/orbapi/satellites/id/25544/profiles", headers=headers, timeout=30,
                                  json={"name": f"client {index} profile {n}", "profile": {"n": n}})
            statuses[stored.status_code] += 1
            if stored.status_code == 201:
                profiles.append(stored.json()["profile"]["id"])
        return bookings, profiles, statuses

    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(client, range(clients)))
    statuses = sum((r[2] for r in results), Counter())
    assert statuses == Counter({201: clients * each}), statuses
    booking_ids = [i for r in results for i in r[0]]
    profile_ids = [i for r in results for i in r[1]]
    assert len(set(booking_ids)) == len(booking_ids) == clients * each // 2
    assert len(set(profile_ids)) == len(profile_ids) == clients * each // 2
    listed = requests.get(f"{served.root}/orbapi/bookings", headers=headers, timeout=60).json()["bookings"]
    assert sorted(b["id"] for b in listed) == sorted(booking_ids)
    journal = served.control("GET", "/journal")["entries"]
    assert not [e for e in journal if e["status"] >= 500]


#: the portal's clock at the recorded instant (its demo proposals are for that semester), standing still
LCO_CLOCK = ("--start", NOW, "--frozen")
#: a userrequest of one night, quick to check
ONE_NIGHT = changed(EXAMPLE, requests__0__windows=[{"start": "2026-11-21 00:00:00", "end": "2026-11-22 00:00:00"}])


def lco_headers(served: Served, username: str = "astro") -> dict[str, str]:
    token = next(c["token"] for c in served.control("GET", "/credentials")["credentials"] if c["owner"] == username)
    return {"Authorization": f"Token {token}"}


def test_every_acknowledged_userrequest_and_draft_survives_a_kill(serve):
    served = serve("lco-observe", options=LCO_CLOCK)
    headers = lco_headers(served)

    def write(session, n):
        if n % 4 == 3:
            draft = {"proposal": "LCO2026B-001", "title": f"draft {n}", "content": "{}"}
            answer = session.post(f"{served.root}/api/drafts/", json=draft, headers=headers, timeout=30)
            return ("draft", answer.json()["id"], f"draft {n}") if answer.status_code == 201 else None
        answer = session.post(f"{served.root}/api/userrequests/", json=changed(ONE_NIGHT, group_id=f"kill {n}"),
                              headers=headers, timeout=30)
        return ("userrequest", answer.json()["id"], f"kill {n}") if answer.status_code == 201 else None

    acknowledged = write_until_killed(served, write, before_kill=20)
    again = serve("lco-observe", state=served.state, options=LCO_CLOCK)
    assert again.control("GET", "/clock") == {"now": NOW, "frozen": True}
    for kind, number, name in acknowledged:
        answer = requests.get(f"{again.root}/api/{kind}s/{number}/", headers=headers, timeout=30)
        assert answer.status_code == 200, (kind, number, answer.text)
        assert answer.json()["group_id" if kind == "userrequest" else "title"] == name


def ipp_available(served: Served, headers: dict[str, str]) -> float:
    proposal = requests.get(f"{served.root}/api/proposals/LCO2026B-001/", headers=headers, timeout=30).json()
    return next(a["ipp_time_available"] for a in proposal["timeallocation_set"]
                if (a["semester"], a["instrument_name"]) == ("2026B", "1M0-SCICAM-SINISTRO"))


@pytest.mark.parametrize("workers", [1, 3], ids=["in-memory", "3-workers-on-a-state-file"])
def test_many_clients_submitting_userrequests_at_once_leave_exactly_what_they_were_told(serve, workers):
    """50 clients x 200 writes: 150 userrequests and 50 cancels of their own each. Those at a raised priority
    spend IPP time, a cancel gives it back: the time left is what the acknowledged writes add up to, so no
    two writers read the same balance and both wrote it back."""
    served = serve("lco-observe", workers=workers, memory=workers == 1, options=LCO_CLOCK)
    headers = lco_headers(served)
    before = ipp_available(served, headers)
    clients, each = 50, 200

    def client(index: int) -> tuple[list[int], list[int], Counter]:
        session = requests.Session()
        made, cancelled, statuses = [], [], Counter()
        for n in range(each):
            if n % 4 == 3:
                answer = session.post(f"{served.root}/api/userrequests/{made[-1]}/cancel/", headers=headers,
                                      timeout=60)
                if answer.status_code == 200:
                    cancelled.append(made[-1])
            else:
                raised = n % 8 == 1 or n % 4 == 2        # some of those kept, and every one cancelled next
                body = changed(ONE_NIGHT, group_id=f"client {index} n {n}", ipp_value=1.02 if raised else 1.0)
                answer = session.post(f"{served.root}/api/userrequests/", json=body, headers=headers, timeout=60)
                if answer.status_code == 201:
                    made.append(answer.json()["id"])
            statuses[answer.status_code] += 1
        return made, cancelled, statuses

    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(client, range(clients)))
    statuses = sum((r[2] for r in results), Counter())
    assert statuses == Counter({201: clients * 150, 200: clients * 50}), statuses
    made = [i for r in results for i in r[0]]
    cancelled = {i for r in results for i in r[1]}
    assert len(set(made)) == len(made) == clients * 150
    listed = requests.get(f"{served.root}/api/userrequests/", params={"limit": 10000}, headers=headers,
                          timeout=120).json()
    assert listed["count"] == len(made)
    assert sorted(u["id"] for u in listed["results"]) == sorted(made)
    assert {u["id"] for u in listed["results"] if u["state"] == "CANCELED"} == cancelled
    # each raised-priority request not cancelled spent (ipp - 1) x its hours; every cancelled one gave it back
    spent = sum((u["ipp_value"] - 1) * sum(r["duration"] for r in u["requests"]) / 3600
                for u in listed["results"] if u["state"] != "CANCELED")
    assert ipp_available(served, headers) == pytest.approx(before - spent, abs=1e-6)
    journal = served.control("GET", "/journal")["entries"]
    assert not [e for e in journal if e["status"] >= 500]


def test_a_change_made_through_one_worker_is_seen_by_every_worker_at_once(serve):
    """Workers cache what they read; a token revoked, a fault armed or a profile deleted through one
    is seen by the next request to any of them."""
    served = serve("dsn", workers=2)
    headers = dsn_headers(served)
    profile = requests.post(f"{served.root}/orbapi/satellites/id/25544/profiles", headers=headers, timeout=10,
                            json={"name": "seen everywhere", "profile": {}}).json()["profile"]["id"]
    for _ in range(20):       # a new connection each time: the kernel spreads them, so every worker reads both
        assert requests.get(f"{served.root}/orbapi/satellites/profiles/{profile}", headers=headers,
                            timeout=10).status_code == 200
    assert requests.delete(f"{served.root}/orbapi/satellites/profiles/{profile}", headers=headers,
                           timeout=10).status_code == 200
    assert {requests.get(f"{served.root}/orbapi/satellites/profiles/{profile}", headers=headers,
                         timeout=10).status_code for _ in range(20)} == {404}
    served.control("POST", "/faults", json={"status": 503, "path": "/gs$"})
    assert {requests.get(f"{served.root}/orbapi/gs", headers=headers, timeout=10).status_code
            for _ in range(20)} == {503}
    served.control("DELETE", "/faults")
    for _ in range(20):
        assert requests.get(f"{served.root}/orbapi/bookings", headers=headers, timeout=10).status_code == 200
    served.control("POST", "/tokens/expire", json={"token": headers["Authorization"][7:]})
    assert {requests.get(f"{served.root}/orbapi/bookings", headers=headers, timeout=10).status_code
            for _ in range(20)} == {401}


@pytest.mark.parametrize("workers", [1, 3], ids=["in-memory", "3-workers-on-a-state-file"])
def test_many_clients_uploading_at_once_leave_every_row_they_were_told_was_ingested(serve, workers):
    """50 clients x 200 avoidance-log uploads of a row of their own each: every one is ingested once, so
    sending all 10,000 rows again ingests none, and the journal holds no 5xx."""
    served = serve("nrao-ods", workers=workers, memory=workers == 1)
    client = served.control("GET", "/credentials")["credentials"][0]
    form = {"grant_type": "client_credentials", "client_id": client["client_id"],
            "client_secret": client["client_secret"]}
    clients, each = 50, 200

    def row(n: int) -> str:
        return f"2025-08-30 00:00:00,10700,12700,inner,3.5,{200000 + n}\n"

    def upload(session, headers: dict[str, str], text: str):
        return session.post(f"{served.root}/sat_avoidance_logs", headers=headers, timeout=120,
                            files={"file": ("VLA_Logs_2025-08-30_to_2025-08-31.csv", HEADER + text, "text/csv")})

    def uploader(index: int) -> Counter:
        session = requests.Session()
        token = session.post(f"{served.root}/token/", data=form, timeout=30).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        told = Counter()
        for n in range(index * each, (index + 1) * each):
            answer = upload(session, headers, row(n))
            told[(answer.status_code, answer.json().get("ingested_records"))] += 1
        return told

    with ThreadPoolExecutor(clients) as pool:
        told = sum(pool.map(uploader, range(clients)), Counter())
    assert told == Counter({(200, 1): clients * each}), told
    token = requests.post(f"{served.root}/token/", data=form, timeout=30).json()["token"]
    again = upload(requests.Session(), {"Authorization": f"Bearer {token}"},
                   "".join(row(n) for n in range(clients * each)))
    assert again.status_code == 200 and again.json()["ingested_records"] == 0, again.text
    journal = served.control("GET", "/journal")["entries"]
    assert not [e for e in journal if e["status"] >= 500]
