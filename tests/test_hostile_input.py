"""Hostile input: every service refuses it with a 4xx in its own error shape, writes nothing, and answers on.

JSON nested past the depth limit, request targets over the length limit, bytes that are not UTF-8
(in a JSON body, a form, a query string, a path) and Content-Types that do not fit the operation or
mean nothing. Each test sends the hostile request with valid credentials (so the refusal is about the
input, not the caller), then checks the status, the service's error shape, the message, the journal
entry, that no record was created, and that the next request is answered.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterator

import pytest
import requests
import yaml
from lcodata import EXAMPLE, NOW as LCO_NOW
from mmodadata import BASE as MMODA, DUMMY, ERROR_KEYS
from okapidata import AUDIENCE, CLIENT_ID, pass_request
from sandbox import Mock

from mockserver.app import JOURNAL_QUERY_BYTES, SPECS
from mockserver.core.clock import parse_instant
from mockserver.core.inputs import MAX_JSON_DEPTH, MAX_TARGET_BYTES
from mockserver.core.service import Settings
from mockserver.server import LiveServer
from mockserver.services import get_service, service_ids

BOOKING = {"norad_cat_id": 25544, "type": "data",
           "slots": [{"start": "2031-03-01T10:00:00Z", "end": "2031-03-01T10:10:00Z", "gs_id": "1"}]}
WRITES = ("created:", "job:", "upload:")       # journal notes of a request that created something


@dataclass(frozen=True)
class Op:
    """One operation of a service, with a body (or query) it accepts."""

    service: str
    method: str
    path: str
    body: dict[str, Any] = field(default_factory=dict)
    listing: str | None = None      # where the records it creates are listed (a paged list or a named array)
    spoil: str | None = None        # for a form: the field given bytes that are not UTF-8
    takes_json: bool = True         # whether a form operation also takes a JSON body

    def __str__(self) -> str:
        return f"{self.service} {self.method} {self.path}"


JSON_OPS = [
    Op("dsn", "POST", "/orbapi/bookings", BOOKING, listing="/orbapi/bookings"),
    Op("dsn", "POST", "/orbapi/passes/search", {"noradId": 25544, "days": 1}),
    Op("lco-observe", "POST", "/api/userrequests/", EXAMPLE, listing="/api/userrequests/"),
    Op("lco-archive", "POST", "/api-token-auth/", {"username": "astro", "password": "wrong"}),
    Op("okapi", "POST", "/predict-passes/sgp4/requests", pass_request()),
    Op("okapi", "POST", "/oauth/token", {"grant_type": "password", "username": "nobody@okapi.example",
                                         "password": "wrong", "audience": AUDIENCE, "client_id": CLIENT_ID}),
]
FORM_OPS = [
    Op("nrao-ods", "POST", "/token/", {"grant_type": "client_credentials", "client_id": "someone",
                                       "client_secret": "wrong"}, spoil="client_id", takes_json=False),
    Op("lco-observe", "POST", "/api/api-token-auth/", {"username": "astro", "password": "wrong"}, spoil="username"),
    Op("lco-archive", "POST", "/api-token-auth/", {"username": "astro", "password": "wrong"}, spoil="password"),
    Op("mmoda", "POST", f"{MMODA}/run_analysis", DUMMY, spoil="instrument", takes_json=False),
    Op("okapi", "POST", "/oauth/token", JSON_OPS[-1].body, spoil="username"),
]
#: operations that take only a form or a multipart body: a JSON body is the wrong media type
FORM_ONLY_OPS = [op for op in FORM_OPS if not op.takes_json] + [Op("nrao-ods", "POST", "/tle_data")]
GET_OPS = [
    Op("nrao-ods", "GET", "/ods_data/", {"since": "now"}),
    Op("lco-observe", "GET", "/api/proposals/", {"limit": "5"}),
    Op("lco-archive", "GET", "/frames/", {"limit": "5", "SITEID": "lsc"}),
    Op("lco-thumbnails", "GET", "/1234/", {"width": "200", "height": "200"}),
    Op("dsn", "GET", "/orbapi/satellites", {"start": "0", "limit": "5"}),
    Op("mmoda", "GET", f"{MMODA}/api/par-names", {"instrument": "isgri", "product_type": "isgri_image"}),
    Op("okapi", "GET", "/predict-passes/sgp4/results/no-such-request/simple", {"verbose": "1"}),
]
BODY_OPS = JSON_OPS + FORM_OPS + [FORM_ONLY_OPS[-1]]


# --- the services, each with a demo credential ---------------------------------------------------------------------
class Client:
    """An in-process mock of one service and the headers of an authenticated demo user."""

    def __init__(self, service_id: str) -> None:
        lco = service_id.startswith("lco-")       # the LCO demo proposals are for the semester of LCO_NOW
        self.mock = Mock(service_id, Settings(clock_start=parse_instant(LCO_NOW), frozen=True) if lco else Settings())
        self.http = self.mock.http
        self.service_id = service_id
        self.headers = self._login(self.mock.credentials()[0])

    def _login(self, credential: dict[str, Any]) -> dict[str, str]:
        if self.service_id == "nrao-ods":
            form = {"grant_type": "client_credentials", "client_id": credential["client_id"],
                    "client_secret": credential["client_secret"]}
            return {"Authorization": f"Bearer {self.http.post('/token/', data=form).json()['token']}"}
        if self.service_id == "okapi":
            form = {"grant_type": "password", "username": credential["username"], "password": credential["password"],
                    "audience": AUDIENCE, "scope": "pass_predictions", "client_id": CLIENT_ID}
            return {"Authorization": f"Bearer {self.http.post('/oauth/token', data=form).json()['access_token']}"}
        if self.service_id == "mmoda":                # the token travels as a parameter
            self.token = credential["token"]
            return {}
        scheme = "Token" if self.service_id.startswith("lco-") else "Bearer"
        return {"Authorization": f"{scheme} {credential['token']}"}

    def send(self, op: Op, content: bytes | None = None, media: str | None = None, path: str | None = None,
             query: str | None = None):
        headers = dict(self.headers)
        if media is not None:
            headers["Content-Type"] = media
        target = (path or op.path) + (f"?{query}" if query is not None else "")
        return self.http.request(op.method, target, content=content, headers=headers, follow_redirects=False)

    def form(self, op: Op, **fields: str) -> dict[str, str]:
        return {**op.body, **({"token": self.token} if self.service_id == "mmoda" else {}), **fields}

    def count(self, op: Op) -> int | None:
        """How many records the operation has created so far (None: it creates none that are listed)."""
        if op.listing is None:
            return None
        listed = self.http.get(op.listing, headers=self.headers).json()
        return listed["count"] if "count" in listed else len(listed["bookings"])

    def last_entry(self) -> dict[str, Any]:
        return max(self.mock.journal(), key=lambda entry: entry["seq"])


@pytest.fixture(scope="module")
def clients() -> Iterator[dict[str, Client]]:
    made: dict[str, Client] = {}

    class Lazy(dict):
        def __missing__(self, service_id: str) -> Client:
            made[service_id] = Client(service_id)
            return made[service_id]

    yield Lazy()


# --- what a refusal looks like -----------------------------------------------------------------------------------
def message_of(service_id: str, path: str, answer) -> str:
    """The message of an error answer, after checking the answer has the service's own error shape."""
    assert answer.headers["content-type"].startswith("application/json"), answer.headers
    body = answer.json()
    if service_id == "nrao-ods" or service_id in ("lco-observe", "lco-archive"):
        # FastAPI's HTTPException and Django REST framework's refusals: {"detail": "..."}
        assert list(body) == ["detail"] and isinstance(body["detail"], str), body
        return body["detail"]
    if service_id == "dsn":
        assert list(body) == ["error"] and isinstance(body["error"], str), body
        return body["error"]
    if service_id == "lco-thumbnails":
        assert list(body) == ["message"] and isinstance(body["message"], str), body
        return body["message"]
    if service_id == "mmoda":
        assert ERROR_KEYS <= set(body), body
        assert body["error"] == f"RequestNotUnderstood():{body['error_message']}"
        return body["error_message"]
    if path.rstrip("/") == "/oauth/token":          # OKAPI's login is Auth0's
        assert set(body) == {"error", "error_description"} and body["error"] == "invalid_request", body
        return body["error_description"]
    assert list(body) == ["status"] and body["status"]["type"] == "FATAL", body
    assert body["status"].get("input_problem", False) is (answer.status_code == 400)
    return body["status"]["text"]


