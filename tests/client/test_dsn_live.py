"""The reference DSN orbapi client and its command against a live mock: passes and their
table and plot, the booking life cycle, ownership, scopes, paging, retries, credentials."""
from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sandbox import Control
import yaml

from clients._http import ApiError
from clients.dsn import ConfigError, DsnClient, main
from mockserver.testing import SkymockService

T0 = "2026-05-05T12:00:00Z"
SLOT = ("2026-05-06T10:00:00Z", "2026-05-06T10:10:00Z", "1")
ISS = 25544
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SPEC = Path(__file__).resolve().parents[2] / "specs" / "dsn-orbapi.yaml"


@pytest.fixture
def live_dsn(skymock_dsn: SkymockService) -> SkymockService:
    """The DSN mock of the kit's pytest plugin, reset for each test."""
    return skymock_dsn


@pytest.fixture
def control(live_dsn, skymock_clock, monkeypatch) -> Control:
    for name in ("DSN_API_TOKEN", "DSN_BASE_URL"):  # a real token in the environment must not leak in
        monkeypatch.delenv(name, raising=False)
    skymock_clock.freeze(T0)
    return Control(live_dsn.root)


def make_client(live_dsn, token: str | None, **kwargs) -> DsnClient:
    kwargs.setdefault("sleep", lambda seconds: None)
    return DsnClient(live_dsn.url, token, **kwargs)


@pytest.fixture
def client(live_dsn, control) -> DsnClient:
    return make_client(live_dsn, control.tokens()[0])


@pytest.fixture
def run(live_dsn, control, tmp_path, capsys):
    """Run the command in-process as the first demo owner; returns (status, stdout, stderr)."""
    def run_command(*args: str, token: str | None = None) -> tuple[int, str, str]:
        status = main(["--base-url", live_dsn.url, "--env-file", str(tmp_path / "absent.env"),
                       "--token", token or control.tokens()[0], *args])
        out, err = capsys.readouterr()
        return status, out, err
    return run_command


def when(stamp: str) -> str:
    return stamp[:19].replace("T", " ")


# -- passes ------------------------------------------------------------------------------------
def test_every_operation_of_the_spec_has_a_method():
    spec = yaml.safe_load(SPEC.read_text())
    operations = {op["operationId"] for item in spec["paths"].values() for op in item.values()
                  if isinstance(op, dict) and "operationId" in op}
    assert len(operations) == 28
    assert sorted(op for op in operations if not callable(getattr(DsnClient, op, None))) == []


def test_iss_passes_are_sorted_by_aos_with_a_track_from_aos_to_los(client):
    result = client.search_passes(ISS, days=1, ground_station_ids=["1", 3886], min_elevation=10,
                                  step_seconds=30)
    passes = result["passes"]
    assert result["satellite"]["noradId"] == ISS and result["total"] == len(passes) >= 4
    assert [p["aos"] for p in passes] == sorted(p["aos"] for p in passes)
    assert {p["groundStationId"] for p in passes} == {"1", "3886"}
    for p in passes:
        track = p["polar_track"]
        assert len(track) >= 3
        assert (track[0]["time"], track[-1]["time"]) == (p["aos"], p["los"])
        assert math.isclose(track[0]["azimuth"], p["aos_azimuth"], abs_tol=0.01)
        assert math.isclose(track[-1]["azimuth"], p["los_azimuth"], abs_tol=0.01)
        assert math.isclose(track[0]["elevation"], 10, abs_tol=0.2)
        assert 10 <= max(t["elevation"] for t in track) <= p["max_elevation"] + 0.01
        assert T0[:10] <= p["aos"][:10] and p["rise_time"] <= p["aos"] < p["los"] <= p["set_time"]


def test_a_raw_element_set_gives_the_same_passes_as_the_catalog(client):
    record = client.get_tle(ISS)["data"][0]
    by_id = client.search_passes(ISS, days=1, ground_station_ids=["3886"])
    by_tle = client.search_passes(tle={"name": record["tle0"], "line1": record["tle1"], "line2": record["tle2"]},
                                  days=1, ground_station_ids=["3886"])
    assert [p["aos"] for p in by_tle["passes"]] == [p["aos"] for p in by_id["passes"]]
    assert by_tle["satellite"]["noradId"] == ISS


