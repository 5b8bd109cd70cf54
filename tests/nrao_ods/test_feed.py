"""The ODS feed: required fields, real sites, the thirty-minute window, determinism."""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from mockserver.data import load
from odsdata import START

REQUIRED = {"dish_diameter_m", "freq_lower_hz", "freq_upper_hz", "site_el_m", "site_id", "site_lat_deg",
            "site_lon_deg", "slew_sec", "src_dec_j2000_deg", "src_end_utc", "src_ra_j2000_deg", "src_start_utc",
            "trk_rate_dec_deg_per_sec", "trk_rate_ra_deg_per_sec", "version"}


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp).replace(tzinfo=timezone.utc)


def test_records_hold_every_required_v1_field_in_range(ods):
    records = ods.feed().json()["ods_data"]
    assert records, "a seeded schedule has observations at this hour"
    for record in records:
        assert REQUIRED <= set(record)
        assert record["version"] == "v1.0.0"
        assert -90 <= record["site_lat_deg"] <= 90 and -180 <= record["site_lon_deg"] <= 180
        assert 0 <= record["src_ra_j2000_deg"] <= 360 and -90 <= record["src_dec_j2000_deg"] <= 90
        assert 0 < record["freq_lower_hz"] < record["freq_upper_hz"]
        assert record["slew_sec"] >= 0 and record["dish_diameter_m"] > 0
        assert parse(record["src_start_utc"]) < parse(record["src_end_utc"])


def test_feed_is_the_window_from_now_to_thirty_minutes_ahead(ods):
    for hours in (0, 5, 17):
        now = START + timedelta(hours=hours)
        ods.http.post("/__skymock/clock", json={"set": now.isoformat()})
        records = ods.feed(ods.login()).json()["ods_data"]
        assert records
        for record in records:
            assert parse(record["src_end_utc"]) > now
            assert parse(record["src_start_utc"]) < now + timedelta(minutes=30)


def test_feed_moves_forward_with_the_clock(ods):
    before = ods.feed().json()["ods_data"]
    ods.mock.advance(3 * 3600)
    after = ods.feed(ods.login()).json()["ods_data"]
    assert {r["src_start_utc"] for r in before}.isdisjoint({r["src_start_utc"] for r in after})


def test_sites_are_the_real_nrao_antennas(ods):
    stations = {s["site_id"]: s for g in load("radio_observatories.json")["groups"].values() for s in g["stations"]}
    seen = set()
    for hours in range(0, 24, 3):
        ods.http.post("/__skymock/clock", json={"set": (START + timedelta(hours=hours)).isoformat()})
        for record in ods.feed(ods.login()).json()["ods_data"]:
            key = "vla_{config}" if record["site_id"].startswith("vla_") else record["site_id"]
            station = stations[key]
            assert (record["site_lat_deg"], record["site_lon_deg"]) == (station["lat"], station["lon"])
            seen.add(record["site_id"][:4])
    assert {"vla_", "GBT", "vlba"} <= seen
    vlba_pt = stations["vlba_PT"]
    assert math.isclose(vlba_pt["lat"], 34.301003) and math.isclose(vlba_pt["lon"], -108.119183)


def test_same_seed_same_feed_other_seed_other_feed(make_mock):
    from odsdata import Ods

    def feed(seed: int) -> list:
        return Ods(make_mock("nrao-ods", seed=seed, clock_start=START, frozen=True)).feed().json()["ods_data"]

    assert feed(7) == feed(7)
    assert feed(7) != feed(8)


def test_sources_are_above_the_horizon_of_their_site(ods):
    from mockserver.astro.sky import Site, alt_az
    for record in ods.feed().json()["ods_data"]:
        site = Site(record["site_id"], record["site_lat_deg"], record["site_lon_deg"], record["site_el_m"])
        altitude, _ = alt_az(record["src_ra_j2000_deg"], record["src_dec_j2000_deg"], site,
                             parse(record["src_start_utc"]))
        assert altitude >= 10


def test_feed_is_one_unpaginated_answer(ods):
    answer = ods.feed()
    assert list(answer.json()) == ["ods_data"]
    assert "link" not in answer.headers
