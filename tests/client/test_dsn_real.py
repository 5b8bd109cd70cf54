"""The same DSN client calls against a target: the mock always, the real dsn.systems orbapi
when a token is in the environment (DSN_API_TOKEN, with scope passes:read; DSN_BASE_URL
optional). Read-only calls only: reference data and a pass search."""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import requests

from clients.dsn import DsnClient
from mockserver.core.service import Settings
from mockserver.server import LiveServer

ISS = 25544


@pytest.fixture(scope="module")
def live_dsn() -> Iterator[LiveServer]:
    with LiveServer("dsn", Settings()) as server:
        yield server


@pytest.fixture(params=["mock", pytest.param("real", marks=pytest.mark.real)])
def client(request) -> DsnClient:
    if request.param == "mock":
        live = request.getfixturevalue("live_dsn")
        requests.post(f"{live.root}/__skymock/reset", timeout=5)
        token = requests.get(f"{live.root}/__skymock/credentials", timeout=5).json()["credentials"][0]["token"]
        return DsnClient(live.url, token)
    if not os.environ.get("DSN_API_TOKEN"):
        pytest.skip("real DSN orbapi: set DSN_API_TOKEN (a DSN-issued token with passes:read) to run; "
                    "DSN_BASE_URL overrides https://dsn.systems/orbapi")
    return DsnClient.from_settings(env_file=None)


def test_satellite_catalog_pages_have_a_total(client):
    page = client.list_satellites(limit=5)
    assert 0 < len(page["data"]) <= 5 and page["total"] >= len(page["data"])
    for satellite in page["data"]:
        assert {"norad_cat_id", "name", "status"} <= set(satellite)
    assert ISS in {s["norad_cat_id"] for s in client.find_satellites("ISS")["data"]}


def test_ground_stations_list_and_status(client):
    stations = list(client.iter_pages(client.list_stations))
    assert stations and all({"id", "description"} <= set(s) for s in stations)
    status = client.get_station_status(stations[0]["id"])
    assert status["groundStation"]["id"] == stations[0]["id"] and isinstance(status["online"], bool)


def test_iss_pass_search_over_one_station(client):
    station = next(s for s in client.iter_pages(client.list_stations) if s.get("latitude") is not None)
    result = client.search_passes(ISS, days=2, ground_station_ids=[station["id"]], min_elevation=10)
    passes = result["passes"]
    assert result["satellite"]["noradId"] == ISS and result["total"] == len(passes)
    assert [p["aos"] for p in passes] == sorted(p["aos"] for p in passes)
    for p in passes:
        assert p["groundStationId"] == station["id"] and p["max_elevation"] >= 10
        times = [point["time"] for point in p["polar_track"]]
        assert times == sorted(times) and p["rise_time"] <= times[0] and times[-1] <= p["set_time"]
