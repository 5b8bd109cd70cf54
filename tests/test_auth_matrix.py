"""Tokens: every operation of every service x every way a credential can be wrong.

Each service's operations come from its spec. An operation is either in the PUBLIC table (it needs
no credential: a login, a public catalogue, a health check, a signed link) or in its service's ``ops``
with an example request its owner may make. That request is sent with its owner's token (it must
succeed), then with no token, a malformed Authorization header (another scheme, the scheme alone,
bytes that are not text), a token never issued, an expired one (the clock moved past its lifetime
through the control API), a revoked one (through the control API), a credential lacking the scope or
role the operation needs, and another user's token against the owner's record. Each must get the real
service's status and body, and change nothing: the owner's records read back the same, the credentials
are the same, and the journal's entry for the refused request notes no effect (nothing created,
uploaded, submitted or handed out). A case that does not apply says why and is skipped.

One in-process mock per service; a mock is reset only after a case that changed its state.
"""
from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
import itertools
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import unquote

import httpx
import jwt
import pytest
import yaml
from dsn.conftest import ISS, NOW as DSN_NOW
from lcodata import EXAMPLE, NOW as LCO_NOW
from mmodadata import BASE as MMODA_BASE
from odsdata import HEADER, LOG_NAME, START as ODS_START, TLE_TEXT, log_rows
from okapidata import AUDIENCE, CLIENT_ID, NOW as OKAPI_NOW, pass_request, propagation_request
from sandbox import Mock

from mockserver.app import SPECS
from mockserver.core.clock import parse_instant
from mockserver.core.service import Settings
from mockserver.services import get_service, service_ids

# --- the credential cases ------------------------------------------------------------------------
VALID, NONE, SCHEME, EMPTY, GARBAGE, UNKNOWN, REVOKED, SCOPE, OTHER, EXPIRED = (
    "owner", "no-token", "other-scheme", "scheme-alone", "garbage-bytes", "unknown", "revoked",
    "wrong-scope-or-role", "other-owner", "expired")
#: the order each operation is tried in: the owner first (the example must work), the clock moves last
CASES = (VALID, NONE, SCHEME, EMPTY, GARBAGE, UNKNOWN, REVOKED, SCOPE, OTHER, EXPIRED)
BASIC = "Basic dXNlcjpwYXNz"              # user:pass, a header of another scheme
JUNK = b"\xde\xad\xbe\xef\xfe"           # not UTF-8 text
#: journal notes that say a request had an effect (core.service.note and its callers)
EFFECT_NOTES = ("created:", "upload:", "job:", "token:fetched:")
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@dataclass(frozen=True)
class Expect:
    """What the real service answers: the status, and the body (dict or list: the exact JSON; str: the
    exact text; a callable: true of the answer), and headers it must carry."""

    status: int
    body: Any = None
    headers: tuple[tuple[str, str], ...] = ()

    def check(self, answer) -> None:
        assert answer.status_code == self.status, f"{answer.status_code}: {answer.text[:400]}"
        if callable(self.body):
            assert self.body(answer), answer.text[:600]
        elif isinstance(self.body, str):
            assert answer.text == self.body
        elif self.body is not None:
            assert answer.json() == self.body
        for name, value in self.headers:
            assert answer.headers.get(name) == value, (name, dict(answer.headers))


@dataclass(frozen=True)
class NA:
    """A case that does not apply to an operation, and why."""

    reason: str


@dataclass(eq=False)
class Op:
    """One operation and the example request its owner may make."""

    method: str
    path: str                       # the spec's path template
    url: str | None = None          # what is sent, with {names} of the owner's records; default: the path
    ok: int = 200                   # the owner's answer
    json: Any = None
    form: dict[str, str] | None = None
    files: dict[str, tuple[str, str, str]] | None = None
    params: dict[str, str] | None = None
    needs: str | None = None        # the scope or role the operation needs; None: any valid credential
    owned: bool = False             # names a record of the owner, which another user must not reach
    anonymous: bool = False         # anyone may call it (the spec's `{}`); a credential given is still judged
    owner: str | None = None        # whose example it is, where a service's operations have different owners
    cases: dict[str, Any] = field(default_factory=dict)   # where the answer differs from the service's rule

    @property
    def key(self) -> tuple[str, str]:
        return self.method.upper(), self.path

    @property
    def changes(self) -> bool:
        """Whether the owner's request changes the state (then the mock is reset after it)."""
        return self.method.upper() != "GET"


def without(*pointers: str) -> Callable[[Any], bool]:
    """An answer that does not mention the owner's record: none of these strings is in its text."""
    return lambda answer: not any(pointer in answer.text for pointer in pointers)


def json_where(**expected: Any) -> Callable[[Any], bool]:
    """A JSON answer whose top-level members have these values."""
    return lambda answer: all(answer.json().get(name) == value for name, value in expected.items())


