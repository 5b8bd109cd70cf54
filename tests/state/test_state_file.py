"""--state: the sandbox's state in an SQLite file, carried over a restart of the mock."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sandbox import Mock

from mockserver.core.service import Settings
from mockserver.core.store import SqliteStore

SLOT = {"start": "2027-01-10T10:00:00Z", "end": "2027-01-10T10:05:00Z", "gs_id": "1"}


def dsn_mock(path: Path) -> Mock:
    return Mock("dsn", Settings(state=str(path)))


def auth(mock: Mock, owner: str = "client_123") -> dict[str, str]:
    token = next(c["token"] for c in mock.credentials() if c["owner"] == owner)
    return {"Authorization": f"Bearer {token}"}


def book(mock: Mock, slot: dict, owner: str = "client_123"):
    return mock.http.post("/orbapi/bookings", json={"norad_cat_id": 25544, "type": "data", "slots": [slot]},
                          headers=auth(mock, owner))


def test_a_restarted_mock_has_the_bookings_tokens_clock_faults_and_journal_of_the_last(tmp_path):
    first = dsn_mock(tmp_path / "dsn.sqlite")
    assert first.http.post("/__skymock/clock", json={"set": "2027-01-01T00:00:00Z", "frozen": True}).status_code == 200
    booked = book(first, SLOT)
    assert booked.status_code == 201, booked.text
    minted = first.http.post("/__skymock/credentials", json={"scopes": ["passes:read"], "owner": "later"}).json()
    first.http.post("/__skymock/faults", json={"status": 503, "count": 2, "path": "/gs$"})
    first.http.get("/orbapi/gs", headers=auth(first))          # one of the two faults is spent
    first.http.post("/__skymock/tokens/expire", json={"token": auth(first, "client_456")["Authorization"][7:]})

    again = dsn_mock(tmp_path / "dsn.sqlite")                    # a new process would do the same
    assert again.http.get("/__skymock/clock").json() == {"now": "2027-01-01T00:00:00Z", "frozen": True}
    listed = again.http.get("/orbapi/bookings", headers=auth(again)).json()["bookings"]
    assert [b["id"] for b in listed] == [booked.json()["bookingId"]]
    assert again.http.get("/orbapi/gs", headers={"Authorization": f"Bearer {minted['token']}"}).status_code == 503
    assert again.http.get("/orbapi/gs", headers={"Authorization": f"Bearer {minted['token']}"}).status_code == 200
    assert again.http.get("/orbapi/bookings", headers=auth(again, "client_456")).status_code == 401
    paths = [e["path"] for e in again.journal()]
    assert paths.count("/orbapi/bookings") == 3 and paths.count("/orbapi/gs") == 3
    assert [e["seq"] for e in again.journal()] == list(range(1, len(paths) + 1))
    # the next id goes on from the last one, and the same slot is still taken
    assert book(again, SLOT).status_code == 409
    later = book(again, {**SLOT, "start": "2027-01-10T11:00:00Z", "end": "2027-01-10T11:05:00Z"})
    assert later.json()["bookingId"] == booked.json()["bookingId"] + 1


def test_reset_empties_the_file_back_to_the_seeded_state(tmp_path):
    mock = dsn_mock(tmp_path / "dsn.sqlite")
    mock.http.post("/__skymock/clock", json={"set": "2027-01-01T00:00:00Z", "frozen": True})
    assert book(mock, SLOT).status_code == 201
    mock.http.post("/__skymock/reset")
    again = dsn_mock(tmp_path / "dsn.sqlite")
    assert again.http.get("/orbapi/bookings", headers=auth(again)).json()["bookings"] == []
    assert again.http.get("/__skymock/clock").json()["frozen"] is False


def test_services_keep_apart_in_one_file(tmp_path):
    path = tmp_path / "all.sqlite"
    dsn = dsn_mock(path)
    ods = Mock("nrao-ods", Settings(state=str(path)))
    dsn.http.post("/__skymock/clock", json={"set": "2027-01-01T00:00:00Z", "frozen": True})
    assert book(dsn, SLOT).status_code == 201
    ods.http.post("/__skymock/reset")                    # resets NRAO ODS only
    assert len(dsn_mock(path).http.get("/orbapi/bookings", headers=auth(dsn)).json()["bookings"]) == 1
    assert ods.http.get("/__skymock/clock").json()["frozen"] is False


def test_a_refused_write_leaves_nothing_in_the_file(tmp_path):
    mock = dsn_mock(tmp_path / "dsn.sqlite")
    mock.http.post("/__skymock/clock", json={"set": "2027-01-01T00:00:00Z", "frozen": True})
    assert book(mock, SLOT).status_code == 201
    overlapping = {"norad_cat_id": 25544, "type": "data", "slots": [
        {**SLOT, "start": "2027-01-10T12:00:00Z", "end": "2027-01-10T12:05:00Z"}, SLOT]}
    refused = mock.http.post("/orbapi/bookings", json=overlapping, headers=auth(mock))
    assert refused.status_code == 409
    with sqlite3.connect(tmp_path / "dsn.sqlite") as db:
        bookings = db.execute("SELECT count(*) FROM records WHERE collection = 'dsn:bookings'").fetchone()[0]
    assert bookings == 1


def test_the_file_is_in_wal_mode(tmp_path):
    dsn_mock(tmp_path / "dsn.sqlite")
    with sqlite3.connect(tmp_path / "dsn.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_transaction_that_fails_writes_nothing_and_ids_stay_unique_across_openers(tmp_path):
    one, two = SqliteStore(tmp_path / "s.sqlite", "x"), SqliteStore(tmp_path / "s.sqlite", "x")
    things = one.collection("things")
    with pytest.raises(RuntimeError):
        with one.transaction():
            things.put("a", {"n": 1})
            raise RuntimeError("half way")
    assert "a" not in two.collection("things")
    ids = [one.next_id("thing") if i % 2 else two.next_id("thing") for i in range(10)]
    assert ids == list(range(1, 11))
    log = one.log("journal", capacity=5)
    for i in range(3):
        log.append({"i": i})
    assert [e["seq"] for e in two.log("journal", 5).entries()] == [1, 2, 3]


def test_serve_refuses_several_workers_without_a_state_file(capsys):
    from mockserver.cli import main

    assert main(["serve", "dsn", "--workers", "2"]) == 2
    assert "--state" in capsys.readouterr().err
