"""The pytest plugin: installing Skymock is enough to use its mocks from your own tests.

Fixtures (one per service, named ``skymock_<id>`` with underscores: ``skymock_nrao_ods``,
``skymock_lco_observe`` ...) start that mock on a free port the first time a test asks for it,
keep it for the session, reset it before each test and yield a :class:`SkymockService`:
``.url``, ``.credentials`` / ``.credential`` (the demo logins), ``.control`` (the control API).
``skymock_clock``, ``skymock_journal`` and ``skymock_faults`` act on the mocks the test uses.

``--skymock-target=real`` runs the tests marked ``@pytest.mark.skymock_real`` against the real
services instead, with credentials from ``SKYMOCK_<ID>_<FIELD>`` variables (skipped, saying which,
when they are missing); ``--skymock-target=both`` runs those tests on each. Override the
``skymock_settings`` fixture to change the mocks' seed, token lifetime or job pace.
"""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from .core.service import Settings
from .server import LiveServer
from .services import service_ids
from .testing import Faults, Journal, MissingCredentials, SkymockService, VirtualClock

MODES = ("mock", "real", "both")
REAL_MARK = "skymock_real"
KEEP_MARK = "skymock_keep_state"


def fixture_name(service_id: str) -> str:
    return "skymock_" + service_id.replace("-", "_")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("skymock", "Skymock mocks")
    group.addoption("--skymock-target", choices=MODES, default=None,
                    help="where tests marked skymock_real run: mock (default), real (the real services, "
                         "credentials from SKYMOCK_<ID>_<FIELD> variables) or both; also SKYMOCK_TARGET")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{REAL_MARK}: the test is safe to run against the real service too "
                                       "(--skymock-target=real or both)")
    config.addinivalue_line("markers", f"{KEEP_MARK}: do not reset the Skymock mocks before this test")


def target_mode(config: pytest.Config) -> str:
    mode = config.getoption("skymock_target", None) or os.environ.get("SKYMOCK_TARGET") or "mock"
    if mode not in MODES:
        raise pytest.UsageError(f"SKYMOCK_TARGET={mode!r}: choose one of {', '.join(MODES)}")
    return mode


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "skymock_target" not in metafunc.fixturenames:
        return
    if target_mode(metafunc.config) == "both" and metafunc.definition.get_closest_marker(REAL_MARK):
        metafunc.parametrize("skymock_target", ["mock", "real"], indirect=True)


@pytest.fixture
def skymock_target(request: pytest.FixtureRequest) -> str:
    """Where this test's services are: "mock" or "real"."""
    chosen = getattr(request, "param", None)
    if chosen is None:
        chosen = "real" if target_mode(request.config) == "real" else "mock"
    if chosen == "real" and request.node.get_closest_marker(REAL_MARK) is None:
        pytest.skip(f"runs on the mock only: mark it @pytest.mark.{REAL_MARK} if it is safe against the real service")
    return chosen


@pytest.fixture(scope="session")
def skymock_settings() -> Settings:
    """How the session's mocks run (seed, token lifetime, job pace ...); override it in your conftest.py."""
    return Settings()


class ServerPool:
    """The session's mocks, each started the first time a test asks for it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.servers: dict[str, LiveServer] = {}

    def get(self, service_id: str) -> LiveServer:
        if service_id not in self.servers:
            self.servers[service_id] = LiveServer(service_id, self.settings).start()
        return self.servers[service_id]

    def close(self) -> None:
        for server in self.servers.values():
            server.stop()


@pytest.fixture(scope="session")
def skymock_servers(skymock_settings: Settings) -> Iterator[ServerPool]:
    pool = ServerPool(skymock_settings)
    yield pool
    pool.close()


@pytest.fixture
def skymock_used() -> list[SkymockService]:
    """The services this test has asked for, in order; the clock, journal and faults act on them."""
    return []


def _service(request: pytest.FixtureRequest, service_id: str, target: str,
             used: list[SkymockService]) -> SkymockService:
    if target == "real":
        try:
            handle = SkymockService.of_real(service_id)
        except MissingCredentials as missing:
            pytest.skip(f"real service: {missing}")
    else:
        server = request.getfixturevalue("skymock_servers").get(service_id)
        handle = SkymockService.of_mock(service_id, server.root,
                                        reset=request.node.get_closest_marker(KEEP_MARK) is None)
    used.append(handle)
    return handle


def _service_fixture(service_id: str):
    def fixture(request: pytest.FixtureRequest, skymock_target: str,
                skymock_used: list[SkymockService]) -> SkymockService:
        return _service(request, service_id, skymock_target, skymock_used)
    fixture.__doc__ = (f"The {service_id} mock, reset for this test (or the real service with "
                       "--skymock-target=real): a SkymockService.")
    return pytest.fixture(name=fixture_name(service_id))(fixture)


for _id in service_ids():
    globals()[fixture_name(_id)] = _service_fixture(_id)


@pytest.fixture
def skymock(request: pytest.FixtureRequest, skymock_target: str):
    """``skymock("nrao-ods")``: a service by id, as its own fixture would give it."""
    return lambda service_id: request.getfixturevalue(fixture_name(service_id))


def _mock_only(target: str, used: list[SkymockService], what: str) -> list[SkymockService]:
    if target == "real":
        pytest.skip(f"needs the mock's {what}; the real service has none")
    return used


@pytest.fixture
def skymock_clock(skymock_target: str, skymock_used: list[SkymockService]) -> VirtualClock:
    """Read, freeze, set and advance the clock of the mocks this test uses."""
    return VirtualClock(_mock_only(skymock_target, skymock_used, "virtual clock"))


@pytest.fixture
def skymock_journal(skymock_target: str, skymock_used: list[SkymockService]) -> Journal:
    """Every request the mocks this test uses answered: what the client under test sent."""
    return Journal(_mock_only(skymock_target, skymock_used, "journal"))


@pytest.fixture
def skymock_faults(skymock_target: str, skymock_used: list[SkymockService]) -> Faults:
    """Inject error statuses, Retry-After and latency into the mocks this test uses."""
    return Faults(_mock_only(skymock_target, skymock_used, "fault injection"))
