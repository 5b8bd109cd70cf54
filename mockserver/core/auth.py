"""Credentials, token minting, lifetime and expiry, scopes and roles.

Each service says which fields its credentials have (``client_id`` and
``client_secret``; ``username`` and ``password``; a bare ``token``) and which
status and message each kind of refusal gets. The rules here are the same for
all of them: a token belongs to one credential, lives for a lifetime read on the
virtual clock, can be revoked, and carries the credential's scopes and roles.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable

from .clock import Clock
from .errors import ApiError
from .store import MemoryStore, Store

#: why a request was refused; each service maps these to its own status and message
MISSING, MALFORMED, UNKNOWN, EXPIRED, REVOKED, SCOPE = (
    "missing", "malformed", "unknown", "expired", "revoked", "scope")
VALID = "valid"


@dataclass
class Credential:
    """One caller's secret material, in the service's own field names."""

    fields: dict[str, str]
    owner: str
    scopes: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    lifetime: float | None = None  # token lifetime for this caller; None: the server's default
    label: str | None = None       # how the journal names the caller when its first field is a secret

    @property
    def name(self) -> str:
        """The public identifier (the label, else the first field, e.g. client_id or username)."""
        return self.label or next(iter(self.fields.values()))

    @property
    def api_token(self) -> str | None:
        """A credential that is itself a bearer token (issued out of band, like dsn_live_...)."""
        return self.fields.get("token")

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {**self.fields, "owner": self.owner, "scopes": list(self.scopes)}
        if self.roles:
            data["roles"] = list(self.roles)
        if self.lifetime is not None:
            data["lifetime"] = self.lifetime
        return data


@dataclass
class Token:
    value: str
    credential: Credential
    issued_at: float
    expires_at: float | None
    revoked: bool = False

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Token":
        return cls(data["value"], Credential(**data["credential"]), data["issued_at"], data["expires_at"],
                   data["revoked"])

    def state(self, now: float) -> str:
        if self.revoked:
            return REVOKED
        if self.expires_at is not None and now >= self.expires_at:
            return EXPIRED
        return VALID


@dataclass(frozen=True)
class Refusals:
    """Status and message for each kind of refusal, as the real service sends them."""

    statuses: dict[str, int]
    messages: dict[str, str]
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def by_kind(cls, token: int, scope: int, messages: dict[str, str], token_headers: dict[str, str] | None = None
                ) -> "Refusals":
        """The usual layout: one status for every token problem, another for a missing scope;
        ``token_headers`` (e.g. WWW-Authenticate) go with the token problems."""
        token_kinds = (MISSING, MALFORMED, UNKNOWN, EXPIRED, REVOKED)
        return cls(statuses={**{kind: token for kind in token_kinds}, SCOPE: scope}, messages=messages,
                   headers={kind: dict(token_headers) for kind in token_kinds} if token_headers else {})

    def error(self, kind: str, **details: str) -> ApiError:
        message = self.messages[kind].format(**details)
        return ApiError(self.statuses[kind], message, field="Authorization", location="header",
                        headers=dict(self.headers.get(kind, {})))


#: writes a token's value for a credential, issued and expiring at these Unix times (None: never),
#: with the claims the login asked for
TokenMaker = Callable[[Credential, float, "float | None", dict[str, Any]], str]


def jwt_maker(secret: str, claims: Callable[[Credential, dict[str, Any]], dict[str, Any]]) -> TokenMaker:
    """Tokens that are HS256 JSON Web Tokens with the service's claims, ``iat`` and ``exp`` from the clock.

    The registry still decides whether a token is alive (the clock, revocation);
    the JWT form is for clients that read their token's claims, such as its expiry.
    """
    import jwt   # PyJWT

    def make(credential: Credential, issued_at: float, expires_at: float | None, asked: dict[str, Any]) -> str:
        payload = {**claims(credential, asked), "iat": int(issued_at), "jti": secrets.token_hex(8)}
        if expires_at is not None:
            payload["exp"] = int(expires_at)      # whole seconds, never later than the real expiry
        return jwt.encode(payload, secret, algorithm="HS256")
    return make


def demo_secret(seed: int, service_id: str, name: str) -> str:
    """A deterministic secret, so a seeded sandbox prints the same credentials every run."""
    return hashlib.sha256(f"skymock:{seed}:{service_id}:{name}".encode()).hexdigest()[:32]


class TokenRegistry:
    """The credentials a service knows and the tokens it has handed out, kept in the sandbox's store
    (collections ``credentials`` and ``tokens``) so that every worker of a mock knows them."""

    #: beyond this many tokens, long-dead ones are forgotten (fuzzing mints thousands)
    KEEP = 20_000

    def __init__(self, clock: Clock, default_lifetime: float | None, make_token: TokenMaker | None = None,
                 on_issue: Callable[["Token"], None] | None = None, store: Store | None = None) -> None:
        self._clock = clock
        self._on_issue = on_issue
        self._store = store or MemoryStore()
        self._credentials = self._store.collection("credentials")
        self._tokens = self._store.collection("tokens")
        self.default_lifetime = default_lifetime
        self._make_token = make_token or (lambda credential, issued_at, expires_at, claims: secrets.token_urlsafe(32))

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def credentials(self) -> list[Credential]:
        """Every credential the sandbox knows, in the order it learnt them."""
        return [Credential(**data) for data in self._credentials.values()]

    def add(self, credential: Credential) -> Credential:
        """Know a credential; one that is an API token is usable as a bearer token at once."""
        with self._store.transaction():
            self._credentials.put(f"{self._store.next_id('credential'):08d}", asdict(credential))
            if credential.api_token is not None:
                self.issue(credential, value=credential.api_token)
        return credential

    def find(self, **given: str) -> Credential | None:
        """The credential whose fields all equal the given ones (compared in constant time)."""
        for credential in self.credentials:
            if all(name in credential.fields and hmac.compare_digest(
                    credential.fields[name].encode(), str(value).encode())
                   for name, value in given.items()):
                return credential
        return None

    def issue(self, credential: Credential, lifetime: float | None = None, value: str | None = None,
              claims: dict[str, Any] | None = None) -> Token:
        """A new token; ``claims`` are what this login asked for (a scope...), for tokens that carry them."""
        now = self._clock.timestamp()
        life = lifetime if lifetime is not None else (
            credential.lifetime if credential.lifetime is not None else self.default_lifetime)
        expires = None if life is None else now + life
        token = Token(value or self._make_token(credential, now, expires, claims or {}), credential, now, expires)
        with self._store.transaction():
            if len(self._tokens) >= self.KEEP:
                self._forget_dead(now)
            self._tokens.put(token.value, token.as_json())
        if self._on_issue is not None:
            self._on_issue(token)
        return token

    def check(self, value: str) -> tuple[str, Token | None]:
        """(state, token): state is valid, expired, revoked or unknown."""
        data = self._tokens.get(value)
        if data is None:
            return UNKNOWN, None
        token = Token.from_json(data)
        return token.state(self._clock.timestamp()), token

    def expire(self, value: str | None = None) -> int:
        """Revoke one token, or every live one; returns how many were live."""
        now = self._clock.timestamp()
        count = 0
        with self._store.transaction():
            for key in self._tokens.keys() if value is None else [value]:
                data = self._tokens.get(key)
                if data is None:
                    continue
                token = Token.from_json(data)
                count += token.state(now) == VALID
                if not token.revoked:
                    token.revoked = True
                    self._tokens.put(key, token.as_json())
        return count

    def _forget_dead(self, now: float) -> None:
        """Drop expired and revoked tokens; a forgotten one is then refused as unknown."""
        for key in self._tokens.keys():
            data = self._tokens.get(key)
            if data is not None and Token.from_json(data).state(now) != VALID:
                self._tokens.delete(key)


def missing_scopes(credential: Credential, required: Iterable[str]) -> list[str]:
    return [scope for scope in required if scope not in credential.scopes]