def assert_refused(client: Client, op: Op, answer, status: int, *words: str, before: int | None = None,
                   path: str | None = None) -> str:
    """The answer refuses with ``status`` in the service's shape naming ``words``; the journal has it,
    nothing was created, and the service answers the next request."""
    assert answer.status_code == status, answer.text[:500]
    message = message_of(client.service_id, path or op.path, answer)
    for word in words:
        assert word in message, message
    entry = client.last_entry()
    assert (entry["method"], entry["status"]) == (op.method, status)
    assert not [note for note in entry["notes"] if note.startswith(WRITES)], entry
    assert client.count(op) == before
    get = next(g for g in GET_OPS if g.service == client.service_id)
    assert client.send(get, query="&".join(f"{k}={v}" for k, v in get.body.items())).status_code < 500
    return message


def nested(depth: int, kind: str = "arrays") -> bytes:
    """JSON text nesting arrays (or objects) exactly ``depth`` levels deep."""
    if kind == "arrays":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * (depth - 1) + b"{}" + b"}" * (depth - 1)


def with_member(body: dict[str, Any], value: bytes) -> bytes:
    """The body's JSON with one more member, written as raw JSON text."""
    return json.dumps(body)[:-1].encode() + b', "extra": ' + value + b"}"


def ids(op: Op) -> str:
    return str(op)


