"""Django REST framework's token authentication, as the LCO portal and archive apply it.

``Authorization: Token <key>`` names a user. A header of another kind (Basic,
Bearer to the portal) is not this authenticator's business: the request goes on
as anonymous. A Token header that is empty, has spaces in the key or names no
live token is refused at once, even on endpoints anyone may read. Whether a
refusal is 403 (the portal, whose first authenticator sends no challenge) or 401
with ``WWW-Authenticate: Token`` (the archive) is the service's ``refusals``.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from flask import request

from ...core.auth import MALFORMED, MISSING, UNKNOWN, Credential
from ...core.errors import ApiError
from ...core.service import current, sandbox

KEYWORD = "Token"
NO_CREDENTIALS = "Invalid token header. No credentials provided."
SPACES = "Invalid token header. Token string should not contain spaces."
NO_SUCH_USER = "No Such User"           # the archive's answer to a Bearer token the portal does not know


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


def user(required: bool = True, bearer: Callable[[str], Credential | None] | None = None) -> Credential | None:
    """The caller named by a Token header (or, where ``bearer`` resolves them, a Bearer one); None for an
    anonymous caller where that is allowed."""
    words = (request.headers.get("Authorization") or "").split()
    keyword = words[0].lower() if words else ""
    if bearer is not None and keyword == "bearer" and len(words) == 2:
        found = bearer(words[1])
        if found is None:
            raise _refused(UNKNOWN, NO_SUCH_USER)
        return _known(found)
    if keyword != KEYWORD.lower():
        if required:
            raise _refused(MISSING)
        return None
    if len(words) == 1:
        raise _refused(MALFORMED, NO_CREDENTIALS)
    if len(words) > 2:
        raise _refused(MALFORMED, SPACES)
    state, token = sandbox().tokens.check(words[1])
    if token is None or state != "valid":
        raise _refused(UNKNOWN)
    return _known(token.credential)


def _known(credential: Credential) -> Credential:
    context = current()
    context.auth, context.client, context.credential = "valid", credential.name, credential
    return credential


def archive_bearer(seed: int, username: str) -> str:
    """The OAuth token the portal's profile hands a user for the archive, which accepts it as Bearer."""
    return hashlib.sha256(f"skymock:{seed}:lco:archive-bearer:{username}".encode()).hexdigest()[:30]


def archive_token(seed: int, username: str) -> str:
    """The archive's own DRF token of a demo user: distinct from the portal's."""
    return hashlib.sha1(f"skymock:{seed}:lco-archive:token:{username}".encode()).hexdigest()
