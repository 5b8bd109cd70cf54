"""Every request recorded from the real observing portal, replayed against the mock: same status, same shape,
same messages. Ids, times and computed numbers may differ; conditions the recording forced on its database
(an allocation spent, a request completed) are set up the same way here."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

import pytest
from lcodata import NOW
from sandbox import Mock

from mockserver.core.clock import parse_instant
from mockserver.core.service import Settings

RECORDED = Path(__file__).resolve().parent.parent / "data" / "lco_recorded"
#: the recorded submissions, in the order that gave their ids (1 to 5); the rest read the state they left
SUBMISSIONS = ("submit_ok", "submit_non_sidereal_ok", "submit_many_ok", "submit_floyds_ok", "submit_rapid_response")
ANONYMOUS = ("api_root", "auth_anonymous_get_proposals", "auth_anonymous_post_userrequest",
             "userrequests_anonymous_list")
#: a proposal the recorded user did not belong to; the sandbox's equivalent is carol's
NOT_MINE = {"LCO2026B-999": "LCO2026A-004"}
#: where the mock answers otherwise on purpose, and why
DIFFERENT = {"cancel_via_put": "the document says cancel is a PUT, so the mock takes PUT as well as the POST "
                                "the portal of the time took (it answered 405)"}


#: objects whose keys are data (users, sites, filters), not fields
DATA_KEYED = ("users", "airmass_data", "filters")
DATA_KEY = r"[a-z]{3}(\.[a-z0-9]+)*|\d{4}[AB]+|\d?[a-z0-9]{3}|[0-9A-Z]+(-[0-9A-Z]+)+"


def pairs() -> list[str]:
    names = sorted(p.stem for p in RECORDED.glob("*.json"))
    return [*SUBMISSIONS, *(n for n in names if n not in SUBMISSIONS)]


def normal(value: Any) -> Any:
    """Messages with their numbers (and the order of listed filters) set aside: computed values may differ."""
    if isinstance(value, str):
        text = re.sub(r"\d+(\.\d+)?", "#", value)
        if "Valid filters are:" in text:
            head, listed = text.split("Valid filters are: ")
            text = head + "Valid filters are: " + ", ".join(sorted(listed.split(", ")))
        return text
    if isinstance(value, list):
        return [normal(v) for v in value]
    if isinstance(value, dict):
        return {k: normal(v) for k, v in value.items()}
    return value


def shape(value: Any) -> Any:
    """The keys of objects (and of the first item of lists), all the way down."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__ if value is not None else None


def same_shape(real: Any, mock: Any, where: str = "") -> list[str]:
    """Where the mock's answer lacks or adds keys the real one has (types of leaves are not compared: the real
    portal's nulls and numbers vary with data)."""
    problems: list[str] = []
    if isinstance(real, dict) and isinstance(mock, dict):
        data_keyed = bool(real) and (where.rsplit(".", 1)[-1] in DATA_KEYED or all(re.fullmatch(DATA_KEY, k) for k in real))
        if not data_keyed:                  # objects keyed by sites, semesters, users... hold data, not fields
            problems += [f"{where}.{k} missing" for k in real if k not in mock]
            problems += [f"{where}.{k} extra" for k in mock if k not in real]
        for key in real:
            if key in mock:
                problems += same_shape(real[key], mock[key], f"{where}.{key}")
        if data_keyed and mock:
            problems += same_shape(next(iter(real.values())), next(iter(mock.values())), f"{where}.*")
    elif isinstance(real, list) and isinstance(mock, list) and real:
        problems += same_shape(real[0], mock[0], f"{where}[0]") if mock else [f"{where}: empty, the real one was not"]
    elif isinstance(real, (dict, list)) != isinstance(mock, (dict, list)) and real is not None and mock is not None:
        problems.append(f"{where}: {type(real).__name__} against {type(mock).__name__}")
    return problems


@pytest.fixture(scope="module")
def replay() -> Iterator[dict[str, tuple[int, Any]]]:
    """Replay every pair once, in order, against one sandbox at the recording's instant."""
    mock = Mock("lco-observe", Settings(clock_start=parse_instant(NOW), frozen=True, completion_fraction=1.0))
    mock.fresh(NOW)
    users = {c["username"]: c for c in mock.credentials()}
    world = mock.app.sandbox.model.world
    answers: dict[str, tuple[int, Any]] = {}
    for name in pairs():
        pair = json.loads((RECORDED / f"{name}.json").read_text())
        request = pair["request"]
        body = request.get("body")
        with_setup = _setup(name, world)
        if isinstance(body, dict) and body.get("proposal") in NOT_MINE:
            body = {**body, "proposal": NOT_MINE[body["proposal"]]}
        headers = {}
        if name.startswith("auth_invalid_token"):
            headers["Authorization"] = "Token 0000000000000000000000000000000000000000"
        elif name not in ANONYMOUS:
            headers["Authorization"] = f"Token {users['astro']['token']}"
        if name == "auth_token_ok":
            body = {"username": "astro", "password": users["astro"]["password"]}
        form = request["path"].endswith("api-token-auth/")
        answer = mock.http.request(request["method"], request["path"], headers=headers, follow_redirects=False,
                                   **({"data": body} if form else {"json": body} if body is not None else {}))
        with_setup()
        try:
            content: Any = answer.json()
        except ValueError:
            content = answer.text
        answers[name] = (answer.status_code, content)
    yield answers


def _setup(name: str, world: Any):
    """Set up what the recording forced on its database; return how to undo it."""
    original = world.proposals["LCO2026B-001"]
    proposal = world.proposals["LCO2026B-001"]
    allocation = proposal.allocation("2026B", "1m0", "1M0-SCICAM-SINISTRO")
    if name in ("validate_ipp_exceeds_available", "max_allowable_ipp_low"):
        allocation.ipp_time_available = 0.01
    if name == "validate_no_time_left":
        allocation.std_time_used = allocation.std_allocation
    if name == "validate_no_time_allocation":
        proposal.allocations = [a for a in proposal.allocations if a.instrument_name != "0M4-SCICAM-SBIG"]
    world.save_proposal(proposal)
    if name == "cancel_completed":
        made = next(u for u in world.book.all() if u.id == 5)
        made.state = made.requests[0].state = "COMPLETED"
        world.book.save(made)

    def undo() -> None:
        world.save_proposal(original)
    return undo


@pytest.mark.parametrize("name", pairs())
def test_the_recorded_pair_is_answered_alike(replay, name):
    pair = json.loads((RECORDED / f"{name}.json").read_text())
    status, body = replay[name]
    if name in DIFFERENT:
        assert status != pair["status"], DIFFERENT[name]
        return
    assert status == pair["status"], body
    real = pair["response"]
    if status >= 400 or (isinstance(real, dict) and real.get("errors")):
        # refusals and errors: the same messages in the same places
        assert normal(body) == normal(real)
    else:
        assert same_shape(real, body) == [], body