# --- coverage: every service, every kind of body it takes -----------------------------------------------------------
def _media_types(service_id: str) -> set[str]:
    spec = yaml.safe_load((SPECS / get_service(service_id).spec).read_text())
    return {media for item in spec["paths"].values() for op in item.values() if isinstance(op, dict)
            for media in op.get("requestBody", {}).get("content", {})}


def test_the_tables_cover_every_service_and_every_kind_of_body_it_takes():
    assert {op.service for op in GET_OPS} == set(service_ids())
    for service_id in service_ids():
        kinds = _media_types(service_id)
        assert ("application/json" in kinds) == any(op.service == service_id for op in JSON_OPS), service_id
        forms = {"application/x-www-form-urlencoded", "multipart/form-data"} & kinds
        assert bool(forms) == any(op.service == service_id for op in FORM_OPS + FORM_ONLY_OPS), service_id


@pytest.mark.parametrize("op", [op for op in JSON_OPS if op.listing], ids=ids)
def test_the_bodies_the_tests_spoil_are_accepted_as_they_are(clients, op):
    """So a record missing after a refusal was refused, not merely invalid."""
    client = clients[op.service]
    before = client.count(op)
    answer = client.send(op, json.dumps(op.body).encode(), "application/json")
    assert answer.status_code == 201, answer.text
    assert client.count(op) == before + 1


# --- JSON nested too deep -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["arrays", "objects"])
@pytest.mark.parametrize("op", JSON_OPS, ids=ids)
def test_json_nested_ten_thousand_levels_deep_is_400(clients, op, kind):
    client = clients[op.service]
    before = client.count(op)
    answer = client.send(op, nested(10_000, kind), "application/json")
    assert_refused(client, op, answer, 400, "The body", f"more than {MAX_JSON_DEPTH} levels deep", before=before)