def asgi_send(mock: Mock, request: httpx.Request) -> httpx.Response:
    """A request whose header bytes reach the app as they are, as an HTTP server passes them (the test
    client re-encodes header values as UTF-8, so bytes that are not UTF-8 would never arrive)."""
    incoming = [{"type": "http.request", "body": request.read(), "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": request.method,
             "scheme": request.url.scheme, "path": unquote(request.url.path),
             "raw_path": request.url.raw_path.split(b"?")[0], "query_string": request.url.query, "root_path": "",
             "client": ("testclient", 50000),
             "server": (request.url.host, request.url.port or 80),
             "headers": [(name.lower(), value) for name, value in request.headers.raw]}
    asyncio.run(mock.app(scope, receive, send))
    start = next(message for message in sent if message["type"] == "http.response.start")
    body = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    return httpx.Response(start["status"], headers=start["headers"], content=body, request=request)


# --- a service under test: its mock, its owner's records, its credentials -------------------------
class Harness(ABC):
    id: str
    base = ""
    settings = Settings()
    now: str | None = None                      # None: the clock is frozen where it is
    scheme = "Bearer"
    no_scopes: str | None = None                # why the wrong-scope case does not apply, if it does not
    ops: list[Op] = []

    def __init__(self) -> None:
        self._mock: Mock | None = None
        self.dirty = True
        self.records: dict[str, Any] = {}
        self.serial = itertools.count(1)

    @property
    def mock(self) -> Mock:
        if self._mock is None:
            self._mock = Mock(self.id, self.settings)
        return self._mock

    @property
    def http(self):
        return self.mock.http

    # control API
    def reset(self, mock: Mock | None = None) -> None:
        mock = mock or self.mock
        assert mock.http.post("/__skymock/reset").status_code == 200
        clock = {"frozen": True} if self.now is None else {"set": self.now, "frozen": True}
        assert mock.http.post("/__skymock/clock", json=clock).status_code == 200

    def fresh(self) -> None:
        if self.dirty:
            self.reset()
            self.records = self.prepare()
            self.dirty = False

    def mint(self, mock: Mock | None = None, **body: Any) -> dict[str, Any]:
        answer = (mock or self.mock).http.post("/__skymock/credentials", json=body)
        assert answer.status_code == 201, answer.text
        return answer.json()

    def revoke(self, token: str, mock: Mock | None = None) -> None:
        answer = (mock or self.mock).http.post("/__skymock/tokens/expire", json={"token": token})
        assert answer.json() == {"expired": 1}, answer.text

    def advance(self, seconds: float) -> None:
        assert self.http.post("/__skymock/clock", json={"advance": seconds}).status_code == 200

    # what each service says
    def prepare(self) -> dict[str, Any]:
        """The owner's records, made after a reset."""
        return {}

    def state(self) -> Any:
        """What the owner can see of the service's state (besides the credentials)."""
        return None

    def snapshot(self) -> Any:
        return self.mock.credentials(), self.state()

    @abstractmethod
    def credential(self, case: str, op: Op) -> str | bytes | None:
        """What the request of a case carries as its credential (minting, revoking or moving the clock as
        it needs): an Authorization header, or what the service reads instead."""

    def send(self, op: Op, credential: str | bytes | None, mock: Mock | None = None):
        headers = {} if credential is None else {"Authorization": credential}
        url = self.base + (op.url or op.path).format(**self.records)
        extra: dict[str, Any] = {}
        for name, value in (("json", op.json), ("data", op.form), ("files", op.files), ("params", op.params)):
            if value is not None:
                extra[name] = value
        client = (mock or self.mock).http
        request = client.build_request(op.method.upper(), url, headers=headers, **extra)
        if isinstance(credential, bytes):
            return asgi_send(mock or self.mock, request)
        return client.send(request, follow_redirects=False)

    @classmethod
    @abstractmethod
    def rule(cls, op: Op, case: str) -> Expect | NA:
        """The service's answer to a case, for operations that do not say otherwise."""

    @classmethod
    def expected(cls, op: Op, case: str) -> Expect | NA:
        if case == VALID:
            return Expect(op.ok)
        if case in op.cases:
            return op.cases[case]
        if case == SCOPE and cls.no_scopes:
            return NA(cls.no_scopes)
        if case == SCOPE and op.needs is None:
            return NA("any valid credential may call it: it needs no scope or role")
        if case == OTHER and not op.owned:
            return NA("the request names no record of the owner")
        return cls.rule(op, case)


# --- DSN: bearer API tokens issued out of band, scopes, owned bookings and profiles -------------------
DSN_SCOPES = ["passes:read", "bookings:create", "bookings:cancel", "mission-profile:create"]
DSN_NOT_VISIBLE = Expect(404, lambda a: a.json()["error"].endswith("not found or not visible to this API token"))


def dsn_without(*kinds: str) -> Expect:
    """Another owner's list: 200, without the owner's records."""
    return Expect(200, lambda a: all(f'"{kind}":' not in a.text or a.json()[kind] == [] for kind in kinds))


class HeaderTokenHarness(Harness):
    """A service that reads its credential from the Authorization header as "<scheme> <token>"."""

    @abstractmethod
    def token(self, case: str, op: Op) -> str:
        """The token of a case that has one (VALID, EXPIRED, REVOKED, SCOPE, OTHER)."""

    @abstractmethod
    def unknown_token(self) -> str:
        """A token of the service's form that it never issued."""

    def credential(self, case: str, op: Op) -> str | bytes | None:
        if case == NONE:
            return None
        if case == SCHEME:
            return BASIC
        if case == EMPTY:
            return self.scheme
        if case == GARBAGE:
            return f"{self.scheme} ".encode() + JUNK
        if case == UNKNOWN:
            return f"{self.scheme} {self.unknown_token()}"
        return f"{self.scheme} {self.token(case, op)}"


class Dsn(HeaderTokenHarness):
    id = "dsn"
    base = "/orbapi"
    now = DSN_NOW
    SLOT = {"start": "2026-05-07T10:00:00Z", "end": "2026-05-07T10:10:00Z", "gs_id": "4567"}
    ops = [
        Op("post", "/passes/search", json={"noradId": ISS, "days": 1, "groundStationIds": ["3886"]},
           needs="passes:read"),
        Op("post", "/bookings", json={"norad_cat_id": ISS, "type": "data", "slots": [SLOT]}, ok=201,
           needs="bookings:create"),
        Op("get", "/bookings", cases={OTHER: dsn_without("bookings")}, owned=True),
        Op("delete", "/bookings/{bookingId}", "/bookings/{booking}", needs="bookings:cancel", owned=True),
        Op("post", "/bookings/{bookingId}/uplink-files", "/bookings/{booking}/uplink-files",
           json={"key": "clients/client_123/x.bin"}, ok=201, needs="bookings:create", owned=True),
        Op("get", "/bookings/{bookingId}/uplink-files", "/bookings/{booking}/uplink-files", owned=True),
        Op("get", "/bookings/{bookingId}/downlink-files", "/bookings/{booking}/downlink-files", owned=True),
        Op("post", "/satellites/id/{noradId}/profiles", f"/satellites/id/{ISS}/profiles",
           json={"name": "p", "profile": {}}, ok=201, needs="mission-profile:create"),
        Op("get", "/satellites/id/{noradId}/profiles", f"/satellites/id/{ISS}/profiles",
           needs="mission-profile:create", owned=True, cases={OTHER: dsn_without("profiles")}),
        Op("get", "/satellites/profiles/{profileId}", "/satellites/profiles/{profile}",
           needs="mission-profile:create", owned=True),
        Op("delete", "/satellites/profiles/{profileId}", "/satellites/profiles/{profile}",
           needs="mission-profile:create", owned=True),
    ]

    def auth(self, owner: str = "client_123") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.records['tokens'][owner]}"}

    def prepare(self) -> dict[str, Any]:
        tokens = {c["owner"]: c["token"] for c in self.mock.credentials()}
        headers = {"Authorization": f"Bearer {tokens['client_123']}"}
        booking = self.http.post("/orbapi/bookings", headers=headers, json={
            "norad_cat_id": ISS, "type": "data",
            "slots": [{"start": "2026-05-06T10:00:00Z", "end": "2026-05-06T10:10:00Z", "gs_id": "1"}]})
        profile = self.http.post(f"/orbapi/satellites/id/{ISS}/profiles", json={"name": "mine"}, headers=headers)
        assert booking.status_code == 201 and profile.status_code == 201, (booking.text, profile.text)
        return {"tokens": tokens, "booking": booking.json()["bookingId"], "profile": profile.json()["profile"]["id"]}

    def state(self) -> Any:
        return (self.http.get("/orbapi/bookings", headers=self.auth()).json(),
                self.http.get(f"/orbapi/satellites/id/{ISS}/profiles", headers=self.auth()).json())

    def unknown_token(self) -> str:
        return "dsn_live_" + "0" * 32

    def token(self, case: str, op: Op) -> str:
        if case == VALID:
            return self.records["tokens"]["client_123"]
        if case == OTHER:
            return self.records["tokens"]["client_456"]
        if case == EXPIRED:
            token = self.mint(owner="client_123", lifetime=60)["token"]
            self.advance(61)
            return token
        if case == REVOKED:
            token = self.mint(owner="client_123")["token"]
            self.revoke(token)
            return token
        assert case == SCOPE
        return self.mint(owner="client_123", scopes=[s for s in DSN_SCOPES if s != op.needs])["token"]

    @classmethod
    def rule(cls, op: Op, case: str) -> Expect | NA:
        return {NONE: Expect(401, {"error": "Missing API token"}),
                SCHEME: Expect(401, {"error": "Invalid API token"}),
                EMPTY: Expect(401, {"error": "Invalid API token"}),
                GARBAGE: Expect(401, {"error": "Invalid API token"}),
                UNKNOWN: Expect(401, {"error": "Invalid API token"}),
                EXPIRED: Expect(401, {"error": "API token has expired"}),
                REVOKED: Expect(401, {"error": "API token has been revoked"}),
                SCOPE: Expect(403, {"error": f"API token does not have the required scope: {op.needs}"}),
                OTHER: DSN_NOT_VISIBLE}[case]


