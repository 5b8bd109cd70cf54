"""The reference ODS client against a live mock: refresh, retries, caps, pacing, the command."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests
from sandbox import Control

from clients._http import ApiError
from clients.nrao_ods import OdsClient
from odsdata import HEADER, TLE_TEXT, log_rows


@pytest.fixture
def control(live_ods) -> Control:
    ctl = Control(live_ods.root)
    ctl.call("POST", "/reset")
    ctl.call("POST", "/clock", json={"frozen": True})
    return ctl


@pytest.fixture
def client(live_ods, control) -> OdsClient:
    credential = control.call("GET", "/credentials")["credentials"][0]
    return make_client(live_ods, credential)


def make_client(live_ods, credential, **kwargs) -> OdsClient:
    kwargs.setdefault("sleep", lambda seconds: None)
    return OdsClient(live_ods.url, credential["client_id"], credential["client_secret"], progress=False, **kwargs)


def token_requests(control: Control) -> list[dict]:
    return [e for e in control.journal() if e["path"] == "/token/"]


def test_one_token_serves_many_requests(client, control):
    for _ in range(3):
        assert isinstance(client.get_ods_data(), list)
    assert len(token_requests(control)) == 1
    assert [e["status"] for e in control.journal() if e["path"] == "/ods_data/"] == [200, 200, 200]


def test_token_expiring_mid_run_is_refreshed_once_and_the_request_repeated(client, control):
    client.get_ods_data()
    control.advance(601)  # past the mock's 600 s token lifetime
    assert isinstance(client.get_ods_data(), list)
    feed = [(e["status"], e["auth"]) for e in control.journal() if e["path"] == "/ods_data/"]
    assert feed == [(200, "valid"), (403, "expired"), (200, "valid")]
    assert len(token_requests(control)) == 2


def test_a_403_that_survives_a_fresh_token_is_raised_not_looped_on(live_ods, control, tmp_path):
    reader = control.call("GET", "/credentials")["credentials"][1]  # no tle:write scope
    client = make_client(live_ods, reader)
    path = tmp_path / "sats.txt"
    path.write_text(TLE_TEXT)
    with pytest.raises(ApiError) as failure:
        client.upload_tle(path)
    assert failure.value.status == 403 and "tle:write" in str(failure.value)
    assert len(token_requests(control)) == 2  # one refresh, then it gives up
    assert len([e for e in control.journal() if e["path"] == "/tle_data"]) == 2


def test_known_lifetime_refreshes_before_expiry_without_a_403(live_ods, control):
    credential = control.call("GET", "/credentials")["credentials"][0]
    now = [0.0]
    client = make_client(live_ods, credential, token_lifetime=600, monotonic=lambda: now[0])
    client.get_ods_data()
    now[0] = 590.0
    control.advance(590)
    client.get_ods_data()
    assert [e["status"] for e in control.journal() if e["path"] == "/ods_data/"] == [200, 200]
    assert len(token_requests(control)) == 2


def test_retry_after_is_honoured_on_503(client, control):
    waits: list[float] = []
    client.session.sleep = waits.append
    control.call("POST", "/faults", json={"status": 503, "count": 2, "path": "^/ods_data", "retry_after": 3})
    assert isinstance(client.get_ods_data(), list)
    assert len(waits) == 2 and all(w >= 3 for w in waits)
    assert [e["status"] for e in control.journal() if e["path"] == "/ods_data/"] == [503, 503, 200]


def test_oversize_files_are_refused_before_sending(client, control, tmp_path):
    big = tmp_path / "VLA_Logs_2025-08-30_to_2025-08-31.csv"
    big.write_text(HEADER + log_rows(1) + "\n" * 760_000)
    with pytest.raises(ValueError, match="750"):
        client.upload_avoidance_log(big)
    tle = tmp_path / "big.txt"
    tle.write_text(TLE_TEXT * 200)
    with pytest.raises(ValueError, match="50"):
        client.upload_tle(tle)
    assert [e for e in control.journal() if e["method"] == "POST" and e["path"] != "/token/"] == []


def test_server_refuses_oversize_file_with_413(live_ods, client):
    token = client.session.token().value
    answer = requests.post(f"{live_ods.url}/sat_avoidance_logs", headers={"Authorization": f"Bearer {token}"},
                           files={"file": ("VLA_big.csv", HEADER + "\n" * 760_000, "text/csv")}, timeout=10)
    assert answer.status_code == 413
    assert "750000" in answer.json()["detail"]


def test_bad_row_then_its_fix_then_a_duplicate(client, control, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    path = logs / "vlba_MK_Logs_2025-08-30_to_2025-08-31.csv"
    path.write_text(HEADER + log_rows(3) + "2025-08-30 00:10:00,10700,12700,outer,3.5,not-a-number\n")
    [(name, result)] = client.upload_logs(logs)
    assert name == path.name and "row 4 (line 5), column 'sat_id'" in result["error"]
    path.write_text(path.read_text().replace("not-a-number", "44800"))
    control.advance(10)
    assert client.upload_avoidance_log(path) == {"ingested_records": 4}
    control.advance(10)
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


def test_directory_upload_paces_uploads_ten_seconds_apart(live_ods, control, tmp_path):
    credential = control.call("GET", "/credentials")["credentials"][0]
    for number, prefix in enumerate(["VLA", "GBT", "vlba_OV"]):
        (tmp_path / f"{prefix}_Logs_2025-08-3{number}.csv").write_text(HEADER + log_rows(2, start_second=number * 5))
    slept: list[float] = []

    def sleep_on_the_mock_clock(seconds: float) -> None:
        slept.append(seconds)
        control.advance(seconds)

    client = make_client(live_ods, credential, sleep=sleep_on_the_mock_clock, monotonic=lambda: 0.0)
    results = client.upload_logs(tmp_path)
    assert [r for _, r in results] == [{"ingested_records": 2}] * 3
    assert slept == [10.0, 10.0]
    uploads = [e for e in control.journal() if e["path"] == "/sat_avoidance_logs"]
    assert len(uploads) == 3 and all("pacing_violation" not in e["notes"] for e in uploads)


def test_command_line_reads_environment_and_prints_json(live_ods, control, tmp_path):
    credential = control.call("GET", "/credentials")["credentials"][0]
    env = {**os.environ, "ODS_BASE_URL": live_ods.url, "ODS_CLIENT_ID": credential["client_id"],
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
