"""OKAPI:Orbits: an Auth0 password login, then pass prediction and orbit propagation as polled jobs."""
from __future__ import annotations

import hashlib
import secrets
from typing import Any

from ...core.auth import (EXPIRED, MALFORMED, MISSING, REVOKED, SCOPE, UNKNOWN, Credential, Refusals, TokenMaker,
                          TokenRegistry, demo_secret, jwt_maker)
from ...core.errors import ApiError, ErrorStyle, invalid
from ...core.jobs import JobPace
from ...core.service import Login, Sandbox, Service, Settings
from .model import AUDIENCE, AUTH0_ISSUER, CLIENT_ID, OkapiModel, REQUESTED_SCOPE


class OkapiStyle(ErrorStyle):
    """OKAPI answers in its envelope, ``{"status": {"type", "text"}}``.

    A 5xx also carries the envelope under ``state_msg``, the older name the published
    Python connector still reads on a 500 (without it the connector raises KeyError).
    """

    def body(self, error: ApiError) -> Any:
        status: dict[str, Any] = {"type": "FATAL", "text": self.sentence(error)}
        if self.status_of(error) in (400, 422):
            status["input_problem"] = True
        body: dict[str, Any] = {"status": status}
        if self.status_of(error) >= 500:
            body["state_msg"] = dict(status)
        return body


class Auth0Style(ErrorStyle):
    """Auth0's token endpoint: ``{"error": <code>, "error_description": <text>}``."""

    def body(self, error: ApiError) -> Any:
        code = error.code.removeprefix("auth0:") if error.code.startswith("auth0:") else "invalid_request"
        return {"error": code, "error_description": self.sentence(error)}


class Okapi(Service):
    id = "okapi"
    title = "OKAPI:Orbits API"
    base_path = "/"
    real_url = "https://api.okapiorbits.com"
    port = 8707
    spec = "okapi.yaml"
    handlers = "mockserver.services.okapi.handlers"
    errors = OkapiStyle()
    login_errors = Auth0Style()
    refusals = Refusals.by_kind(
        token=401, scope=403,
        messages={MISSING: "Authorization header is expected: log in at Auth0 and send 'Bearer <access_token>'",
                  MALFORMED: "Authorization header must be 'Bearer <access_token>'",
                  UNKNOWN: "Invalid token: it was not issued for this API", EXPIRED: "Token has expired: log in again",
                  REVOKED: "Token has been revoked: log in again", SCOPE: "Token lacks the scope {scope}"},
        token_headers={"WWW-Authenticate": 'Bearer realm="OKAPI"'})
    default_token_ttl = 86_400.0      # Auth0's default, and what OKAPI's documentation says: a day
    default_job_pace = JobPace(seconds=2.0, polls=None)
    slash_redirect = None
    login = Login(scheme="BearerAuth", path="/oauth/token", content_type="application/x-www-form-urlencoded",
                  payload={"grant_type": "password", "username": "{username}", "password": "{password}",
                           "audience": AUDIENCE, "scope": REQUESTED_SCOPE, "client_id": CLIENT_ID},
                  token_pointer="/access_token", dead_statuses=(401,))

    def error_style_for(self, path: str) -> ErrorStyle:
        return self.login_errors if path.rstrip("/") == self.login.path else self.errors

    def token_maker(self, settings: Settings) -> TokenMaker:
        def claims(credential: Credential, asked: dict[str, Any]) -> dict[str, Any]:
            subject = hashlib.sha256(credential.name.encode()).hexdigest()[:24]
            return {"iss": AUTH0_ISSUER, "sub": f"auth0|{subject}", "aud": [AUDIENCE, AUTH0_ISSUER + "userinfo"],
                    "azp": CLIENT_ID, "scope": asked.get("scope", ""), "gty": "password"}
        return jwt_maker(demo_secret(settings.seed, self.id, "jwt-signing-key"), claims)

    def demo_credentials(self, settings: Settings) -> list[Credential]:
        def make(username: str, owner: str) -> Credential:
            return Credential({"username": username, "password": demo_secret(settings.seed, self.id, username)},
                              owner=owner)
        return [make("analyst@okapi.example", "analyst"), make("operator@okapi.example", "operator")]

    def mint_credential(self, tokens: TokenRegistry, request: dict[str, Any], serial: int) -> Credential:
        for name in ("owner", "username", "password"):
            if name in request and not (isinstance(request[name], str) and request[name]):
                raise invalid(name, "must be a non-empty string", request[name])
        lifetime = request.get("lifetime")
        if lifetime is not None and (isinstance(lifetime, bool) or not isinstance(lifetime, (int, float))
                                     or not 0 < lifetime <= 10 * 365 * 86_400):
            raise invalid("lifetime", "must be a number of seconds, more than 0", lifetime)
        username = request.get("username") or f"user{serial}@okapi.example"
        if tokens.find(username=username) is not None:
            raise invalid("username", f"'{username}' already exists", username)
        return Credential({"username": username, "password": request.get("password") or secrets.token_hex(16)},
                          owner=request.get("owner") or f"user{serial}", lifetime=lifetime)

    def make_model(self, sandbox: Sandbox) -> OkapiModel:
        return OkapiModel(sandbox)


SERVICE = Okapi()