# --- NRAO ODS: client-credentials grant, FastAPI HTTPBearer (403 for everything), scopes ------------
class NraoOds(HeaderTokenHarness):
    id = "nrao-ods"
    now = ODS_START.strftime("%Y-%m-%dT%H:%M:%SZ")
    NO_RECORDS = "ODS keeps no record a client can read back or change: the feed is everyone's, uploads write-only"
    ops = [
        Op("get", "/ods_data/", needs="ods:read", cases={OTHER: NA(NO_RECORDS)}),
        Op("post", "/sat_avoidance_logs", files={"file": (LOG_NAME, HEADER + log_rows(3), "text/csv")},
           needs="tba:write", cases={OTHER: NA(NO_RECORDS)}),
        Op("post", "/tle_data", files={"tle_file": ("tle.txt", TLE_TEXT, "text/plain")}, ok=201, needs="tle:write",
           cases={OTHER: NA(NO_RECORDS)}),
    ]

    def operator(self) -> dict[str, Any]:
        return next(c for c in self.mock.credentials() if c["client_id"] == "skymock-operator")

    @staticmethod
    def grant_form(credential: dict[str, Any]) -> dict[str, str]:
        return {"grant_type": "client_credentials", "client_id": credential["client_id"],
                "client_secret": credential["client_secret"]}

    def grant(self, credential: dict[str, Any]) -> str:
        answer = self.http.post("/token/", data=self.grant_form(credential))
        assert answer.status_code == 200, answer.text
        return answer.json()["token"]

    def prepare(self) -> dict[str, Any]:
        return {"token": self.grant(self.operator())}

    def unknown_token(self) -> str:
        return "Zm9yZ2VkLXRva2VuLW5ldmVyLWlzc3VlZC1ieS1vZHM"

    def token(self, case: str, op: Op) -> str:
        if case == VALID:
            return self.records["token"]
        if case == EXPIRED:
            token = self.grant(self.mint(owner="demo-operator", lifetime=60))
            self.advance(61)
            return token
        if case == REVOKED:
            token = self.grant(self.operator())
            self.revoke(token)
            return token
        assert case == SCOPE
        lacking = [s for s in ("ods:read", "tba:write", "tle:write") if s != op.needs]
        return self.grant(self.mint(owner="demo-operator", scopes=lacking))

    @classmethod
    def rule(cls, op: Op, case: str) -> Expect | NA:
        # FastAPI's HTTPBearer (before 0.122): no credentials at all, or a scheme with nothing after it, is
        # "Not authenticated"; another scheme "Invalid authentication credentials"; the rest is the app's
        return {NONE: Expect(403, {"detail": "Not authenticated"}),
                SCHEME: Expect(403, {"detail": "Invalid authentication credentials"}),
                EMPTY: Expect(403, {"detail": "Not authenticated"}),
                GARBAGE: Expect(403, {"detail": "Could not validate token"}),
                UNKNOWN: Expect(403, {"detail": "Could not validate token"}),
                EXPIRED: Expect(403, {"detail": "Token has expired"}),
                REVOKED: Expect(403, {"detail": "Token has been revoked"}),
                SCOPE: Expect(403, {"detail": f"Client lacks the required scope: {op.needs}"})}[case]


# --- OKAPI: Auth0 password grant, JWT bearer, 401 in OKAPI's envelope, requests owned by their user ----
OKAPI_CHALLENGE = (("WWW-Authenticate", 'Bearer realm="OKAPI"'),)


def okapi_refusal(text: str) -> Expect:
    return Expect(401, {"status": {"type": "FATAL", "text": text}}, OKAPI_CHALLENGE)


