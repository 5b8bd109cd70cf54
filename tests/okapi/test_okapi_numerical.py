"""The numerical engines from a state vector (state.json, opm.json): two-body + J2 integration."""
from __future__ import annotations

import math

import numpy as np
import pytest
from okapidata import pass_request, sgp4_state
from skyfield.api import load
from skyfield.sgp4lib import TEME

from mockserver.core.clock import parse_instant

KEYS = ("x", "y", "z", "x_dot", "y_dot", "z_dot")
EPOCH = "2018-08-07T12:00:00.000Z"


def opm(epoch: str = EPOCH, frame: str = "TEME", state: list[float] | None = None, **data) -> dict:
    """The ISS at ``epoch`` (sgp4's TEME state unless given) as an opm.json orbit member."""
    values = sgp4_state(epoch) if state is None else state
    return {"type": "opm.json", "content": {
        "OPM_HEADER": {"CCSDS_OPM_VERS": "2.0", "CREATION_DATE": epoch, "ORIGINATOR": "tests"},
        "OPM_META_DATA": {"OBJECT_NAME": "ISS (ZARYA)", "OBJECT_ID": "1998-067A", "CENTER_NAME": "EARTH",
                          "REF_FRAME": frame, "TIME_SYSTEM": "UTC"},
        "OPM_DATA": {"EPOCH": epoch, **dict(zip((k.upper() for k in KEYS), values)), **data}}}


def state_json(**changes) -> dict:
    """A state.json orbit member: a 500 km circular orbit inclined 60 degrees, in GCRF."""
    speed = math.sqrt(398600.4418 / 6878.137)
    content = {"x": 6878.137, "y": 0.0, "z": 0.0, "x_dot": 0.0, "y_dot": speed * 0.5,
               "z_dot": speed * math.sqrt(3) / 2, "epoch": EPOCH, "area": 1.2, "mass": 150.0, **changes}
    return {"type": "state.json", "content": content}


def propagation(orbit: dict, end: str = "2018-08-08T12:00:00.000Z", step: float = 600, **content) -> dict:
    return {"orbit": orbit, "settings": {"type": "prop_settings.json",
                                         "content": {"propagation_end_epoch": end, "output_step_size": step, **content}}}


def vectors(states: list[dict]) -> np.ndarray:
    return np.array([[s[k] for k in KEYS] for s in states])


def node_longitude(state: np.ndarray) -> float:
    h = np.cross(state[:3], state[3:])
    return math.degrees(math.atan2(h[0], -h[1]))


def test_an_opm_state_is_integrated_and_stays_close_to_sgp4_over_a_day(okapi):
    result = okapi.done("propagate-orbit", propagation(opm()), engine="neptune")
    assert result["status"]["type"] == "REMARK"
    assert "integrated numerically with two-body gravity and the J2 term" in result["status"]["text"]
    assert result["reference_frame"] == "TEME"
    assert result["object"]["name"] == "ISS (ZARYA)" and result["object"]["state_epoch"] == EPOCH
    states = result["states"]
    assert states[0]["epoch"] == EPOCH and states[-1]["epoch"] == "2018-08-08T12:00:00.000Z" and len(states) == 145
    got = vectors(states)
    assert np.allclose(got[0], sgp4_state(EPOCH), atol=1e-9)
    apart = [np.linalg.norm(got[i, :3] - sgp4_state(states[i]["epoch"])[:3]) for i in (9, 72, 144)]
    assert apart[0] < 1.0 and apart[2] < 20.0          # km: J2 alone against SGP4's fuller model


def test_j2_turns_the_orbit_node_at_the_rate_theory_gives(okapi):
    result = okapi.done("propagate-orbit", propagation(state_json()), engine="orekit-numerical")
    assert result["reference_frame"] == "GCRF" and "Orekit is simulated" in result["status"]["text"]
    got = vectors(result["states"])
    assert np.allclose(got[0], [state_json()["content"][k] for k in KEYS], atol=1e-9)
    a, inclination = 6878.137, math.radians(60.0)
    theory = -1.5 * math.sqrt(398600.4418 / a**3) * 1.08262668e-3 * (6378.137 / a) ** 2 * math.cos(inclination)
    turned = node_longitude(got[-1]) - node_longitude(got[0])
    assert turned == pytest.approx(math.degrees(theory) * 86_400, rel=0.02)   # about -3.3 degrees a day
    radii = np.linalg.norm(got[:, :3], axis=1)
    assert radii.min() > 6878.137 - 15 and radii.max() < 6878.137 + 15       # J2 wobbles, nothing decays


