"""The public catalog: real satellites and element sets, stations, transmitters, paging and search."""
from __future__ import annotations

import pytest

from mockserver.astro.tle import parse_element_set


def page(dsn, path, **params):
    answer = dsn.get(path, owner=None, **params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def everything(dsn, path):
    first = page(dsn, path, limit=100)
    items = first["data"]
    while len(items) < first["total"]:
        items += page(dsn, path, start=len(items), limit=100)["data"]
    return items


def test_the_catalog_holds_the_iss_and_thirty_more_alive_and_dead(dsn):
    satellites = everything(dsn, "/satellites")
    by_id = {s["norad_cat_id"]: s for s in satellites}
    assert by_id[25544]["name"] == "ISS" and by_id[25544]["status"] == "alive"
    assert len(satellites) >= 31
    assert {s["status"] for s in satellites} >= {"alive", "dead", "re-entered"}
    assert all(s["sat_id"][4] == "-" and len(s["sat_id"]) == 24 for s in satellites)


def test_every_element_set_is_valid_dated_to_the_sandbox_day_and_matches_its_satellite(dsn):
    tles = everything(dsn, "/tles")
    assert len(tles) >= 31
    for record in tles:
        element_set = parse_element_set(record["tle0"], record["tle1"], record["tle2"])    # checksums, columns
        assert int(element_set.satrec().satnum) == record["id"]
        assert "2026-05-03" <= element_set.epoch.isoformat()[:10] <= "2026-05-05"
        assert record["updated"] == "2026-05-05T00:00:00.000Z"


def test_the_catalog_is_redated_when_the_clock_moves_far(dsn):
    before = page(dsn, "/tles/id/25544")["data"][0]
    dsn.clock(advance=86_400)
    assert page(dsn, "/tles/id/25544")["data"][0] == before      # a day later: the same set
    dsn.clock(set="2027-01-10T00:00:00Z")
    after = page(dsn, "/tles/id/25544")["data"][0]
    assert after["tle2"] == before["tle2"] and after["tle1"][18:32] != before["tle1"][18:32]
    assert parse_element_set("ISS", after["tle1"], after["tle2"]).epoch.year == 2027


def test_start_and_limit_page_through_everything_once(dsn):
    first = page(dsn, "/satellites", start=0, limit=7)
    assert len(first["data"]) == 7
    ids = [s["norad_cat_id"] for s in everything(dsn, "/satellites")]
    assert len(ids) == len(set(ids)) == first["total"]
    assert page(dsn, "/satellites", start=first["total"], limit=5) == {"data": [], "total": first["total"]}
    assert page(dsn, "/satellites")["data"] == page(dsn, "/satellites", start=0, limit=20)["data"]


@pytest.mark.parametrize("params, field", [({"limit": 0}, "limit"), ({"limit": 101}, "limit"),
                                           ({"start": -1}, "start"), ({"limit": "ten"}, "limit")])
def test_a_bad_page_is_400_naming_the_parameter(dsn, params, field):
    answer = dsn.get("/satellites", owner=None, **params)
    assert answer.status_code == 400 and answer.json()["error"].startswith(f"{field}: ")


def test_lookups_by_id_answer_one_item_or_404(dsn):
    assert page(dsn, "/satellites/id/25544") == {"data": [page(dsn, "/satellites/id/25544")["data"][0]], "total": 1}
    assert dsn.get("/satellites/id/99999", owner=None).status_code == 404
    gone = dsn.get("/tles/id/30776", owner=None)
    assert gone.status_code == 404 and "re-entered" in gone.json()["error"]
    assert page(dsn, "/gs/id/3886")["data"][0] == {"id": "3886", "description": "DSN Stob W1AW 2m dish and 70GHz V-band",
                                                   "latitude": 42.09963, "longitude": 23.106661, "altitude": 472,
                                                   "min_horizon": 5}
    assert dsn.get("/gs/id/nope", owner=None).json() == {"error": "Ground station nope not found"}


def test_name_and_description_searches_ignore_case(dsn):
    found = page(dsn, "/satellites/name/iSs")["data"]       # ISS, and SwissCube
    assert 25544 in [s["norad_cat_id"] for s in found]
    assert all("iss" in (s["name"] + s["names"]).casefold() for s in found)
    assert 25544 in [t["id"] for t in page(dsn, "/tles/name/zarya")["data"]]
    sofia = page(dsn, "/gs/description/SOFIA")
    assert [s["id"] for s in sofia["data"]] == ["4567"] and sofia["total"] == 1
    assert page(dsn, "/satellites/name/no such satellite") == {"data": [], "total": 0}


def test_transmitters_link_satellites_stations_and_modes(dsn):
    iss = page(dsn, "/transmitters/id/25544", limit=100)["data"]
    assert iss and all(t["norad_cat_id"] == 25544 and t["gs_id"] is None for t in iss)
    assert all(len(t["uuid"]) == 22 for t in everything(dsn, "/transmitters"))
    lora = page(dsn, "/transmitters/mode/lora", limit=100)["data"]
    assert lora == page(dsn, "/transmitters/mode/89", limit=100)["data"]
    assert {t["mode"] for t in lora} == {"LoRa"} and any(t["gs_id"] for t in lora) and any(t["norad_cat_id"] for t in lora)
    stob = page(dsn, "/transmitters/gs/3886/mode/LoRa")["data"]
    assert stob == [page(dsn, "/transmitters/uuid/ZzPz4gcsNBPKPKAFPmer7g")["data"][0]]
    assert stob[0]["description"] == "DSN Stob LoRa(868MHz) band" and stob[0]["mode_id"] == 89
    fm = page(dsn, "/transmitters/id/25544/mode/FM")["data"]
    assert fm and all(t["mode"] == "FM" for t in fm)
    assert dsn.get("/transmitters/mode/warp", owner=None).status_code == 404
    assert dsn.get("/transmitters/gs/nope", owner=None).status_code == 404
    assert dsn.get("/transmitters/id/99999/mode/fm", owner=None).status_code == 404
    assert dsn.get("/transmitters/uuid/nope", owner=None).status_code == 404
