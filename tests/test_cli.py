"""`skymock serve` and `skymock list` as a user runs them."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

import requests

from mockserver.server import free_port


def wait_for(url: str, timeout: float = 60.0) -> requests.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return requests.get(url, timeout=1)
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def serve(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mockserver.cli", "serve", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_serve_one_service_prints_credentials_answers_and_stops_on_sigterm():
    port = free_port()
    process = serve("nrao-ods", "--port", str(port), "--seed", "5", "--token-ttl", "30")
    try:
        health = wait_for(f"http://127.0.0.1:{port}/__skymock/health").json()
        assert health["service"] == "nrao-ods" and health["seed"] == 5
        credential = requests.get(f"http://127.0.0.1:{port}/__skymock/credentials", timeout=5).json()["credentials"][0]
        token = requests.post(f"http://127.0.0.1:{port}/token/", data={
            "grant_type": "client_credentials", **{k: credential[k] for k in ("client_id", "client_secret")}},
            timeout=5).json()["token"]
        requests.post(f"http://127.0.0.1:{port}/__skymock/clock", json={"advance": 31}, timeout=5)
        answer = requests.get(f"http://127.0.0.1:{port}/ods_data/", headers={"Authorization": f"Bearer {token}"},
                              timeout=5)
        assert answer.status_code == 403  # --token-ttl 30 took effect
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert f"http://127.0.0.1:{port}/" in out
    assert f"client_secret={credential['client_secret']}" in out


def test_serve_all_services_by_default_with_a_port_offset():
    offset = free_port() - 8701
    process = serve("--port-offset", str(offset))
    try:
        assert wait_for(f"http://127.0.0.1:{8701 + offset}/__skymock/health").status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)
    assert process.returncode == 0


def test_unknown_service_is_a_usage_error_listing_the_known_ones():
    done = subprocess.run([sys.executable, "-m", "mockserver.cli", "serve", "hubble"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "nrao-ods" in done.stderr


def test_list_shows_every_service_with_port_and_login():
    done = subprocess.run([sys.executable, "-m", "mockserver.cli", "list"], capture_output=True, text=True)
    assert done.returncode == 0
    assert "nrao-ods" in done.stdout and ":8701/" in done.stdout and "client_id=skymock-operator" in done.stdout


def test_fuzz_options_may_follow_the_service_and_only_what_follows_dashes_goes_to_schemathesis(monkeypatch):
    import conformance.fuzz
    from mockserver.cli import main

    seen = []
    monkeypatch.setattr(conformance.fuzz, "run", lambda options: seen.append(options) or 0)
    assert main(["fuzz", "dsn", "--base-url", "https://dsn.example/orbapi", "--token", "dsn_live_x",
                 "--max-examples", "3", "--", "--report", "har"]) == 0
    options = seen[0]
    assert options.base_url == "https://dsn.example/orbapi" and options.max_examples == 3
    assert options.credentials == {"token": "dsn_live_x"}
    assert options.extra_args == ["--report", "har"]
    assert main(["fuzz", "--max-examples", "4", "nrao-ods"]) == 0
    assert seen[1].max_examples == 4 and seen[1].extra_args == []


def test_serve_sets_the_pace_of_asynchronous_jobs():
    port = free_port()
    process = serve("okapi", "--port", str(port), "--job-polls", "3")
    try:
        wait_for(f"http://127.0.0.1:{port}/__skymock/health")
        jobs = requests.get(f"http://127.0.0.1:{port}/__skymock/jobs", timeout=5).json()
        assert jobs == {"pace": {"seconds": None, "polls": 3, "retry_after": None}, "running": 0, "done": 0}
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
