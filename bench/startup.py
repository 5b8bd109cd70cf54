"""Start-up time of every service: from spawning ``skymock serve`` to its first HTTP answer.

    python bench/startup.py [SERVICE ...] [--rounds 3] [--limit 3.0] [--no-all]

Each service is started alone (``python -m mockserver.cli serve ID --port P``) as a
fresh process, and the clock runs from the spawn until ``GET /__skymock/health``
answers 200; then the process is stopped. Services take turns, round after round, so
a busy machine slows them alike. Last, every service is started at once with one
``serve`` (on free ports through ``--port-offset``), timed until the last of them
answers. It prints the best and median seconds of each, and the machine's load average
(start-up is absolute time: a busy machine stretches it); the exit status is 1 when a
service's median, alone, is --limit seconds or more.
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mockserver.server import free_port  # noqa: E402
from mockserver.services import PACKAGES, get_service, service_ids  # noqa: E402

HEALTH = "/__skymock/health"
POLL_S = 0.01
TIMEOUT_S = 60.0


def answers(port: int) -> bool:
    """Whether the service on ``port`` answers its health check with 200."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{HEALTH}", timeout=2) as answer:
            return answer.status == 200
    except OSError:              # refused while the process starts, or reset: not up yet
        return False


def default_ports(services: list[str]) -> list[int]:
    """The default port of each service (``serve`` adds --port-offset to it)."""
    return [get_service(s).port for s in services]


def free_offset(ports: list[int]) -> int:
    """A --port-offset that puts every one of ``ports`` on a port nobody listens on."""
    for offset in range(1000, 50_000, 97):
        try:
            for port in ports:
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port + offset))
        except OSError:
            continue
        return offset
    raise RuntimeError("no free range of ports for --port-offset")


def time_start(arguments: list[str], ports: list[int]) -> float:
    """Seconds from spawning ``skymock serve`` with ``arguments`` until every port answers; then stop it."""
    log = tempfile.TemporaryFile()          # a file, not a pipe: a chatty server cannot block on it
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "mockserver.cli", "serve", *arguments], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    try:
        waiting = list(ports)
        while waiting:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"skymock serve {' '.join(arguments)} exited with {process.returncode}:\n"
                                   f"{log.read().decode(errors='replace')}")
            if time.perf_counter() - started > TIMEOUT_S:
                raise RuntimeError(f"skymock serve {' '.join(arguments)} did not answer within {TIMEOUT_S:g} s")
            waiting = [port for port in waiting if not answers(port)]
            if waiting:
                time.sleep(POLL_S)
        return time.perf_counter() - started
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("services", nargs="*", metavar="SERVICE", help="default: every service")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--limit", type=float, default=3.0, help="seconds a median start-up must stay under")
    parser.add_argument("--no-all", dest="all", action="store_false", help="skip starting every service at once")
    args = parser.parse_args(argv)
    chosen = args.services or service_ids()
    unknown = [s for s in chosen if s not in PACKAGES]
    if unknown:
        parser.error(f"unknown service(s) {', '.join(unknown)}; choose from {', '.join(service_ids())}")

    load_before = os.getloadavg()[0]
    seconds: dict[str, list[float]] = {s: [] for s in chosen}
    for _ in range(args.rounds):
        for service_id in chosen:
            port = free_port()
            seconds[service_id].append(time_start([service_id, "--port", str(port)], [port]))
    if args.all:
        ports = default_ports(chosen)
        offset = free_offset(ports)
        seconds["(all at once)"] = [time_start([*chosen, "--port-offset", str(offset)], [p + offset for p in ports])
                                    for _ in range(args.rounds)]

    print(f"start-up until {HEALTH} answers, {args.rounds} rounds; {os.cpu_count()} cores, load average "
          f"{load_before:.1f} before and {os.getloadavg()[0]:.1f} after")
    print(f"{'service':<16} {'best s':>7} {'median s':>9}")
    slow = []
    for name, times in seconds.items():
        median = statistics.median(times)
        print(f"{name:<16} {min(times):>7.2f} {median:>9.2f}")
        if name in chosen and median >= args.limit:
            slow.append(f"{name} starts in {median:.2f} s (median)")
    print()
    for line in slow:
        print(f"MISSED  {line}, goal under {args.limit:g} s")
    if not slow:
        print(f"GOAL MET  every service alone answers within {args.limit:g} s (median)")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
