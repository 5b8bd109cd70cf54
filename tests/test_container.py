"""docker-compose.yml and the Dockerfile: every service, its port, a healthcheck that works."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mockserver.server import LiveServer
from mockserver.services import get_service, service_ids

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def compose_available() -> bool:
    return shutil.which("docker") is not None and subprocess.run(
        ["docker", "compose", "version"], capture_output=True).returncode == 0


def serving(service_id: str) -> dict:
    """The compose entry whose command serves the service (the LCO services share one)."""
    [entry] = [e for e in COMPOSE["services"].values() if service_id in e["command"]]
    return entry


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
    served = [word for entry in COMPOSE["services"].values() for word in entry["command"] if word in service_ids()]
    assert sorted(served) == sorted(service_ids())


def test_the_lco_services_share_one_process():
    assert serving("lco-observe") is serving("lco-archive") is serving("lco-thumbnails")


@pytest.mark.skipif(not compose_available(), reason="the docker compose plugin is not installed here")
def test_compose_file_is_valid_for_docker_compose():
    done = subprocess.run(["docker", "compose", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_healthcheck_command_succeeds_against_a_running_mock_and_fails_without_one():
    check = COMPOSE["services"]["nrao-ods"]["healthcheck"]["test"]
    assert check[1] == "python"
    with LiveServer("nrao-ods") as server:
        code = check[-1].replace("127.0.0.1:8701", f"127.0.0.1:{server.endpoint.port}")
        assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode != 0


def test_dockerfile_installs_the_kit_and_serves_on_all_interfaces():
    text = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11" in text
    assert "pip install ." in text
    assert 'ENTRYPOINT ["skymock", "serve", "--host", "0.0.0.0"]' in text
    for folder in ("mockserver", "specs", "clients", "conformance"):
        assert f"COPY {folder} ./{folder}" in text