class Okapi(HeaderTokenHarness):
    id = "okapi"
    now = OKAPI_NOW
    no_scopes = ("OKAPI checks no scope: its Auth0 login takes any scope string ('you can currently put any "
                 "string') and every user may use every engine")
    OTHERS_REQUEST = Expect(404, lambda a: a.json()["status"]["type"] == "FATAL"
                            and "is known to this user" in a.json()["status"]["text"])
    ops = [
        Op("post", "/predict-passes/{engine}/requests", "/predict-passes/sgp4/requests", json=pass_request(), ok=202),
        Op("get", "/predict-passes/{engine}/results/{request_id}/{format}",
           "/predict-passes/sgp4/results/{passes}/simple", owned=True),
        Op("post", "/propagate-orbit/{engine}/requests", "/propagate-orbit/sgp4/requests", json=propagation_request(),
           ok=202),
        Op("get", "/propagate-orbit/{engine}/results/{request_id}/{format}",
           "/propagate-orbit/sgp4/results/{orbit}/simple", owned=True),
    ]

    @staticmethod
    def login_form(credential: dict[str, Any]) -> dict[str, str]:
        return {"grant_type": "password", "username": credential["username"], "password": credential["password"],
                "audience": AUDIENCE, "scope": "pass_predictions", "client_id": CLIENT_ID}

    def login(self, credential: dict[str, Any]) -> str:
        answer = self.http.post("/oauth/token", data=self.login_form(credential))
        assert answer.status_code == 200, answer.text
        return answer.json()["access_token"]

    def user(self, owner: str) -> dict[str, Any]:
        return next(c for c in self.mock.credentials() if c["owner"] == owner)

    def prepare(self) -> dict[str, Any]:
        token = self.login(self.user("analyst"))
        headers = {"Authorization": f"Bearer {token}"}
        passes = self.http.post("/predict-passes/sgp4/requests", json=pass_request(), headers=headers)
        orbit = self.http.post("/propagate-orbit/sgp4/requests", json=propagation_request(), headers=headers)
        assert passes.status_code == orbit.status_code == 202, (passes.text, orbit.text)
        self.advance(60)                                  # both jobs done
        return {"token": token, "passes": passes.json()["request_id"], "orbit": orbit.json()["request_id"]}

    def state(self) -> Any:
        return self.http.get("/__skymock/jobs").json()

    def unknown_token(self) -> str:
        claims = jwt.decode(self.records["token"], options={"verify_signature": False})
        return jwt.encode(claims, "a signing key that OKAPI never had nor used", algorithm="HS256")

    def token(self, case: str, op: Op) -> str:
        if case == VALID:
            return self.records["token"]
        if case == OTHER:
            return self.login(self.user("operator"))
        if case == EXPIRED:
            token = self.login(self.mint(owner="analyst", lifetime=60))
            self.advance(61)
            return token
        assert case == REVOKED
        token = self.login(self.user("analyst"))
        self.revoke(token)
        return token

    @classmethod
    def rule(cls, op: Op, case: str) -> Expect | NA:
        return {NONE: okapi_refusal("Authorization header is expected: log in at Auth0 and send "
                                    "'Bearer <access_token>'"),
                SCHEME: okapi_refusal("Authorization header must be 'Bearer <access_token>'"),
                EMPTY: okapi_refusal("Authorization header must be 'Bearer <access_token>'"),
                GARBAGE: okapi_refusal("Invalid token: it was not issued for this API"),
                UNKNOWN: okapi_refusal("Invalid token: it was not issued for this API"),
                EXPIRED: okapi_refusal("Token has expired: log in again"),
                REVOKED: okapi_refusal("Token has been revoked: log in again"),
                OTHER: cls.OTHERS_REQUEST}[case]


# --- MMODA: JWTs passed as the `token` parameter, roles, jobs owned by their user (in the job id) ------
RETRY = ("please try to logout and login again. If already logged out, please clean the cookies, and resubmit "
         "you request.")
MMODA_INVALID, MMODA_EXPIRED = f"The token provided is not valid, {RETRY}", f"The token provided is expired, {RETRY}"
NO_TOKEN_TEXT = "A token must be provided."
NUMERICAL = {"instrument": "empty", "product_type": "numerical", "query_type": "Real", "p": "5",
             "session_id": "AUTHMATRIXSESSION", "api": "True", "oda_api_version": "1.3.5", "off_line": "False"}
ROLES = {"guest": [], "observer": ["general"],
         "collaborator": ["general", "integral-private-qla", "unige-hpc-full", "refresh-tokens", "job manager"]}


def dispatcher_refusal(message: str) -> Expect:
    """The dispatcher's RequestNotAuthorized error JSON."""
    return Expect(403, json_where(error_message=message, error=f"RequestNotAuthorized():{message}"))


def failed_query(message: str, debug: str = "") -> Expect:
    """A query answered "failed" with status_code 403 (a role lacking, a job of someone else)."""
    return Expect(403, lambda a: (a.json()["query_status"], a.json()["status_code"]) == ("failed", 403)
                  and a.json()["exit_status"]["message"].startswith(message)
                  and debug in a.json()["exit_status"]["debug_message"])


LACKING_GENERAL = failed_query("Unfortunately, your priviledges are not sufficient to make the request for this "
                               "particular product and parameter combination.\n- Your priviledge roles include []\n"
                               "- You are lacking all of the following roles:\n - general: please refer to support")
NOT_YOUR_JOB = failed_query("Request not authorized", "does not match with the job_id=")
TEXT_INVALID = Expect(403, "The token provided is not valid.")
TEXT_EXPIRED = Expect(403, "The token provided is expired.")


def text_refusals(role_text: str | None = None) -> dict[str, Any]:
    """/refresh_token and /inspect-state refuse in bare text."""
    found: dict[str, Any] = {NONE: Expect(403, NO_TOKEN_TEXT), EMPTY: Expect(403, NO_TOKEN_TEXT), SCHEME: TEXT_INVALID,
                             GARBAGE: TEXT_INVALID, UNKNOWN: TEXT_INVALID, EXPIRED: TEXT_EXPIRED, REVOKED: TEXT_EXPIRED}
    if role_text:
        found[SCOPE] = Expect(403, lambda a: a.text.startswith(f"Unfortunately, your privileges are not sufficient "
                                                               f"to {role_text}.\nYour privilege roles include"))
    return found


def anonymous_list(*names: str) -> Expect:
    return Expect(200, lambda a: all(name in a.json() for name in names))