@pytest.mark.parametrize("op", JSON_OPS, ids=ids)
def test_json_at_the_depth_limit_is_read_and_one_level_more_is_refused(clients, op):
    client = clients[op.service]
    at_limit = client.send(op, with_member(op.body, nested(MAX_JSON_DEPTH - 1)), "application/json")
    assert at_limit.status_code < 500 and "levels deep" not in at_limit.text, at_limit.text[:300]
    before = client.count(op)
    past = client.send(op, with_member(op.body, nested(MAX_JSON_DEPTH)), "application/json")
    assert_refused(client, op, past, 400, f"more than {MAX_JSON_DEPTH} levels deep", before=before)


@pytest.mark.parametrize("kind", ["arrays", "objects"])
def test_a_deep_json_text_inside_a_draft_is_a_field_error(clients, kind):
    """The portal parses a draft's content itself: the same limit, in Django REST framework's field errors."""
    client = clients["lco-observe"]
    op = Op("lco-observe", "POST", "/api/drafts/", listing="/api/drafts/")
    before = client.count(op)
    body = {"proposal": "LCO2026B-001", "title": "deep", "content": nested(10_000, kind).decode()}
    answer = client.send(op, json.dumps(body).encode(), "application/json")
    assert answer.status_code == 400
    assert answer.json() == {"content": [f"Content nests JSON arrays and objects more than {MAX_JSON_DEPTH} "
                                         "levels deep"]}
    assert client.last_entry()["status"] == 400 and client.count(op) == before


@pytest.mark.parametrize("parameter", ["scw_list", "selected_catalog"])
def test_a_deep_json_parameter_of_mmoda_is_400(clients, parameter):
    """The dispatcher parses JSON-valued parameters itself; a form body can carry 10,000 levels."""
    client = clients["mmoda"]
    op = FORM_OPS[3]
    form = client.form(op, instrument="isgri", product_type="isgri_image", query_type="Real",
                       T1="2020-01-01T00:00:00", T2="2020-01-02T00:00:00", RA="1", DEC="1",
                       **{parameter: nested(10_000).decode()})
    answer = client.http.post(op.path, data=form)
    assert_refused(client, op, answer, 400, f"Parameter {parameter}", f"more than {MAX_JSON_DEPTH} levels deep")


# --- bytes that are not UTF-8 ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", JSON_OPS, ids=ids)
def test_a_json_body_that_is_not_utf8_is_400(clients, op):
    client = clients[op.service]
    before = client.count(op)
    answer = client.send(op, b'{"a": "\xff"}', "application/json")
    assert_refused(client, op, answer, 400, "body", "not UTF-8", before=before)


@pytest.mark.parametrize("op", FORM_OPS, ids=ids)
def test_a_form_field_that_is_not_utf8_is_400(clients, op):
    client = clients[op.service]
    fields = {**client.form(op), op.spoil: "%FF"}
    form = "&".join(f"{name}={value}" for name, value in fields.items()).encode()
    answer = client.send(op, form, "application/x-www-form-urlencoded")
    assert_refused(client, op, answer, 400, f"Form field '{op.spoil}'", "not UTF-8", "0xFF")


@pytest.mark.parametrize("op", GET_OPS, ids=ids)
def test_a_query_parameter_that_is_not_utf8_is_400(clients, op):
    client = clients[op.service]
    name = next(iter(op.body))
    answer = client.send(op, query=f"{name}=%C3%28")           # a UTF-8 lead byte without its continuation
    assert_refused(client, op, answer, 400, f"Query parameter '{name}'", "not UTF-8", "0xC3")


@pytest.mark.parametrize("op", GET_OPS, ids=ids)
def test_a_path_that_is_not_utf8_is_400(clients, op):
    client = clients[op.service]
    path = op.path.rstrip("/").rsplit("/", 1)[0] + "/%FF" + ("/" if op.path.endswith("/") else "")
    answer = client.send(op, path=path)
    assert_refused(client, op, answer, 400, "The path is not UTF-8", "0xFF")


