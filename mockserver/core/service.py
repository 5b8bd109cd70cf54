"""What a service package declares, and the live sandbox built from it.

A service is a subclass of :class:`Service` in ``mockserver/services/<id>/``:
its id, port and base path, its spec file, its error style and refusals, its
credentials, and a model factory. Everything else (clock, tokens, store,
journal, faults, the control API) comes from here, the same for every service.
"""
from __future__ import annotations

import hashlib
import json
import re
from abc import ABC, abstractmethod
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from .auth import MALFORMED, MISSING, SCOPE, Credential, Refusals, TokenMaker, TokenRegistry, missing_scopes
from .clock import Clock
from .errors import ApiError, ErrorStyle
from .faults import FaultBook
from .jobs import JobBook, JobPace
from .journal import Journal
from .store import MemoryStore, SqliteStore, Store
from .timeline import Timeline


SEEDED = "seeded"     # set in a store once a sandbox has put its seeded state there


@dataclass(frozen=True)
class Login:
    """How a client of the service gets a token: where, with which fields, where the token is."""

    scheme: str                      # the spec's security scheme the token is for
    path: str
    payload: dict[str, str]          # values may name credential fields: "{client_id}"
    content_type: str
    token_pointer: str               # JSON pointer to the token in the answer
    method: str = "post"
    dead_statuses: tuple[int, ...] = (401, 403)

    @property
    def credential_fields(self) -> list[str]:
        return [v.strip("{}") for v in self.payload.values() if v.startswith("{") and v.endswith("}")]

    def payload_for(self, credentials: dict[str, str]) -> dict[str, str]:
        return {key: value.format(**credentials) for key, value in self.payload.items()}


@dataclass(frozen=True)
class Settings:
    """How one mock instance runs; the CLI and tests fill it in."""

    seed: int = 42
    token_ttl: float | None = None      # None: the service's own default lifetime
    strict: bool = False                # refuse (not only record) pacing and courtesy violations
    clock_start: datetime | None = None
    frozen: bool = False
    validate_responses: bool = False
    job_pace: JobPace | None = None     # None: the service's own default pace of asynchronous jobs
    jwt_secret: str | None = None       # signs tokens checked by signature alone (MMODA); None: seeded
    completion_fraction: float = 0.9    # share of observable requests a simulated telescope network observes (LCO)
    state: str | None = None            # an SQLite file that keeps the state (None: in memory)


class Service(ABC):
    """Base class of a service package's declaration."""

    id: ClassVar[str]
    title: ClassVar[str]
    base_path: ClassVar[str]
    #: the real service's base URL, which tests run against with ``--skymock-target=real``
    real_url: ClassVar[str | None] = None
    port: ClassVar[int]
    spec: ClassVar[str]
    handlers: ClassVar[str]                  # dotted module holding the spec's operationIds
    errors: ClassVar[ErrorStyle]
    refusals: ClassVar[Refusals]
    default_token_ttl: ClassVar[float | None] = 3600.0
    login: ClassVar[Login | None] = None
    #: for services whose tokens are issued out of band: the Authorization value, e.g. "Bearer {token}"
    token_header: ClassVar[str | None] = None
    slash_redirect: ClassVar[int | None] = 307   # status when only the trailing slash differs
    max_body_bytes: ClassVar[int] = 1_048_576
    default_job_pace: ClassVar[JobPace] = JobPace()
    #: services sharing this one's world, which a client of it also uses (the examiner starts them too)
    companions: ClassVar[tuple[str, ...]] = ()
    #: whether a header that is a scheme with no credentials after it ("Bearer") counts as no credentials at all,
    #: as FastAPI's HTTPBearer reads it ("Not authenticated"), rather than as a malformed header
    bare_scheme_is_missing: ClassVar[bool] = False

    @property
    def credential_fields(self) -> list[str]:
        """What a client must be given to authenticate (client_id/client_secret, a token ...)."""
        if self.login is not None:
            return self.login.credential_fields
        return re.findall(r"\{(\w+)\}", self.token_header or "")

    def auth_headers(self, credentials: dict[str, str]) -> dict[str, str]:
        """Headers that authenticate every request, for services without a login endpoint."""
        if self.token_header is None or not all(name in credentials for name in self.credential_fields):
            return {}
        return {"Authorization": self.token_header.format(**credentials)}

    def error_style_for(self, path: str) -> ErrorStyle:
        """The error shape of a path: the service's own, unless a path speaks for another party (a login)."""
        return self.errors

    def token_maker(self, settings: Settings) -> TokenMaker | None:
        """How the service writes its tokens (a JWT with its claims...); None: opaque random strings."""
        return None

    @abstractmethod
    def demo_credentials(self, settings: Settings) -> list[Credential]:
        """The deterministic credentials a fresh sandbox starts with."""

    @abstractmethod
    def mint_credential(self, tokens: TokenRegistry, request: dict[str, Any], serial: int) -> Credential:
        """A new credential from a control-API request (scopes, owner, lifetime...)."""

    def check_mint(self, sandbox: "Sandbox", request: dict[str, Any]) -> None:
        """Refuse a control-API mint request that names what the sandbox lacks (a proposal...); before
        :meth:`mint_credential`, so a refused request changes nothing. Accepts everything by default."""

    def clock_for(self, settings: Settings) -> Clock | None:
        """A clock shared with other services of the process (one simulated world); None: the sandbox's own."""
        return None

    def reset_shared(self, settings: Settings) -> None:
        """Put back the seeded state of what the service shares with its companions (one simulated world);
        nothing by default. Called when the sandbox resets, before its own credentials are added."""

    def credential_added(self, sandbox: "Sandbox", credential: Credential) -> None:
        """Complete a new credential before the sandbox keeps it (sign its token on the sandbox's clock...);
        nothing by default. A credential with a ``token`` field is then usable as a bearer token."""

    @abstractmethod
    def make_model(self, sandbox: "Sandbox") -> Any:
        """The service's state and rules, built on the sandbox's clock and store."""


