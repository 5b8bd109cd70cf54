"""NRAO ODS (ods.nrao.edu): the ODS feed, satellite avoidance logs and TLE uploads."""
from __future__ import annotations

import secrets
from typing import Any

from ...core.auth import (EXPIRED, MALFORMED, MISSING, REVOKED, SCOPE, UNKNOWN, Credential, Refusals,
                          TokenRegistry, demo_secret)
from ...core.errors import FastApiStyle, invalid, known_names
from ...core.service import Login, Sandbox, Service, Settings
from .model import SCOPE_ODS, SCOPE_TBA, SCOPE_TLE, OdsModel

ALL_SCOPES = [SCOPE_ODS, SCOPE_TBA, SCOPE_TLE]


class NraoOds(Service):
    id = "nrao-ods"
    title = "NRAO ODS API"
    base_path = "/"
    real_url = "https://ods.nrao.edu"
    port = 8701
    spec = "nrao-ods.yaml"
    handlers = "mockserver.services.nrao_ods.handlers"
    errors = FastApiStyle()
    # The service is FastAPI behind HTTP bearer auth: every refusal is a 403 with a detail,
    # and the documented client reaction to 403 is to fetch a new token once.
    refusals = Refusals.by_kind(
        token=403, scope=403,
        messages={MISSING: "Not authenticated", MALFORMED: "Invalid authentication credentials",
                  UNKNOWN: "Could not validate token", EXPIRED: "Token has expired",
                  REVOKED: "Token has been revoked", SCOPE: "Client lacks the required scope: {scope}"})
    default_token_ttl = 3600.0
    bare_scheme_is_missing = True     # FastAPI's HTTPBearer: "Bearer" with no token is "Not authenticated"
    login = Login(scheme="BearerAuth", path="/token/", content_type="application/x-www-form-urlencoded",
                  payload={"grant_type": "client_credentials", "client_id": "{client_id}",
                           "client_secret": "{client_secret}"},
                  token_pointer="/token", dead_statuses=(403,))

    def demo_credentials(self, settings: Settings) -> list[Credential]:
        def make(name: str, owner: str, scopes: list[str]) -> Credential:
            return Credential({"client_id": name, "client_secret": demo_secret(settings.seed, self.id, name)},
                              owner=owner, scopes=scopes)
        return [make("skymock-operator", "demo-operator", ALL_SCOPES),
                make("skymock-reader", "demo-observatory", [SCOPE_ODS])]

    def mint_credential(self, tokens: TokenRegistry, request: dict[str, Any], serial: int) -> Credential:
        scopes = known_names("scopes", request.get("scopes", ALL_SCOPES), ALL_SCOPES, "scope")
        for name in ("owner", "client_id", "client_secret"):
            if name in request and not isinstance(request[name], str):
                raise invalid(name, "must be a string", request[name])
        owner = request.get("owner") or f"owner-{serial}"
        client_id = request.get("client_id") or f"ods-client-{serial}"
        if tokens.find(client_id=client_id) is not None:
            raise invalid("client_id", f"'{client_id}' already exists", client_id)
        secret = request.get("client_secret") or secrets.token_hex(16)
        return Credential({"client_id": client_id, "client_secret": secret}, owner=owner,
                          scopes=list(scopes), lifetime=request.get("lifetime"))

    def make_model(self, sandbox: Sandbox) -> OdsModel:
        return OdsModel(sandbox)


SERVICE = NraoOds()