def test_an_opm_result_fed_back_continues_the_same_trajectory(okapi):
    first = okapi.done("propagate-orbit", propagation(state_json(), end="2018-08-07T18:00:00.000Z"),
                       fmt="opm", engine="neptune")["orbit"]
    assert first["OPM_META_DATA"]["REF_FRAME"] == "GCRF"
    assert first["OPM_DATA"]["MASS"] == 150.0 and first["OPM_DATA"]["DRAG_AREA"] == 1.2
    again = okapi.done("propagate-orbit", propagation({"type": "opm.json", "content": first},
                                                       end="2018-08-08T00:00:00.000Z"), engine="neptune")["states"]
    whole = okapi.done("propagate-orbit", propagation(state_json(), end="2018-08-08T00:00:00.000Z"),
                       engine="neptune")["states"]
    assert again[-1]["epoch"] == whole[-1]["epoch"]
    assert np.linalg.norm(vectors(again)[-1, :3] - vectors(whole)[-1, :3]) < 0.01     # within 10 m


def starts(result: dict) -> list[float]:
    return [parse_instant(p["start"]).timestamp() for p in result["pass_predictions"]]


def test_passes_from_a_state_match_the_tles_passes(okapi):
    tle_passes = okapi.done("predict-passes", pass_request())["pass_predictions"]
    body = pass_request(orbit=opm("2018-08-07T16:00:00.000Z"))
    result = okapi.done("predict-passes", body, engine="neptune")
    assert "integrated numerically" in result["status"]["text"]
    passes = result["pass_predictions"]
    assert len(passes) == len(tle_passes) == 2
    for ours, theirs in zip(passes, tle_passes):
        for key in ("start", "end", "max_elevation_epoch"):
            assert abs(parse_instant(ours[key]) - parse_instant(theirs[key])).total_seconds() < 0.5
        assert ours["max_elevation"] == pytest.approx(theirs["max_elevation"], abs=0.05)


def test_a_gcrf_state_is_turned_into_the_earths_frame_by_its_own_rotation(okapi):
    """GCRF and TEME differ by a fifth of a degree in 2018: seconds in a pass time."""
    epoch = "2018-08-07T16:00:00.000Z"
    teme = np.array(sgp4_state(epoch))
    rotation = TEME.rotation_at(load.timescale(builtin=True).from_datetime(parse_instant(epoch)))   # GCRF -> TEME
    gcrf = np.concatenate([rotation.T @ teme[:3], rotation.T @ teme[3:]])
    expected = starts(okapi.done("predict-passes", pass_request()))
    converted = starts(okapi.done("predict-passes", pass_request(orbit=opm(epoch, "GCRF", list(gcrf))), engine="neptune"))
    mislabelled = starts(okapi.done("predict-passes", pass_request(orbit=opm(epoch, "GCRF")), engine="neptune"))
    assert np.allclose(converted, expected, atol=0.2)
    assert np.abs(np.subtract(mislabelled, expected)).max() > 1.0


@pytest.mark.parametrize("orbit, field, words", [
    ({"type": "state.json", "content": {k: v for k, v in state_json()["content"].items() if k != "x"}},
     "orbit.content.x", "is required"),
    (state_json(y_dot="fast"), "orbit.content.y_dot", "is not of type 'number'"),
    (state_json(mass=-1), "orbit.content.mass", "minimum of 0"),
    (state_json(epoch="yesterday"), "orbit.content.epoch", "is not a 'date-time'"),
    (state_json(y_dot=6.0, z_dot=10.0), "orbit.content", "escape speed"),
    (state_json(x=6500.0), "orbit.content", "re-enter"),
    (opm(frame="ITRF"), "orbit.content.OPM_META_DATA.REF_FRAME", "is not one of"),
    (opm(X="far"), "orbit.content.OPM_DATA.X", "does not match"),
    ({"type": "opm.json", "content": {**opm()["content"], "OPM_META_DATA": {
        **opm()["content"]["OPM_META_DATA"], "TIME_SYSTEM": "TAI"}}}, "orbit.content.OPM_META_DATA.TIME_SYSTEM", "UTC"),
    ({"type": "opm.json", "content": {"OPM_META_DATA": {"REF_FRAME": "GCRF"}}}, "orbit.content.OPM_DATA",
     "is required"),
    ({"type": "state.json", "content": opm()["content"]}, "orbit.content.x", "is required"),
])
def test_bad_states_are_refused_naming_the_field(okapi, orbit, field, words):
    answer = okapi.send("propagate-orbit", propagation(orbit), engine="neptune")
    assert answer.status_code == 400, answer.text
    status = answer.json()["status"]
    assert status["type"] == "FATAL" and status["input_problem"] is True
    assert field in status["text"] and words in status["text"]


def test_a_window_far_from_the_states_epoch_is_refused(okapi):
    far = {"start": "2018-09-20T00:00:00.000Z", "end": "2018-09-21T00:00:00.000Z"}
    answer = okapi.send("predict-passes", pass_request(orbit=state_json(), time_window={"type": "tw.json", "content": far}),
                        engine="neptune")
    assert answer.status_code == 400
    assert "time_window.content.start" in answer.json()["status"]["text"]
    assert "31 days" in answer.json()["status"]["text"]


def test_sgp4_takes_only_tles_and_says_where_states_go(okapi):
    answer = okapi.send("propagate-orbit", propagation(state_json()), engine="sgp4")
    assert answer.status_code == 400
    text = answer.json()["status"]["text"]
    assert "orbit.type" in text and "numerical engine" in text
