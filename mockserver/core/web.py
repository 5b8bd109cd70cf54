"""The request a handler reads, and the few non-JSON answers handlers give.

Handlers run on the event loop, called by Connexion's AsyncApp; they stay plain
synchronous functions. The middleware has already read the body (it enforces the
service's size cap while reading), so the request is built from it on first use:
a Werkzeug request, with the same ``args``, ``form``, ``files``, ``values``,
``host_url`` and ``get_json`` a Flask view would see.
"""
from __future__ import annotations

import io
from typing import Any

from starlette.responses import RedirectResponse
from starlette.responses import Response as _StarletteResponse
from werkzeug.local import LocalProxy
from werkzeug.wrappers import Request

from .service import current


def wsgi_environ(scope: dict[str, Any], body: bytes) -> dict[str, Any]:
    """The WSGI environment of an ASGI request whose body has been read."""
    server = scope.get("server") or ("localhost", 80)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": "",
        # WSGI carries the path as latin-1 text of its UTF-8 bytes
        "PATH_INFO": scope["path"].encode("utf-8", "surrogateescape").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1] or 80),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if name == "CONTENT_TYPE":
                environ[name] = value
            continue
        key = f"HTTP_{name}"
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def _request() -> Request:
    context = current()
    if context.http_request is None:
        context.http_request = Request(wsgi_environ(context.scope, context.body))
    return context.http_request


#: the request being answered, for handlers (``request.args``, ``request.form``, ``request.files`` ...)
request: Request = LocalProxy(_request)  # type: ignore[assignment]


def Response(body: str | bytes, status: int = 200, mimetype: str | None = None,  # noqa: N802 - reads like a class
             content_type: str | None = None, headers: dict[str, str] | None = None) -> _StarletteResponse:
    """A body that is not JSON (text, an image...), with its media type."""
    media = content_type or mimetype
    if media and media.startswith("text/") and "charset" not in media:
        media += "; charset=utf-8"
    response = _StarletteResponse(body, status_code=status, headers=headers)
    if media:
        response.headers["content-type"] = media
    return response


def redirect(location: str, code: int = 302) -> _StarletteResponse:
    return RedirectResponse(location, status_code=code)