def test_a_bad_element_set_is_refused_naming_the_line(client):
    record = client.get_tle(ISS)["data"][0]
    broken = record["tle1"][:-1] + str((int(record["tle1"][-1]) + 1) % 10)
    with pytest.raises(ApiError) as failure:
        client.search_passes(tle={"name": "ISS", "line1": broken, "line2": record["tle2"]})
    assert failure.value.status == 400 and "line 1" in failure.value.message


def test_passes_command_prints_a_table_of_the_passes(client, run):
    expected = client.search_passes(ISS, days=1, ground_station_ids=["3886"])["passes"]
    status, out, err = run("passes", str(ISS), "--days", "1", "--stations", "3886")
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"ISS (NORAD {ISS}): {len(expected)} passes")
    assert lines[1].split() == ["#", "station", "AOS", "(UTC)", "LOS", "(UTC)", "duration", "max", "el",
                                "AOS", "az", "LOS", "az"]
    rows = lines[3:]
    assert len(rows) == len(expected)
    for number, (row, p) in enumerate(zip(rows, expected), 1):
        assert row.startswith(f"{number} ") and "3886" in row
        assert when(p["aos"]) in row and when(p["los"]) in row
        assert f"{p['max_elevation']:.1f}" in row and f"{p['aos_azimuth']:.1f}" in row


def test_passes_command_plots_a_pass_as_a_png(run, tmp_path):
    out_file = tmp_path / "track.png"
    status, out, err = run("passes", str(ISS), "--days", "1", "--stations", "3886", "--plot", "2",
                           "--out", str(out_file))
    assert status == 0, err
    content = out_file.read_bytes()
    assert content.startswith(PNG_SIGNATURE) and len(content) > 10_000
    assert "track.png" in err and "LOS (UTC)" in out
    status, _, err = run("passes", str(ISS), "--days", "1", "--stations", "3886", "--plot", "99",
                         "--out", str(tmp_path / "no.png"))
    assert status == 2 and "--plot 99" in err and not (tmp_path / "no.png").exists()


def test_passes_command_reads_a_three_line_element_file(client, run, tmp_path):
    record = client.get_tle(ISS)["data"][0]
    path = tmp_path / "iss.tle"
    path.write_text(f"{record['tle0']}\n{record['tle1']}\n{record['tle2']}\n")
    status, out, err = run("passes", "--tle-file", str(path), "--days", "1", "--stations", "3886", "--json")
    assert status == 0, err
    answer = json.loads(out)
    assert answer["satellite"]["name"] == record["tle0"] and answer["total"] > 0
    path.write_text(record["tle1"] + "\n")
    assert run("passes", "--tle-file", str(path))[0] == 2
    assert run("passes")[0] == 2  # neither a NORAD id nor a file


# -- bookings and files ------------------------------------------------------------------------
def test_booking_list_attach_files_cancel_and_cancel_again(client, control):
    made = client.create_booking(ISS, "data", [SLOT])
    booking_id = made["bookingId"]
    assert made["status"] == "success" and made["uplinkFile"] is None
    [booking] = client.list_bookings()["bookings"]
    assert (booking["bookingId"], booking["status"], booking["noradId"]) == (booking_id, "Pending", str(ISS))
    assert [(s["gsId"], s["start"]) for s in booking["slots"]] == [("1", "2026-05-06T10:00:00.000Z")]

    control.advance(60)
    assert client.list_bookings()["bookings"][0]["status"] == "Confirmed"
    key = f"clients/client_123/bookings/{booking_id}/uplink.bin"
    attached = client.attach_uplink_file(booking_id, key, "ab" * 32)
    assert attached["uplinkFile"]["status"] == "pending" and attached["uplinkFile"]["s3Key"] == key
    control.advance(30)
    [file] = client.list_uplink_files(booking_id)["files"]
    assert (file["s3Key"], file["sha256"], file["status"]) == (key, "ab" * 32, "available")
    assert client.list_downlink_files(booking_id)["files"] == []

    cancelled = client.cancel_booking(booking_id)
    assert cancelled["status"] == "success" and cancelled["bookingId"] == booking_id
    assert client.list_bookings()["bookings"][0]["status"] == "Cancelled"
    with pytest.raises(ApiError) as failure:
        client.cancel_booking(booking_id)
    assert failure.value.status == 409 and "already cancelled" in failure.value.message


