"""Build one ASGI app per service: its spec on Connexion, the control API, and
the middleware every service shares (journal, faults, body caps, slash redirects)."""
from __future__ import annotations

import asyncio
import copy
import functools
import logging
import re
import time
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import json


from connexion.jsonifier import Jsonifier
import yaml
from connexion.exceptions import (BadRequestProblem, Forbidden, OAuthProblem, ProblemException,
                                  Unauthorized, UnsupportedMediaTypeProblem)
from connexion.datastructures import MediaTypeDict
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.options import SwaggerUIOptions
from connexion.resolver import RelativeResolver, Resolution
from connexion.validators import VALIDATOR_MAP, JSONRequestBodyValidator, ParameterValidator
from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from .core import asgi, inputs
from .core.asgi import parameter_error
from .core.clock import iso_ms
from .core.errors import ApiError, ErrorStyle, from_validation_message
from .core.service import RequestContext, Sandbox, Service, Settings, _current, refusal_for_header
from .services import get_service

def _specs_dir() -> Path:
    """specs/ sits at the top of a checkout and inside the package once installed."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "specs", here.parent / "specs"):
        if (candidate / "skymock-admin.yaml").is_file():
            return candidate
    raise FileNotFoundError("the OpenAPI specs were not found next to the mockserver package")


SPECS = _specs_dir()
log = logging.getLogger("skymock")
# Connexion warns on every request to an operation that documents several body encodings
# (OKAPI's login takes a form or JSON, as the real one does); the choice is deliberate.
logging.getLogger("connexion.operations.openapi3").addFilter(
    lambda record: "multiple content types" not in record.getMessage())
# Services that take arguments the spec does not name (MMODA reports them back as unused) would
# otherwise log a warning for each one on every request.
logging.getLogger("connexion.decorators.parameter").addFilter(
    lambda record: "not defined in specification" not in record.getMessage())
ADMIN_PREFIX = "/__skymock"
ADMIN_SPEC = "skymock-admin.yaml"


class AdminStyle(ErrorStyle):
    """The control API's own error shape: the message and the field it concerns."""

    def body(self, error: ApiError) -> Any:
        return {"error": error.message, "field": error.field}


ADMIN_STYLE = AdminStyle()


PATH_SAFE = "/:@!$&'()*+,;=-._~"
JOURNAL_QUERY_BYTES = inputs.MAX_TARGET_BYTES     # a journal entry keeps of a query what a service accepts
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@lru_cache(maxsize=None)
def _spec(spec_file: str) -> dict[str, Any]:
    """A spec, parsed once per process with libyaml where PyYAML has it (ten times faster than
    PyYAML's own parser, which was most of a service's start-up)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load((SPECS / spec_file).read_text(), Loader=loader)  # noqa: S506 - a safe loader


def spec(spec_file: str) -> dict[str, Any]:
    """A copy of a parsed spec, for Connexion to resolve and keep."""
    return copy.deepcopy(_spec(spec_file))


@lru_cache(maxsize=None)
def _route_methods(spec_file: str, base: str) -> tuple[tuple[re.Pattern[str], list[str]], ...]:
    """Each path of a spec as a regex, with the methods it documents (for routing and Allow)."""
    spec = _spec(spec_file)
    routes = []
    # literal paths before templated ones: /userrequests/validate/ is not /userrequests/{id}/
    for template, item in sorted(spec.get("paths", {}).items(), key=lambda entry: entry[0].count("{")):
        regex = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(base + template))
        methods = [m.upper() for m in HTTP_METHODS if m in item]
        if "GET" in methods and "HEAD" not in methods:
            methods.append("HEAD")
        routes.append((re.compile(f"^{regex}$"), methods))
    return tuple(routes)


class NamingParameterValidator(ParameterValidator):
    """Connexion's parameter validator, with the parameter's name in its message.

    Its own says "101 is greater than the maximum of 100" and leaves the user
    guessing which parameter; the error styles need the name to report it.
    """

    @staticmethod
    def validate_parameter(parameter_type, value, param, param_name=None):
        if value is None:
            return ParameterValidator.validate_parameter(parameter_type, value, param, param_name)
        error = parameter_error(value, param)
        if error:
            return f"{error.split(chr(10), 1)[0]} for {parameter_type} parameter '{param['name']}'"
        return None


def closest_alternative(error: ValidationError) -> ValidationError:
    """For a body that fits none of a schema's alternatives (anyOf/oneOf), the error of the one it came closest to.

    jsonschema reports "... is not valid under any of the given schemas", which
    names neither the field nor the problem. The closest alternative is one whose
    type the value has, with the fewest errors; its deepest error is reported.
    """
    while error.context:
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        fitting = [errs for errs in branches.values()
                   if not any(e.validator == "type" and not e.relative_path for e in errs)] or list(branches.values())
        closest = min(fitting, key=len)
        error = max(closest, key=lambda e: len(e.absolute_path))
    return error


#: a schema marked so is checked by the service's model (Django REST framework serializers nest their errors
#: like the payload; a contract validator would answer in other words): the contract only documents it
MODEL_VALIDATES = "x-skymock-model-validates"


#: what a body that is the JSON literal null parses to, where the model validates (Connexion reads it as no body)
JSON_NULL = object()


class ExplainingJSONBodyValidator(JSONRequestBodyValidator):
    """Connexion's JSON body validator, naming the field and problem when no alternative of a schema fits."""

    async def _parse(self, stream: Any, scope: Any) -> Any:
        raw = b"".join([message async for message in stream])
        text = raw.decode(self._encoding)
        if self._schema.get(MODEL_VALIDATES) and text.strip() == "null":
            return JSON_NULL
        if not text:
            return None
        try:
            # refuses JSON nested too deep with a 400 before json.loads would raise RecursionError (a 500)
            return inputs.loads(text)
        except json.decoder.JSONDecodeError as error:
            raise BadRequestProblem(detail=str(error)) from None

    def _validate(self, body: Any) -> dict | None:
        if self._schema.get(MODEL_VALIDATES):
            if body is JSON_NULL:     # not the object the model reads (an absent body reads as an empty one)
                raise ApiError(0, "Invalid data. Expected a dictionary, but got NoneType.")
            return None               # the service checks this body itself and answers in its own words
        try:
            return super()._validate(body)
        except BadRequestProblem:
            errors = list(self._validator.iter_errors(body)) if body is not None else []
            if not errors:
                raise
            error = closest_alternative(best_match(errors))
            where = ".".join(str(part) for part in error.absolute_path)
            raise BadRequestProblem(detail=f"{error.message} - '{where}'" if where else error.message) from None


