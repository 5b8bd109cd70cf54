"""Avoidance logs and TLE uploads: every check, all-or-nothing, de-duplication, caps, pacing."""
from __future__ import annotations

import pytest
from odsdata import HEADER, TLE_TEXT, log_rows


def ingested(ods) -> int:
    return len(ods.mock.app.sandbox.store.collection("avoidance_records"))


def test_valid_log_is_ingested_and_counted(ods):
    answer = ods.upload_log(HEADER + log_rows(5))
    assert answer.status_code == 200
    assert answer.json() == {"ingested_records": 5}


def test_header_without_angular_threshold_is_accepted(ods):
    text = "utc_time,freq_lower_mhz,freq_upper_mhz,avoidance_type,sat_id\n2025-08-30 00:05:57,10700,12700,outer,44713\n"
    assert ods.upload_log(text).json() == {"ingested_records": 1}


@pytest.mark.parametrize("name", ["GBT_Logs_2025-08-30_to_2025-08-31.csv", "vlba_MK_Logs_2025-08-30.csv",
                                  "vlba_SC.csv", "VLA_x.txt"])
def test_every_facility_prefix_is_accepted(ods, name):
    assert ods.upload_log(HEADER + log_rows(1), name=name).status_code == 200


@pytest.mark.parametrize("name", ["vla_Logs.csv", "VLBA_MK_Logs.csv", "vlba_XX_Logs.csv", "vlba_mk_Logs.csv",
                                  "Logs_VLA.csv", "VLAX_Logs.csv"])
def test_unknown_facility_prefix_is_refused(ods, name):
    answer = ods.upload_log(HEADER + log_rows(1), name=name)
    assert answer.status_code == 400
    assert f"'{name}' must start with a facility" in answer.json()["detail"]


@pytest.mark.parametrize("row, column, problem", [
    ("2025/08/30 00:05:57,10700,12700,outer,3.5,1", "utc_time", "YYYY-MM-DD HH:MM:SS"),
    ("2025-08-30T00:05:57,10700,12700,outer,3.5,1", "utc_time", "YYYY-MM-DD HH:MM:SS"),
    ("2025-08-30 00:05:57,abc,12700,outer,3.5,1", "freq_lower_mhz", "'abc' is not a number"),
    ("2025-08-30 00:05:57,10700,nan,outer,3.5,1", "freq_upper_mhz", "finite"),
    ("2025-08-30 00:05:57,12800,12700,outer,3.5,1", "freq_upper_mhz", "below freq_lower_mhz"),
    ("2025-08-30 00:05:57,10700,12700,middle,3.5,1", "avoidance_type", "not one of outer, inner"),
    ("2025-08-30 00:05:57,10700,12700,outer,wide,1", "angular_threshold", "'wide' is not a number"),
    ("2025-08-30 00:05:57,10700,12700,outer,3.5,12.5", "sat_id", "'12.5' is not a whole number"),
    ("2025-08-30 00:05:57,10700,12700,outer,1", "*", "has 5 values"),
])
def test_bad_row_refuses_the_whole_file_naming_row_column_problem(ods, row, column, problem):
    text = HEADER + log_rows(2) + row + "\n" + log_rows(2, start_second=30)
    answer = ods.upload_log(text)
    assert answer.status_code == 400
    detail = answer.json()["detail"]
    assert f"row 3 (line 4), column '{column}'" in detail and problem in detail
    assert "nothing was ingested" in detail
    assert ingested(ods) == 0


def test_wrong_header_is_refused_and_shows_the_expected_one(ods):
    answer = ods.upload_log("time,lo,hi,type,sat\n2025-08-30 00:05:57,1,2,outer,1\n")
    assert answer.status_code == 400
    assert "expected 'utc_time,freq_lower_mhz" in answer.json()["detail"]


def test_fixed_file_reuploaded_ingests_everything_then_nothing_more(ods):
    bad = HEADER + log_rows(3) + "2025-08-30 00:09:00,10700,12700,sideways,3.5,1\n"
    assert ods.upload_log(bad).status_code == 400
    ods.mock.advance(10)
    fixed = bad.replace("sideways", "outer")
    assert ods.upload_log(fixed).json() == {"ingested_records": 4}
    ods.mock.advance(10)
    assert ods.upload_log(fixed).json() == {"ingested_records": 0}
    ods.mock.advance(10)
    grown = fixed + log_rows(2, start_second=50)
    assert ods.upload_log(grown).json() == {"ingested_records": 2}
    assert ingested(ods) == 6


