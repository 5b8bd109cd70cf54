"""Connexion's AsyncApp, with the work it repeats on every request done once.

Connexion 3 builds each operation's decorator chain (parameter parsing, response
shaping, the handler's signature) anew for every request, and compiles a JSON
Schema validator for every parameter of every request. For a mock that answers
in well under a millisecond, that is most of the time spent. Here the chain is
built once per operation and the validators once per parameter; what each request
reads (its scope, its body, the operation it routed to) is still read per request.
"""
from __future__ import annotations

import functools
import typing as t

from connexion import AsyncApp
from connexion.apps.asynchronous import AsyncApi, AsyncASGIApp, AsyncOperation
from connexion.context import receive, scope
from connexion import utils as connexion_utils
from connexion.decorators import StarletteDecorator
from connexion.decorators import parameter as connexion_parameter
from connexion.middleware.main import ConnexionMiddleware
from connexion.operations import OpenAPIOperation
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.security import AbstractSecurityHandler
from connexion.utils import is_null, is_nullable
from jsonschema import Draft4Validator, ValidationError
from starlette.types import Receive, Scope, Send

from .inputs import content_type


class DecoratedOnce(StarletteDecorator):
    """Starlette's decorator, with the handler's decorator chain built when the operation is."""

    def __call__(self, function: t.Callable) -> t.Callable:
        decorated = self.decorate(function)

        @functools.wraps(function)
        async def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
            request = self.framework.get_request(uri_parser=self.uri_parser, scope=scope, receive=receive)
            return await decorated(request)

        return wrapper


class Operation(AsyncOperation):
    @functools.cached_property
    def fn(self) -> t.Callable:  # type: ignore[override]
        return DecoratedOnce(pythonic_params=self.pythonic_params, jsonifier=self.jsonifier)(self._fn)


class Api(AsyncApi):
    def make_operation(self, operation: t.Any) -> AsyncOperation:
        return Operation.from_operation(operation, pythonic_params=self.pythonic_params, jsonifier=self.jsonifier)


class ASGIApp(AsyncASGIApp):
    api_cls = Api


def _is_docs_path(path: str) -> bool:
    """Whether a path may be Swagger UI's or a spec's (under any base path)."""
    return path.endswith(("/openapi.json", "/openapi.yaml")) or "/ui" in path


class DocsMiddleware(SwaggerUIMiddleware):
    """Swagger UI and the served spec, with the client's own requests passed straight on.

    Connexion's middleware routes every request through a router of its documentation
    paths, to find that nearly none are; a path that cannot be one skips that search.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not _is_docs_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


MIDDLEWARES = [DocsMiddleware if m is SwaggerUIMiddleware else m for m in ConnexionMiddleware.default_middlewares]


class App(AsyncApp):
    """An AsyncApp whose operations are decorated once."""

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        kwargs.setdefault("middlewares", list(MIDDLEWARES))
        super().__init__(*args, **kwargs)
        # AsyncApp makes its own inner app; ours must be in place before any API is added
        inner = ASGIApp()
        self._middleware_app = inner
        self.middleware.app = inner


# --- per-request work of Connexion's that depends on nothing that changes ------------------------------
# A security handler looks up its hook's signature (inspect.signature) twice per request.
AbstractSecurityHandler._accepts_kwarg = staticmethod(functools.lru_cache(maxsize=None)(
    AbstractSecurityHandler._accepts_kwarg))


# connexion.utils.extract_content_type builds a typing alias on every call (most of the call's cost);
# the shared reader of the header does the same work without it.
connexion_utils.extract_content_type = content_type

# Parameter names are made Pythonic with three regular expressions each, on every request.
connexion_parameter.sanitized = functools.lru_cache(maxsize=4096)(connexion_parameter.sanitized)
connexion_parameter.pythonic = functools.lru_cache(maxsize=4096)(connexion_parameter.pythonic)

# An operation's body definition (its media types matched, its references joined) is worked out again
# on each of the several reads a request makes; the spec does not change, so each is kept.
_body_definition = OpenAPIOperation.body_definition


def _kept_body_definition(self: OpenAPIOperation, content_type: str | None = None) -> dict:
    kept = self.__dict__.setdefault("_skymock_body_definitions", {})
    if content_type not in kept:
        kept[content_type] = _body_definition(self, content_type)
    return kept[content_type]


OpenAPIOperation.body_definition = _kept_body_definition


_validators: dict[int, tuple[dict, Draft4Validator]] = {}


def parameter_error(value: t.Any, param: dict[str, t.Any]) -> str | None:
    """What is wrong with a parameter's value, as Connexion words it; None when it is valid.

    Connexion's own check compiles a validator for each parameter of each request;
    this one keeps it, keyed by the (long-lived) parameter of the loaded spec.
    """
    if is_nullable(param) and is_null(value):
        return None
    cached = _validators.get(id(param))
    if cached is None or cached[0] is not param:
        cached = (param, Draft4Validator(param.get("schema", param), format_checker=Draft4Validator.FORMAT_CHECKER))
        _validators[id(param)] = cached
    try:
        cached[1].validate(value)
    except ValidationError as exception:
        return str(exception)
    return None
