"""Skymock from your own tests: a handle on a mock (or the real service), its clock, journal and faults.

The pytest plugin (``mockserver.pytest_plugin``) hands these out as fixtures. They only speak
HTTP to a running mock's control API (``/__skymock``), so they work as well from any other
test runner given a mock's URL::

    ods = SkymockService.of_mock("nrao-ods", "http://127.0.0.1:8701")
    VirtualClock([ods]).advance(3600)
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import requests

from .core.clock import parse_instant
from .services import get_service

ADMIN_PREFIX = "/__skymock"
TARGETS = ("mock", "real")


class SkymockError(RuntimeError):
    """The control API refused a call; the message carries its status and answer."""


class ControlApi:
    """The control API of one running mock, JSON in and out (specs/skymock-admin.yaml)."""

    def __init__(self, root: str, timeout: float = 10.0) -> None:
        self.root = root.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()

    def call(self, method: str, path: str, json: dict[str, Any] | None = None) -> Any:
        """``method`` the control API's ``path`` (``/clock`` ...) with a JSON body; its JSON answer."""
        answer = self.http.request(method, f"{self.root}{ADMIN_PREFIX}{path}", json=json, timeout=self.timeout)
        if answer.status_code >= 400:
            raise SkymockError(f"{method} {ADMIN_PREFIX}{path} answered {answer.status_code}: {answer.text}")
        return answer.json()

    def health(self) -> dict[str, Any]:
        return self.call("GET", "/health")

    def reset(self) -> dict[str, Any]:
        """Back to the seeded state: clock, credentials, data, journal, faults."""
        return self.call("POST", "/reset")

    def clock(self) -> dict[str, Any]:
        return self.call("GET", "/clock")

    def set_clock(self, **change: Any) -> dict[str, Any]:
        """``advance`` (seconds), ``set`` (ISO 8601) and/or ``frozen`` (bool), as the control API takes them."""
        return self.call("POST", "/clock", change)

    def credentials(self) -> list[dict[str, Any]]:
        return self.call("GET", "/credentials")["credentials"]

    def mint(self, **fields: Any) -> dict[str, Any]:
        """A new credential: the service's own field names, ``scopes``/``roles``, ``owner``, ``lifetime``."""
        return self.call("POST", "/credentials", fields)

    def expire_tokens(self, token: str | None = None) -> dict[str, Any]:
        return self.call("POST", "/tokens/expire", {"token": token} if token else {})

    def journal(self) -> list[dict[str, Any]]:
        return self.call("GET", "/journal")["entries"]

    def clear_journal(self) -> dict[str, Any]:
        return self.call("DELETE", "/journal")

    def faults(self) -> list[dict[str, Any]]:
        return self.call("GET", "/faults")["faults"]

    def add_fault(self, **fault: Any) -> dict[str, Any]:
        return self.call("POST", "/faults", fault)

    def clear_faults(self) -> dict[str, Any]:
        return self.call("DELETE", "/faults")

    def jobs(self) -> dict[str, Any]:
        return self.call("GET", "/jobs")

    def set_job_pace(self, seconds: float | None = None, polls: int | None = None) -> dict[str, Any]:
        """How long asynchronous jobs run: clock seconds and/or "still running" polls (None: no condition)."""
        return self.call("POST", "/jobs", {"seconds": seconds, "polls": polls})


@dataclass
class SkymockService:
    """One service under test: where it is, how to log in, and (on a mock) its control API."""

    service_id: str
    url: str                                  # base URL, with the service's base path
    target: str = "mock"                      # "mock" or "real"
    credentials: list[dict[str, Any]] = field(default_factory=list)
    control: ControlApi | None = None         # None on the real service

    @classmethod
    def of_mock(cls, service_id: str, root: str, *, reset: bool = False) -> "SkymockService":
        """A running mock of ``service_id`` whose scheme://host:port is ``root``; ``reset`` puts it back
        to its seeded state first."""
        control = ControlApi(root)
        if reset:
            control.reset()
        base = get_service(service_id).base_path.rstrip("/")
        return cls(service_id, root.rstrip("/") + base, "mock", control.credentials(), control)

    @classmethod
    def of_real(cls, service_id: str, environ: dict[str, str] | None = None) -> "SkymockService":
        """The real service, with credentials from ``SKYMOCK_<ID>_<FIELD>`` variables; ``SKYMOCK_<ID>_URL``
        overrides its production URL. Raises :class:`MissingCredentials` naming the variables to set."""
        environ = dict(os.environ if environ is None else environ)
        service = get_service(service_id)
        prefix = env_prefix(service_id)
        url = environ.get(f"{prefix}_URL") or service.real_url
        if not url:
            raise MissingCredentials(f"{service_id}: no real service is known; set {prefix}_URL")
        names = service.credential_fields or ["token"]
        found = {name: environ.get(f"{prefix}_{name.upper()}", "") for name in names}
        missing = [f"{prefix}_{name.upper()}" for name, value in found.items() if not value]
        if missing and service.credential_fields:
            raise MissingCredentials(f"{service.title} at {url}: set {' and '.join(missing)} to run against it")
        credentials = [{name: value for name, value in found.items() if value}] if not missing else []
        return cls(service_id, url.rstrip("/"), "real", credentials, None)

    @property
    def root(self) -> str:
        """scheme://host:port of the service."""
        scheme, _, rest = self.url.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}"

    @property
    def credential(self) -> dict[str, Any]:
        """The first demo credential (on the real service: the one from the environment)."""
        if not self.credentials:
            raise MissingCredentials(f"{self.service_id}: no credentials")
        return self.credentials[0]

    def credential_of(self, owner: str) -> dict[str, Any]:
        """The demo credential of ``owner`` (the owner or username the mock prints)."""
        for credential in self.credentials:
            if owner in (credential.get("owner"), credential.get("username"), credential.get("client_id")):
                return credential
        known = ", ".join(str(c.get("owner") or c.get("username")) for c in self.credentials)
        raise KeyError(f"{self.service_id} has no credential of {owner!r}; it has: {known}")

    def auth_headers(self, credential: dict[str, Any] | None = None) -> dict[str, str]:
        """The Authorization header for services that take a token as it is (``Token ...``, ``Bearer ...``)."""
        return get_service(self.service_id).auth_headers(credential or self.credential)

    def reset(self) -> None:
        self.require_mock("reset").reset()
        self.credentials = self.control.credentials()

    def require_mock(self, what: str) -> ControlApi:
        if self.control is None:
            raise SkymockError(f"{what} needs a Skymock mock; {self.service_id} is the real service at {self.url}")
        return self.control


