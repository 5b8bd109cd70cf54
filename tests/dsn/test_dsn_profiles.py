"""Mission profiles: arbitrary JSON per satellite, stored as sent, visible to their owner."""
from __future__ import annotations

import pytest


def create(dsn, body, norad=25544, owner="client_123"):
    return dsn.http.post(f"/orbapi/satellites/id/{norad}/profiles", json=body, headers=dsn.auth(owner))


def test_the_wrapper_form_stores_name_and_profile(dsn):
    radio = {"radio": {"frequencyHz": 437000000, "modulation": "GMSK", "baud": 9600}}
    answer = create(dsn, {"name": "Primary data profile", "profile": radio})
    assert answer.status_code == 201
    profile = answer.json()["profile"]
    assert answer.json()["status"] == "success"
    assert {k: profile[k] for k in ("satelliteNoradId", "name", "profile", "createdBy", "createdByType")} == {
        "satelliteNoradId": 25544, "name": "Primary data profile", "profile": radio, "createdBy": "client_123",
        "createdByType": "api_client"}
    assert profile["createdAt"] == profile["updatedAt"] == "2026-05-05T12:00:00.000Z"
    assert dsn.get(f"/satellites/profiles/{profile['id']}").json() == {"profile": profile}


def test_without_the_wrapper_the_whole_body_is_the_profile(dsn):
    body = {"name": "loose", "uplink": [1, 2, {"deep": None}], "enabled": True}
    profile = create(dsn, body).json()["profile"]
    assert profile["profile"] == body and profile["name"] == "loose"
    assert create(dsn, {"anything": 1.5}).json()["profile"]["name"] is None


def test_lists_are_per_satellite_and_per_owner(dsn):
    create(dsn, {"name": "a"})
    create(dsn, {"name": "b"}, norad=7530)
    create(dsn, {"name": "c"}, owner="client_456")
    listed = dsn.get("/satellites/id/25544/profiles").json()
    assert listed["noradId"] == 25544 and [p["name"] for p in listed["profiles"]] == ["a"]
    assert [p["name"] for p in dsn.get("/satellites/id/25544/profiles", owner="client_456").json()["profiles"]] == ["c"]
    assert {p["name"] for p in dsn.get("/satellites/id/25544/profiles", owner="dsn-operations").json()["profiles"]} == {
        "a", "c"}


def test_deleting_removes_it_for_good(dsn):
    profile_id = create(dsn, {"name": "gone"}).json()["profile"]["id"]
    answer = dsn.http.delete(f"/orbapi/satellites/profiles/{profile_id}", headers=dsn.auth())
    assert answer.json() == {"status": "success", "message": "Mission profile deleted successfully",
                             "profileId": profile_id}
    assert dsn.get(f"/satellites/profiles/{profile_id}").status_code == 404
    assert dsn.http.delete(f"/orbapi/satellites/profiles/{profile_id}", headers=dsn.auth()).status_code == 404


@pytest.mark.parametrize("norad, body, status, words", [
    (99999, {"name": "x"}, 404, "Satellite 99999 not found"),
    (25544, {"name": 5}, 400, "name: 5 is not of type 'string'"),
    (25544, {"name": "x" * 201}, 400, "name: must be a string"),
    (25544, [1, 2], 400, "body: "),
])
def test_bad_profiles_are_refused_and_not_stored(dsn, norad, body, status, words):
    answer = create(dsn, body, norad=norad)
    assert answer.status_code == status and words in answer.json()["error"]
    assert dsn.get("/satellites/id/25544/profiles").json()["profiles"] == []
