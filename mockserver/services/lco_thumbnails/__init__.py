"""LCO thumbnail service (thumbnails.lco.global): JPEGs of archive frames, drawn on request."""
from __future__ import annotations

from typing import Any

from ...core.auth import Credential, Refusals, TokenRegistry
from ...core.errors import ApiError, ErrorStyle
from ...core.service import Sandbox, Settings
from ..lco.observatory_service import ObservatoryService
from .model import Thumbnails

class ThumbnailStyle(ErrorStyle):
    """The service's JSON errors: a message, and the archive's answer when the archive refused."""

    def body(self, error: ApiError) -> Any:
        body: dict[str, Any] = {"message": self.sentence(error)}
        if "response" in error.details:
            body["response"] = error.details["response"]
        return body


class LcoThumbnails(ObservatoryService):
    id = "lco-thumbnails"
    title = "LCO thumbnail service"
    base_path = "/"
    real_url = "https://thumbnails.lco.global"
    port = 8704
    spec = "lco-thumbnails.yaml"
    handlers = "mockserver.services.lco_thumbnails.handlers"
    errors = ThumbnailStyle()
    refusals = Refusals.by_kind(token=401, scope=403, messages={kind: "Got error response" for kind in
                                                               ("missing", "malformed", "unknown", "expired",
                                                                "revoked", "scope")})
    default_token_ttl = None
    slash_redirect = 308
    token_header = "Token {token}"

    def demo_credentials(self, settings: Settings) -> list[Credential]:
        # it keeps no users: the archive's tokens pass through (listed here for convenience)
        from ..lco.auth import archive_token
        from ..lco.proposals import DEMO_USERS
        return [Credential({"token": archive_token(settings.seed, u.username)}, owner=u.username, label=u.username)
                for u in DEMO_USERS]

    def mint_credential(self, tokens: TokenRegistry, request: dict[str, Any], serial: int) -> Credential:
        raise ApiError(400, "the thumbnail service has no users of its own: mint them on the archive",
                       field="body")

    def make_model(self, sandbox: Sandbox) -> Thumbnails:
        return Thumbnails(sandbox)


SERVICE = LcoThumbnails()
