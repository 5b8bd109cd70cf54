"""Tokens as an ODS client sees them: the grant, refusals, lifetime, revocation, scopes."""
from __future__ import annotations

from odsdata import TLE_TEXT


def test_grant_returns_a_token_that_opens_the_feed(ods):
    answer = ods.http.post("/token/", data={"grant_type": "client_credentials",
                                            "client_id": ods.credential["client_id"],
                                            "client_secret": ods.credential["client_secret"]})
    assert answer.status_code == 200
    assert list(answer.json()) == ["token"]
    assert ods.feed(answer.json()["token"]).status_code == 200


def test_wrong_secret_is_401_with_detail(ods):
    answer = ods.http.post("/token/", data={"grant_type": "client_credentials",
                                            "client_id": ods.credential["client_id"], "client_secret": "nope"})
    assert answer.status_code == 401
    assert answer.json() == {"detail": "Invalid client credentials"}


def test_other_grant_type_is_400_naming_it(ods):
    answer = ods.http.post("/token/", data={"grant_type": "password", "client_id": "a", "client_secret": "b"})
    assert answer.status_code == 400
    assert "grant_type 'password'" in answer.json()["detail"]


def test_missing_form_field_is_fastapi_422_with_its_location(ods):
    answer = ods.http.post("/token/", data={"grant_type": "client_credentials", "client_id": "a"})
    assert answer.status_code == 422
    assert answer.json() == {"detail": [{"type": "missing", "loc": ["body", "client_secret"],
                                         "msg": "Field required", "input": None}]}


def test_missing_and_unknown_tokens_are_403(ods):
    assert ods.http.get("/ods_data/").status_code == 403
    assert ods.http.get("/ods_data/").json() == {"detail": "Not authenticated"}
    answer = ods.feed("not-a-token")
    assert answer.status_code == 403 and answer.json()["detail"] == "Could not validate token"
    answer = ods.http.get("/ods_data/", headers={"Authorization": "Basic abc"})
    assert answer.status_code == 403


def test_token_expires_after_its_lifetime_on_the_mock_clock(ods):
    assert ods.feed().status_code == 200
    ods.mock.advance(299)
    assert ods.feed().status_code == 200
    ods.mock.advance(2)
    answer = ods.feed()
    assert answer.status_code == 403
    assert answer.json() == {"detail": "Token has expired"}
    assert ods.feed(ods.login()).status_code == 200  # the documented remedy: a new token


def test_expire_control_call_kills_live_tokens(ods):
    other = ods.login()
    killed = ods.http.post("/__skymock/tokens/expire", json={"token": ods.token})
    assert killed.json() == {"expired": 1}
    assert ods.feed().json() == {"detail": "Token has been revoked"}
    assert ods.feed(other).status_code == 200
    assert ods.http.post("/__skymock/tokens/expire").json() == {"expired": 1}
    assert ods.feed(other).status_code == 403


def test_client_without_scope_cannot_upload(make_mock):
    from odsdata import Ods
    reader = Ods(make_mock("nrao-ods"), client_index=1)
    assert reader.feed().status_code == 200
    answer = reader.upload_tle(TLE_TEXT)
    assert answer.status_code == 403
    assert answer.json() == {"detail": "Client lacks the required scope: tle:write"}
    assert reader.upload_log("x").json()["detail"].endswith("tba:write")


def test_minted_credential_has_its_own_lifetime_and_scopes(ods):
    minted = ods.http.post("/__skymock/credentials", json={"scopes": ["ods:read"], "owner": "team-a", "lifetime": 5})
    assert minted.status_code == 201
    body = minted.json()
    assert body["owner"] == "team-a" and body["scopes"] == ["ods:read"] and body["lifetime"] == 5
    token = ods.http.post("/token/", data={"grant_type": "client_credentials", "client_id": body["client_id"],
                                           "client_secret": body["client_secret"]}).json()["token"]
    assert ods.feed(token).status_code == 200
    ods.mock.advance(6)
    assert ods.feed(token).status_code == 403


def test_unknown_scope_in_mint_is_refused_naming_the_field(ods):
    answer = ods.http.post("/__skymock/credentials", json={"scopes": ["admin"]})
    assert answer.status_code == 400
    assert answer.json()["field"] == "scopes"


def test_paths_without_trailing_slash_redirect_like_fastapi(ods):
    answer = ods.http.get("/ods_data", headers=ods.auth(), follow_redirects=False)
    assert answer.status_code == 307
    assert answer.headers["location"].endswith("/ods_data/")
    followed = ods.http.post("/token", data={"grant_type": "client_credentials",
                                             "client_id": ods.credential["client_id"],
                                             "client_secret": ods.credential["client_secret"]})
    assert followed.status_code == 200 and "token" in followed.json()