def test_a_flown_booking_gets_its_downlink_file_and_consumes_its_uplink(client, control, run):
    booking_id = client.create_booking(ISS, "lora", [SLOT], uplink_key="clients/client_123/up.bin")["bookingId"]
    control.call("POST", "/clock", json={"set": "2026-05-06T10:21:00Z"})  # slot end + 11 minutes
    assert client.list_bookings()["bookings"][0]["status"] == "Completed"
    status, out, err = run("files", str(booking_id), "--direction", "downlink")
    assert status == 0, err
    assert f"clients/client_123/downlink/booking-{booking_id}/lora-packets.jsonl" in out and "delivered" in out
    assert client.list_uplink_files(booking_id)["files"][0]["status"] == "consumed"
    with pytest.raises(ApiError) as failure:
        client.cancel_booking(booking_id)
    assert failure.value.status == 409 and "completed" in failure.value.message


def test_another_owners_booking_is_not_found(live_dsn, client, control):
    booking_id = client.create_booking(ISS, "data", [SLOT])["bookingId"]
    other = make_client(live_dsn, control.tokens()[1])
    assert other.list_bookings()["bookings"] == []
    for call in (other.cancel_booking, other.list_uplink_files,
                 lambda b: other.attach_uplink_file(b, "clients/client_456/x.bin")):
        with pytest.raises(ApiError) as failure:
            call(booking_id)
        assert failure.value.status == 404 and f"Booking {booking_id} not found" in failure.value.message
    assert client.list_bookings()["bookings"][0]["status"] == "Pending"


def test_overlapping_slot_is_refused_with_409(live_dsn, client, control):
    client.create_booking(ISS, "data", [SLOT])
    other = make_client(live_dsn, control.tokens()[1])
    with pytest.raises(ApiError) as failure:
        other.create_booking(ISS, "data", [("2026-05-06T10:05:00Z", "2026-05-06T10:15:00Z", "1")])
    assert failure.value.status == 409 and "ground station '1'" in failure.value.message


def test_book_bookings_and_cancel_commands(run):
    status, out, err = run("book", str(ISS), "--type", "data", "--slot", ",".join(SLOT),
                           "--slot", "2026-05-06T11:00:00Z,2026-05-06T11:05:00Z,3886",
                           "--uplink-key", "clients/client_123/up.bin")
    assert status == 0, err
    assert out.startswith("booking 1 made") and "clients/client_123/up.bin" in out
    status, out, _ = run("bookings")
    assert status == 0 and len(out.splitlines()) == 4  # header, rule, one row per slot
    assert "2026-05-06 10:00:00" in out and "3886" in out
    assert run("attach", "1", "clients/client_123/more.bin")[0] == 0
    assert run("cancel", "1") == (0, "Booking cancelled successfully\n", "")
    status, _, err = run("cancel", "1")
    assert status == 1 and "HTTP 409" in err and "already cancelled" in err


def test_passes_read_only_token_gets_403_naming_the_scope(live_dsn, control):
    reader = make_client(live_dsn, control.tokens()[2])
    assert reader.search_passes(ISS, days=1, ground_station_ids=["1"])["total"] > 0
    with pytest.raises(ApiError) as failure:
        reader.create_booking(ISS, "data", [SLOT])
    assert failure.value.status == 403
    assert "bookings:create" in failure.value.message and "scope" in str(failure.value)
    assert len(control.journal("/orbapi/bookings")) == 1  # refused once, not retried