class InlineResolver(RelativeResolver):
    """Resolve operationIds to the handlers, run on the event loop rather than in a thread pool.

    Handlers are short, CPU-bound functions: handing each to a thread costs more than it
    does, and every request of a sandbox shares one state anyway. Long computations (a
    pass search, a mosaic) hold the loop for their duration, as they would hold the GIL.
    """

    def resolve(self, operation):
        resolution = super().resolve(operation)
        handler = resolution.function
        if asyncio.iscoroutinefunction(handler):
            return resolution

        @functools.wraps(handler)     # Connexion reads the handler's signature through __wrapped__
        async def run(*args, **kwargs):
            return handler(*args, **kwargs)

        return Resolution(run, resolution.operation_id)


VALIDATORS = {**VALIDATOR_MAP, "parameter": NamingParameterValidator,
              "body": MediaTypeDict({**VALIDATOR_MAP["body"], "*/*json": ExplainingJSONBodyValidator})}


class SkymockApp:
    """The ASGI app of one service: shared middleware around the Connexion app."""

    def __init__(self, service: Service, settings: Settings) -> None:
        self.service = service
        self.sandbox = Sandbox(service, settings)
        self._base = service.base_path.rstrip("/")
        self._routes = _route_methods(service.spec, self._base)
        self._all_routes = self._routes + _route_methods(ADMIN_SPEC, ADMIN_PREFIX)
        self.connexion = self._build(settings)

    # --- construction -------------------------------------------------------------------
    def _build(self, settings: Settings) -> asgi.App:
        # Connexion's AsyncApp (decorated once, core/asgi.py): its FlaskApp passes every request through
        # a WSGI bridge and a thread, which cost more than half the throughput (bench/serving.py measures it).
        # Compact JSON: products can be megabytes.
        app = asgi.App(__name__, specification_dir=str(SPECS),
                                 jsonifier=Jsonifier(json, separators=(",", ":")))
        ui = SwaggerUIOptions(swagger_ui=True, swagger_ui_path="/ui")
        app.add_api(spec(ADMIN_SPEC), base_path=ADMIN_PREFIX, swagger_ui_options=ui, validator_map=VALIDATORS,
                    resolver=InlineResolver("mockserver.core.admin"), strict_validation=True)
        app.add_api(spec(self.service.spec), base_path=self._base or None, swagger_ui_options=ui, validator_map=VALIDATORS,
                    # Real services ignore fields they do not know (FastAPI, Django REST framework do)
                    resolver=InlineResolver(self.service.handlers), strict_validation=False,
                    validate_responses=settings.validate_responses)
        for kind in (ApiError, ProblemException, Unauthorized, OAuthProblem, Forbidden,
                     HTTPException, MultiPartException, Exception):
            app.add_error_handler(kind, self._render_error)
        return app

    # --- errors -----------------------------------------------------------------------------
    def _style_for(self, path: str) -> ErrorStyle:
        return ADMIN_STYLE if path.startswith(ADMIN_PREFIX) else self.service.error_style_for(path)

    def _as_api_error(self, exc: Exception, header_sent: bool = False) -> ApiError:
        if isinstance(exc, ApiError):
            return exc
        if isinstance(exc, (OAuthProblem, Unauthorized)):
            return refusal_for_header(getattr(exc, "detail", None), header_sent)
        if isinstance(exc, UnicodeDecodeError):
            return ApiError(0, f"The body is not UTF-8 text (byte {exc.start} cannot be decoded)",
                            field="body", code="json_invalid")
        if isinstance(exc, MultiPartException):
            return ApiError(400, f"There was an error parsing the body: {exc.message}", field="body")
        if isinstance(exc, UnsupportedMediaTypeProblem):
            return inputs.unsupported_media_type(exc.detail)     # Connexion's words, reworded to name the header
        if isinstance(exc, BadRequestProblem):
            return from_validation_message(exc.detail or "")
        if isinstance(exc, ProblemException):
            return ApiError(exc.status or 400, exc.detail or exc.title or "Bad request")
        if isinstance(exc, Forbidden):
            return ApiError(403, exc.detail or "Forbidden")
        if isinstance(exc, HTTPException):
            messages = {404: "Not Found", 405: "Method Not Allowed"}
            return ApiError(exc.status_code, messages.get(exc.status_code, str(exc.detail)),
                            headers=dict(exc.headers or {}))
        log.error("%s: unexpected error in the mock", self.service.id, exc_info=exc)
        return ApiError(500, "Internal Server Error")

    def _render_error(self, request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        error = self._as_api_error(exc, header_sent=bool(request.headers.get("authorization")))
        if error.status == 405:  # the framework lists only part of a path's methods; the spec has them all
            error.headers["Allow"] = self._allowed(request.url.path) or error.headers.get("Allow", "")
            error.details.setdefault("method", request.method)      # some services name it in the message
        status, body, headers = self._style_for(request.url.path).render(error)
        media = headers.pop("content-type")
        return ConnexionResponse(status_code=status, body=body, mimetype=media, headers=headers)

    async def _send_error(self, send, path: str, error: ApiError) -> None:
        status, body, headers = self._style_for(path).render(error)
        raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        raw.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})

    # --- the shared middleware ------------------------------------------------------------------
    def _is_service_route(self, path: str) -> bool:
        return any(pattern.match(path) for pattern, _ in self._routes)

    def _allowed(self, path: str) -> str | None:
        for pattern, methods in self._all_routes:
            if pattern.match(path):
                return ", ".join(methods)
        return None

    def _is_quiet(self, path: str) -> bool:
        """Control API and documentation requests are not the client's traffic."""
        return path.startswith(ADMIN_PREFIX) or path.startswith(self._base + "/ui") or path.endswith("/openapi.json")

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.connexion(scope, receive, send)
            return
        # Checked on the raw target, before the merge below rewrites it and before any routing: a front
        # end refuses an over-long target (414), and bytes that are not UTF-8 would reach the handlers
        # replaced by U+FFFD or still escaped.
        refusal = inputs.target_refusal(scope)
        if "//" in scope["path"] or "\n" in scope["path"]:
            # Front ends such as nginx merge repeated slashes before routing; clients that join a base
            # URL and a path with a slash of their own (OKAPI's connector) rely on it. A decoded newline
            # (%0A) is kept escaped: Connexion's router and Flask's disagree on whether a path parameter
            # may hold one, which would end in a 500; escaped, it is an ordinary unknown value.
            path = re.sub(r"/{2,}", "/", scope["path"]).replace("\n", "%0A")
            scope = {**scope, "path": path, "raw_path": path.encode()}
        context = RequestContext(self.sandbox, scope=scope)
        token = _current.set(context)
        self.sandbox.store.refresh()       # read what every worker had committed when the request arrived
        started = time.perf_counter()
        arrived = self.sandbox.journal.elapsed()
        path = scope["path"]
        journaled = self._is_quiet(path)
        swallowing = False   # a fault after processing: the service's own answer is dropped

        async def answer(message):
            nonlocal journaled
            # Journal before the client can see the answer, so a test that reads the
            # journal right after its request always finds that request there.
            if message["type"] == "http.response.start" and not journaled:
                journaled = True
                self._journal(scope, context, message, started, arrived)
            await send(message)

        async def capture(message):
            nonlocal swallowing
            if swallowing:
                return
            if message["type"] == "http.response.start" and context.late_fault is not None:
                swallowing = True
                context.notes.append("processed")
                await self._send_error(answer, path, context.late_fault.error(self.sandbox.clock.timestamp()))
                return
            await answer(message)

        try:
            early = refusal or await self._read_body(scope, receive, context)
            if early is None:   # a Content-Type that means nothing, a form that is not UTF-8 text
                early = inputs.body_refusal(scope["headers"], context.body)
            if early is None:
                early = await self._before(scope, path, context)
            if isinstance(early, ApiError):
                await self._send_error(answer, path, early)
            elif early is not None:
                # through capture: a fault after processing that this request fired replaces the redirect
                # too, rather than being spent on a request that still got the service's own answer
                await self._redirect(capture, scope, early)
            else:
                await self._answer(scope, self._replay(context.body, receive), capture, path)
        finally:
            _current.reset(token)
            if not journaled:  # the connection broke before any answer
                self._journal(scope, context, {"status": 500, "headers": []}, started, arrived)

    async def _before(self, scope, path: str, context: RequestContext) -> ApiError | str | None:
        """An answer given before the spec's handler runs: a fault, a size cap, a redirect."""
        if self._is_quiet(path):
            return None
        self.sandbox.timeline.before_request(self.sandbox)
        fault = self.sandbox.faults.take(scope["method"], path)
        if fault is not None:
            context.notes.append("fault")
            if fault.latency_ms:
                await asyncio.sleep(fault.latency_ms / 1000)
            if fault.status and fault.after_processing:
                context.late_fault = fault
            elif fault.status:
                return fault.error(self.sandbox.clock.timestamp())
        if self.service.slash_redirect and not self._is_service_route(path):
            other = path[:-1] if path.endswith("/") else path + "/"
            if self._is_service_route(other):
                return other
        return None

    async def _answer(self, scope, receive, send, path: str) -> None:
        """Connexion's answer; an error that escapes it (one raised while the answer was being sent)
        still ends in the service's own 500 when nothing was sent yet, and is logged."""
        started = False

        async def watch(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.connexion(scope, receive, watch)
        except Exception as exc:  # noqa: BLE001 - the server must answer whatever happened
            log.error("%s: unexpected error in the mock", self.service.id, exc_info=exc)
            if not started:
                await self._send_error(send, path, ApiError(500, "Internal Server Error"))

    def _too_large(self, size: int, declared: bool) -> ApiError:
        cap = self.service.max_body_bytes
        said = f"Request body is {size} bytes" if declared else f"Request body is over {cap} bytes"
        return ApiError(413, f"{said}; this service accepts at most {cap} bytes",
                        field="Content-Length", location="header")

    async def _read_body(self, scope, receive, context: RequestContext) -> ApiError | None:
        """Read the whole body, refusing it as soon as it passes the service's cap (a declared
        Content-Length over the cap is refused before a byte is read)."""
        length = dict(scope["headers"]).get(b"content-length")
        if length and length.isdigit() and int(length) > self.service.max_body_bytes:
            return self._too_large(int(length), declared=True)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":      # the client went away
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.service.max_body_bytes:
                return self._too_large(size, declared=False)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        context.body = b"".join(chunks)
        return None

    @staticmethod
    def _replay(body: bytes, receive):
        """The body, already read, handed on as one message; then the connection's own events."""
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay

    async def _redirect(self, send, scope, target: str) -> None:
        host = dict(scope["headers"]).get(b"host", b"localhost").decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        # the path arrives decoded: encode it again, or a header could carry what headers may not
        location = f"{scope.get('scheme', 'http')}://{host}{quote(target, safe=PATH_SAFE)}" + (f"?{query}" if query else "")
        status = self.service.slash_redirect or 307
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"location", location.encode()), (b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    def _journal(self, scope, context: RequestContext, start: dict, started: float, arrived: float) -> None:
        headers = dict(start.get("headers") or [])
        retry_after = headers.get(b"retry-after")
        entry = self.sandbox.journal.record({
            "time": iso_ms(self.sandbox.clock.now()),
            "elapsed": round(arrived, 4),
            "method": scope["method"],
            "path": scope["path"],
            # a refused over-long query is kept in part: the journal holds what a reader needs, not megabytes
            "query": scope.get("query_string", b"")[:JOURNAL_QUERY_BYTES].decode("latin-1"),
            "status": start["status"],
            "client": context.client,
            "auth": context.auth,
            "token": context.token,
            "retry_after": retry_after.decode("latin-1") if retry_after else None,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            "notes": list(context.notes),
        })
        if not self._is_quiet(scope["path"]):
            self.sandbox.timeline.after_request(entry, self.sandbox)


def create_app(service_id: str, settings: Settings | None = None) -> SkymockApp:
    """The ASGI app of one service, ready for uvicorn or an in-process test client."""
    return SkymockApp(get_service(service_id), settings or Settings())
