"""Submitting, validating, listing and cancelling userrequests, with the portal's rules and messages."""
from __future__ import annotations

import re

import pytest
from lcodata import EXAMPLE, M42, WINDOW, changed

FLOYDS = {**EXAMPLE, "requests": [{**EXAMPLE["requests"][0], "target": {**M42, "rot_mode": ""},
                                   "molecules": [{"type": "SPECTRUM", "instrument_name": "2M0-FLOYDS-SCICAM",
                                                  "exposure_time": 30, "exposure_count": 1,
                                                  "spectra_slit": "slit_2.0as"}],
                                   "location": {"telescope_class": "2m0"}}]}
SATURN = {"name": "Saturn", "type": "NON_SIDEREAL", "scheme": "JPL_MAJOR_PLANET", "orbinc": 2.490066187978994,
          "longascnode": 113.5557964913403, "argofperih": 340.0784134626224, "eccentricity": 0.05143457699730554,
          "meandist": 9.573276502591009, "meananom": 174.0162055524961, "epochofel": 58052,
          "dailymot": 0.03327937986031185}


def errors_of(portal, body: dict, username: str = "astro") -> dict:
    answer = portal.post("/userrequests/validate/", body, username)
    assert answer.status_code == 200
    return answer.json()["errors"]


def test_a_valid_userrequest_is_stored_with_every_default_and_its_duration(portal):
    answer = portal.post("/userrequests/", EXAMPLE)
    assert answer.status_code == 201
    made = answer.json()
    assert (made["submitter"], made["state"], made["proposal"], made["operator"]) == \
        ("astro", "PENDING", "LCO2026B-001", "SINGLE")
    request = made["requests"][0]
    assert request["duration"] == 242                    # 2 x (30 + 27 + 1 + 16) + 2 filters x 2 + 90
    assert request["windows"] == [{"start": "2026-11-21T00:00:00Z", "end": "2026-12-05T00:00:00Z"}]
    assert request["constraints"] == {"max_airmass": 1.6, "min_lunar_distance": 30.0, "max_lunar_phase": None,
                                      "max_seeing": None, "min_transparency": None}
    assert request["target"]["coordinate_system"] == "ICRS" and request["target"]["acquire_mode"] is None
    assert [m["priority"] for m in request["molecules"]] == [1, 2]
    first = request["molecules"][0]
    assert (first["ag_mode"], first["acquire_mode"], first["bin_x"], first["ag_exp_time"]) == ("OPTIONAL", "OFF", 1, 10.0)
    assert request["acceptability_threshold"] == 90.0 and request["state"] == "PENDING"
    assert portal.get(f"/userrequests/{made['id']}/").json() == made
    assert portal.get(f"/requests/{request['id']}/").json() == request


def test_a_spectrograph_request_gets_its_defaults_and_acquisition_time(portal):
    made = portal.post("/userrequests/", FLOYDS).json()["requests"][0]
    molecule = made["molecules"][0]
    assert (molecule["ag_mode"], molecule["acquire_mode"], made["target"]["rot_mode"]) == ("ON", "WCS", "VFLOAT")
    assert made["acceptability_threshold"] == 100.0
    assert made["duration"] == 462                       # 30 + 25 + 0.5 + 16 + config 60 + acquire 30 + 60 + 240


def test_validate_answers_durations_or_the_errors_always_with_200(portal):
    good = portal.post("/userrequests/validate/", EXAMPLE).json()
    assert good["errors"] == {}
    durations = good["request_durations"]
    assert durations["duration"] == 242 and durations["requests"][0]["molecules"] == [{"duration": 58.0},
                                                                                      {"duration": 58.0}]
    assert 3600 < durations["requests"][0]["largest_interval"] < 24 * 3600
    bad = portal.post("/userrequests/validate/", changed(EXAMPLE, ipp_value=0.1)).json()
    assert bad == {"request_durations": {}, "errors": {"ipp_value": ["Ensure this value is greater than or equal to 0.5."]}}
    assert portal.get("/userrequests/").json()["count"] == 0            # validating stores nothing