# -- mission profiles --------------------------------------------------------------------------
def test_profiles_belong_to_their_owner_and_a_service_token_sees_all(live_dsn, client, control, run, tmp_path):
    config = {"radio": {"frequencyHz": 437_000_000}, "profile": "own member, kept"}
    created = client.create_profile(ISS, config, name="primary")["profile"]
    assert (created["name"], created["profile"], created["createdBy"]) == ("primary", config, "client_123")
    assert client.get_profile(created["id"])["profile"]["profile"] == config
    other = make_client(live_dsn, control.tokens()[1])
    assert other.list_profiles(ISS)["profiles"] == []
    with pytest.raises(ApiError) as failure:
        other.get_profile(created["id"])
    assert failure.value.status == 404
    service = make_client(live_dsn, control.tokens()[3])
    assert [p["id"] for p in service.list_profiles(ISS)["profiles"]] == [created["id"]]

    path = tmp_path / "profile.json"
    path.write_text(json.dumps({"radio": {"baud": 9600}}))
    status, out, err = run("profile-create", str(ISS), str(path), "--name", "backup")
    assert status == 0, err
    assert "backup" in out
    status, out, _ = run("profiles", str(ISS))
    assert status == 0 and "primary" in out and "backup" in out
    assert run("profile-delete", str(created["id"]))[0] == 0
    assert [p["name"] for p in client.list_profiles(ISS)["profiles"]] == ["backup"]
    path.write_text("{not json")
    assert run("profile-create", str(ISS), str(path))[0] == 2


# -- reference data, paging, retries -------------------------------------------------------------
def test_iter_pages_walks_all_satellites(live_dsn, control):
    public = make_client(live_dsn, None)  # reference data needs no token
    total = public.list_satellites(limit=1)["total"]
    satellites = list(public.iter_pages(public.list_satellites, limit=7))
    assert len(satellites) == total > 7
    assert len({s["norad_cat_id"] for s in satellites}) == total
    assert len(control.journal("/orbapi/satellites")) == 1 + math.ceil(total / 7)
    found = list(public.iter_pages(public.find_satellites, "iss", limit=1))
    assert ISS in {s["norad_cat_id"] for s in found}


def test_reference_lookups(client):
    assert client.get_satellite(ISS)["data"][0]["name"] == "ISS"
    assert client.find_tles("ISS")["total"] >= 1 and client.list_tles(limit=5)["total"] >= 5
    assert client.get_station(3886)["data"][0]["id"] == "3886"
    assert client.find_stations("Sofia Tech")["data"][0]["id"] == "4567"
    assert client.list_stations()["total"] == len(list(client.iter_pages(client.list_stations, limit=4)))
    assert client.get_station_status("3886")["status"] in ("online", "offline")
    lora = client.transmitters_by_mode("lora")["data"]
    assert lora and all(t["mode_id"] == 89 for t in lora)
    uuid = lora[0]["uuid"]
    assert client.get_transmitter(uuid)["data"][0]["uuid"] == uuid
    assert all(t["norad_cat_id"] == ISS for t in client.satellite_transmitters(ISS)["data"])
    assert client.satellite_transmitters_by_mode(ISS, "fm")["total"] >= 1
    assert all(t["gs_id"] == "3886" for t in client.station_transmitters("3886")["data"])
    assert client.station_transmitters_by_mode("3886", 89)["total"] == 1
    assert client.list_transmitters(limit=1)["total"] > 1
    with pytest.raises(ApiError) as failure:
        client.get_satellite(99999)
    assert failure.value.status == 404 and failure.value.message == "Satellite 99999 not found"