# --- over-long targets ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", GET_OPS, ids=ids)
def test_a_huge_query_string_is_414_before_routing(clients, op):
    # 60 KB: httpx, under the test client, refuses URLs of 64 KB or more itself (the live test sends 100 KB)
    client = clients[op.service]
    answer = client.send(op, query="q=" + "a" * 60_000)
    assert_refused(client, op, answer, 414, "URI Too Long", "query string is 60002 bytes", str(MAX_TARGET_BYTES))


@pytest.mark.parametrize("op", GET_OPS, ids=ids)
def test_a_very_long_path_is_414(clients, op):
    client = clients[op.service]
    answer = client.send(op, path=op.path.rstrip("/") + "/" + "a" * MAX_TARGET_BYTES)
    assert_refused(client, op, answer, 414, "URI Too Long", "the path is", str(MAX_TARGET_BYTES))


def test_a_target_of_exactly_the_limit_is_served_and_one_byte_more_is_414(clients):
    client = clients["dsn"]
    op = GET_OPS[4]
    query = "start=0&limit=5&q="
    padding = MAX_TARGET_BYTES - len(op.path) - 1 - len(query)
    assert client.send(op, query=query + "a" * padding).status_code == 200
    answer = client.send(op, query=query + "a" * (padding + 1))
    assert_refused(client, op, answer, 414, "URI Too Long")


@pytest.mark.parametrize("size", [100_000, 1_000_000])
def test_a_huge_query_string_through_uvicorn_is_414_in_the_service_shape(size):
    """uvicorn's httptools parser cannot parse a URL of 64 KB or more and would answer a plain-text 400
    itself; the server hands such a target to the app, which refuses it like any other over its limit."""
    with LiveServer("dsn") as server:
        answer = requests.get(f"{server.url}/satellites?q=" + "a" * size, timeout=30)
        assert answer.status_code == 414
        assert answer.json() == {"error": f"URI Too Long: the query string is {size + 2} bytes; this service "
                                          f"accepts a path and query string of at most {MAX_TARGET_BYTES} bytes "
                                          "together"}
        entries = requests.get(f"{server.root}/__skymock/journal", timeout=5).json()["entries"]
        # the journal keeps the refused query's beginning, not megabytes of it
        assert [(e["path"], e["status"], e["query"]) for e in entries] == [
            ("/orbapi/satellites", 414, ("q=" + "a" * size)[:JOURNAL_QUERY_BYTES])]
        assert requests.get(f"{server.url}/satellites?limit=1", timeout=5).status_code == 200


# --- Content-Types --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("media", ["text/plain", "application/xml"])
@pytest.mark.parametrize("op", JSON_OPS, ids=ids)
def test_a_json_operation_refuses_other_media_types_with_415(clients, op, media):
    client = clients[op.service]
    before = client.count(op)
    answer = client.send(op, json.dumps(op.body).encode(), media)
    assert_refused(client, op, answer, 415, f'Unsupported media type "{media}"', "Content-Type", before=before)


@pytest.mark.parametrize("op", FORM_ONLY_OPS, ids=ids)
def test_a_form_operation_refuses_json_with_415(clients, op):
    client = clients[op.service]
    answer = client.send(op, json.dumps(client.form(op)).encode(), "application/json")
    assert_refused(client, op, answer, 415, 'Unsupported media type "application/json"', "Content-Type")


@pytest.mark.parametrize("media, named", [("application/json; charset=bogus", 'charset "bogus"'),
                                          ("application/json;charset=base64", 'charset "base64"'),
                                          ("garbage", '"garbage"'), ("application/", '"application/"')])
@pytest.mark.parametrize("op", BODY_OPS, ids=ids)
def test_a_malformed_content_type_is_415(clients, op, media, named):
    client = clients[op.service]
    before = client.count(op)
    answer = client.send(op, json.dumps(client.form(op)).encode(), media)
    assert_refused(client, op, answer, 415, "Content-Type", named, before=before)
