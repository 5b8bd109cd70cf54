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
from connexion.decorators import StarletteDecorator
from connexion.utils import is_null, is_nullable
from jsonschema import Draft4Validator, ValidationError


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


class App(AsyncApp):
    """An AsyncApp whose operations are decorated once."""

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        # AsyncApp makes its own inner app; ours must be in place before any API is added
        inner = ASGIApp()
        self._middleware_app = inner
        self.middleware.app = inner


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
