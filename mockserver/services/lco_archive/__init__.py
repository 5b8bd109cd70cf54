"""LCO science archive (archive-api.lco.global, 2019): the frames the simulated network has taken."""
from __future__ import annotations

from ...core.auth import EXPIRED, MALFORMED, MISSING, REVOKED, SCOPE, UNKNOWN, Credential, Refusals
from ...core.errors import DrfStyle
from ...core.service import Sandbox
from ..lco.auth import archive_token
from ..lco.observatory_service import ObservatoryUsers
from ..lco.world import observatory
from .model import Archive

INVALID_TOKEN = "Invalid token."


class LcoArchive(ObservatoryUsers):
    id = "lco-archive"
    title = "LCO science archive"
    base_path = "/"
    real_url = "https://archive-api.lco.global"
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
    user_prefix = "archive-user"     # the archive logs its users in with their portal passwords

    def demo_token(self, seed: int, username: str) -> str:
        return archive_token(seed, username)

    def credential_added(self, sandbox: Sandbox, credential: Credential) -> None:
        world = observatory(sandbox.settings)        # the thumbnail service passes archive tokens through
        with world.store.transaction():
            world.add_archive_token(credential.fields["token"], credential.owner)
            world.add_user(credential.owner, credential.roles)

    def make_model(self, sandbox: Sandbox) -> Archive:
        observatory(sandbox.settings).archive_registry = sandbox.tokens   # the thumbnail service asks it
        return Archive(sandbox)


SERVICE = LcoArchive()
