"""HTTP side of OKAPI: read the request, call the model, shape the answer."""
from __future__ import annotations

from typing import Any

from ...core.web import request

from ...core.errors import invalid
from ...core.service import caller, sandbox


def _model():
    return sandbox().model


def _json_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise invalid("body", "must be a JSON object", body)
    return body


def get_token(**_: Any) -> dict[str, Any]:
    # The Python connector posts a form; the other OKAPI connectors post JSON.
    fields = request.get_json(silent=True) if request.is_json else request.form.to_dict()
    return _model().login(fields if isinstance(fields, dict) else {})


def request_pass_prediction(engine: str, body: Any) -> tuple[dict[str, Any], int]:
    return _model().request_passes(caller(), engine, _json_object(body)), 202


def get_pass_prediction_result(engine: str, request_id: str, format: str) -> tuple[dict[str, Any], int, dict]:  # noqa: A002
    return _model().result(caller(), "predict-passes", engine, request_id, format)


def request_propagation(engine: str, body: Any) -> tuple[dict[str, Any], int]:
    return _model().request_propagation(caller(), engine, _json_object(body)), 202


def get_propagation_result(engine: str, request_id: str, format: str) -> tuple[dict[str, Any], int, dict]:  # noqa: A002
    return _model().result(caller(), "propagate-orbit", engine, request_id, format)
