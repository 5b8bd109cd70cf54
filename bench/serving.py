"""Requests per second and latency of the DSN mock against Stoplight Prism mocking the same spec.

    python bench/serving.py [--duration 8] [--connections 16] [--rounds 3] [--workers 1 2] [--goal 1.0]

Both servers run on loopback; wrk loads each in turn with the same connections and
duration, round after round, so a busy machine slows both alike. Three operations:

  catalog      GET  /gs                                   ground stations (public reference data)
  lookup       GET  /satellites/profiles/{id}             a stored profile, found and owner-checked
  create       POST /satellites/id/25544/profiles          a JSON profile, validated and stored

Prism (``@stoplight/prism-cli`` from the npm registry, installed into bench/.prism on first
use) answers from the spec's examples after validating the request (``--errors``). The
mock is run with each ``--workers`` count, which shows its scaling: one worker keeps its
state in memory (the default), several share one SQLite state file. The table gives the best round of each; the exit status is 1
when, at the largest worker count, the mock serves fewer requests per second than
Prism times ``--goal`` on an operation or has a worse p99.

Needs wrk (Debian: ``apt-get install wrk``) and Node.js with npm.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mockserver.server import free_port  # noqa: E402

PRISM_DIR = Path(__file__).resolve().parent / ".prism"
PRISM_VERSION = "5"
SPEC = ROOT / "specs" / "dsn-orbapi.yaml"
PROFILE = {"name": "bench", "profile": {"radio": {"frequencyHz": 437000000, "modulation": "GMSK", "baud": 9600}}}


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


@dataclass
class Target:
    name: str
    root: str            # scheme://host:port
    base: str            # the spec's base path on this server ("" for Prism, which mounts paths at /)
    lookup_id: int


def prism_binary() -> Path:
    binary = PRISM_DIR / "node_modules" / ".bin" / "prism"
    if not binary.exists():
        if shutil.which("npm") is None:
            sys.exit("bench/serving.py needs Node.js and npm to install Stoplight Prism")
        PRISM_DIR.mkdir(exist_ok=True)
        print(f"installing @stoplight/prism-cli@{PRISM_VERSION} into {PRISM_DIR.relative_to(ROOT)} ...", flush=True)
        subprocess.run(["npm", "install", "--prefix", str(PRISM_DIR), "--no-audit", "--no-fund", "--silent",
                        f"@stoplight/prism-cli@{PRISM_VERSION}"], check=True)
    return binary


def wait_until_up(url: str, headers: dict[str, str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=2):
                return
        except Exception:  # noqa: BLE001 - not up yet
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {timeout:.0f} s") from None
            time.sleep(0.2)


def call(method: str, url: str, token: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def start(stack: ExitStack, command: list[str], log: Path) -> None:
    handle = stack.enter_context(open(log, "w"))
    process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)

    def stop() -> None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)

    stack.callback(stop)


def demo_token() -> str:
    from mockserver.core.service import Settings
    from mockserver.services import get_service

    return get_service("dsn").demo_credentials(Settings())[0].fields["token"]


def wrk(url: str, token: str, seconds: float, connections: int, script: Path | None) -> Result:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
               "-H", f"Authorization: Bearer {token}", url]
    if script is not None:
        command[1:1] = ["-s", str(script)]
    text = subprocess.run(command, capture_output=True, text=True, check=True).stdout

    def latency(percent: str) -> float:
        value, unit = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    socket_errors = re.search(r"Socket errors: .*", text)
    if socket_errors:
        print(f"  wrk: {socket_errors.group(0)}", flush=True)
    return Result(float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)), latency("50"), latency("99"),
                  int(errors.group(1)) if errors else 0)


def operations(target: Target, post_script: Path) -> dict[str, tuple[str, Path | None]]:
    return {
        "catalog": (f"{target.root}{target.base}/gs", None),
        "lookup": (f"{target.root}{target.base}/satellites/profiles/{target.lookup_id}", None),
        "create": (f"{target.root}{target.base}/satellites/id/25544/profiles", post_script),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=8, help="seconds of load per round (default 8)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts of the mock (default 1 2)")
    parser.add_argument("--goal", type=float, default=1.0, help="mock/Prism requests per second to reach (default 1.0)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/serving.py needs the wrk load generator (Debian: apt-get install wrk)")
    prism = prism_binary()
    token = demo_token()
    results: dict[tuple[str, str], Result] = {}
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        work = Path(tmp)
        post_script = work / "post.lua"
        post_script.write_text(f'wrk.method = "POST"\nwrk.body = {json.dumps(json.dumps(PROFILE))}\n'
                               'wrk.headers["Content-Type"] = "application/json"\n')
        prism_port = free_port()
        start(stack, [str(prism), "mock", "-p", str(prism_port), "-v", "error", "--errors", str(SPEC)], work / "prism.log")
        targets = [Target("prism", f"http://127.0.0.1:{prism_port}", "", 12)]
        for workers in args.workers:
            port = free_port()
            # one worker keeps its state in memory (the default); several share an SQLite file
            state = ["--state", str(work / f"state-{workers}.sqlite")] if workers > 1 else []
            start(stack, [sys.executable, "-m", "mockserver.cli", "serve", "dsn", "--port", str(port),
                          "--workers", str(workers), *state], work / f"mock-{workers}.log")
            targets.append(Target(f"mock x{workers}", f"http://127.0.0.1:{port}", "/orbapi", 0))
        auth = {"Authorization": f"Bearer {token}"}
        for target in targets:
            wait_until_up(f"{target.root}{target.base}/gs", auth)
            if target.name != "prism":   # a profile of the caller's to look up
                created = call("POST", f"{target.root}{target.base}/satellites/id/25544/profiles", token, PROFILE)
                target.lookup_id = created["profile"]["id"]
        for operation in ("catalog", "lookup", "create"):
            for target in targets:       # warm up: imports, caches, JIT of the node side
                url, script = operations(target, post_script)[operation]
                wrk(url, token, 2, args.connections, script)
            for _ in range(args.rounds):
                for target in targets:
                    url, script = operations(target, post_script)[operation]
                    result = wrk(url, token, args.duration, args.connections, script)
                    best = results.get((operation, target.name))
                    if best is None or result.rps > best.rps:
                        results[(operation, target.name)] = result
    return report(results, [t.name for t in targets], args.goal)


def report(results: dict[tuple[str, str], Result], names: list[str], goal: float) -> int:
    print(f"\n{'operation':<10} {'server':<10} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'vs prism':>9}")
    failed = []
    top = names[-1]
    for operation in ("catalog", "lookup", "create"):
        prism = results[(operation, "prism")]
        for name in names:
            result = results[(operation, name)]
            ratio = result.rps / prism.rps
            print(f"{operation:<10} {name:<10} {result.rps:>9.0f} {result.p50_ms:>8.2f} {result.p99_ms:>8.2f} "
                  f"{result.errors:>8} {ratio:>8.2f}x")
            if result.errors:
                failed.append(f"{name} answered {result.errors} {operation} requests with a status other than 2xx")
        best = results[(operation, top)]
        if best.rps < prism.rps * goal:
            failed.append(f"{operation}: {top} serves {best.rps / prism.rps:.2f}x Prism's requests per second "
                          f"(goal {goal:g}x)")
        if best.p99_ms > prism.p99_ms:
            failed.append(f"{operation}: {top} p99 {best.p99_ms:.2f} ms is worse than Prism's {prism.p99_ms:.2f} ms")
    print()
    for line in failed:
        print(f"MISSED  {line}")
    if not failed:
        print(f"GOAL MET  {top} serves at least {goal:g}x Prism's requests per second with a p99 no worse, "
              "on every operation")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