def test_reference_commands_print_tables(run):
    status, out, _ = run("satellites", "ISS")
    assert status == 0 and "25544" in out
    status, out, _ = run("stations", "Sofia")
    assert status == 0 and "4567" in out and "42.667693" in out
    status, out, _ = run("status", "3886")
    assert status == 0 and out.startswith("station 3886 (DSN Stob")
    status, out, _ = run("transmitters", "--station", "3886", "--mode", "lora")
    assert status == 0 and "ZzPz4gcsNBPKPKAFPmer7g" in out
    status, out, _ = run("transmitters", "--satellite", str(ISS), "--json")
    assert status == 0 and all(t["norad_cat_id"] == ISS for t in json.loads(out)["data"])
    assert run("transmitters", "--satellite", str(ISS), "--station", "1")[0] == 2


def test_503_with_retry_after_is_retried_and_the_call_succeeds(live_dsn, control):
    waits: list[float] = []
    public = make_client(live_dsn, None, sleep=waits.append)
    control.call("POST", "/faults", json={"status": 503, "count": 1, "path": "^/orbapi/satellites",
                                         "retry_after": 1})
    assert public.list_satellites()["total"] > 0
    assert len(waits) == 1 and waits[0] >= 1
    assert [e["status"] for e in control.journal("/orbapi/satellites")] == [503, 200]


# -- credentials -------------------------------------------------------------------------------
def test_unknown_token_is_refused_once_with_a_clear_explanation(live_dsn, control):
    stranger = make_client(live_dsn, "dsn_live_0000000000000000")
    with pytest.raises(ApiError) as failure:
        stranger.list_bookings()
    assert failure.value.status == 401 and failure.value.message == "Invalid API token"
    assert "missing, invalid, expired or revoked" in str(failure.value)
    assert "dsn_live_0000" not in str(failure.value) + repr(stranger)
    assert len(control.journal("/orbapi/bookings")) == 1  # no renewal, no resend


def test_without_a_token_operations_fail_locally_and_public_data_works(live_dsn, control):
    public = make_client(live_dsn, None)
    with pytest.raises(ConfigError, match="DSN_API_TOKEN"):
        public.list_bookings()
    assert control.journal("/orbapi/bookings") == []
    assert public.get_station("1")["total"] == 1


def test_command_with_unknown_token_exits_1_with_the_servers_message(run):
    token = "dsn_live_not_a_real_token"
    status, out, err = run("bookings", token=token)
    assert status == 1 and out == ""
    assert "HTTP 401" in err and "Invalid API token" in err and "DSN_API_TOKEN" in err
    assert token not in err


def test_command_reads_token_from_environment_or_dotenv_file(live_dsn, control, tmp_path, monkeypatch, capsys):
    token = control.tokens()[0]
    monkeypatch.setenv("DSN_API_TOKEN", token)
    monkeypatch.setenv("DSN_BASE_URL", live_dsn.url)
    assert main(["bookings", "--json", "--env-file", str(tmp_path / "absent.env")]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == {"bookings": []} and token not in out + err

    monkeypatch.delenv("DSN_API_TOKEN")
    monkeypatch.delenv("DSN_BASE_URL")
    env_file = tmp_path / ".dsn.env"
    env_file.write_text(f"DSN_API_TOKEN={token}\nDSN_BASE_URL={live_dsn.url}\n")
    assert main(["--env-file", str(env_file), "bookings"]) == 0
    assert token not in capsys.readouterr().out

    assert main(["--env-file", str(tmp_path / "absent.env"), "--base-url", live_dsn.url, "bookings"]) == 2
    assert "DSN_API_TOKEN" in capsys.readouterr().err


def test_usage_errors_exit_2(run):
    with pytest.raises(SystemExit) as stop:
        run("book", str(ISS), "--slot", "2026-05-06T10:00:00Z")
    assert stop.value.code == 2
    with pytest.raises(SystemExit) as stop:
        run("no-such-command")
    assert stop.value.code == 2


def test_time_arguments_accept_datetimes(client):
    start = datetime(2026, 5, 5, 18, tzinfo=UTC)
    result = client.search_passes(ISS, start=start, end=datetime(2026, 5, 6), ground_station_ids=["3886"])
    assert result["start"] == "2026-05-05T18:00:00.000Z" and result["end"] == "2026-05-06T00:00:00.000Z"
    assert all(p["aos"] >= result["start"] for p in result["passes"])
