"""Decentralized Space Network orbapi: pass prediction, bookings, files, mission profiles, reference data."""
from __future__ import annotations

import secrets
from typing import Any

from ...core.auth import (EXPIRED, MALFORMED, MISSING, REVOKED, SCOPE, UNKNOWN, Credential, Refusals,
                          TokenRegistry, demo_secret)
from ...core.errors import ErrorStyle, invalid, known_names
from ...core.service import Sandbox, Service, Settings
from .model import ALL_SCOPES, SCOPE_PASSES, SERVICE_ROLE, DsnModel

TOKEN_PREFIX = "dsn_live_"


class Dsn(Service):
    id = "dsn"
    title = "Decentralized Space Network API"
    base_path = "/orbapi"
    real_url = "https://dsn.systems/orbapi"
    port = 8705
    spec = "dsn-orbapi.yaml"
    handlers = "mockserver.services.dsn.handlers"
    errors = ErrorStyle()
    refusals = Refusals.by_kind(
        token=401, scope=403,
        messages={MISSING: "Missing API token", MALFORMED: "Invalid API token", UNKNOWN: "Invalid API token",
                  EXPIRED: "API token has expired", REVOKED: "API token has been revoked",
                  SCOPE: "API token does not have the required scope: {scope}"})
    default_token_ttl = None          # API tokens live until revoked (--token-ttl gives them a lifetime)
    slash_redirect = None
    token_header = "Bearer {token}"

    def demo_credentials(self, settings: Settings) -> list[Credential]:
        def make(owner: str, scopes: list[str], roles: list[str] | None = None) -> Credential:
            token = TOKEN_PREFIX + demo_secret(settings.seed, self.id, owner)
            return Credential({"token": token}, owner=owner, scopes=scopes, roles=roles or [], label=owner)
        return [make("client_123", ALL_SCOPES), make("client_456", ALL_SCOPES),
                make("client_789", [SCOPE_PASSES]), make("dsn-operations", ALL_SCOPES, [SERVICE_ROLE])]

    def mint_credential(self, tokens: TokenRegistry, request: dict[str, Any], serial: int) -> Credential:
        scopes = known_names("scopes", request.get("scopes", ALL_SCOPES), ALL_SCOPES, "scope")
        roles = request.get("roles", [])
        if not isinstance(roles, list) or any(r != SERVICE_ROLE for r in roles):
            raise invalid("roles", f"the only role is {SERVICE_ROLE!r} (a service token)", roles)
        for name in ("owner", "token"):
            if name in request and not isinstance(request[name], str):
                raise invalid(name, "must be a string", request[name])
        owner = request.get("owner") or f"client_{1000 + serial}"
        token = request.get("token") or TOKEN_PREFIX + secrets.token_hex(16)
        if not token.startswith(TOKEN_PREFIX) or len(token) < len(TOKEN_PREFIX) + 8:
            raise invalid("token", f"must start with {TOKEN_PREFIX} and have at least 8 more characters", token)
        if tokens.find(token=token) is not None:
            raise invalid("token", "this token already exists", token)
        return Credential({"token": token}, owner=owner, scopes=list(scopes), roles=list(roles),
                          lifetime=request.get("lifetime"), label=f"{owner}#{serial}")

    def make_model(self, sandbox: Sandbox) -> DsnModel:
        return DsnModel(sandbox)


SERVICE = Dsn()