@pytest.mark.parametrize("edits,expected", [
    ({"operator": ...}, {"operator": ["This field is required."]}),
    ({"requests__0__constraints__max_airmass": 30},
     {"requests": [{"constraints": {"max_airmass": ["Ensure this value is less than or equal to 25.0."]}}]}),
    ({"requests__0__target__type": "NOTATYPE"}, {"requests": [{"target": {"type": ["\"NOTATYPE\" is not a valid choice."]}}]}),
    ({"requests__0__target__ra": ...}, {"requests": [{"target": {"ra": ["This field is required"]}}]}),
    ({"requests__0__molecules": []}, {"requests": [{"molecules": ["You must specify at least 1 molecule"]}]}),
    ({"requests__0__location__site": "xyz"},
     {"requests": [{"location": {"non_field_errors": ["Site xyz not valid. Valid choices: ogg, coj, lsc, cpt, elp, tfn, tlv"]}}]}),
    ({"requests__0__windows__0__end": "2026-11-21 00:00:00"},
     {"requests": [{"windows": [{"non_field_errors": ["Window end '2026-11-21 00:00:00+00:00' cannot be earlier than "
                                                      "window start '2026-11-21 00:00:00+00:00'."]}]}]}),
    ({"requests__0__windows__0__end": "2026-11-20 00:00:00"},
     {"requests": [{"windows": [{"end": ["Window end time must be in the future"]}]}]}),
    ({"requests__0__windows__0__end": "2027-03-01 00:00:00"},
     {"requests": [{"windows": [{"non_field_errors": ["The observation window does not fit within any defined semester."]}]}]}),
    ({"proposal": "DoesNotExist"}, {"proposal": ["Invalid pk \"DoesNotExist\" - object does not exist."]}),
    ({"requests__0__cadence": {"start": "2026-11-21 00:00:00", "end": "2026-11-24 00:00:00", "period": 24, "jitter": 12}},
     {"requests": [{"cadence": ["Please use the cadence endpoint to expand your cadence request"]}]}),
    ({"requests__0__target": {**SATURN, "scheme": "MPC_MINOR_PLANET", "eccentricity": 0.99, "meananom": 10.0}},
     {"requests": [{"target": {"scheme": ["Non sidereal pointing of scheme MPC_MINOR_PLANET requires eccentricity to be "
                                          "lower than 0.9. Submit with scheme MPC_COMET to use your eccentricity of 0.99."]}}]}),
    ({"requests__0__target": {**SATURN, "scheme": "MPC_COMET"}},
     {"requests": [{"target": {"perihdist": ["This field is required"], "epochofperih": ["This field is required"]}}]}),
])
def test_field_errors_nest_like_the_payload(portal, edits, expected):
    assert errors_of(portal, changed(EXAMPLE, **edits)) == expected


def test_a_bad_filter_names_the_instruments_filters_and_good_items_get_an_empty_entry(portal):
    answer = portal.post("/userrequests/", changed(EXAMPLE, requests__0__molecules__0__filter="notafilter"))
    assert answer.status_code == 400
    [entry] = answer.json()["requests"]
    bad, good = entry["molecules"]
    assert good == {}
    assert bad["filter"][0].startswith("Invalid filter notafilter for instrument 1M0-SCICAM-SINISTRO. Valid filters are: ")
    assert {"v", "b", "rp", "air", "400um-pinhole"} <= set(bad["filter"][0].split(": ")[1].split(", "))
    assert portal.get("/userrequests/").json()["count"] == 0           # nothing written


def test_an_unknown_instrument_lists_the_networks_instruments(portal):
    errors = errors_of(portal, changed(EXAMPLE, requests__0__molecules__0__instrument_name="1M0-SCICAM-NOPE"))
    assert errors["requests"][0]["molecules"][0] == {"instrument_name": [
        "Invalid instrument name 1M0-SCICAM-NOPE. Valid instruments may include: 2M0-SCICAM-SPECTRAL, "
        "2M0-FLOYDS-SCICAM, 1M0-SCICAM-SINISTRO, 0M4-SCICAM-SBIG, 1M0-NRES-SCICAM"]}


