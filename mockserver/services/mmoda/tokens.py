"""MMODA's tokens: HS256 JWTs that the dispatcher trusts by their signature alone.

The MMODA front end issues them; the dispatcher never stores them. It checks
the signature with its secret and the expiry (``exp``) on its clock, and reads
the user (``sub``, else ``email``), the roles (a comma-separated text or a list)
and the e-mail options (``msdone``, ``msfail``, ``mssub``...) from the claims.
Refreshing a token or changing its e-mail options gives a new JWT with the same
claims but those changed. The sandbox's control API can also revoke tokens; a
revoked token is refused as an expired one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt

from ...core.auth import EXPIRED, MALFORMED, REVOKED, UNKNOWN, TokenRegistry
from ...core.errors import ApiError
from ...core.service import note_auth, note_token

ALGORITHM = "HS256"
MAX_REFRESH_INTERVAL_S = 604_800          # the dispatcher's token_max_refresh_interval
LATEST_EXP = 2_177_449_199                # where the dispatcher clamps a refreshed expiry
EMAIL_FLAGS = ("msdone", "msfail", "mssub", "mstout")
EMAIL_NUMBERS = ("intsub", "tem")
RETRY = "please try to logout and login again. If already logged out, please clean the cookies, and resubmit you request."
EXPIRED_MESSAGE = f"The token provided is expired, {RETRY}"
INVALID_MESSAGE = f"The token provided is not valid, {RETRY}"


def not_authorized(message: str, debug: str = "") -> ApiError:
    return ApiError(403, message, code="RequestNotAuthorized", details={"debug_message": debug})


@dataclass(frozen=True)
class OdaToken:
    """A checked token: its text and claims."""

    value: str
    claims: dict[str, Any]

    @property
    def user(self) -> str:
        return str(self.claims.get("sub") or self.claims.get("email") or "")

    @property
    def roles(self) -> list[str]:
        return parse_roles(self.claims.get("roles"))


def parse_roles(roles: Any) -> list[str]:
    if isinstance(roles, str):
        return [r.strip() for r in roles.split(",") if r.strip()]
    if isinstance(roles, list):
        return [str(r).strip() for r in roles if str(r).strip()]
    return []


def _refused(state: str, message: str) -> ApiError:
    """The dispatcher's refusal; the journal learns why (expired, revoked...) though the message may not say."""
    note_auth(state)
    return not_authorized(message)


class TokenBook:
    """Reads and writes the dispatcher's tokens with its secret, on the sandbox's clock."""

    def __init__(self, secret: str, tokens: TokenRegistry) -> None:
        self.secret = secret
        self.registry = tokens

    def make(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def mint(self, email: str, name: str, roles: list[str], lifetime: float) -> str:
        """A token as the front end writes one: no iat, the roles as one comma-separated text."""
        return self.make({"sub": email, "email": email, "name": name, "roles": ", ".join(roles),
                          "exp": int(self.registry.clock.timestamp() + lifetime),
                          "msdone": True, "msfail": True, "mssub": False})

    def check(self, value: str) -> OdaToken:
        """The token's claims, or the dispatcher's 403 for a bad signature or a past expiry."""
        note_token(value)
        try:
            claims = jwt.decode(value, self.secret, algorithms=[ALGORITHM],
                                options={"verify_exp": False, "verify_aud": False, "require": []})
        except jwt.PyJWTError:
            raise _refused(UNKNOWN, INVALID_MESSAGE) from None
        exp = claims.get("exp")
        if isinstance(exp, bool) or not isinstance(exp, (int, float)):
            raise _refused(MALFORMED, INVALID_MESSAGE)
        state, _ = self.registry.check(value)
        if state == REVOKED:
            raise _refused(REVOKED, EXPIRED_MESSAGE)
        if exp <= self.registry.clock.timestamp():
            raise _refused(EXPIRED, EXPIRED_MESSAGE)
        return OdaToken(value, claims)

    def refreshed(self, token: OdaToken, interval: float) -> str:
        claims = dict(token.claims)
        claims["exp"] = min(int(claims["exp"] + interval), LATEST_EXP)
        return self._reissue(token, claims)

    def with_email_options(self, token: OdaToken, options: dict[str, Any]) -> str:
        return self._reissue(token, {**token.claims, **options})

    def _reissue(self, token: OdaToken, claims: dict[str, Any]) -> str:
        """A new token for the same holder; revoking the old one's holder revokes it too."""
        value = self.make(claims)
        _, known = self.registry.check(token.value)
        if known is not None:
            self.registry.issue(known.credential, value=value,
                                lifetime=max(0.0, claims["exp"] - self.registry.clock.timestamp()))
        return value
