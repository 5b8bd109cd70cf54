"""docker-compose.yml and the Dockerfile: every service, its port, a healthcheck that works, and the
optional conformance service fuzzing every mock over the compose network.

The compose file is validated by a compose implementation (`docker compose`, else Debian's
`docker-compose`), which needs no Docker engine; the image is built and run only where an engine
and the base image are available."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
import yaml
from tools import program

from conformance.fuzz import demo_credentials, is_skymock
from mockserver import healthcheck
from mockserver.cli import main as skymock
from mockserver.server import LiveServer, free_port
from mockserver.services import get_service, service_ids

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()
CONFORMANCE = COMPOSE["services"]["conformance"]
#: the compose services that serve mocks (the conformance service is behind a profile)
MOCKS = {name: entry for name, entry in COMPOSE["services"].items() if "profiles" not in entry}


def serving(service_id: str) -> dict:
    """The compose entry whose command serves the service (the LCO services share one)."""
    [entry] = [e for e in MOCKS.values() if service_id in e["command"]]
    return entry


def host_of(service_id: str) -> str:
    """The compose service (its host name on the compose network) serving the service."""
    [name] = [name for name, entry in MOCKS.items() if service_id in entry["command"]]
    return name


@pytest.mark.parametrize("service_id", service_ids())
def test_compose_runs_every_service_on_its_port_with_a_healthcheck(service_id):
    entry = serving(service_id)
    port = get_service(service_id).port
    assert entry.get("build") == "." and entry["image"] == "skymock:latest"
    services = [word for word in entry["command"] if word in service_ids()]
    # one service may take --port; several run on their default ports
    assert entry["command"][0] == service_id if len(services) == 1 else str(port) not in entry["command"]
    assert len(services) > 1 or str(port) in entry["command"]
    assert f"{port}:{port}" in entry["ports"]
    check = entry["healthcheck"]["test"]
    assert check[0] == "CMD" and "/__skymock/health" in check[-1] and str(port) in check[-1]


def test_compose_names_no_unknown_service_and_serves_each_once():
    served = [word for entry in MOCKS.values() for word in entry["command"] if word in service_ids()]
    assert sorted(served) == sorted(service_ids())


def test_the_lco_services_share_one_process():
    assert serving("lco-observe") is serving("lco-archive") is serving("lco-thumbnails")


# --- the compose file, validated by a compose implementation -----------------------------------------

def compose() -> list[str]:
    """`docker compose` (the v2 plugin) when it is there, else the standalone `docker-compose`.

    Both validate a file with `config -q` without a Docker engine. Not optional: .ci/run installs
    Debian's docker-compose, so the gate checks the file rather than skipping."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    return [program("docker-compose", "apt-get install docker-compose (or the Docker Compose v2 plugin)")]