class Sandbox:
    """One running mock: its clock, tokens, store, journal, faults and model.

    With ``Settings.state`` the store is an SQLite file: a sandbox opened on a file that
    holds a seeded state carries on from it (after a restart, or as one more worker).
    """

    def __init__(self, service: Service, settings: Settings | None = None) -> None:
        self.service = service
        self.settings = settings or Settings()
        self.store: Store = SqliteStore(self.settings.state, service.id) if self.settings.state else MemoryStore()
        self.clock = service.clock_for(self.settings) or Clock(self.settings.clock_start, self.settings.frozen,
                                                                self.store)
        with self.store.transaction():      # one worker seeds an empty file; the others find it seeded
            if self.store.collection("sandbox").get(SEEDED):
                self._build()
                self.model = self.service.make_model(self)
            else:
                self.reset()

    def _build(self) -> None:
        """The sandbox's parts, over its store."""
        self.journal = Journal(self.store)
        self.faults = FaultBook(self.store)
        ttl = self.settings.token_ttl if self.settings.token_ttl is not None else self.service.default_token_ttl
        self.tokens = TokenRegistry(self.clock, ttl, self.service.token_maker(self.settings),
                                    on_issue=lambda token: note_token(token.value, fetched=True), store=self.store)
        self.timeline = Timeline()
        pace = self.settings.job_pace or self.service.default_job_pace
        self.jobs = JobBook(self.clock, self.store, JobPace(pace.seconds, pace.polls, pace.retry_after),
                            self.settings.seed, note=note)

    def reset(self) -> None:
        """Back to the seeded state: clock, tokens, data, jobs, journal and faults."""
        with self.store.transaction():
            self.store.clear()
            self.clock.reset()
            self.service.reset_shared(self.settings)
            self._build()
            for credential in self.service.demo_credentials(self.settings):
                self.service.credential_added(self, credential)
                self.tokens.add(credential)
            self.model = self.service.make_model(self)
            self.store.collection("sandbox").put(SEEDED, True)

    def mint(self, request: dict[str, Any]) -> Credential:
        self.service.check_mint(self, request)
        serial = self.store.next_id("minted-credential")
        credential = self.service.mint_credential(self.tokens, request, serial)
        self.service.credential_added(self, credential)
        self.tokens.add(credential)
        return credential

    def authenticate(self, value: str | None) -> Credential:
        """The credential behind a bearer token, or the service's own refusal (scopes: see caller())."""
        context = current_or_none()
        refusals = self.service.refusals
        if not value:
            note_auth(MISSING)
            raise refusals.error(MISSING)
        note_token(value)
        state, token = self.tokens.check(value)
        if context is not None and token is not None:
            context.client = token.credential.name
        if token is None or state != "valid":
            note_auth(state)
            raise refusals.error(state)
        note_auth("valid")
        if context is not None:
            context.credential = token.credential
        return token.credential


