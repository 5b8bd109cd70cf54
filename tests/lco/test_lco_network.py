"""Telescope states, availability, blocks, contention and pressure: one simulated network behind them all."""
from __future__ import annotations

from datetime import datetime

from lcodata import EXAMPLE, NOW, Portal, changed
from test_lco_states import always  # noqa: F401 - the module's portal that observes every request


def at(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_telescope_states_cover_the_span_with_merged_clipped_events(portal):
    states = portal.get("/telescope_states/", username=None, start="2026-11-20T17:02:11Z",
                        end="2026-11-22 05:02:11").json()
    assert set(states) >= {"coj.doma.1m0a", "lsc.domc.1m0a", "ogg.clma.2m0a"}
    for events in states.values():
        assert events[0]["start"] == "2026-11-20T17:02:11Z" and events[-1]["end"] == "2026-11-22T05:02:11Z"
        assert all(a["end"] == b["start"] and (a["event_type"], a["event_reason"]) != (b["event_type"], b["event_reason"])
                   for a, b in zip(events, events[1:]))
    kinds = {e["event_type"] for events in states.values() for e in events}
    assert "AVAILABLE" in kinds
    only = portal.get("/telescope_states/", username=None, site="coj", telescope="1m0a").json()
    assert set(only) == {"coj.doma.1m0a", "coj.domb.1m0a"}
    bad = portal.get("/telescope_states/", username=None, start="nonsense")
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("text/plain")


def test_availability_is_a_share_of_each_night_and_combines_by_site_and_class(portal):
    nightly = portal.get("/telescope_availability/", username=None, start="2026-11-10", end="2026-11-20").json()
    shares = [share for entries in nightly.values() for _, share in entries]
    assert shares and all(0 <= s <= 1 for s in shares) and min(shares) < 1 < 2 * max(shares)
    combined = portal.get("/telescope_availability/", username=None, combine="true").json()
    assert "lsc.1m0" in combined and "coj.2m0" in combined


def test_an_observed_request_has_a_block_on_an_available_telescope(always):  # noqa: F811
    portal = Portal(always.mock.fresh(NOW))
    request = portal.post("/userrequests/", EXAMPLE).json()["requests"][0]
    [block] = portal.get(f"/requests/{request['id']}/blocks/").json()
    assert block["status"] == "SCHEDULED" and not block["completed"]
    telescope = f"{block['site']}.{block['observatory']}.{block['telescope']}"
    events = portal.get("/telescope_states/", username=None, start=block["start"].replace("T", " ").rstrip("Z"),
                        end=block["end"].replace("T", " ").rstrip("Z")).json()[telescope]
    assert [e["event_type"] for e in events] == ["AVAILABLE"]
    portal.mock.advance(at(block["end"]) - at(NOW) + 1)
    [done] = portal.get(f"/requests/{request['id']}/blocks/").json()
    assert done["status"] == "COMPLETED" and done["completed"] and done["percent_completed"] == 100.0
    states = portal.get(f"/requests/{request['id']}/telescope_states/").json()
    assert telescope in states


def test_contention_and_pressure_count_the_pending_requests_of_the_next_day(portal):
    assert portal.post("/userrequests/", EXAMPLE).status_code == 201
    other = changed(EXAMPLE, requests__0__target__ra=30.0, requests__0__target__dec=-10.0)
    assert portal.post("/userrequests/", other).status_code == 201
    contention = portal.get("/contention/1M0-SCICAM-SINISTRO/", username=None).json()
    data = contention["contention_data"]
    assert len(data) == 24 and data[5] == {"All Proposals": 242} and data[2] == {"All Proposals": 242}
    assert portal.get("/contention/0M4-SCICAM-SBIG/", username=None).json()["contention_data"][5] == {
        "All Proposals": 0}
    pressure = portal.get("/pressure/", username=None, site="lsc", instrument="1M0-SCICAM-SINISTRO").json()
    assert len(pressure["time_bins"]) == 96 and pressure["site"] == "lsc"
    assert pressure["site_nights"][0]["name"] == "lsc" and 0 < pressure["site_nights"][0]["start"] < 3
    assert sum(b["All Proposals"] for b in pressure["pressure_data"]) > 0
    everywhere = portal.get("/pressure/", username=None).json()
    assert everywhere["instrument_name"] == "all" and everywhere["site"] == "all"