def validate(path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    return subprocess.run([*compose(), "-f", str(path), "config", "-q"], capture_output=True, text=True,
                          cwd=path.parent, env=env, timeout=120)


def test_compose_file_is_valid_for_docker_compose():
    done = validate(ROOT / "docker-compose.yml")
    assert done.returncode == 0, done.stderr


def _typo(data: dict) -> None:
    data["services"]["nrao-ods"]["helthcheck"] = data["services"]["nrao-ods"].pop("healthcheck")


def _retries_in_words(data: dict) -> None:
    data["services"]["dsn"]["healthcheck"]["retries"] = "three"


def _healthcheck_a_number(data: dict) -> None:
    data["services"]["okapi"]["healthcheck"] = 3


def _depends_on_a_missing_service(data: dict) -> None:
    data["services"]["conformance"]["depends_on"]["nrao-odss"] = data["services"]["conformance"]["depends_on"].pop(
        "nrao-ods")


def _profile_not_a_list(data: dict) -> None:
    data["services"]["conformance"]["profiles"] = "conformance"


def _shell_variable_not_escaped(data: dict) -> None:
    command = data["services"]["conformance"]["command"]
    command[0] = command[0].replace('"$$1"', '"${1%%-*}"')


@pytest.mark.parametrize("breakage", [_typo, _retries_in_words, _healthcheck_a_number, _depends_on_a_missing_service,
                                      _profile_not_a_list, _shell_variable_not_escaped])
def test_compose_validation_refuses_a_broken_file(breakage, tmp_path):
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    intact = tmp_path / "intact.yml"
    intact.write_text(yaml.safe_dump(data, sort_keys=False))
    done = validate(intact)
    assert done.returncode == 0, done.stderr       # the file as written back is valid: only the breakage breaks it
    breakage(data)
    broken = tmp_path / "broken.yml"
    broken.write_text(yaml.safe_dump(data, sort_keys=False))
    done = validate(broken)
    assert done.returncode != 0, f"{breakage.__name__} was not refused:\n{done.stdout}{done.stderr}"


# --- the conformance service --------------------------------------------------------------------------

def test_the_conformance_service_is_optional_and_waits_for_every_mock_to_be_healthy():
    assert CONFORMANCE["profiles"] == ["conformance"]
    assert CONFORMANCE["depends_on"] == {name: {"condition": "service_healthy"} for name in MOCKS}
    assert CONFORMANCE["build"] == "." and CONFORMANCE["image"] == "skymock:latest"
    assert CONFORMANCE["restart"] == "no"             # a run that ended is not started again
    assert CONFORMANCE["healthcheck"] == {"disable": True}
    assert "ports" not in CONFORMANCE


def conformance_script() -> str:
    """The conformance service's shell script, as the container's `sh -c` gets it from compose."""
    assert CONFORMANCE["entrypoint"] == ["sh", "-c"]
    [script] = CONFORMANCE["command"]
    # compose substitutes a lone $ from its own environment: every $ meant for the shell is written $$
    assert "$" not in script.replace("$$", "")
    return script.replace("$$", "$")


def run_conformance(tmp_path: Path, fail: str = "", examples: str | None = None):
    """The script with a stand-in `skymock` that records its arguments and fails for one service."""
    bin_dir, calls = tmp_path / "bin", tmp_path / "calls"
    bin_dir.mkdir(exist_ok=True)
    calls.write_text("")
    stand_in = bin_dir / "skymock"
    stand_in.write_text('#!/bin/sh\nprintf "%s\\n" "$*" >> "$SKYMOCK_CALLS"\n[ "$2" != "$SKYMOCK_FAIL" ]\n')
    stand_in.chmod(0o755)
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "SKYMOCK_CALLS": str(calls), "SKYMOCK_FAIL": fail}
    if examples is not None:
        env["SKYMOCK_FUZZ_EXAMPLES"] = examples
    done = subprocess.run(["sh", "-c", conformance_script()], capture_output=True, text=True, env=env, timeout=60)
    return done, [line.split() for line in calls.read_text().splitlines()]


def test_the_conformance_service_fuzzes_every_service_at_its_compose_host_and_port(tmp_path):
    # compose gives the container SKYMOCK_FUZZ_EXAMPLES from the caller's environment, or this default
    [examples] = re.fullmatch(r"\$\{SKYMOCK_FUZZ_EXAMPLES:-(\d+)\}",
                              CONFORMANCE["environment"]["SKYMOCK_FUZZ_EXAMPLES"]).groups()
    done, calls = run_conformance(tmp_path, examples=examples)
    assert done.returncode == 0, done.stderr
    fuzzed = {}
    for call in calls:
        assert call[0] == "fuzz" and call[2] == "--base-url" and call[4:] == ["--max-examples", examples]
        fuzzed[call[1]] = urlsplit(call[3])
    assert sorted(fuzzed) == sorted(service_ids()) and len(calls) == len(service_ids())
    for service_id, url in fuzzed.items():
        service = get_service(service_id)
        assert url.scheme == "http" and url.hostname == host_of(service_id)
        assert url.port == service.port
        assert url.path == service.base_path.rstrip("/")


def test_the_conformance_run_fails_when_any_service_fails_after_fuzzing_them_all(tmp_path):
    done, calls = run_conformance(tmp_path, fail="mmoda", examples="7")
    assert done.returncode == 1
    assert "mmoda" in done.stderr
    assert len(calls) == len(service_ids()) and all(call[-1] == "7" for call in calls)
    done, calls = run_conformance(tmp_path)
    assert done.returncode == 0 and all(call[-1] == "25" for call in calls)


def test_skymock_fuzz_recognises_a_mock_on_another_host_and_logs_in_with_its_demo_credentials(tmp_path, capsys):
    """The conformance service's own nrao-ods command, pointed at a mock started here: without its
    credentials `skymock fuzz` would refuse a target it did not recognise as a mock (exit 2)."""
    _, calls = run_conformance(tmp_path)
    [call] = [call for call in calls if call[1] == "nrao-ods"]
    with LiveServer("nrao-ods", host="127.0.0.1") as server:
        assert is_skymock(server.url)
        assert set(demo_credentials(server.url, "nrao-ods")) >= {"client_id", "client_secret"}
        base = call[3].replace(f"http://{host_of('nrao-ods')}:8701", server.root)
        assert base == server.root
        argv = call[:3] + [base, "--max-examples", "5"]
        assert skymock(argv) == 0
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert summary.startswith("skymock fuzz nrao-ods: ") and " 0 failures, 0 errors" in summary


