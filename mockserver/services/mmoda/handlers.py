"""HTTP side of the MMODA dispatcher: read the request's values, call the model, shape the answer.

oda_api sends every value as a query parameter (or, for long requests, the same
as a form), the token among them.
"""
from __future__ import annotations

from typing import Any

from ...core.web import Response, redirect, request

from ...core.service import as_json, sandbox


def _model():
    return sandbox().model


def _values() -> dict[str, list[str]]:
    """Query and form values together, as the dispatcher reads ``request.values``."""
    return request.values.to_dict(flat=False)


def _text(token: str) -> Response:
    return Response(token, status=200, content_type="text/html; charset=utf-8")


def run_analysis(**_: Any) -> tuple[dict[str, Any], int]:
    base = request.host_url.rstrip("/") + sandbox().service.base_path
    return _model().run_analysis(_values(), base)


def run_analysis_form(**_: Any) -> tuple[dict[str, Any], int]:
    return run_analysis()


def parameter_names(**_: Any) -> list[str]:
    return _model().parameter_names(request.args.get("instrument"), request.args.get("product_type"))


def instrument_list(**_: Any) -> tuple[list[str], int, dict[str, str]]:
    return as_json(_model().instrument_list(request.args.get("token")))


def instrument_list_redirect(**_: Any) -> Response:
    query = request.query_string.decode()
    target = sandbox().service.base_path + "/instr-list" + (f"?{query}" if query else "")
    return redirect(target, code=302)


def meta_data(**_: Any) -> list[Any]:
    args = request.args
    return _model().meta_data(args.get("instrument"), args.get("product_type"), args.get("token"))


def refresh_token(**_: Any) -> Response:
    return _text(_model().refresh_token(request.args.get("token"), request.args.get("refresh_interval")))


def update_token_email_options(**_: Any) -> Response:
    return _text(_model().update_email_options(request.args.to_dict()))


def inspect_state(**_: Any) -> tuple[dict[str, Any], int, dict[str, str]]:
    return as_json(_model().inspect_state(request.args.get("token"), request.args.get("job_id")))