class Mmoda(Harness):
    id = "mmoda"
    base = MMODA_BASE
    NO_OWNER = "a public query, or the caller's own token: no record of another user is named"
    ops = [
        # polling the observer's job: the job id is the hash of the query and the user, so anyone else's
        # poll (no token, another user) names a job that is not theirs
        Op("get", "/run_analysis", params={**NUMERICAL, "query_status": "ready", "job_id": "{job}"}, owner="observer",
           needs="general", owned=True,
           cases={NONE: NOT_YOUR_JOB, EMPTY: NOT_YOUR_JOB, SCOPE: LACKING_GENERAL, OTHER: NOT_YOUR_JOB}),
        # a new query of a product that needs the role general (oda_api posts a form when a query is long)
        Op("post", "/run_analysis", form={**NUMERICAL, "query_status": "new"}, owner="observer", needs="general",
           cases={NONE: LACKING_GENERAL, EMPTY: LACKING_GENERAL, SCOPE: LACKING_GENERAL}),
        Op("get", "/instr-list", anonymous=True, owner="observer",
           cases={NONE: anonymous_list("isgri", "empty"), EMPTY: anonymous_list("isgri", "empty"),
                  SCHEME: TEXT_INVALID, GARBAGE: TEXT_INVALID, UNKNOWN: TEXT_INVALID, EXPIRED: TEXT_EXPIRED,
                  REVOKED: TEXT_EXPIRED, SCOPE: NA("roles only add restricted instruments to the list"),
                  OTHER: NA(NO_OWNER)}),
        Op("get", "/api/meta-data", params={"instrument": "isgri"}, anonymous=True, owner="observer",
           cases={NONE: Expect(200), EMPTY: Expect(200),
                  SCOPE: NA("isgri is described to everyone; roles gate restricted instruments only")}),
        Op("get", "/refresh_token", params={"query_status": "new"}, owner="collaborator", needs="refresh-tokens",
           cases=text_refusals("refresh your token")),
        Op("get", "/update_token_email_options",
           params={"msdone": "False", "msfail": "False", "mssub": "False", "query_status": "new"}, owner="observer",
           cases={NONE: Expect(403, NO_TOKEN_TEXT), EMPTY: Expect(403, NO_TOKEN_TEXT)}),
        Op("get", "/inspect-state", owner="collaborator", needs="job manager",
           cases={**text_refusals("inspect the state for a given job_id"),
                  OTHER: NA("a job manager is shown every job: no record is the manager's own")}),
    ]

    def users(self) -> dict[str, dict[str, Any]]:
        return {c["owner"]: c for c in self.mock.credentials()}

    def prepare(self) -> dict[str, Any]:
        tokens = {owner: c["token"] for owner, c in self.users().items()}
        made = self.http.get(f"{MMODA_BASE}/run_analysis",
                             params={**NUMERICAL, "query_status": "new", "token": tokens["observer"]})
        assert made.status_code == 200 and made.json()["query_status"] == "done", made.text[:300]
        return {"tokens": tokens, "job": made.json()["job_monitor"]["job_id"]}

    def state(self) -> Any:
        jobs = self.http.get("/__skymock/jobs").json()
        held = self.http.get(f"{MMODA_BASE}/inspect-state", params={"token": self.records["tokens"]["collaborator"]})
        return jobs, held.json()

    def credential(self, case: str, op: Op) -> str | None:
        """The `token` parameter of a case: the dispatcher reads no Authorization header."""
        owner = op.owner or "observer"
        mine = self.records["tokens"][owner]
        email = f"{owner}@mmoda.example"
        if case == VALID:
            return mine
        if case == NONE:
            return None
        if case == SCHEME:
            return f"Bearer {mine}"
        if case == EMPTY:
            return ""
        if case == GARBAGE:
            return JUNK.decode("latin-1")
        if case == UNKNOWN:
            claims = jwt.decode(mine, options={"verify_signature": False})
            return jwt.encode(claims, "a secret this dispatcher does not have", algorithm="HS256")
        if case == EXPIRED:
            token = self.mint(email=email, name=owner, roles=ROLES[owner], lifetime=60)["token"]
            self.advance(61)
            return token
        if case == REVOKED:     # another lifetime: the same claims signed in the same second are the same token
            token = self.mint(email=email, name=owner, roles=ROLES[owner], lifetime=3600)["token"]
            self.revoke(token)
            return token
        if case == SCOPE:       # the same user, without the role
            return self.mint(email=email, name=owner, roles=[r for r in ROLES[owner] if r != op.needs])["token"]
        assert case == OTHER
        return self.records["tokens"]["collaborator"]

    def send(self, op: Op, credential: str | bytes | None, mock: Mock | None = None):
        token = {} if credential is None else {"token": credential}
        url = self.base + op.path
        if op.form is not None:
            return self.http.post(url, data={**op.form, **token})
        params = {name: value.format(**self.records) for name, value in (op.params or {}).items()}
        return self.http.get(url, params={**params, **token}, follow_redirects=False)

    @classmethod
    def rule(cls, op: Op, case: str) -> Expect | NA:
        # an operation says how it answers no token; a bad one is the dispatcher's RequestNotAuthorized
        return {SCHEME: dispatcher_refusal(MMODA_INVALID), GARBAGE: dispatcher_refusal(MMODA_INVALID),
                UNKNOWN: dispatcher_refusal(MMODA_INVALID), EXPIRED: dispatcher_refusal(MMODA_EXPIRED),
                REVOKED: dispatcher_refusal(MMODA_EXPIRED)}[case]


# --- the LCO portal, archive and thumbnail service: DRF tokens over one simulated observatory ----------
LCO_SETTINGS = Settings(clock_start=parse_instant(LCO_NOW), frozen=True, completion_fraction=1.0)
_LCO_MOCKS: dict[str, Mock] = {}
NOT_PROVIDED = {"detail": "Authentication credentials were not provided."}
NO_CREDENTIALS = "Invalid token header. No credentials provided."
INVALID_CHARACTERS = "Invalid token header. Token string should not contain invalid characters."
INVALID = {"detail": "Invalid token."}
NOT_FOUND = {"detail": "Not found."}
LCO_NO_SCOPES = ("LCO tokens carry no scopes or roles: what a user may do follows from the proposals they belong "
                 "to (the other-owner case)")
DRAFT = {"proposal": "LCO2026B-001", "title": "later", "content": "{}"}
CADENCE = {**EXAMPLE, "requests": [{k: v for k, v in EXAMPLE["requests"][0].items() if k != "windows"} | {
    "cadence": {"start": "2026-11-21T00:00:00Z", "end": "2026-11-24T00:00:00Z", "period": 24, "jitter": 12}}]}
NOT_A_MEMBER = "You do not belong to the proposal you are trying to submit"


def lco_mock(service_id: str) -> Mock:
    """The three LCO services of one observatory (built once: they share its clock and its records)."""
    if service_id not in _LCO_MOCKS:
        _LCO_MOCKS[service_id] = Mock(service_id, LCO_SETTINGS)
    return _LCO_MOCKS[service_id]


