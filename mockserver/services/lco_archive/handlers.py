"""HTTP side of the LCO science archive: read the request, call the model, shape the answer."""
from __future__ import annotations

import hashlib
import hmac
from typing import Any

from ...core.web import Response, request

from ...core.auth import Credential
from ...core.errors import ApiError
from ...core.service import as_json, sandbox
from ..lco import auth
from ..lco.drf import page, query
from .fitsfiles import fits_bytes
from .model import Archive, frame_json

MEDIA = {".fits.fz": "application/fits", ".fits": "application/fits", ".tar.gz": "application/gzip"}


def _model() -> Archive:
    return sandbox().model


def _caller() -> Credential | None:
    """Anyone may read the archive; a Token or (the portal's) Bearer token shows the user's own frames too."""
    return auth.user(required=False, bearer=_model().bearer_user)


def _signature(frame_id: int) -> str:
    """Files are reached through signed links, as the archive's presigned storage links are."""
    secret = f"skymock:{sandbox().settings.seed}:lco-archive:files".encode()
    return hmac.new(secret, str(frame_id).encode(), hashlib.sha256).hexdigest()[:24]


def _file_url(frame: Any) -> str:
    return f"{request.host_url}files/{frame.id}/{frame.filename}?signature={_signature(frame.id)}"


def _frame(frame: Any) -> dict[str, Any]:
    return frame_json(frame, _file_url(frame))


def api_root() -> dict[str, str]:
    _caller()
    return {name: f"{request.host_url}{name}/" for name in ("frames", "profile")}


def health() -> Any:
    return as_json("ok")


def obtain_token(body: Any = None) -> dict[str, str]:
    given = request.form if request.form else (body if isinstance(body, dict) else {})
    return _model().login(given.get("username"), given.get("password"))


def get_profile() -> dict[str, Any]:
    return _model().profile(_caller())


def list_frames(**_: Any) -> dict[str, Any]:
    return page([_frame(f) for f in _model().search(_caller(), query())], default_limit=100, max_limit=1000)


def get_frame(id: int) -> dict[str, Any]:  # noqa: A002 - the spec's parameter name
    return _frame(_model().frame(_caller(), id))


def related_frames(id: int) -> list[dict[str, Any]]:  # noqa: A002
    return [_frame(f) for f in _model().related(_caller(), id)]


def frame_headers(id: int) -> dict[str, Any]:  # noqa: A002
    return {"data": _model().frame(_caller(), id).header()}


def aggregate(**_: Any) -> dict[str, list[str]]:
    _caller()
    return _model().aggregate(query())


def download(id: int, filename: str, signature: str | None = None) -> Response:  # noqa: A002
    frame = _model().any_frame(id)
    if frame is None or frame.filename != filename or not hmac.compare_digest(signature or "", _signature(id)):
        raise ApiError(404, "Not found.")
    return Response(fits_bytes(frame), mimetype=MEDIA[frame.extension],
                    headers={"Content-Disposition": f'attachment; filename="{frame.filename}"'})


def aggregate_root(**_: Any) -> dict[str, list[str]]:
    return aggregate()
