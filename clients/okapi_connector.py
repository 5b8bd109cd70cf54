"""Point the published OKAPI connector (``okapi-python-connector``, import ``okapi_pkg``) at a mock.

The connector takes the service URL as an argument but logs in at a fixed Auth0
address. ``auth0_at`` sends that one login to a mock's ``/oauth/token`` for as long
as it is active; every other call the connector makes goes where its arguments
say, and nothing outside the connector's login module is touched::

    from okapi_pkg.okapi_init import okapi_init
    from clients.okapi_connector import auth0_at

    with auth0_at("http://127.0.0.1:8707"):
        login, error = okapi_init("http://127.0.0.1:8707/", username, password)
"""
from __future__ import annotations

import importlib
import types
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import requests

AUTH0_TOKEN_URL = "https://okapi-development.eu.auth0.com/oauth/token"


@contextmanager
def auth0_at(base_url: str) -> Iterator[str]:
    """While active, the connector's Auth0 login goes to ``<base_url>/oauth/token``; yields that URL."""
    # okapi_pkg/__init__ rebinds the name okapi_init to the function, so the module is
    # reached through importlib (sys.modules), not as an attribute of the package.
    module = importlib.import_module("okapi_pkg.okapi_init")
    target = base_url.rstrip("/") + "/oauth/token"

    def post(url: str, *args, **kwargs):
        if url.rstrip("/") == AUTH0_TOKEN_URL:
            url = target
        return requests.post(url, *args, **kwargs)

    shim = types.SimpleNamespace(post=post, get=requests.get, exceptions=requests.exceptions)
    with mock.patch.object(module, "requests", shim):
        yield target
