"""LCO science archive (archive-api.lco.global, 2019): the frames the simulated network has taken."""
from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from ...core.auth import (EXPIRED, MALFORMED, MISSING, REVOKED, SCOPE, UNKNOWN, Credential, Refusals,
                          TokenRegistry, demo_secret)
from ...core.clock import Clock
from ...core.errors import DrfStyle, invalid
from ...core.service import Sandbox, Service, Settings
from ..lco.auth import archive_token
from ..lco.proposals import DEMO_USERS, demo_memberships
from ..lco.world import observatory
from .model import Archive

INVALID_TOKEN = "Invalid token."


class LcoArchive(Service):
    id = "lco-archive"
    title = "LCO science archive"
    base_path = "/"
    port = 8703
    spec = "lco-archive.yaml"
    handlers = "mockserver.services.lco_archive.handlers"
    errors = DrfStyle()
    # Token authentication comes first here, so a bad token is a 401 with a challenge (the portal says 403).
    refusals = Refusals.by_kind(
        token=401, scope=403, token_headers={"WWW-Authenticate": "Token"},
        messages={MISSING: "Authentication credentials were not provided.", MALFORMED: INVALID_TOKEN,
                  UNKNOWN: INVALID_TOKEN, EXPIRED: INVALID_TOKEN, REVOKED: INVALID_TOKEN,
                  SCOPE: "You do not have permission to perform this action."})
    default_token_ttl = None
    slash_redirect = 301
    token_header = "Token {token}"

    def demo_credentials(self, settings: Settings) -> list[Credential]:
        # the archive logs users in with their portal passwords (an OAuth password grant against the portal)
        memberships = demo_memberships(settings.clock_start or datetime.now(UTC))
        return [Credential({"username": u.username, "password": demo_secret(settings.seed, "lco-observe", u.username)[:16],
                            "token": archive_token(settings.seed, u.username)},
                           owner=u.username, roles=memberships[u.username], label=u.username)
                for u in DEMO_USERS]

    def check_mint(self, sandbox: Sandbox, request: dict[str, Any]) -> None:
        proposals = request.get("proposals", [])
        known = observatory(sandbox.settings).proposals
        if not isinstance(proposals, list) or not all(isinstance(p, str) and p in known for p in proposals):
            raise invalid("proposals", f"must be a list of proposal ids; the sandbox has {', '.join(known)}", proposals)
        for name in ("username", "password"):
            if name in request and not (isinstance(request[name], str) and request[name]):
                raise invalid(name, "must be a non-empty string", request[name])

    def mint_credential(self, tokens: TokenRegistry, request: dict[str, Any], serial: int) -> Credential:
        username = request.get("username") or f"archive-user{serial}"
        return Credential({"username": username, "password": request.get("password") or secrets.token_hex(8),
                           "token": secrets.token_hex(20)},
                          owner=username, roles=list(request.get("proposals", [])), label=username,
                          lifetime=request.get("lifetime"))

    def credential_added(self, sandbox: Sandbox, credential: Credential) -> None:
        world = observatory(sandbox.settings)        # the thumbnail service passes archive tokens through
        world.archive_tokens[credential.fields["token"]] = credential.owner
        world.users.setdefault(credential.owner, list(credential.roles))

    def clock_for(self, settings: Settings) -> Clock:
        return observatory(settings).clock

    def make_model(self, sandbox: Sandbox) -> Archive:
        return Archive(sandbox)


SERVICE = LcoArchive()
