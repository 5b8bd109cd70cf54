"""LCO observing portal (observe.lco.global/api, the "Valhalla" userrequests API of 2017-2019)."""
from __future__ import annotations

import hashlib

from ...core.auth import EXPIRED, MALFORMED, MISSING, REVOKED, SCOPE, UNKNOWN, Credential, Refusals
from ...core.errors import DrfStyle
from ...core.service import Sandbox
from ..lco.observatory_service import ObservatoryUsers
from ..lco.world import observatory
from .model import ObservePortal

INVALID_TOKEN = "Invalid token."


def portal_token(seed: int, username: str) -> str:
    """A DRF token: 40 hex digits, the same for a user in every run with the same seed."""
    return hashlib.sha1(f"skymock:{seed}:lco-observe:token:{username}".encode()).hexdigest()


class LcoObserve(ObservatoryUsers):
    id = "lco-observe"
    title = "LCO observing portal"
    base_path = "/api"
    real_url = "https://observe.lco.global/api"
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

    def demo_token(self, seed: int, username: str) -> str:
        return portal_token(seed, username)

    def credential_added(self, sandbox: Sandbox, credential: Credential) -> None:
        observatory(sandbox.settings).set_user(credential.owner, credential.roles)   # the archive knows them

    def make_model(self, sandbox: Sandbox) -> ObservePortal:
        return ObservePortal(sandbox)


SERVICE = LcoObserve()
