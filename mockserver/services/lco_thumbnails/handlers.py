"""HTTP side of the LCO thumbnail service: read the request, call the model, shape the answer."""
from __future__ import annotations

import hashlib
import hmac
from typing import Any

from ...core.web import Response, redirect, request

from ...core.errors import ApiError
from ...core.service import sandbox
from .model import Thumbnails, option_errors, truthy, whole


def _model() -> Thumbnails:
    return sandbox().model


def _signature(name: str) -> str:
    secret = f"skymock:{sandbox().settings.seed}:lco-thumbnails:images".encode()
    return hmac.new(secret, name.encode(), hashlib.sha256).hexdigest()[:24]


def _options() -> dict[str, Any]:
    args = request.args
    try:
        percentile = float(args.get("percentile", "99.5"))
    except ValueError:
        raise ApiError(400, "percentile must be a number above 0 and at most 100") from None
    values = {"width": whole(args.get("width"), 200), "height": whole(args.get("height"), 200),
              "label": args.get("label") or None, "color": truthy(args.get("color")),
              "median": truthy(args.get("median")), "percentile": percentile,
              "quality": whole(args.get("quality"), 80)}
    option_errors(values)
    return values


def thumbnail(frame: str, **_: Any) -> Any:
    model = _model()
    user = model.caller(request.headers.get("Authorization"))
    name, propid = model.thumbnail(user, frame, _options())
    url = f"{request.host_url}images/{name}.jpg?signature={_signature(name)}"
    if "image" in request.args:
        return redirect(url, code=302)
    return {"url": url, "propid": propid}


def image(name: str, signature: str | None = None) -> Response:
    stored = _model().image(name.removesuffix(".jpg"))
    if stored is None or not hmac.compare_digest(signature or "", _signature(name.removesuffix(".jpg"))):
        raise ApiError(404, "Not found")
    return Response(stored, mimetype="image/jpeg")
