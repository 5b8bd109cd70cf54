"""LCO observing portal (observe.lco.global/api, the "Valhalla" userrequests API of 2017-2019)."""
from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from typing import Any

from ...core.auth import (EXPIRED, MALFORMED, MISSING, REVOKED, SCOPE, UNKNOWN, Credential, Refusals,
                          TokenRegistry, demo_secret)
from ...core.clock import Clock
from ...core.errors import DrfStyle, invalid
from ...core.service import Sandbox, Service, Settings
from ..lco.proposals import DEMO_USERS, demo_memberships
from ..lco.world import observatory
from .model import ObservePortal

INVALID_TOKEN = "Invalid token."


def portal_token(seed: int, username: str) -> str:
    """A DRF token: 40 hex digits, the same for a user in every run with the same seed."""
    return hashlib.sha1(f"skymock:{seed}:lco-observe:token:{username}".encode()).hexdigest()


class LcoObserve(Service):
    id = "lco-observe"
    title = "LCO observing portal"
    base_path = "/api"
    port = 8702
    spec = "lco-observe.yaml"
    handlers = "mockserver.services.lco_observe.handlers"
    errors = DrfStyle()
    # Session authentication comes first and sends no challenge, so Django REST framework answers
    # 403 (not 401) to missing and bad credentials alike.
    refusals = Refusals.by_kind(
        token=403, scope=403,
        messages={MISSING: "Authentication credentials were not provided.", MALFORMED: INVALID_TOKEN,
                  UNKNOWN: INVALID_TOKEN, EXPIRED: INVALID_TOKEN, REVOKED: INVALID_TOKEN,
                  SCOPE: "You do not have permission to perform this action."})
    default_token_ttl = None          # portal tokens do not expire (--token-ttl gives them a lifetime)
    slash_redirect = 301              # Django's APPEND_SLASH
    token_header = "Token {token}"

    def demo_credentials(self, settings: Settings) -> list[Credential]:
        memberships = demo_memberships(settings.clock_start or datetime.now(UTC))
        return [Credential({"username": u.username, "password": demo_secret(settings.seed, self.id, u.username)[:16],
                            "token": portal_token(settings.seed, u.username)},
                           owner=u.username, roles=memberships[u.username], label=u.username)
                for u in DEMO_USERS]

    def check_mint(self, sandbox: Sandbox, request: dict[str, Any]) -> None:
        model: ObservePortal = sandbox.model
        proposals = request.get("proposals", [])
        if not isinstance(proposals, list) or not all(isinstance(p, str) for p in proposals):
            raise invalid("proposals", "must be a list of proposal ids", proposals)
        unknown = [p for p in proposals if p not in model.proposals]
        if unknown:
            raise invalid("proposals", f"unknown proposal(s) {', '.join(unknown)}; the sandbox has "
                                       f"{', '.join(model.proposals)}", unknown)
        for name in ("username", "password"):
            if name in request and not (isinstance(request[name], str) and request[name]):
                raise invalid(name, "must be a non-empty string", request[name])
        if sandbox.tokens.find(username=request.get("username", "")) is not None:
            raise invalid("username", f"'{request['username']}' already exists", request["username"])

    def mint_credential(self, tokens: TokenRegistry, request: dict[str, Any], serial: int) -> Credential:
        username = request.get("username") or f"user{serial}"
        return Credential({"username": username, "password": request.get("password") or secrets.token_hex(8),
                           "token": secrets.token_hex(20)},
                          owner=username, roles=list(request.get("proposals", [])), label=username,
                          lifetime=request.get("lifetime"))

    def credential_added(self, sandbox: Sandbox, credential: Credential) -> None:
        observatory(sandbox.settings).users[credential.owner] = list(credential.roles)   # the archive knows them

    def clock_for(self, settings: Settings) -> Clock:
        return observatory(settings).clock

    def make_model(self, sandbox: Sandbox) -> ObservePortal:
        return ObservePortal(sandbox)


SERVICE = LcoObserve()