class MissingCredentials(LookupError):
    """The real service cannot be reached without credentials the environment does not hold."""


def env_prefix(service_id: str) -> str:
    """``SKYMOCK_NRAO_ODS`` for nrao-ods: where a service's settings are looked up in the environment."""
    return "SKYMOCK_" + service_id.upper().replace("-", "_")


def clock_groups(services: list[SkymockService]) -> list[SkymockService]:
    """One service per clock: services of one simulated world (the LCO three) share theirs."""
    seen: set[tuple[str, ...]] = set()
    chosen = []
    for handle in services:
        key = get_service(handle.service_id).companions or (handle.service_id,)
        if key not in seen:
            seen.add(key)
            chosen.append(handle)
    return chosen


class _Bound:
    """Acts on the mocks a test uses; ``service=`` narrows a call to one of them."""

    def __init__(self, services: list[SkymockService]) -> None:
        self._services = services       # filled in as the test's service fixtures start

    def _chosen(self, service: str | None) -> list[SkymockService]:
        chosen = [s for s in self._services if service in (None, s.service_id)]
        if not chosen:
            using = ", ".join(s.service_id for s in self._services) or "none"
            raise SkymockError(f"no Skymock service {service or ''} in this test (it uses: {using}); "
                               "ask for a service fixture such as skymock_nrao_ods")
        return chosen


class VirtualClock(_Bound):
    """The mocks' clock: read it, freeze it, set it, move it."""

    def now(self, service: str | None = None) -> datetime:
        return parse_instant(self._chosen(service)[0].require_mock("the clock").clock()["now"])

    @property
    def frozen(self) -> bool:
        return bool(self._chosen(None)[0].require_mock("the clock").clock()["frozen"])

    def advance(self, by: float | timedelta, service: str | None = None) -> datetime:
        seconds = by.total_seconds() if isinstance(by, timedelta) else float(by)
        return self._change(service, advance=seconds)

    def set(self, instant: str | datetime, service: str | None = None) -> datetime:
        text = instant.isoformat() if isinstance(instant, datetime) else instant
        return self._change(service, set=text)

    def freeze(self, at: str | datetime | None = None, service: str | None = None) -> datetime:
        change: dict[str, Any] = {"frozen": True}
        if at is not None:
            change["set"] = at.isoformat() if isinstance(at, datetime) else at
        return self._change(service, **change)

    def unfreeze(self, service: str | None = None) -> datetime:
        return self._change(service, frozen=False)

    def _change(self, service: str | None, **change: Any) -> datetime:
        answers = [handle.require_mock("the clock").set_clock(**change)
                   for handle in clock_groups(self._chosen(service))]
        return parse_instant(answers[0]["now"])


class Journal(_Bound):
    """What the client under test sent: every request the mocks answered, oldest first."""

    def entries(self, path: str | None = None, method: str | None = None,
                service: str | None = None) -> list[dict[str, Any]]:
        """Entries (with a ``service`` key added), only those of ``path`` and ``method`` if given."""
        found = []
        for handle in self._chosen(service):
            for entry in handle.require_mock("the journal").journal():
                if (path is None or entry["path"] == path) and (method is None or entry["method"] == method.upper()):
                    found.append({"service": handle.service_id, **entry})
        return found

    def requests(self, service: str | None = None) -> list[str]:
        """``"METHOD path"`` of every request, oldest first: handy in an assertion message."""
        return [f"{e['method']} {e['path']}" for e in self.entries(service=service)]

    def count(self, path: str | None = None, method: str | None = None, service: str | None = None) -> int:
        return len(self.entries(path, method, service))

    def clear(self, service: str | None = None) -> None:
        for handle in self._chosen(service):
            handle.require_mock("the journal").clear_journal()


class Faults(_Bound):
    """Failures the mocks inject into matching requests: error statuses, Retry-After, latency."""

    def inject(self, status: int | None = None, *, path: str | None = None, count: int | None = None,
               service: str | None = None, **options: Any) -> list[dict[str, Any]]:
        """Arm a fault: ``status`` (400-599) and/or ``latency_ms``, for ``count`` requests whose path matches
        the regular expression ``path``; options ``method``, ``retry_after``, ``retry_after_date``,
        ``after_processing``, ``message`` as the control API takes them."""
        fault = {name: value for name, value in
                 {"status": status, "path": path, "count": count, **options}.items() if value is not None}
        return [handle.require_mock("fault injection").add_fault(**fault) for handle in self._chosen(service)]

    def armed(self, service: str | None = None) -> list[dict[str, Any]]:
        return [f for handle in self._chosen(service) for f in handle.require_mock("fault injection").faults()]

    def clear(self, service: str | None = None) -> None:
        for handle in self._chosen(service):
            handle.require_mock("fault injection").clear_faults()
