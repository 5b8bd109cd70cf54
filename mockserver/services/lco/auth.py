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
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from ...core.web import request

from ...core.auth import MALFORMED, MISSING, UNKNOWN, Credential, TokenRegistry
from ...core.errors import ApiError, invalid, known_names
from ...core.service import current, note_token, sandbox
from .drf import field_errors

KEYWORD = "Token"
NO_CREDENTIALS = "Invalid token header. No credentials provided."
SPACES = "Invalid token header. Token string should not contain spaces."
INVALID_CHARACTERS = "Invalid token header. Token string should not contain invalid characters."
NO_SUCH_USER = "No Such User"           # the archive's answer to a Bearer token the portal does not know


def token_info(value: str, required_scopes: Any = None) -> dict[str, Any]:
    """Connexion's apiKey hook: the header's presence is all the spec can check; the handler judges it."""
    return {"sub": None}


def _refused(kind: str, message: str | None = None, because: str | None = None) -> ApiError:
    """The refusal of ``kind``; the journal records ``because`` (the token's real state) when given."""
    context = current()
    context.auth = because or kind
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
    problem = token_header_problem(words)
    if problem is not None:
        raise _refused(MALFORMED, problem)
    note_token(words[1])
    state, token = sandbox().tokens.check(words[1])
    if token is None or state != "valid":
        raise _refused(UNKNOWN, because=state)   # "Invalid token." either way; the journal says why
    return _known(token.credential)


def token_header_problem(words: list[str]) -> str | None:
    """What TokenAuthentication says of a Token header it cannot read (the keyword alone, a key with spaces,
    a key that is not UTF-8 text: DRF decodes the header's bytes before any lookup); None for a readable
    one or a header of another scheme. A header arrives here as the latin-1 text of its bytes."""
    if not words or words[0].lower() != KEYWORD.lower():
        return None
    if len(words) == 1:
        return NO_CREDENTIALS
    if len(words) > 2:
        return SPACES
    try:
        words[1].encode("latin-1").decode("utf-8")
    except UnicodeError:
        return INVALID_CHARACTERS
    return None


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


LOGIN_FAILED = "Unable to log in with provided credentials."


def login(tokens: TokenRegistry, username: Any, password: Any) -> dict[str, str]:
    """DRF's obtain_auth_token: the user's token for a right username and password; its 400s otherwise."""
    given = (("username", username), ("password", password))
    errors = {name: ["This field is required."] for name, value in given if value is None}
    errors.update({name: ["This field may not be blank."] for name, value in given if value == ""})
    if errors:
        raise field_errors(errors)
    credential = tokens.find(username=str(username), password=str(password))
    if credential is None:
        raise field_errors({"non_field_errors": [LOGIN_FAILED]})
    value = credential.fields["token"]
    if tokens.check(value)[0] == "valid":
        note_token(value, fetched=True)
    else:   # the user's token was deleted (revoked): Django REST framework makes a new one
        value = credential.fields["token"] = hashlib.sha1(f"{value}:renewed".encode()).hexdigest()
        tokens.issue(credential, value=value)
    return {"token": value}


def check_new_user(request: dict[str, Any], known_proposals: Iterable[str], tokens: TokenRegistry) -> None:
    """A control-API request for a user: proposals the observatory has, a new username, text fields."""
    known_names("proposals", request.get("proposals", []), list(known_proposals), "proposal", "the sandbox")
    for name in ("username", "password"):
        if name in request and not (isinstance(request[name], str) and request[name]):
            raise invalid(name, "must be a non-empty string", request[name])
    if tokens.find(username=request.get("username", "")) is not None:
        raise invalid("username", f"'{request['username']}' already exists", request["username"])


def new_user(request: dict[str, Any], serial: int, prefix: str) -> Credential:
    """A user from a checked control-API request: given or made-up username and password, a new token."""
    username = request.get("username") or f"{prefix}{serial}"
    return Credential({"username": username, "password": request.get("password") or secrets.token_hex(8),
                       "token": secrets.token_hex(20)},
                      owner=username, roles=list(request.get("proposals", [])), label=username,
                      lifetime=request.get("lifetime"))
