"""HTTP side of NRAO ODS: read the request, call the model, shape the answer."""
from __future__ import annotations

from typing import Any

from ...core.web import request

from ...core.errors import missing
from ...core.service import caller, sandbox
from .model import SCOPE_ODS, SCOPE_TBA, SCOPE_TLE


def _model():
    return sandbox().model


def _upload(field: str) -> tuple[str | None, bytes]:
    upload = request.files.get(field)
    if upload is None:
        raise missing(field)
    return upload.filename, upload.read()


def create_token(**_: Any) -> dict[str, str]:
    form = request.form
    token = _model().issue_token(form.get("grant_type"), form.get("client_id"), form.get("client_secret"))
    return {"token": token}


def get_ods_data() -> dict[str, Any]:
    caller(SCOPE_ODS)
    return {"ods_data": _model().ods_data()}


def upload_sat_avoidance_logs(**_: Any) -> dict[str, int]:
    who = caller(SCOPE_TBA)
    filename, data = _upload("file")
    return {"ingested_records": _model().ingest_avoidance_log(who.name, who.owner, filename, data)}


def upload_tle_data(**_: Any) -> tuple[dict[str, int], int]:
    who = caller(SCOPE_TLE)
    filename, data = _upload("tle_file")
    return {"ingested_records": _model().ingest_tle(who.name, who.owner, filename, data)}, 201
