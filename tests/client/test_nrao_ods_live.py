"""The reference ODS client against a live mock: refresh, retries, caps, pacing, the command.

These tests use the kit's pytest plugin as an integrator would: ``skymock_nrao_ods`` (the mock,
reset for each test), ``skymock_clock``, ``skymock_journal`` and ``skymock_faults``."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests

from clients._http import ApiError
from clients.nrao_ods import OdsClient
from mockserver.testing import Journal, SkymockService
from odsdata import HEADER, TLE_TEXT, log_rows

LIFETIME = 3600     # the mock's default token lifetime, as the real service's


@pytest.fixture
def ods(skymock_nrao_ods: SkymockService, skymock_clock) -> SkymockService:
    skymock_clock.freeze()
    return skymock_nrao_ods


@pytest.fixture
def client(ods) -> OdsClient:
    return make_client(ods, ods.credential)


def make_client(ods: SkymockService, credential, **kwargs) -> OdsClient:
    kwargs.setdefault("sleep", lambda seconds: None)
    return OdsClient(ods.url, credential["client_id"], credential["client_secret"], progress=False, **kwargs)


def token_requests(journal: Journal) -> list[dict]:
    return journal.entries("/token/")


def statuses(journal: Journal, path: str) -> list[int]:
    return [e["status"] for e in journal.entries(path)]


def test_one_token_serves_many_requests(client, skymock_journal):
    for _ in range(3):
        assert isinstance(client.get_ods_data(), list)
    assert len(token_requests(skymock_journal)) == 1
    assert statuses(skymock_journal, "/ods_data/") == [200, 200, 200]


def test_token_expiring_mid_run_is_refreshed_once_and_the_request_repeated(client, skymock_clock, skymock_journal):
    client.get_ods_data()
    skymock_clock.advance(LIFETIME + 1)
    assert isinstance(client.get_ods_data(), list)
    feed = [(e["status"], e["auth"]) for e in skymock_journal.entries("/ods_data/")]
    assert feed == [(200, "valid"), (403, "expired"), (200, "valid")]
    assert len(token_requests(skymock_journal)) == 2


def test_a_403_that_survives_a_fresh_token_is_raised_not_looped_on(ods, skymock_journal, tmp_path):
    reader = ods.credential_of("skymock-reader")  # no tle:write scope
    client = make_client(ods, reader)
    path = tmp_path / "sats.txt"
    path.write_text(TLE_TEXT)
    with pytest.raises(ApiError) as failure:
        client.upload_tle(path)
    assert failure.value.status == 403 and "tle:write" in str(failure.value)
    assert len(token_requests(skymock_journal)) == 2  # one refresh, then it gives up
    assert skymock_journal.count("/tle_data") == 2


def test_known_lifetime_refreshes_before_expiry_without_a_403(ods, skymock_clock, skymock_journal):
    now = [0.0]
    client = make_client(ods, ods.credential, token_lifetime=LIFETIME, monotonic=lambda: now[0])
    client.get_ods_data()
    now[0] = LIFETIME - 10.0
    skymock_clock.advance(LIFETIME - 10)
    client.get_ods_data()
    assert statuses(skymock_journal, "/ods_data/") == [200, 200]
    assert len(token_requests(skymock_journal)) == 2


def test_retry_after_is_honoured_on_503(client, skymock_faults, skymock_journal):
    waits: list[float] = []
    client.session.sleep = waits.append
    skymock_faults.inject(503, count=2, path="^/ods_data", retry_after=3)
    assert isinstance(client.get_ods_data(), list)
    assert len(waits) == 2 and all(w >= 3 for w in waits)
    assert statuses(skymock_journal, "/ods_data/") == [503, 503, 200]


def test_oversize_files_are_refused_before_sending(client, skymock_journal, tmp_path):
    big = tmp_path / "VLA_Logs_2025-08-30_to_2025-08-31.csv"
    big.write_text(HEADER + log_rows(1) + "\n" * 760_000)
    with pytest.raises(ValueError, match="750"):
        client.upload_avoidance_log(big)
    tle = tmp_path / "big.txt"
    tle.write_text(TLE_TEXT * 200)
    with pytest.raises(ValueError, match="50"):
        client.upload_tle(tle)
    assert [e for e in skymock_journal.entries(method="POST") if e["path"] != "/token/"] == []


def test_server_refuses_oversize_file_with_413(ods, client):
    token = client.session.token().value
    answer = requests.post(f"{ods.url}/sat_avoidance_logs", headers={"Authorization": f"Bearer {token}"},
                           files={"file": ("VLA_big.csv", HEADER + "\n" * 760_000, "text/csv")}, timeout=10)
    assert answer.status_code == 413
    assert "750000" in answer.json()["detail"]


def test_bad_row_then_its_fix_then_a_duplicate(client, skymock_clock, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    path = logs / "vlba_MK_Logs_2025-08-30_to_2025-08-31.csv"
    path.write_text(HEADER + log_rows(3) + "2025-08-30 00:10:00,10700,12700,outer,3.5,not-a-number\n")
    [(name, result)] = client.upload_logs(logs)
    assert name == path.name and "row 4 (line 5), column 'sat_id'" in result["error"]
    path.write_text(path.read_text().replace("not-a-number", "44800"))
    skymock_clock.advance(10)
    assert client.upload_avoidance_log(path) == {"ingested_records": 4}
    skymock_clock.advance(10)
    assert client.upload_avoidance_log(path) == {"ingested_records": 0}


def test_bad_tle_checksum_is_reported_with_the_set(client, tmp_path):
    path = tmp_path / "sats.txt"
    path.write_text(TLE_TEXT.replace("0  9992", "0  9991"))
    with pytest.raises(ApiError) as failure:
        client.upload_tle(path)
    assert failure.value.status == 400
    assert "element set 1 ('ISS (ZARYA)'), line 1" in str(failure.value)
    path.write_text(TLE_TEXT)
    assert client.upload_tle(path) == {"ingested_records": 2}


def test_directory_upload_paces_uploads_ten_seconds_apart(ods, skymock_clock, skymock_journal, tmp_path):
    for number, prefix in enumerate(["VLA", "GBT", "vlba_OV"]):
        (tmp_path / f"{prefix}_Logs_2025-08-3{number}.csv").write_text(HEADER + log_rows(2, start_second=number * 5))
    slept: list[float] = []

    def sleep_on_the_mock_clock(seconds: float) -> None:
        slept.append(seconds)
        skymock_clock.advance(seconds)

    client = make_client(ods, ods.credential, sleep=sleep_on_the_mock_clock, monotonic=lambda: 0.0)
    results = client.upload_logs(tmp_path)
    assert [r for _, r in results] == [{"ingested_records": 2}] * 3
    assert slept == [10.0, 10.0]
    uploads = skymock_journal.entries("/sat_avoidance_logs")
    assert len(uploads) == 3 and all("pacing_violation" not in e["notes"] for e in uploads)


def test_command_line_reads_environment_and_prints_json(ods, tmp_path):
    credential = ods.credential
    env = {**os.environ, "ODS_BASE_URL": ods.url, "ODS_CLIENT_ID": credential["client_id"],
           "ODS_CLIENT_SECRET": credential["client_secret"]}
    done = subprocess.run([sys.executable, "-m", "clients.nrao_ods", "--env-file", str(tmp_path / "none.env"),
                           "get-ods-data"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert isinstance(json.loads(done.stdout), list)
    assert credential["client_secret"] not in done.stdout + done.stderr


def test_command_line_without_credentials_says_what_to_set(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ODS_")}
    done = subprocess.run([sys.executable, "-m", "clients.nrao_ods", "--env-file", str(tmp_path / "none.env"),
                           "get-ods-data"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "ODS_CLIENT_ID" in done.stderr
