"""Django REST framework's token authentication, as the LCO portal and archive apply it.

``Authorization: Token <key>`` names a user. A header of another kind (Basic,
Bearer to the portal) is not this authenticator's business: the request goes on
as anonymous. A Token header that is empty, has spaces in the key or names no
live token is refused at once, even on endpoints anyone may read. Whether a
refusal is 403 (the portal, whose first authenticator sends no challenge) or 401
with ``WWW-Authenticate: Token`` (the archive) is the service's ``refusals``.
"""
from __future__ import annotations

from typing import Any

from flask import request

from ...core.auth import MALFORMED, MISSING, UNKNOWN, Credential
from ...core.errors import ApiError
from ...core.service import current, sandbox

KEYWORD = "Token"
NO_CREDENTIALS = "Invalid token header. No credentials provided."
SPACES = "Invalid token header. Token string should not contain spaces."


def token_info(value: str, required_scopes: Any = None) -> dict[str, Any]:
    """Connexion's apiKey hook: the header's presence is all the spec can check; the handler judges it."""
    return {"sub": None}


def _refused(kind: str, message: str | None = None) -> ApiError:
    context = current()
    context.auth = kind
    error = context.sandbox.service.refusals.error(kind)
    if message is not None:
        error.message = message
    return error


def user(required: bool = True) -> Credential | None:
    """The caller named by a Token header; None for an anonymous caller where that is allowed."""
    words = (request.headers.get("Authorization") or "").split()
    if not words or words[0].lower() != KEYWORD.lower():
        if required:
            raise _refused(MISSING)
        return None
    if len(words) == 1:
        raise _refused(MALFORMED, NO_CREDENTIALS)
    if len(words) > 2:
        raise _refused(MALFORMED, SPACES)
    box = sandbox()
    state, token = box.tokens.check(words[1])
    if token is None or state != "valid":
        raise _refused(UNKNOWN)
    context = current()
    context.auth, context.client, context.credential = "valid", token.credential.name, token.credential
    return token.credential
