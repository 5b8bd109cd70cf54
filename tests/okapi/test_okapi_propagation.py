"""Orbit propagation: real sgp4 states at the step, and the CCSDS messages built from them."""
from __future__ import annotations

import numpy as np
import pytest
from okapidata import propagation_request, sgp4_state

from mockserver.core.clock import parse_instant


def test_simple_gives_sgp4_states_from_the_tle_epoch_to_the_end_at_the_step(okapi):
    result = okapi.done("propagate-orbit", propagation_request(end="2018-08-07T00:00:00.000Z", step=600))
    states = result["states"]
    assert result["reference_frame"] == "TEME" and result["time_system"] == "UTC"
    assert states[0]["epoch"] == result["object"]["tle_epoch"] and states[-1]["epoch"] == "2018-08-07T00:00:00.000Z"
    epochs = [parse_instant(s["epoch"]).timestamp() for s in states]
    assert all(b - a == pytest.approx(600, abs=0.002) for a, b in zip(epochs, epochs[1:-1]))
    for state in (states[0], states[7], states[-1]):
        got = [state[k] for k in ("x", "y", "z", "x_dot", "y_dot", "z_dot")]
        assert np.allclose(got, sgp4_state(state["epoch"]), atol=2e-3)   # metres; the epoch is rounded to 1 ms
    radius = np.linalg.norm([states[0]["x"], states[0]["y"], states[0]["z"]])
    assert 6600 < radius < 6900                                             # the ISS, about 400 km up


def test_oem_carries_the_same_states_in_ccsds_key_names(okapi):
    request_id = okapi.send("propagate-orbit", propagation_request()).json()["request_id"]
    okapi.clock(advance=5)
    simple = okapi.result("propagate-orbit", request_id, "simple").json()["states"]
    oem = okapi.result("propagate-orbit", request_id, "oem").json()["orbit"]
    assert oem["OEM_HEADER"]["CCSDS_OEM_VERS"] == "2.0"
    block = oem["OEM_META_DATA_DATA"][0]
    meta = block["OEM_META_DATA"]
    assert meta["REF_FRAME"] == "TEME" and meta["CENTER_NAME"] == "EARTH" and meta["TIME_SYSTEM"] == "UTC"
    assert meta["OBJECT_ID"] == "98067A"
    assert meta["START_TIME"] == simple[0]["epoch"] and meta["STOP_TIME"] == simple[-1]["epoch"]
    assert [line["EPOCH"] for line in block["OEM_DATA"]] == [s["epoch"] for s in simple]
    assert block["OEM_DATA"][3]["Z_DOT"] == simple[3]["z_dot"]


def test_omm_gives_the_mean_elements_sgp4_used(okapi):
    omm = okapi.done("propagate-orbit", propagation_request(), fmt="omm")["orbit"]
    data = omm["OMM_DATA"]
    assert omm["OMM_META_DATA"]["MEAN_ELEMENT_THEORY"] == "SGP4"
    assert data["NORAD_CAT_ID"] == 25544 and data["INCLINATION"] == 51.6423 and data["RA_OF_ASC_NODE"] == 126.6422
    assert data["ECCENTRICITY"] == 0.0005481 and data["MEAN_MOTION"] == 15.53806849
    assert data["BSTAR"] == pytest.approx(0.29472e-4) and data["MEAN_MOTION_DOT"] == 0.00001449
    assert data["REV_AT_EPOCH"] == 12638 and data["ELEMENT_SET_NO"] == 999
    assert data["EPOCH"].startswith("2018-08-06T18:19:43.2")


def test_opm_is_the_state_at_the_end_epoch_for_numerical_engines(okapi):
    request_id = okapi.send("propagate-orbit", propagation_request(), engine="orekit-numerical").json()["request_id"]
    okapi.clock(advance=5)
    answer = okapi.result("propagate-orbit", request_id, "opm", engine="orekit-numerical").json()
    assert answer["status"]["type"] == "REMARK" and "Orekit is simulated" in answer["status"]["text"]
    data = answer["orbit"]["OPM_DATA"]
    assert data["EPOCH"] == "2018-08-07T00:00:00.000Z"
    got = [data[k] for k in ("X", "Y", "Z", "X_DOT", "Y_DOT", "Z_DOT")]
    assert np.allclose(got, sgp4_state(data["EPOCH"]), atol=1e-6)


@pytest.mark.parametrize("change, field, words", [
    ({"end": "2018-08-01T00:00:00Z"}, "settings.content.propagation_end_epoch", "must be after the start"),
    ({"end": "2020-01-01T00:00:00Z"}, "settings.content.propagation_end_epoch", "at most 366 days"),
    ({"step": 0}, "settings.content.more.output_step_size", "minimum of 1"),
    ({"end": "2018-08-09T00:00:00Z", "step": 1}, "settings.content.more.output_step_size", "more than 100000"),
])
def test_bad_propagation_input_is_400_naming_the_field(okapi, change, field, words):
    answer = okapi.send("propagate-orbit", propagation_request(**change))
    assert answer.status_code == 400
    assert answer.json()["status"]["text"].startswith(field) and words in answer.json()["status"]["text"]


def test_a_propagation_without_an_end_epoch_names_it(okapi):
    body = propagation_request()
    del body["settings"]["content"]["propagation_end_epoch"]
    answer = okapi.send("propagate-orbit", body)
    assert answer.status_code == 400
    assert answer.json()["status"]["text"] == "settings.content.propagation_end_epoch: is required"