def test_log_over_750_kB_is_413_and_at_the_cap_is_accepted(ods):
    body = HEADER + log_rows(1)
    exact = body + "\n" * (750_000 - len(body))  # blank lines are allowed and count towards the size
    assert ods.upload_log(exact).status_code == 200
    ods.mock.advance(10)
    answer = ods.upload_log(exact + " ")
    assert answer.status_code == 413
    assert "750000 bytes" in answer.json()["detail"]


def test_broken_csv_quoting_is_400_not_a_crash(ods):
    answer = ods.upload_log(HEADER + '2025-08-30 00:05:57,"' + "1" * 200_000 + '",12700,outer,3.5,1\n')
    assert answer.status_code == 400 and "not valid CSV" in answer.json()["detail"]


def test_non_utf8_log_is_400(ods):
    answer = ods.upload_log(HEADER.encode() + b"\xff\xfe\n")
    assert answer.status_code == 400 and "not UTF-8" in answer.json()["detail"]


def test_upload_without_the_file_field_is_422(ods):
    answer = ods.http.post("/sat_avoidance_logs", files={"other": ("a.csv", "x")}, headers=ods.auth())
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "file"]


def test_tle_upload_is_201_with_the_number_of_sets(ods):
    answer = ods.upload_tle(TLE_TEXT)
    assert answer.status_code == 201
    assert answer.json() == {"ingested_records": 2}
    stored = ods.mock.app.sandbox.store.collection("tle_sets").values()
    assert {s["name"] for s in stored} == {"ISS (ZARYA)", "ISS (NAUKA)"}


def test_tle_with_bad_checksum_names_the_set_and_ingests_nothing(ods):
    broken = TLE_TEXT.replace("0  9998", "0  9997")
    answer = ods.upload_tle(broken)
    assert answer.status_code == 400
    detail = answer.json()["detail"]
    assert "element set 2 ('ISS (NAUKA)'), line 1" in detail and "checksum" in detail
    assert len(ods.mock.app.sandbox.store.collection("tle_sets")) == 0


def with_checksum(line: str) -> str:
    from mockserver.astro.tle import checksum
    return line[:68] + str(checksum(line))


def other_catalog_on_line_2(text: str) -> str:
    lines = text.splitlines()
    lines[5] = with_checksum(lines[5].replace("2 49044", "2 49045"))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("mutate, words", [
    (other_catalog_on_line_2, "catalog"),
    (lambda t: "\n".join(t.splitlines()[:-1]) + "\n", "ends before the set is complete"),
    (lambda t: "\n".join(line for line in t.splitlines() if not line.startswith("ISS")), "2LE"),
])
def test_other_tle_mistakes_are_400_naming_the_problem(ods, mutate, words):
    answer = ods.upload_tle(mutate(TLE_TEXT))
    assert answer.status_code == 400
    assert words.lower() in answer.json()["detail"].lower()


def test_tle_file_of_50_kB_is_413(ods):
    padded = TLE_TEXT * (50_000 // len(TLE_TEXT) + 1)
    assert len(padded) >= 50_000
    answer = ods.upload_tle(padded)
    assert answer.status_code == 413
    assert "50000" in answer.json()["detail"]


def test_uploads_closer_than_ten_seconds_are_journaled_as_pacing_violations(ods):
    ods.upload_tle(TLE_TEXT)
    ods.mock.advance(4)
    ods.upload_log(HEADER + log_rows(1))
    ods.mock.advance(10)
    ods.upload_tle(TLE_TEXT)
    uploads = [e for e in ods.mock.journal() if e["method"] == "POST" and e["path"] != "/token/"]
    assert [[n for n in e["notes"] if not n.startswith("upload:")] for e in uploads] == [[], ["pacing_violation"], []]
    digests = [[n for n in e["notes"] if n.startswith("upload:")] for e in uploads]
    assert digests[0] == digests[2] != digests[1]        # the same file twice, another between
    assert all(e["status"] in (200, 201) for e in uploads)
    assert {e["client"] for e in uploads} == {"skymock-operator"}


def test_strict_server_refuses_early_uploads_with_429_and_retry_after(ods_strict):
    ods = ods_strict
    assert ods.upload_tle(TLE_TEXT).status_code == 201
    ods.mock.advance(3)
    answer = ods.upload_tle(TLE_TEXT)
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "7"
    ods.mock.advance(7)
    assert ods.upload_tle(TLE_TEXT).status_code == 201
