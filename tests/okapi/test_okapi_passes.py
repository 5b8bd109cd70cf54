"""Pass prediction: real sgp4 passes over the ground location, checked against skyfield."""
from __future__ import annotations

from datetime import timedelta

import pytest
from okapidata import GROUND, TLE, WINDOW, pass_request
from skyfield.api import EarthSatellite, load, wgs84

from mockserver.core.clock import parse_instant


def skyfield_rises_and_sets() -> list[tuple[float, float]]:
    ts = load.timescale(builtin=True)
    line1, line2 = TLE.split("\n")
    satellite = EarthSatellite(line1, line2, "ISS", ts)
    start, end = parse_instant(WINDOW["start"]), parse_instant(WINDOW["end"])
    site = wgs84.latlon(GROUND["latitude"], GROUND["longitude"], elevation_m=GROUND["altitude"] * 1000)
    times, kinds = satellite.find_events(site, ts.from_datetime(start), ts.from_datetime(end + timedelta(hours=1)),
                                         altitude_degrees=0.0)
    events = [(t.utc_datetime().timestamp(), int(k)) for t, k in zip(times, kinds)]
    rises = [t for t, k in events if k == 0 and t <= end.timestamp()]
    sets = [t for t, k in events if k == 2]
    return [(rise, min(s for s in sets if s > rise)) for rise in rises]


def test_the_documents_example_gives_skyfields_passes_within_a_second(okapi):
    result = okapi.done("predict-passes", pass_request())
    passes = result["pass_predictions"]
    expected = skyfield_rises_and_sets()
    assert len(passes) == len(expected) >= 2
    for got, (rise, set_) in zip(passes, expected):
        assert abs(parse_instant(got["start"]).timestamp() - rise) < 1.0
        assert abs(parse_instant(got["end"]).timestamp() - set_) < 1.0
        assert 0 < got["max_elevation"] <= 90
        assert got["start"] < got["max_elevation_epoch"] < got["end"]
        assert got["duration"] == pytest.approx(parse_instant(got["end"]).timestamp()
                                                - parse_instant(got["start"]).timestamp(), abs=0.01)
    assert result["object"]["norad_id"] == 25544 and result["ground_location"] == GROUND


@pytest.mark.parametrize("step", [10, 60, 300])
def test_look_angles_are_sampled_at_the_step_from_aos_to_los(okapi, step):
    first = okapi.done("predict-passes", pass_request(step=step))["pass_predictions"][0]
    epochs = [parse_instant(a["epoch"]).timestamp() for a in first["look_angles"]]
    assert first["look_angles"][0]["epoch"] == first["start"] and first["look_angles"][-1]["epoch"] == first["end"]
    gaps = [b - a for a, b in zip(epochs, epochs[1:])]
    assert all(gap == pytest.approx(step, abs=0.002) for gap in gaps[:-1]) and 0 < gaps[-1] <= step + 0.002
    assert max(a["elevation"] for a in first["look_angles"]) <= first["max_elevation"] + 1e-6


def test_summary_condenses_the_same_passes(okapi):
    request_id = okapi.send("predict-passes", pass_request()).json()["request_id"]
    okapi.clock(advance=5)
    simple = okapi.result("predict-passes", request_id, "simple").json()["pass_predictions"]
    summary = okapi.result("predict-passes", request_id, "summary").json()
    assert [p["start"] for p in summary["pass_predictions"]] == [p["start"] for p in simple]
    assert all("look_angles" not in p for p in summary["pass_predictions"])
    totals = summary["summary"]
    assert totals["number_of_passes"] == len(simple)
    assert totals["total_duration"] == pytest.approx(sum(p["duration"] for p in simple), abs=0.01)
    assert totals["max_elevation"] == max(p["max_elevation"] for p in simple)
    assert totals["first_start"] == simple[0]["start"] and totals["last_end"] == simple[-1]["end"]


def test_the_older_flat_form_gives_the_same_passes(okapi):
    flat = {"tle": TLE, "simple_ground_location": GROUND, "time_window": WINDOW}
    wrapped = okapi.done("predict-passes", pass_request(step=None))["pass_predictions"]
    assert okapi.done("predict-passes", flat)["pass_predictions"] == wrapped


def test_numerical_engines_answer_the_same_passes_and_say_they_are_simulated(okapi):
    request_id = okapi.send("predict-passes", pass_request(), engine="neptune").json()["request_id"]
    okapi.clock(advance=5)
    answer = okapi.result("predict-passes", request_id, engine="neptune").json()
    assert answer["status"]["type"] == "REMARK" and "NEPTUNE is simulated" in answer["status"]["text"]
    assert answer["pass_predictions"] == okapi.done("predict-passes", pass_request())["pass_predictions"]


BAD_TLE = TLE[:68] + "4" + TLE[69:]          # line 1's checksum digit changed


@pytest.mark.parametrize("members, field, words", [
    ({"orbit": {"type": "tle.txt", "content": BAD_TLE}}, "orbit.content", "checksum"),
    ({"orbit": {"type": "tle.txt", "content": "hello"}}, "orbit.content", "two lines"),
    ({"orbit": {"type": "omm.json", "content": TLE}}, "orbit.type", "tle.txt"),
    ({"time_window": {"type": "tw.json", "content": {"start": WINDOW["end"], "end": WINDOW["start"]}}},
     "time_window.content.end", "must be after the start"),
    ({"time_window": {"type": "tw.json", "content": {"start": WINDOW["start"], "end": "2018-10-01T00:00:00Z"}}},
     "time_window.content.end", "at most 31 days"),
    ({"time_window": {"type": "tw.json", "content": {"start": "yesterday", "end": WINDOW["end"]}}},
     "time_window.content.start", "date-time"),
    ({"ground_location": {"type": "ground_loc.json", "content": {**GROUND, "altitude": 48}}},
     "ground_location.content.altitude", "maximum of 10"),
    ({"ground_location": {"type": "ground_loc.json", "content": {**GROUND, "latitude": 91}}},
     "ground_location.content.latitude", "maximum of 90"),
    ({"ground_location": {"type": "ground_loc.json", "content": {"longitude": 1, "latitude": 2}}},
     "ground_location.content.altitude", "is required"),
    ({"settings": {"type": "shared_prop_settings.json", "content": {"output_step_size": 0.5}}},
     "settings.content.output_step_size", "minimum of 1"),
])
def test_bad_input_is_400_naming_the_field_and_the_problem(okapi, members, field, words):
    answer = okapi.send("predict-passes", pass_request(**members))
    assert answer.status_code == 400
    status = answer.json()["status"]
    assert status["type"] == "FATAL" and status["input_problem"] is True
    assert status["text"].startswith(field) and words in status["text"]


def test_the_flat_form_is_checked_as_closely(okapi):
    flat = {"tle": TLE, "simple_ground_location": {"longitude": 10.6, "latitude": 52.3},
            "time_window": {"start": WINDOW["end"], "end": WINDOW["start"]}}
    answer = okapi.send("predict-passes", flat)
    assert answer.status_code == 400
    assert answer.json()["status"]["text"] == "simple_ground_location.altitude: is required"
    flat["simple_ground_location"]["altitude"] = 0.1
    assert okapi.send("predict-passes", flat).json()["status"]["text"].startswith(
        "time_window.end: must be after the start")


def test_a_request_missing_a_member_names_it(okapi):
    body = pass_request()
    del body["ground_location"]
    answer = okapi.send("predict-passes", body)
    assert answer.status_code == 400 and answer.json()["status"]["text"] == "ground_location: is required"
