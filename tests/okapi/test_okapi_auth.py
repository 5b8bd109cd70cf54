"""The Auth0 login and the bearer token, as the connector and OKAPI's other clients use them."""
from __future__ import annotations

import jwt
import pytest
from okapidata import AUDIENCE, CLIENT_ID, pass_request
from sandbox import Mock

from mockserver.core.service import Settings


def test_login_answers_what_the_connector_reads_and_the_token_is_a_day_long_jwt(okapi):
    answer = okapi.login(scope="neptune_propagation pass_predictions")
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"access_token", "expires_in", "token_type", "scope"}
    assert body["expires_in"] == 86400 and body["token_type"] == "Bearer"
    assert body["scope"] == "neptune_propagation pass_predictions"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 86400
    assert AUDIENCE in claims["aud"] and claims["azp"] == CLIENT_ID and claims["scope"] == body["scope"]
    assert claims["iss"] == "https://okapi-development.eu.auth0.com/" and claims["sub"].startswith("auth0|")


def test_login_takes_json_as_okapis_other_connectors_send_it(okapi):
    user = okapi.users["analyst"]
    answer = okapi.http.post("/oauth/token", json={
        "grant_type": "password", "username": user["username"], "password": user["password"],
        "audience": AUDIENCE, "scope": "x", "client_id": CLIENT_ID})
    assert answer.status_code == 200 and answer.json()["scope"] == "x"


@pytest.mark.parametrize("fields, status, error, description", [
    ({"password": "wrong"}, 403, "invalid_grant", "Wrong email or password."),
    ({"username": "nobody@example.org"}, 403, "invalid_grant", "Wrong email or password."),
    ({"username": ""}, 400, "invalid_request", "Missing required parameter: username"),
    ({"grant_type": "client_credentials"}, 403, "unauthorized_client",
     "Grant type 'client_credentials' not allowed for the client."),
    ({"client_id": "someone-else"}, 401, "access_denied", "Unauthorized"),
    ({"audience": "https://example.org"}, 403, "access_denied", "Service not found: https://example.org"),
])
def test_a_refused_login_answers_in_auth0s_shape(okapi, fields, status, error, description):
    answer = okapi.login(**fields)
    assert answer.status_code == status
    assert answer.json() == {"error": error, "error_description": description}


def test_a_login_with_no_body_at_all_is_an_auth0_error_too(okapi):
    answer = okapi.http.post("/oauth/token")
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"


@pytest.mark.parametrize("header, text", [
    (None, "Authorization header is expected"),
    ("Basic abc", "Authorization header must be"),
    ("Bearer not-a-token", "Invalid token"),
])
def test_requests_without_a_valid_token_get_401_in_the_envelope(okapi, header, text):
    headers = {"Authorization": header} if header else {}
    answer = okapi.http.post("/predict-passes/sgp4/requests", json=pass_request(), headers=headers)
    assert answer.status_code == 401
    assert answer.json()["status"]["type"] == "FATAL" and text in answer.json()["status"]["text"]
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_dies_after_its_day_and_a_new_login_works(okapi):
    headers = okapi.auth()
    assert okapi.send("predict-passes", pass_request()).status_code == 202
    okapi.clock(advance=86_400)
    answer = okapi.http.post("/predict-passes/sgp4/requests", json=pass_request(), headers=headers)
    assert answer.status_code == 401 and "expired" in answer.json()["status"]["text"]
    fresh = okapi.login().json()["access_token"]
    assert okapi.http.post("/predict-passes/sgp4/requests", json=pass_request(),
                           headers={"Authorization": f"Bearer {fresh}"}).status_code == 202


def test_a_revoked_token_gets_401(okapi):
    headers = okapi.auth()
    okapi.http.post("/__skymock/tokens/expire", json={})
    answer = okapi.http.post("/predict-passes/sgp4/requests", json=pass_request(), headers=headers)
    assert answer.status_code == 401 and "revoked" in answer.json()["status"]["text"]


def test_the_token_lifetime_is_configurable():
    mock = Mock("okapi", Settings(token_ttl=30))
    user = mock.credentials()[0]
    body = mock.http.post("/oauth/token", data={
        "grant_type": "password", "username": user["username"], "password": user["password"],
        "audience": AUDIENCE, "scope": "s", "client_id": CLIENT_ID}).json()
    assert body["expires_in"] == 30
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 30


def test_a_minted_user_can_log_in_with_its_own_lifetime(okapi):
    minted = okapi.http.post("/__skymock/credentials", json={"username": "new@okapi.example", "password": "pw",
                                                             "owner": "newcomer", "lifetime": 120})
    assert minted.status_code == 201
    answer = okapi.http.post("/oauth/token", data={
        "grant_type": "password", "username": "new@okapi.example", "password": "pw", "audience": AUDIENCE,
        "scope": "s", "client_id": CLIENT_ID})
    assert answer.status_code == 200 and answer.json()["expires_in"] == 120