def test_the_sky_decides_never_visible_and_too_long(portal):
    south_pole = changed(EXAMPLE, requests__0__target__dec=-89.0, requests__0__target__ra=10.0)
    never = errors_of(portal, changed(south_pole, requests__0__constraints__max_airmass=1.1))
    assert never["requests"][0]["non_field_errors"][0].startswith(
        "According to the constraints of the request, the target is never visible within the time window.")
    long = changed(EXAMPLE, requests__0__molecules__0__exposure_count=10000)
    message = errors_of(portal, long)["requests"][0]["non_field_errors"][0]
    visible, duration = map(float, re.findall(r"(\d+\.\d\d) hours", message))
    assert 2 < visible < 24 and duration > 100


def test_a_planet_is_placed_from_its_orbital_elements(portal):
    assert errors_of(portal, changed(EXAMPLE, requests__0__target=SATURN)) == {}
    # the same elements a month off in their mean anomaly put "Saturn" elsewhere: still checked, not assumed
    assert portal.post("/userrequests/", changed(EXAMPLE, requests__0__target=SATURN)).status_code == 201


@pytest.mark.parametrize("edits,username,message", [
    ({"proposal": "LCO2026A-004"}, "astro", "You do not belong to the proposal you are trying to submit"),
    ({"operator": "AND"}, "astro", "'And' type user requests must have more than one child request."),
    ({"proposal": "LCO2026B-003"}, "astro",
     "Proposal LCO2026B-003 does not have any time left allocated in semester 2026B on 1m0 telescopes"),
    ({"proposal": "LCO2026B-003", "requests__0__molecules__0__instrument_name": "0M4-SCICAM-SBIG",
      "requests__0__molecules__1__instrument_name": "0M4-SCICAM-SBIG", "requests__0__location__telescope_class": "0m4"},
     "astro", "You do not have sufficient time allocated on the instrument you're requesting for this proposal."),
    ({"requests__0__molecules__0__exposure_count": 60}, "carol",
     "This request's duration will exceed the time limit set for your account on this proposal."),
    ({"observation_type": "TARGET_OF_OPPORTUNITY"}, "astro",
     "The Rapid Response observation window start time cannot be in the future."),
])
def test_proposal_rules_answer_in_non_field_errors(portal, edits, username, message):
    assert errors_of(portal, changed(EXAMPLE, **edits), username) == {"non_field_errors": [message]}


def test_too_much_ipp_names_the_highest_allowed_value_in_the_portals_odd_words(portal):
    errors = errors_of(portal, changed(EXAMPLE, ipp_value=500.0))
    assert errors == {"non_field_errors": [
        "TimeAllocationError(\"An IPP Value of 500.0 requires more IPP time than you have available for 'NORMAL' "
        "Observation with the 1M0-SCICAM-SINISTRO . Please lower your IPP Value to <= 2.0 and submit again.\",)"]}


def test_a_rapid_response_starting_now_is_accepted(portal):
    rapid = changed(EXAMPLE, observation_type="TARGET_OF_OPPORTUNITY",
                    requests__0__windows__0={"start": "2026-11-20T23:01:11Z", "end": "2026-11-21T22:02:11Z"})
    assert portal.post("/userrequests/", rapid).status_code == 201


def test_submitting_with_raised_priority_spends_ipp_time(portal):
    def ipp_left() -> float:
        proposal = portal.get("/proposals/LCO2026B-001/").json()
        return next(a["ipp_time_available"] for a in proposal["timeallocation_set"]
                    if a["instrument_name"] == "1M0-SCICAM-SINISTRO")
    before = ipp_left()
    portal.post("/userrequests/", changed(EXAMPLE, ipp_value=1.5))
    assert ipp_left() == pytest.approx(before - 242 / 3600 * 0.5)