@dataclass
class RequestContext:
    """What the middleware and the handlers learn about one request."""

    sandbox: Sandbox
    client: str | None = None
    auth: str | None = None
    credential: Credential | None = None
    token: str | None = None                 # fingerprint of the token the request presented
    late_fault: Any = None                   # a fault that replaces the answer once the work is done
    notes: list[str] = field(default_factory=list)
    scope: dict[str, Any] = field(default_factory=dict)   # the ASGI request
    body: bytes = b""                        # read whole (within the service's cap) before the handler runs
    http_request: Any = None                 # the request as handlers read it, built on first use (core.web)


_current: ContextVar[RequestContext] = ContextVar("skymock_request")


def current() -> RequestContext:
    return _current.get()


def current_or_none() -> RequestContext | None:
    return _current.get(None)


def sandbox() -> Sandbox:
    return _current.get().sandbox


def note(text: str) -> None:
    """Add a note to this request's journal entry (``kind:detail``), for verification and certification.

    Notes the examiner reads: ``job:<id>:submitted|running|done``, ``token:fetched:<fingerprint>``,
    ``upload:<digest>``, ``created:<kind>:<digest>``, ``fault``, ``pacing_violation``.
    """
    context = current_or_none()
    if context is not None:
        context.notes.append(text)


def fingerprint(value: str | bytes) -> str:
    """A short, one-way name of a token or payload: the journal never holds a secret."""
    data = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()[:12]


def note_created(kind: str, body: Any) -> None:
    """Record that this request created a resource from ``body``: two alike are a duplicate submission."""
    note(f"created:{kind}:{fingerprint(json.dumps(body, sort_keys=True, default=str))}")


def note_auth(state: str) -> None:
    """Record how this request's credential fared (valid, missing, expired, revoked ...), whatever the refusal says."""
    context = current_or_none()
    if context is not None:
        context.auth = state


def note_token(value: str, fetched: bool = False) -> None:
    """Record the token a request presented, or (``fetched``) one it was handed."""
    context = current_or_none()
    if context is None or not value:
        return
    if fetched:
        context.notes.append(f"token:fetched:{fingerprint(value)}")
    else:
        context.token = fingerprint(value)


def caller(*required_scopes: str) -> Credential:
    """The credential behind this request's accepted token, refused if it lacks a scope.

    OpenAPI 3.0 lets only OAuth2 schemes list scopes in ``security``, so bearer
    services name the scope an operation needs in its handler, through here.
    """
    context = current()
    credential = context.credential
    if credential is None:  # the operation is not behind the bearer scheme: a spec mistake
        raise ApiError(500, "operation has no authenticated caller")
    lacking = missing_scopes(credential, required_scopes)
    if lacking:
        context.auth = SCOPE
        raise context.sandbox.service.refusals.error(SCOPE, scope=", ".join(lacking))
    return credential


def bearer_info(token: str) -> dict[str, Any]:
    """Connexion's bearer hook: every spec's bearer scheme names this function."""
    credential = sandbox().authenticate(token)
    return {"sub": credential.owner, "scope": list(credential.scopes), "client": credential.name}


def refusal_for_header(detail: str | None, header_sent: bool = False) -> ApiError:
    """Connexion refuses a missing or malformed Authorization header before our hook runs.

    A header of another scheme ("Basic ...") reaches Connexion as "no token provided";
    that the client did send one makes it malformed, not missing.
    """
    kind = MALFORMED if header_sent or (detail and "Invalid" in detail) else MISSING
    context = current_or_none()
    if context is not None and kind == MALFORMED and context.sandbox.service.bare_scheme_is_missing:
        header = dict(context.scope.get("headers") or []).get(b"authorization", b"")
        if not header.strip().partition(b" ")[2].strip():      # "Bearer" alone: nothing was presented
            kind = MISSING
    if context is not None:
        context.auth = kind
    return context.sandbox.service.refusals.error(kind) if context else ApiError(401, detail or "unauthorized")


def as_json(body: Any, status: int = 200) -> tuple[Any, int, dict[str, str]]:
    """A JSON answer of an operation that documents another type too (text refusals): say which one this is."""
    return body, status, {"Content-Type": "application/json"}