class Lco(HeaderTokenHarness):
    scheme = "Token"
    now = LCO_NOW
    settings = LCO_SETTINGS
    no_scopes = LCO_NO_SCOPES
    OWNER, OTHER_USER = "astro", "bob"      # bob is not a member of astro's LCO2026B-001

    #: the harness whose records the observatory holds: resetting any LCO service resets the others' world
    holder: list[Harness | None] = [None]

    @property
    def mock(self) -> Mock:
        return lco_mock(self.id)

    def fresh(self) -> None:
        if self.holder[0] is not self:
            self.dirty = True
        super().fresh()
        self.holder[0] = self

    def users(self, mock: Mock | None = None) -> dict[str, dict[str, Any]]:
        return {c["username"]: c for c in (mock or self.mock).credentials()}

    def member(self, mock: Mock | None = None, **body: Any) -> str:
        """A new user in astro's proposals, with a token of their own."""
        roles = self.users(mock)[self.OWNER]["roles"]
        return self.mint(mock, username=f"member{next(self.serial)}", proposals=roles, **body)["token"]

    def token(self, case: str, op: Op) -> str:
        if case in (VALID, OTHER):
            return self.users()[self.OWNER if case == VALID else self.OTHER_USER]["token"]
        if case == EXPIRED:
            token = self.member(lifetime=60)
            self.advance(61)
            return token
        assert case == REVOKED
        token = self.member()
        self.revoke(token)
        return token

    def unknown_token(self) -> str:
        return "0123456789abcdef" * 2 + "01234567"

    def observed(self) -> dict[str, Any]:
        """astro's example request, observed by the network (the shared clock moved past its window)."""
        portal = lco_mock("lco-observe")
        auth = {"Authorization": f"Token {self.users(portal)[self.OWNER]['token']}"}
        assert portal.http.post("/api/userrequests/", json=EXAMPLE, headers=auth).status_code == 201
        self.advance(14 * 86400)
        archive = lco_mock("lco-archive")
        auth = {"Authorization": f"Token {self.users(archive)[self.OWNER]['token']}"}
        found = archive.http.get("/frames/", params={"RLEVEL": "91", "OBSTYPE": "EXPOSE"}, headers=auth).json()
        frame = found["results"][0]
        assert frame["PROPID"] == "LCO2026B-001"
        return {"frame": frame["id"], "frame_url": frame["url"]}


def listing_without(pointer: str) -> Expect:
    return Expect(200, without(pointer))


UR_ANON = {NONE: Expect(404, NOT_FOUND)}                 # astro's records are not public


class LcoObserve(Lco):
    id = "lco-observe"
    base = "/api"
    ops = [
        Op("get", "/"),
        Op("get", "/profile/"),
        Op("get", "/instruments/", anonymous=True),
        Op("get", "/proposals/", owned=True, cases={OTHER: listing_without('"LCO2026B-001"')}),
        Op("get", "/proposals/{id}/", "/proposals/LCO2026B-001/", owned=True),
        Op("get", "/semesters/", anonymous=True),
        Op("get", "/semesters/{id}/", "/semesters/2026B/", anonymous=True),
        Op("get", "/userrequests/", anonymous=True, owned=True,
           cases={NONE: listing_without('"LCO2026B-001"'), OTHER: listing_without('"LCO2026B-001"')}),
        Op("post", "/userrequests/", json=EXAMPLE, ok=201, owned=True,
           cases={OTHER: Expect(400, {"non_field_errors": [NOT_A_MEMBER]})}),
        Op("get", "/userrequests/{id}/", "/userrequests/{ur}/", anonymous=True, owned=True, cases=UR_ANON),
        Op("post", "/userrequests/{id}/cancel/", "/userrequests/{ur}/cancel/", owned=True),
        Op("put", "/userrequests/{id}/cancel/", "/userrequests/{ur}/cancel/", owned=True),
        Op("post", "/userrequests/validate/", json=EXAMPLE, owned=True,
           cases={OTHER: Expect(200, {"request_durations": {}, "errors": {"non_field_errors": [NOT_A_MEMBER]}})}),
        Op("post", "/userrequests/cadence/", json=CADENCE, owned=True,
           cases={OTHER: Expect(400, {"non_field_errors": [NOT_A_MEMBER]})}),
        Op("post", "/userrequests/max_allowable_ipp/", json=EXAMPLE, owned=True,
           cases={OTHER: Expect(200, {"errors": {"non_field_errors": [NOT_A_MEMBER]}})}),
        Op("get", "/requests/", anonymous=True, owned=True,
           cases={NONE: listing_without('"m42"'), OTHER: listing_without('"m42"')}),
        Op("get", "/requests/{id}/", "/requests/{request}/", anonymous=True, owned=True, cases=UR_ANON),
        Op("get", "/requests/{id}/airmass/", "/requests/{request}/airmass/", anonymous=True, owned=True,
           cases=UR_ANON),
        Op("post", "/airmass/", json=EXAMPLE["requests"][0], anonymous=True),
        Op("get", "/requests/{id}/telescope_states/", "/requests/{request}/telescope_states/", anonymous=True,
           owned=True, cases=UR_ANON),
        Op("get", "/requests/{id}/blocks/", "/requests/{request}/blocks/", anonymous=True, owned=True,
           cases=UR_ANON),
        Op("get", "/telescope_states/", anonymous=True),
        Op("get", "/telescope_availability/", anonymous=True),
        Op("get", "/contention/{instrument_name}/", "/contention/1M0-SCICAM-SINISTRO/", anonymous=True),
        Op("get", "/pressure/", anonymous=True),
        Op("get", "/drafts/", owned=True, cases={OTHER: Expect(200, json_where(count=0))}),
        Op("post", "/drafts/", json=DRAFT, ok=201, owned=True,
           cases={OTHER: Expect(400, {"non_field_errors": ["You are not a member of that proposal"]})}),
        Op("get", "/drafts/{id}/", "/drafts/{draft}/", owned=True),
        Op("put", "/drafts/{id}/", "/drafts/{draft}/", json={**DRAFT, "title": "replaced"}, owned=True),
        Op("patch", "/drafts/{id}/", "/drafts/{draft}/", json={"title": "renamed"}, owned=True),
        Op("delete", "/drafts/{id}/", "/drafts/{draft}/", ok=204, owned=True),
    ]

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.users()[self.OWNER]['token']}"}

    def prepare(self) -> dict[str, Any]:
        made = self.http.post("/api/userrequests/", json=EXAMPLE, headers=self.auth())
        draft = self.http.post("/api/drafts/", json=DRAFT, headers=self.auth())
        assert made.status_code == draft.status_code == 201, (made.text, draft.text)
        return {"ur": made.json()["id"], "request": made.json()["requests"][0]["id"], "draft": draft.json()["id"]}

    def state(self) -> Any:
        return (self.http.get("/api/userrequests/", headers=self.auth()).json(),
                self.http.get("/api/drafts/", headers=self.auth()).json())

    @classmethod
    def rule(cls, op: Op, case: str) -> Expect | NA:
        # Session authentication comes first and sends no challenge: every refusal is a 403. A header of
        # another scheme is not TokenAuthentication's business: the caller is anonymous.
        if case in (NONE, SCHEME):
            if not op.anonymous:
                return Expect(403, NOT_PROVIDED)
            return op.cases.get(NONE) or Expect(op.ok)
        return {EMPTY: Expect(403, {"detail": NO_CREDENTIALS}), GARBAGE: Expect(403, {"detail": INVALID_CHARACTERS}),
                UNKNOWN: Expect(403, INVALID), EXPIRED: Expect(403, INVALID), REVOKED: Expect(403, INVALID),
                OTHER: Expect(404, NOT_FOUND)}[case]


