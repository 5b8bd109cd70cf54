"""HTTP side of the LCO observing portal: read the request, call the model, shape the answer."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from connexion import NoContent

from ...core.web import Response, request

from ...core.service import as_json, sandbox
from ..lco import auth
from ..lco.drf import any_date, page, query
from .model import ObservePortal

#: what the API root lists (the browsable root of Django REST framework's router)
ROOT = ("userrequests", "requests", "drafts", "proposals", "semesters")


def _model() -> ObservePortal:
    return sandbox().model


def api_root() -> dict[str, str]:
    auth.user()
    return {name: f"{request.host_url}api/{name}/" for name in ROOT}


def obtain_token(body: Any = None) -> dict[str, str]:
    given = request.form if request.form else (body if isinstance(body, dict) else {})
    return _model().login(given.get("username"), given.get("password"))


def get_profile() -> dict[str, Any]:
    return _model().profile(auth.user())


def list_instruments() -> dict[str, Any]:
    auth.user(required=False)
    return _model().instruments()


def list_proposals(**_: Any) -> dict[str, Any]:
    return page(_model().list_proposals(auth.user(), query()))


def get_proposal(id: str) -> dict[str, Any]:  # noqa: A002 - the spec's parameter name
    return _model().proposal(auth.user(), id)


def list_semesters(**_: Any) -> dict[str, Any]:
    auth.user(required=False)
    return page(_model().list_semesters(query()))


def get_semester(id: str) -> dict[str, Any]:  # noqa: A002
    auth.user(required=False)
    return _model().semester(id)


# --- userrequests and requests ------------------------------------------------------------------------
def list_userrequests(**_: Any) -> dict[str, Any]:
    return page(_model().list_userrequests(auth.user(required=False), query()))


def _payload(body: Any) -> Any:
    """No body reads as an empty form, as Django REST framework reads it: every required field is missing."""
    return {} if body is None else body


def create_userrequest(body: Any = None) -> tuple[dict[str, Any], int]:
    return _model().submit(auth.user(), _payload(body)), 201


def get_userrequest(id: int) -> dict[str, Any]:  # noqa: A002
    return _model().userrequest(auth.user(required=False), id)


def validate_userrequest(body: Any = None) -> dict[str, Any]:
    return _model().validate(auth.user(), _payload(body))


def cancel_userrequest(id: int) -> dict[str, Any]:  # noqa: A002
    return _model().cancel(auth.user(), id)


def max_allowable_ipp(body: Any = None) -> dict[str, Any]:
    return _model().max_allowable_ipp(auth.user(), _payload(body))


def list_requests(**_: Any) -> dict[str, Any]:
    return page(_model().list_requests(auth.user(required=False), query()))


def get_request(id: int) -> dict[str, Any]:  # noqa: A002
    return _model().request(auth.user(required=False), id).as_json()


def request_airmass(id: int) -> dict[str, Any]:  # noqa: A002
    return _model().request_airmass(auth.user(required=False), id)


def airmass(body: Any = None) -> dict[str, Any]:
    auth.user(required=False)
    return _model().airmass_of(_payload(body))


def cancel_userrequest_put(id: int) -> dict[str, Any]:  # noqa: A002 - the document's method for cancel
    return cancel_userrequest(id)


def expand_cadence(body: Any = None) -> dict[str, Any]:
    return _model().cadence(auth.user(), _payload(body))


# --- the network -----------------------------------------------------------------------------------
def _over_span(answer: Callable[[datetime | None, datetime | None], Any]) -> Any:
    """The answer for the start and end dates asked for (dateutil reads them), or the portal's plain-text
    400 for a date it cannot read."""
    auth.user(required=False)
    span = []
    for name in ("start", "end"):
        text = request.args.get(name)
        moment = any_date(text) if text else None
        if text and moment is None:
            return Response(f"Could not parse {name}: {text!r} is not a date", status=400, mimetype="text/plain")
        span.append(moment)
    return as_json(answer(*span))


def telescope_states(**_: Any) -> Any:
    return _over_span(lambda start, end: _model().telescope_states(
        start, end, request.args.getlist("site"), request.args.getlist("telescope")))


def telescope_availability(**_: Any) -> Any:
    combine = (request.args.get("combine") or "").lower() == "true"
    return _over_span(lambda start, end: _model().telescope_availability(start, end, combine))


def request_telescope_states(id: int) -> dict[str, Any]:  # noqa: A002
    return _model().request_telescope_states(auth.user(required=False), id)


def request_blocks(id: int, **_: Any) -> list[dict[str, Any]]:  # noqa: A002
    # any non-empty value drops cancelled blocks, "false" included, as the portal did
    return _model().blocks(auth.user(required=False), id, bool(request.args.get("canceled")))


def contention(instrument_name: str) -> dict[str, Any]:
    auth.user(required=False)
    return _model().contention(instrument_name)


def pressure(**_: Any) -> dict[str, Any]:
    auth.user(required=False)
    return _model().pressure(request.args.get("instrument") or None, request.args.get("site") or None)


# --- drafts ------------------------------------------------------------------------------------------
def list_drafts(**_: Any) -> dict[str, Any]:
    return page(_model().list_drafts(auth.user()))


def create_draft(body: Any = None) -> tuple[dict[str, Any], int]:
    return _model().create_draft(auth.user(), _payload(body)), 201


def get_draft(id: int) -> dict[str, Any]:  # noqa: A002
    return _model().draft(auth.user(), id)


def replace_draft(id: int, body: Any = None) -> dict[str, Any]:  # noqa: A002
    return _model().update_draft(auth.user(), id, _payload(body), partial=False)


def update_draft(id: int, body: Any = None) -> dict[str, Any]:  # noqa: A002
    return _model().update_draft(auth.user(), id, _payload(body), partial=True)


def delete_draft(id: int) -> tuple[str, int]:  # noqa: A002
    _model().delete_draft(auth.user(), id)
    return NoContent, 204
