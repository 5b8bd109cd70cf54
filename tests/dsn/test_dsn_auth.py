"""Who may do what: every operation x (no token, unknown/expired/revoked token, wrong scope, other owner)."""
from __future__ import annotations

import pytest

OPERATIONS = [
    # (method, path, body, scope it needs or None for "any token", owned object or None, public)
    ("post", "/passes/search", {"noradId": 25544, "days": 1}, "passes:read", None),
    ("post", "/bookings", {"norad_cat_id": 25544, "type": "data",
                           "slots": [{"start": "2026-05-07T10:00:00Z", "end": "2026-05-07T10:10:00Z", "gs_id": "4567"}]},
     "bookings:create", None),
    ("get", "/bookings", None, None, None),
    ("delete", "/bookings/{booking}", None, "bookings:cancel", "booking"),
    ("post", "/bookings/{booking}/uplink-files", {"key": "clients/client_123/x.bin"}, "bookings:create", "booking"),
    ("get", "/bookings/{booking}/uplink-files", None, None, "booking"),
    ("get", "/bookings/{booking}/downlink-files", None, None, "booking"),
    ("post", "/satellites/id/25544/profiles", {"name": "p", "profile": {}}, "mission-profile:create", None),
    ("get", "/satellites/id/25544/profiles", None, "mission-profile:create", None),
    ("get", "/satellites/profiles/{profile}", None, "mission-profile:create", "profile"),
    ("delete", "/satellites/profiles/{profile}", None, "mission-profile:create", "profile"),
]
PUBLIC = ["/satellites", "/satellites/id/25544", "/satellites/name/iss", "/tles", "/tles/id/25544", "/tles/name/iss",
          "/gs", "/gs/id/1", "/gs/id/1/status", "/gs/description/sofia", "/transmitters", "/transmitters/id/25544",
          "/transmitters/uuid/ZzPz4gcsNBPKPKAFPmer7g", "/transmitters/mode/lora", "/transmitters/id/25544/mode/fm",
          "/transmitters/gs/3886", "/transmitters/gs/3886/mode/lora"]
IDS = [f"{m.upper()} {p}" for m, p, *_ in OPERATIONS]


def objects(dsn) -> dict[str, int]:
    """A booking and a profile of client_123, for the operations that act on one."""
    booking = dsn.book().json()["bookingId"]
    profile = dsn.http.post("/orbapi/satellites/id/25544/profiles", json={"name": "mine"},
                            headers=dsn.auth()).json()["profile"]["id"]
    return {"booking": booking, "profile": profile}


def call(dsn, method, path, body, headers, ids):
    return dsn.http.request(method.upper(), "/orbapi" + path.format(**ids), json=body, headers=headers)


def state(dsn) -> tuple:
    """What a refused request must leave untouched: client_123's bookings and profiles."""
    bookings = dsn.get("/bookings").json()
    profiles = dsn.get("/satellites/id/25544/profiles").json()
    return bookings, profiles


@pytest.mark.parametrize("method, path, body, scope, owned", OPERATIONS, ids=IDS)
@pytest.mark.parametrize("header, message", [
    (None, "Missing API token"),
    ("Bearer dsn_live_0000000000000000", "Invalid API token"),
    ("Basic dXNlcjpwYXNz", "Invalid API token"),
])
def test_no_valid_token_is_401_and_changes_nothing(dsn, method, path, body, scope, owned, header, message):
    ids = objects(dsn)
    before = state(dsn)
    answer = call(dsn, method, path, body, {"Authorization": header} if header else {}, ids)
    assert answer.status_code == 401
    assert answer.json() == {"error": message} or header == "Basic dXNlcjpwYXNz"
    assert state(dsn) == before


@pytest.mark.parametrize("method, path, body, scope, owned", OPERATIONS, ids=IDS)
def test_expired_and_revoked_tokens_are_401(dsn, method, path, body, scope, owned):
    ids = objects(dsn)
    short = dsn.mint(owner="client_123", lifetime=60)
    dsn.clock(advance=61)
    answer = call(dsn, method, path, body, {"Authorization": f"Bearer {short}"}, ids)
    assert (answer.status_code, answer.json()) == (401, {"error": "API token has expired"})
    revoked = dsn.mint(owner="client_123")
    dsn.http.post("/__skymock/tokens/expire", json={"token": revoked})
    answer = call(dsn, method, path, body, {"Authorization": f"Bearer {revoked}"}, ids)
    assert (answer.status_code, answer.json()) == (401, {"error": "API token has been revoked"})


@pytest.mark.parametrize("method, path, body, scope, owned", [op for op in OPERATIONS if op[3]],
                         ids=[i for i, op in zip(IDS, OPERATIONS) if op[3]])
def test_a_token_without_the_scope_is_403_naming_it(dsn, method, path, body, scope, owned):
    ids = objects(dsn)
    before = state(dsn)
    others = [s for s in ("passes:read", "bookings:create", "bookings:cancel", "mission-profile:create") if s != scope]
    token = dsn.mint(owner="client_123", scopes=others)
    answer = call(dsn, method, path, body, {"Authorization": f"Bearer {token}"}, ids)
    assert answer.status_code == 403
    assert answer.json() == {"error": f"API token does not have the required scope: {scope}"}
    assert state(dsn) == before


@pytest.mark.parametrize("method, path, body, scope, owned", [op for op in OPERATIONS if op[4]],
                         ids=[i for i, op in zip(IDS, OPERATIONS) if op[4]])
def test_another_owner_is_told_the_object_does_not_exist(dsn, method, path, body, scope, owned):
    ids = objects(dsn)
    before = state(dsn)
    answer = call(dsn, method, path, body, dsn.auth("client_456"), ids)
    assert answer.status_code == 404
    assert "not found or not visible" in answer.json()["error"]
    assert state(dsn) == before
    # and an id that does not exist at all gets the very same answer
    missing = call(dsn, method, path, body, dsn.auth("client_456"), {"booking": 999, "profile": 999})
    assert missing.status_code == 404


def test_a_service_token_may_read_and_delete_anyones_profile_but_not_their_bookings(dsn):
    ids = objects(dsn)
    service = dsn.auth("dsn-operations")
    assert dsn.get(f"/satellites/profiles/{ids['profile']}", owner="dsn-operations").status_code == 200
    assert dsn.get("/satellites/id/25544/profiles", owner="dsn-operations").json()["profiles"][0]["createdBy"] == "client_123"
    assert dsn.get(f"/bookings/{ids['booking']}/uplink-files", owner="dsn-operations").status_code == 404
    deleted = dsn.http.delete(f"/orbapi/satellites/profiles/{ids['profile']}", headers=service)
    assert deleted.status_code == 200
    assert dsn.get(f"/satellites/profiles/{ids['profile']}").status_code == 404


def test_minted_service_token_and_scopes_come_from_the_control_api(dsn):
    token = dsn.mint(owner="ops-2", roles=["service"], scopes=["mission-profile:create"])
    ids = objects(dsn)
    answer = dsn.http.delete(f"/orbapi/satellites/profiles/{ids['profile']}", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    refused = dsn.http.post("/__skymock/credentials", json={"scopes": ["bookings:everything"]})
    assert refused.status_code == 400 and "bookings:everything" in refused.json()["error"]


@pytest.mark.parametrize("path", PUBLIC)
def test_reference_data_needs_no_token(dsn, path):
    assert dsn.get(path, owner=None).status_code == 200
