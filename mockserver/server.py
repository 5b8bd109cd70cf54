"""Run services over HTTP: every chosen service on its own port, in one process.

``serve`` is what ``skymock serve`` runs; :class:`LiveServer` starts one service
on a free port in a background thread, for tests and the examiner.
"""
from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing
import signal
import socket
import threading
import time
from dataclasses import dataclass

import uvicorn

from .app import SkymockApp, create_app
from .core.inputs import MAX_TARGET_BYTES
from .core.service import Sandbox, Settings
from .services import get_service

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:     # no httptools: uvicorn's h11 protocol, which cuts a request head at 16 KB with a plain 400
    HttpToolsProtocol = None


if HttpToolsProtocol is not None:
    class LongTargetProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol, letting a request target of 64 KB or more reach the app.

        httptools.parse_url cannot parse such a URL, so uvicorn would answer a plain-text 400 that
        no service gives. The parser is handed a shortened target and the scope keeps the whole
        one, so the app's own, lower limit refuses it with a 414 in the service's own shape.
        """

        def on_headers_complete(self) -> None:
            whole = self.url
            if len(whole) <= MAX_TARGET_BYTES:
                super().on_headers_complete()
                return
            path, mark, query = whole.partition(b"?")
            self.url = path[:MAX_TARGET_BYTES] + mark + query[:MAX_TARGET_BYTES]
            super().on_headers_complete()
            if "raw_path" in self.scope:     # the request's task is created, not yet run: it reads this scope
                self.scope["raw_path"] = self.root_path.encode("ascii") + path
                self.scope["query_string"] = query


@dataclass
class Endpoint:
    service_id: str
    host: str
    port: int
    app: SkymockApp

    @property
    def url(self) -> str:
        base = self.app.service.base_path.rstrip("/")
        return f"http://{self.host}:{self.port}{base}"

    @property
    def root(self) -> str:
        return f"http://{self.host}:{self.port}"


def free_port(host: str = "127.0.0.1") -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _config(app: SkymockApp, host: str, port: int, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="off",
                          access_log=log_level == "debug",
                          http=LongTargetProtocol if HttpToolsProtocol is not None else "auto")


def serve(endpoints: list[Endpoint], log_level: str = "warning",
          sockets: list[socket.socket] | None = None) -> None:
    """Serve every endpoint until interrupted (on ``sockets`` already bound, when given: a worker)."""
    servers = [uvicorn.Server(_config(e.app, e.host, e.port, log_level)) for e in endpoints]
    for server in servers:
        # uvicorn's own handler would stop only the server that installed it last
        server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]

    def stop_all() -> None:
        for server in servers:
            server.should_exit = True

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop_all)
        await asyncio.gather(*(server.serve(sockets=[sockets[i]] if sockets else None)
                               for i, server in enumerate(servers)))

    # What start-up made (parsed specs, validators, seeded data) lives as long as the server: kept out of the
    # garbage collector's full passes, which otherwise walk it all and stall a request now and then.
    gc.collect()
    gc.freeze()
    # uvloop where it is installed (uvicorn's "auto" choice): a faster loop for the same code
    with asyncio.Runner(loop_factory=servers[0].config.get_loop_factory() if servers else None) as runner:
        runner.run(main())


def _worker(services: list[tuple[str, int]], host: str, settings: Settings, sockets: list[socket.socket],
            log_level: str) -> None:
    """One worker process: every service on the sockets the supervisor bound, state in the shared file."""
    endpoints = [Endpoint(service_id, host, port, create_app(service_id, settings)) for service_id, port in services]
    serve(endpoints, log_level, sockets)


def serve_workers(services: list[tuple[str, int]], host: str, settings: Settings, workers: int,
                  log_level: str = "warning") -> None:
    """Serve with several worker processes sharing the sockets and the SQLite state until interrupted.

    The state file is seeded here first, so no worker resets what another has already
    written; a worker that dies is started again.
    """
    if not settings.state:
        raise ValueError("several workers share their state through a file: give settings.state")
    for service_id, _ in services:
        Sandbox(get_service(service_id), settings)   # seeds the file (or finds it seeded) before anyone serves
    sockets = []
    for _, port in services:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
        sock.set_inheritable(True)
        sockets.append(sock)
    context = multiprocessing.get_context("spawn")
    stopping = threading.Event()

    def start() -> multiprocessing.process.BaseProcess:
        process = context.Process(target=_worker, args=(services, host, settings, sockets, log_level), daemon=True)
        process.start()
        return process

    def stop(*_: object) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    processes = [start() for _ in range(workers)]
    try:
        while not stopping.wait(0.5):
            for i, process in enumerate(processes):
                if not process.is_alive():
                    processes[i] = start()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=10)
        for sock in sockets:
            sock.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class LiveServer:
    """One service on a real socket in a background thread; a context manager."""

    def __init__(self, service_id: str, settings: Settings | None = None, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.app = create_app(service_id, settings)
        self.endpoint = Endpoint(service_id, host, port or free_port(host), self.app)
        self._server = uvicorn.Server(_config(self.app, host, self.endpoint.port, "warning"))
        self._thread = threading.Thread(target=self._server.run, name=f"skymock-{service_id}", daemon=True)

    @property
    def url(self) -> str:
        return self.endpoint.url

    @property
    def root(self) -> str:
        return self.endpoint.root

    def start(self, timeout: float = 10.0) -> "LiveServer":
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the {self.endpoint.service_id} mock did not start on port {self.endpoint.port}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> "LiveServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