ARCHIVE_CHALLENGE = (("WWW-Authenticate", "Token"),)


class LcoArchive(Lco):
    id = "lco-archive"
    FRAME_HIDDEN = {NONE: Expect(404, NOT_FOUND)}
    ops = [
        Op("get", "/", anonymous=True),
        Op("get", "/profile/", anonymous=True,
           cases={NONE: Expect(200, {"username": "", "profile": {}}), OTHER: NA("it shows the caller's own profile")}),
        Op("get", "/frames/", anonymous=True, owned=True,
           cases={NONE: listing_without('"LCO2026B-001"'), OTHER: listing_without('"LCO2026B-001"')}),
        Op("get", "/frames/aggregate/", anonymous=True),
        Op("get", "/aggregate/", anonymous=True),
        Op("get", "/frames/{id}/", "/frames/{frame}/", anonymous=True, owned=True, cases=FRAME_HIDDEN),
        Op("get", "/frames/{id}/related/", "/frames/{frame}/related/", anonymous=True, owned=True,
           cases=FRAME_HIDDEN),
        Op("get", "/frames/{id}/headers/", "/frames/{frame}/headers/", anonymous=True, owned=True,
           cases=FRAME_HIDDEN),
    ]

    def prepare(self) -> dict[str, Any]:
        return self.observed()

    def state(self) -> Any:
        auth = {"Authorization": f"Token {self.users()[self.OWNER]['token']}"}
        return (self.http.get("/frames/", params={"limit": "1"}, headers=auth).json()["count"],
                self.http.get("/profile/", headers=auth).json())

    @classmethod
    def rule(cls, op: Op, case: str) -> Expect | NA:
        # Token authentication comes first: a refusal is a 401 with its challenge; anyone may read
        if case in (NONE, SCHEME):
            return op.cases.get(NONE) or Expect(op.ok)
        refused = {EMPTY: {"detail": NO_CREDENTIALS}, GARBAGE: {"detail": INVALID_CHARACTERS}, UNKNOWN: INVALID,
                   EXPIRED: INVALID, REVOKED: INVALID}
        if case in refused:
            return Expect(401, refused[case], ARCHIVE_CHALLENGE)
        return Expect(404, NOT_FOUND)


def relayed(detail: str) -> Expect:
    """The thumbnail service passes the caller's header to the archive and relays its 401."""
    return Expect(401, {"message": "Got error response", "response": {"detail": detail}})



class LcoThumbnails(Lco):
    id = "lco-thumbnails"
    ops = [Op("get", "/{frame}/", "/{frame}/", anonymous=True, owned=True)]

    def drawn(self) -> dict[str, Any]:
        """astro's thumbnail of the frame: its signed link and proposal."""
        answer = self.send(self.ops[0], f"Token {self.users(lco_mock('lco-archive'))[self.OWNER]['token']}")
        assert answer.status_code == 200, answer.text
        return answer.json()

    def prepare(self) -> dict[str, Any]:
        self.reset(lco_mock("lco-archive"))       # the archive's users and tokens too
        return self.observed()

    def state(self) -> Any:
        archive = lco_mock("lco-archive")
        auth = {"Authorization": f"Token {self.users(archive)[self.OWNER]['token']}"}
        return archive.http.get("/frames/", params={"limit": "1"}, headers=auth).json()["count"]

    def token(self, case: str, op: Op) -> str:
        # the caller's archive token: the archive issues, expires and revokes them
        archive = lco_mock("lco-archive")
        if case in (VALID, OTHER):
            return self.users(archive)[self.OWNER if case == VALID else self.OTHER_USER]["token"]
        if case == EXPIRED:
            token = self.member(archive, lifetime=60)
            self.advance(61)
            return token
        token = self.member(archive)
        self.revoke(token, archive)
        return token

    @classmethod
    def rule(cls, op: Op, case: str) -> Expect | NA:
        return {NONE: Expect(404, {"message": "Not found"}), SCHEME: Expect(404, {"message": "Not found"}),
                EMPTY: relayed(NO_CREDENTIALS), GARBAGE: relayed(INVALID_CHARACTERS),
                UNKNOWN: relayed("Invalid token."), EXPIRED: relayed("Invalid token."),
                REVOKED: relayed("Invalid token."), OTHER: Expect(404, {"message": "Not found"})}[case]


HARNESSES: dict[str, type[Harness]] = {h.id: h for h in (Dsn, NraoOds, Okapi, Mmoda, LcoObserve, LcoArchive,
                                                           LcoThumbnails)}
DSN_REFERENCE = {  # template -> a URL of it
    "/satellites": "/satellites", "/satellites/id/{noradId}": "/satellites/id/25544",
    "/satellites/name/{name}": "/satellites/name/iss", "/tles": "/tles", "/tles/id/{noradId}": "/tles/id/25544",
    "/tles/name/{name}": "/tles/name/iss", "/gs": "/gs", "/gs/id/{id}": "/gs/id/1",
    "/gs/id/{id}/status": "/gs/id/1/status", "/gs/description/{description}": "/gs/description/sofia",
    "/transmitters": "/transmitters",
    "/transmitters/id/{noradCatId}": "/transmitters/id/25544",
    "/transmitters/uuid/{uuid}": "/transmitters/uuid/ZzPz4gcsNBPKPKAFPmer7g",
    "/transmitters/mode/{modeId}": "/transmitters/mode/lora",
    "/transmitters/id/{noradCatId}/mode/{modeId}": "/transmitters/id/25544/mode/fm",
    "/transmitters/gs/{gsId}": "/transmitters/gs/3886",
    "/transmitters/gs/{gsId}/mode/{modeId}": "/transmitters/gs/3886/mode/lora"}