def test_lists_filter_order_and_page_and_keep_other_proposals_private(portal):
    for title in ("alpha", "beta", "gamma"):
        portal.post("/userrequests/", changed(EXAMPLE, group_id=title))
    portal.post("/userrequests/", changed(EXAMPLE, group_id="bob's", proposal="LCOEngineering"), "bob")
    mine = portal.get("/userrequests/", limit=2).json()
    assert mine["count"] == 3 and [u["group_id"] for u in mine["results"]] == ["gamma", "beta"]
    assert mine["next"] == "http://testserver/api/userrequests/?limit=2&offset=2"
    assert [u["group_id"] for u in portal.get("/userrequests/", ordering="id").json()["results"]] == \
        ["alpha", "beta", "gamma"]
    assert portal.get("/userrequests/", title="ET").json()["count"] == 1
    assert portal.get("/userrequests/", state="BOGUS").json() == {
        "state": ["Select a valid choice. %(value)s is not one of the available choices."]}
    assert portal.get("/userrequests/", created_after="2026-11-19T23:00:15Z").json() == {
        "created_after": ["Enter a valid date/time."]}
    assert portal.get("/userrequests/", created_after="2026-11-19 23:00:15").json()["count"] == 3
    # anonymous callers see public proposals' userrequests only; other members' stay hidden
    assert [u["group_id"] for u in portal.get("/userrequests/", username=None).json()["results"]] == ["bob's"]
    assert portal.get("/userrequests/", "carol").json()["count"] == 3   # carol is in LCO2026B-001 too
    first = portal.get("/userrequests/", ordering="id").json()["results"][0]["id"]
    assert portal.get(f"/userrequests/{first}/", username=None).json() == {"detail": "Not found."}
    assert portal.get("/requests/", limit=1).json()["count"] == 3


def test_cancel_follows_the_portals_transitions_and_quirk(portal):
    made = portal.post("/userrequests/", EXAMPLE).json()
    answer = portal.post(f"/userrequests/{made['id']}/cancel/")
    assert answer.status_code == 200
    cancelled = answer.json()
    assert cancelled["state"] == "CANCELED" and cancelled["requests"][0]["state"] == "PENDING"   # as the portal showed
    assert portal.get(f"/userrequests/{made['id']}/").json()["requests"][0]["state"] == "CANCELED"
    again = portal.http.put(f"/api/userrequests/{made['id']}/cancel/", headers=portal.auth())
    assert again.status_code == 200 and again.json()["state"] == "CANCELED"
    assert portal.post("/userrequests/999999/cancel/").json() == {"detail": "Not found."}
    assert portal.post(f"/userrequests/{made['id']}/cancel/", username="bob").status_code == 404


def test_airmass_is_sampled_every_ten_minutes_per_observing_site(portal):
    request_id = portal.post("/userrequests/", EXAMPLE).json()["requests"][0]["id"]
    data = portal.get(f"/requests/{request_id}/airmass/").json()
    assert data["airmass_limit"] == 1.6 and set(data["airmass_data"]) <= {"coj", "lsc", "cpt", "elp", "tlv"}
    some = next(iter(data["airmass_data"].values()))
    assert re.fullmatch(r"2026-1[12]-\d\dT\d\d:\d0", some["times"][0])
    assert all(1.0 <= a <= 1.6 for a in some["airmasses"])
    loose = portal.post("/airmass/", {**EXAMPLE["requests"][0], "constraints": {"max_airmass": 3}}, username=None)
    assert loose.json()["airmass_limit"] == 3.0
    invalid = portal.post("/airmass/", {**EXAMPLE["requests"][0], "target": {"type": "SIDEREAL"}}, username=None)
    assert invalid.status_code == 200 and "name" in invalid.json()["target"]