# --- the healthchecks --------------------------------------------------------------------------------

def test_healthcheck_command_succeeds_against_a_running_mock_and_fails_without_one():
    check = COMPOSE["services"]["nrao-ods"]["healthcheck"]["test"]
    assert check[1] == "python"
    with LiveServer("nrao-ods") as server:
        code = check[-1].replace("127.0.0.1:8701", f"127.0.0.1:{server.endpoint.port}")
        assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode != 0


def test_the_image_healthcheck_finds_every_port_the_mocks_listen_on_and_asks_each():
    with LiveServer("dsn") as dsn, LiveServer("mmoda") as mmoda:
        served = healthcheck.served([os.getpid()])
        assert ("127.0.0.1", dsn.endpoint.port) in served and ("127.0.0.1", mmoda.endpoint.port) in served
        assert all(healthcheck.healthy(address, port) for address, port in served
                   if port in (dsn.endpoint.port, mmoda.endpoint.port))
        ports = [str(dsn.endpoint.port), str(mmoda.endpoint.port)]
        done = subprocess.run([sys.executable, "-m", "mockserver.healthcheck", *ports], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    closed = str(free_port())
    done = subprocess.run([sys.executable, "-m", "mockserver.healthcheck", closed], capture_output=True, text=True)
    assert done.returncode == 1 and closed in done.stderr


@pytest.mark.skipif(sys.byteorder != "little", reason="the fake /proc below is written for a little-endian host")
def test_the_image_healthcheck_reads_listening_sockets_of_its_own_processes(tmp_path):
    rows = {"tcp": [("00000000:2205", "0A", 5551), ("0100007F:2206", "0A", 5552), ("0100007F:2207", "01", 5553),
                    ("00000000:2210", "0A", 7777)],
            "tcp6": [("0" * 32 + ":2208", "0A", 5554), ("0" * 24 + "01000000:2209", "0A", 5555),
                     ("0" * 32 + ":2205", "0A", 5556)]}
    (tmp_path / "net").mkdir()
    for family, sockets in rows.items():
        lines = ["  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"]
        lines += [f"   {i}: {local} 00000000:0000 {state} 00000000:00000000 00:00000000 00000000  1000  0 {inode} 1"
                  for i, (local, state, inode) in enumerate(sockets)]
        (tmp_path / "net" / family).write_text("\n".join(lines) + "\n")
    (tmp_path / "123" / "fd").mkdir(parents=True)
    for fd, inode in enumerate([5551, 5552, 5553, 5554, 5555, 5556]):
        os.symlink(f"socket:[{inode}]", tmp_path / "123" / "fd" / str(fd + 3))
    os.symlink("/dev/null", tmp_path / "123" / "fd" / "0")
    (tmp_path / "self").mkdir()       # not a process: ignored
    # 0x2210 (7777) belongs to no process it may read; 0x2207 is a connection, not a listening socket;
    # 0x2205 on both families is asked once; :: and 0.0.0.0 are asked on loopback
    assert healthcheck.served(proc=tmp_path) == [("127.0.0.1", 0x2205), ("127.0.0.1", 0x2206),
                                                 ("::1", 0x2208), ("::1", 0x2209)]
    assert healthcheck.served([999], proc=tmp_path) == []


# --- the Dockerfile ----------------------------------------------------------------------------------

def test_dockerfile_installs_the_kit_and_serves_on_all_interfaces():
    assert "FROM python:3.11" in DOCKERFILE
    assert "pip install ." in DOCKERFILE
    assert 'ENTRYPOINT ["skymock", "serve", "--host", "0.0.0.0"]' in DOCKERFILE
    for folder in ("mockserver", "specs", "clients", "conformance"):
        assert f"COPY {folder} ./{folder}" in DOCKERFILE


def instructions() -> list[tuple[str, str]]:
    """(instruction, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [tuple(line.split(None, 1)) for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_the_image_runs_as_its_own_user_in_a_writable_home_exposing_every_port_with_a_healthcheck():
    steps = instructions()
    [user] = [args for op, args in steps if op == "USER"]
    assert user not in ("root", "0")
    workdir = [args for op, args in steps if op == "WORKDIR"][-1]
    assert any(op == "RUN" and f"--home-dir {workdir}" in args and "--create-home" in args and args.endswith(user)
               for op, args in steps)
    [exposed] = [args.split() for op, args in steps if op == "EXPOSE"]
    assert sorted(map(int, exposed)) == sorted(get_service(s).port for s in service_ids())
    [check] = [args for op, args in steps if op == "HEALTHCHECK"]
    assert check.endswith('CMD ["python", "-m", "mockserver.healthcheck"]')


def test_the_build_context_leaves_out_what_the_image_does_not_need():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for name in (".git", ".venv", "tests", "bench", "build", "*.egg-info"):
        assert name in ignored
    for op, args in instructions():
        if op == "COPY":
            assert args.split()[0] not in ignored


# --- the image, built and run where Docker can -------------------------------------------------------

def base_image() -> str:
    [base] = [args.split()[-1] for op, args in instructions() if op == "FROM"]
    return base


def _docker(docker: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([docker, *args], capture_output=True, text=True, timeout=timeout)


def _why(done: subprocess.CompletedProcess) -> str:
    lines = (done.stderr or done.stdout or "").strip().splitlines()
    return lines[-1] if lines else f"exit status {done.returncode}"


def docker_with_base_image() -> str:
    """The docker CLI, once an engine answers and has the Dockerfile's base image; skips otherwise."""
    docker = program("docker", "install Docker (https://docs.docker.com/engine/install/)", optional=True)
    try:
        info = _docker(docker, "info", "--format", "{{.ServerVersion}}", timeout=30)
    except subprocess.TimeoutExpired:
        pytest.skip("no Docker engine answers here (`docker info` took over 30 s)")
    if info.returncode != 0 or not info.stdout.strip():
        pytest.skip(f"no Docker engine answers here (`docker info`: {_why(info)})")
    base = base_image()
    if _docker(docker, "image", "inspect", base).returncode != 0:
        try:
            pulled = _docker(docker, "pull", base, timeout=300)
        except subprocess.TimeoutExpired:
            pytest.skip(f"the base image {base} is not here and `docker pull {base}` took over 300 s")
        if pulled.returncode != 0:
            pytest.skip(f"the base image {base} is not here and cannot be pulled ({_why(pulled)})")
    return docker


def test_the_image_builds_and_serves_every_service_healthy():
    """Builds the image (tagged skymock:test, kept so a second run is quick), runs it with every port
    published on a free loopback port, waits for each service's health and the container's own
    healthcheck, then removes the container whatever happened."""
    docker = docker_with_base_image()
    build = _docker(docker, "build", "--tag", "skymock:test", str(ROOT), timeout=1800)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    name = f"skymock-test-{uuid.uuid4().hex[:12]}"
    ports = {service_id: get_service(service_id).port for service_id in service_ids()}
    try:
        published = [f"--publish=127.0.0.1::{port}" for port in ports.values()]
        started = _docker(docker, "run", "--detach", "--name", name, *published, "skymock:test")
        assert started.returncode == 0, started.stderr
        urls = {}
        for service_id, port in ports.items():
            where = _docker(docker, "port", name, f"{port}/tcp")
            assert where.returncode == 0, where.stderr
            host_port = int(where.stdout.split()[0].rsplit(":", 1)[1])
            urls[service_id] = f"http://127.0.0.1:{host_port}/__skymock/health"

        def state() -> dict:
            done = _docker(docker, "inspect", "--format", "{{json .State}}", name)
            assert done.returncode == 0, done.stderr
            return json.loads(done.stdout)

        deadline = time.monotonic() + 120
        waiting = dict(urls)
        while waiting:
            current = state()
            if not current["Running"]:
                logs = _docker(docker, "logs", name)
                pytest.fail(f"the container stopped ({current.get('ExitCode')}): {(logs.stdout + logs.stderr)[-3000:]}")
            for service_id, url in list(waiting.items()):
                try:
                    answer = requests.get(url, timeout=3)
                    body = answer.json() if answer.ok else {}
                    if body.get("status") == "ok" and body.get("service") == service_id:
                        del waiting[service_id]
                except (requests.RequestException, ValueError):
                    pass
            assert time.monotonic() < deadline, f"no healthy answer from {sorted(waiting)} in 120 s"
            time.sleep(1)
        # the image's own HEALTHCHECK: its first check runs one interval (10 s) after the start
        deadline = time.monotonic() + 90
        while (health := state().get("Health", {}).get("Status")) != "healthy":
            assert health in ("starting", None), f"the container's healthcheck says {health}: {state()['Health']}"
            assert time.monotonic() < deadline, "the container's healthcheck did not pass in 90 s"
            time.sleep(2)
    finally:
        _docker(docker, "rm", "--force", "--volumes", name)
