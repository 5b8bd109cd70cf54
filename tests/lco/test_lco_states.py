"""Userrequests move on the sandbox's clock: observed ones complete inside a visible stretch, others expire."""
from __future__ import annotations

from datetime import datetime

import pytest
from lcodata import EXAMPLE, NOW, Portal, changed
from sandbox import Mock

from mockserver.core.clock import parse_instant
from mockserver.core.service import Settings


def portal_with(fraction: float) -> Portal:
    return Portal(Mock("lco-observe", Settings(clock_start=parse_instant(NOW), frozen=True,
                                               completion_fraction=fraction)).fresh(NOW))


@pytest.fixture(scope="module")
def always() -> Portal:
    return portal_with(1.0)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_an_observed_request_completes_when_its_observation_ends_and_uses_allocated_time(always):
    portal = Portal(always.mock.fresh(NOW))
    made = portal.post("/userrequests/", EXAMPLE).json()
    assert made["state"] == "PENDING"
    portal.mock.advance(14 * 86400)                              # past the window's end
    done = portal.get(f"/userrequests/{made['id']}/").json()
    assert done["state"] == "COMPLETED" and done["requests"][0]["state"] == "COMPLETED"
    completed = at(done["requests"][0]["completed"])
    assert at("2026-11-21T00:00:00Z") < completed <= at("2026-12-05T00:00:00Z")
    # it was observed at night: the request's airmass samples include the time just before it ended
    airmass = portal.get(f"/requests/{done['requests'][0]['id']}/airmass/").json()["airmass_data"]
    stamps = {t for site in airmass.values() for t in site["times"]}
    start = completed.timestamp() - 242
    nearest = min(stamps, key=lambda t: abs(at(t + ":00Z").timestamp() - start))
    assert abs(at(nearest + ":00Z").timestamp() - start) <= 600
    used = next(a["std_time_used"] for a in portal.get("/proposals/LCO2026B-001/").json()["timeallocation_set"]
                if a["instrument_name"] == "1M0-SCICAM-SINISTRO")
    assert used == pytest.approx(242 / 3600)
    assert portal.get("/userrequests/", state="COMPLETED").json()["count"] == 1


def test_a_request_the_network_does_not_observe_expires_with_its_windows():
    portal = portal_with(0.0)
    made = portal.post("/userrequests/", changed(EXAMPLE, ipp_value=1.5)).json()
    portal.mock.advance(3 * 86400)
    assert portal.get(f"/userrequests/{made['id']}/").json()["state"] == "PENDING"
    portal.mock.advance(12 * 86400)
    expired = portal.get(f"/userrequests/{made['id']}/").json()
    assert expired["state"] == "WINDOW_EXPIRED" and expired["requests"][0]["state"] == "WINDOW_EXPIRED"
    # expiry gives back the IPP time the raised priority spent
    ipp = next(a["ipp_time_available"] for a in portal.get("/proposals/LCO2026B-001/").json()["timeallocation_set"]
               if a["instrument_name"] == "1M0-SCICAM-SINISTRO")
    assert ipp == pytest.approx(5.0)
    cancel = portal.post(f"/userrequests/{made['id']}/cancel/")
    assert cancel.status_code == 400 and cancel.json() == {
        "errors": [f"Cannot transition from request state WINDOW_EXPIRED to CANCELED for {made['id']}"]}


def test_a_many_userrequest_completes_with_its_first_observed_request(always):
    portal = Portal(always.mock.fresh(NOW))
    second = {**EXAMPLE["requests"][0], "windows": [{"start": "2026-12-06 00:00:00", "end": "2026-12-20 00:00:00"}]}
    made = portal.post("/userrequests/", {**EXAMPLE, "operator": "MANY",
                                          "requests": [EXAMPLE["requests"][0], second]}).json()
    portal.mock.advance(15 * 86400)
    done = portal.get(f"/userrequests/{made['id']}/").json()
    assert done["state"] == "COMPLETED" and [r["state"] for r in done["requests"]] == ["COMPLETED", "COMPLETED"]


def test_the_same_seed_observes_the_same_requests_at_the_same_times(always):
    def completion() -> str:
        portal = Portal(always.mock.fresh(NOW))
        made = portal.post("/userrequests/", EXAMPLE).json()
        portal.mock.advance(14 * 86400)
        return portal.get(f"/userrequests/{made['id']}/").json()["requests"][0]["completed"]
    assert completion() == completion()