#: Every operation that needs no credential, why, and a call of it without one. An operation of a spec that
#: is neither here nor in its service's matrix fails the test: one that forgets auth cannot pass unseen.
PUBLIC: dict[tuple[str, str, str], tuple[str, Callable[[Any], Any]]] = {
    **{("dsn", "GET", template): ("reference data needs no token", lambda box, url=url: box.http.get("/orbapi" + url))
       for template, url in DSN_REFERENCE.items()},
    ("nrao-ods", "POST", "/token/"): ("the client-credentials grant", lambda box: box.http.post(
        "/token/", data=box.grant_form(box.operator()))),
    ("okapi", "POST", "/oauth/token"): ("the Auth0 password grant", lambda box: box.http.post(
        "/oauth/token", data=box.login_form(box.user("analyst")))),
    ("mmoda", "GET", "/api/par-names"): ("oda_api asks it without a token", lambda box: box.http.get(
        f"{MMODA_BASE}/api/par-names", params={"instrument": "empty", "product_type": "numerical"})),
    ("mmoda", "GET", "/api/instr-list"): ("a redirect to /instr-list, which judges the token", lambda box: box.http.get(
        f"{MMODA_BASE}/api/instr-list", params={"instrument": "mock"}, follow_redirects=False)),
    ("lco-observe", "POST", "/api-token-auth/"): ("the login", lambda box: box.http.post(
        "/api/api-token-auth/", data={"username": "astro", "password": box.users()["astro"]["password"]})),
    ("lco-archive", "GET", "/health/"): ("the health check", lambda box: box.http.get("/health/")),
    ("lco-archive", "POST", "/api-token-auth/"): ("the login", lambda box: box.http.post(
        "/api-token-auth/", data={"username": "astro", "password": box.users()["astro"]["password"]})),
    ("lco-archive", "GET", "/files/{id}/{filename}"): ("a signed link: the signature is the credential",
                                                      lambda box: box.http.get(box.records["frame_url"])),
    ("lco-thumbnails", "GET", "/images/{name}"): ("a signed link: the signature is the credential",
                                                  lambda box: box.http.get(box.drawn()["url"])),
}
#: cases where the mock is known to answer wrongly, and why (each must fail: strict)
KNOWN_WRONG: dict[tuple[str, str, str], str] = {}


@pytest.fixture(scope="module")
def harnesses() -> dict[str, Harness]:
    return {service_id: harness() for service_id, harness in HARNESSES.items()}


# --- the operations, from the specs --------------------------------------------------------------
def spec_operations(service_id: str) -> dict[tuple[str, str], Any]:
    """(METHOD, path) -> the operation's security requirement (None where the spec has no scheme)."""
    spec = yaml.safe_load((SPECS / get_service(service_id).spec).read_text())
    default = spec.get("security")
    return {(method.upper(), path): operation.get("security", default)
            for path, item in spec["paths"].items() for method, operation in item.items() if method in HTTP_METHODS}


def test_every_operation_of_every_service_is_public_or_in_the_matrix():
    assert set(HARNESSES) == set(service_ids())
    for service_id, harness in HARNESSES.items():
        operations = spec_operations(service_id)
        tested = [op.key for op in harness.ops]
        assert len(tested) == len(set(tested)), f"{service_id}: an operation is listed twice"
        public = {(method, path) for (service, method, path) in PUBLIC if service == service_id}
        assert not set(tested) & public, f"{service_id}: listed both public and protected"
        untested = set(operations) - set(tested) - public
        assert not untested, (f"{service_id}: {sorted(untested)} must be in the PUBLIC table (no credential) or "
                              "get an example request in the matrix")
        assert not (set(tested) | public) - set(operations), f"{service_id}: not in the spec"
        for key in public:
            assert operations[key] in ([], None), f"{service_id} {key}: public here, the spec asks a credential"
        for op in harness.ops:
            security = operations[op.key]
            if security is None:        # MMODA: the token is a parameter, each operation judges it
                continue
            assert security, f"{service_id} {op.key}: in the matrix, the spec asks no credential"
            assert ({} in security) == op.anonymous, f"{service_id} {op.key}: anonymous callers disagree"


@pytest.mark.parametrize("service_id, method, path", list(PUBLIC), ids=[f"{s}:{m} {p}" for s, m, p in PUBLIC])
def test_a_public_operation_answers_without_a_credential(harnesses, service_id, method, path):
    box = harnesses[service_id]
    box.fresh()
    answer = PUBLIC[service_id, method, path][1](box)
    assert answer.status_code in (200, 302), answer.text[:300]


def matrix() -> list:
    found = []
    for service_id, harness in HARNESSES.items():
        for op in harness.ops:
            for case in CASES:
                expected = harness.expected(op, case)
                marks = []
                if isinstance(expected, NA):
                    marks.append(pytest.mark.skip(reason=f"not applicable: {expected.reason}"))
                elif (service_id, op.path, case) in KNOWN_WRONG:
                    marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_WRONG[service_id, op.path, case]))
                found.append(pytest.param(service_id, op, case, marks=marks,
                                          id=f"{service_id}:{op.method.upper()} {op.path}:{case}"))
    return found


@pytest.mark.parametrize("service_id, op, case", matrix())
def test_a_credential_gets_the_real_services_answer_and_a_refusal_changes_nothing(harnesses, service_id, op, case):
    box = harnesses[service_id]
    box.fresh()
    expected = box.expected(op, case)
    box.dirty = True                                   # until the case is over and changed nothing
    credential = box.credential(case, op)              # minting, revoking, moving the clock
    before = box.snapshot()
    assert box.http.delete("/__skymock/journal").status_code == 200
    answer = box.send(op, credential)
    expected.check(answer)
    [entry] = box.mock.journal()
    assert entry["status"] == answer.status_code
    if case != VALID:
        assert [note for note in entry["notes"] if note.startswith(EFFECT_NOTES)] == []
        assert box.snapshot() == before
    box.dirty = case == VALID and op.changes
