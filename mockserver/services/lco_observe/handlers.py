"""HTTP side of the LCO observing portal: read the request, call the model, shape the answer."""
from __future__ import annotations

from typing import Any

from flask import request

from ...core.service import sandbox
from ..lco import auth
from ..lco.drf import page, query
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