def test_max_allowable_ipp_per_semester_class_and_instrument(portal):
    answer = portal.post("/userrequests/max_allowable_ipp/", EXAMPLE).json()
    entry = answer["2026B"]["1m0"]["1M0-SCICAM-SINISTRO"]
    assert entry["max_allowable_ipp_value"] == 2.0 and entry["min_allowable_ipp_value"] == 0.5
    assert entry["request_duration"] == pytest.approx(242 / 3600) and entry["ipp_limit"] == 10.0
    assert portal.post("/userrequests/max_allowable_ipp/", changed(EXAMPLE, proposal=...)).json() == {
        "errors": {"proposal": ["This field is required."]}}


CADENCE = {**EXAMPLE, "requests": [{k: v for k, v in EXAMPLE["requests"][0].items() if k != "windows"} | {
    "cadence": {"start": "2026-11-21T00:00:00Z", "end": "2026-11-24T00:00:00Z", "period": 24, "jitter": 12}}]}


def test_a_cadence_expands_into_the_visible_windows_of_each_period(portal):
    answer = portal.post("/userrequests/cadence/", CADENCE)
    assert answer.status_code == 200
    expanded = answer.json()
    assert expanded["operator"] == "MANY"
    assert [r["windows"] for r in expanded["requests"]] == [
        [{"start": "2026-11-21T00:00:00Z", "end": "2026-11-21T06:00:00Z"}],
        [{"start": "2026-11-21T18:00:00Z", "end": "2026-11-22T06:00:00Z"}],
        [{"start": "2026-11-22T18:00:00Z", "end": "2026-11-23T06:00:00Z"}]]
    first = expanded["requests"][0]
    assert first["molecules"][0] == {"type": "EXPOSE", "priority": 1, "instrument_name": "1M0-SCICAM-SINISTRO",
                                     "filter": "v", "exposure_time": 30.0, "exposure_count": 1, "bin_x": 1, "bin_y": 1}
    assert first["target"]["coordinate_system"] == "ICRS"
    assert portal.post("/userrequests/", expanded).status_code == 201        # ready to submit as it is


def test_cadence_errors_stand_apart_from_the_requests(portal):
    def cadence_with(**block):
        return changed(CADENCE, requests__0__cadence={**CADENCE["requests"][0]["cadence"], **block})
    assert portal.post("/userrequests/cadence/", cadence_with(jitter="x")).json() == {
        "cadence": {"jitter": ["A valid number is required."]}}
    assert portal.post("/userrequests/cadence/", cadence_with(period=0.001)).json() == {
        "cadence": {"period": ["Ensure this value is greater than or equal to 0.02."]}}
    assert portal.post("/userrequests/cadence/", cadence_with(end="2026-11-20T00:00:00Z")).json() == {
        "cadence": {"end": ["End time must be in the future"]}}
    with_windows = changed(CADENCE, requests__0__windows=[WINDOW])
    assert portal.post("/userrequests/cadence/", with_windows).json() == {
        "windows": ["Cadence requests may not contain windows"]}
    daytime = cadence_with(start="2026-11-21T17:00:00Z", end="2026-11-21T17:10:00Z", period=0.05, jitter=0.05)
    none = portal.post("/userrequests/cadence/", daytime)
    assert none.status_code == 400 and none.json() == {"errors": "No visible requests within cadence window parameters"}


def test_fill_window_repeats_the_exposure_to_fill_the_longest_observable_stretch(portal):
    filled = changed(EXAMPLE, requests__0__molecules__0__fill_window=True)
    durations = portal.post("/userrequests/validate/", filled).json()["request_durations"]["requests"][0]
    per_exposure = durations["molecules"][0]["duration"]                  # 30 s + readout + overhead
    stretch = durations["largest_interval"] + 16                          # as computed, before the reported margin
    assert stretch - per_exposure < durations["duration"] <= stretch
    made = portal.post("/userrequests/", filled).json()["requests"][0]
    assert made["molecules"][0]["exposure_count"] > 100
