"""Bookings, their files and their life on the clock, as an operator's server sees them."""
from __future__ import annotations

import pytest

SHA = "0123456789abcdef" * 4
KEY = "clients/client_123/bookings/42/uplink.bin"


def booking(dsn, booking_id, owner="client_123"):
    return next(b for b in dsn.get("/bookings", owner=owner).json()["bookings"] if b["id"] == booking_id)


def files(dsn, booking_id, direction="uplink"):
    return dsn.get(f"/bookings/{booking_id}/{direction}-files").json()["files"]


def test_a_booking_is_created_as_documented(dsn):
    answer = dsn.book(uplinkFile={"key": KEY, "sha256": SHA})
    assert answer.status_code == 201
    body = answer.json()
    assert body["status"] == "success" and body["bookingId"] == body["missionId"]
    assert body["uplinkFile"] == {"id": 1, "missionId": body["bookingId"], "direction": "uplink", "s3Key": KEY,
                                  "sha256": SHA, "status": "pending", "createdAt": "2026-05-05T12:00:00.000Z",
                                  "updatedAt": "2026-05-05T12:00:00.000Z"}
    assert dsn.book(start="2026-05-06T11:00:00Z", end="2026-05-06T11:05:00Z").json()["uplinkFile"] is None
    listed = dsn.get("/bookings").json()["bookings"]
    assert [b["id"] for b in listed] == [2, 1]           # newest first
    first = listed[1]
    assert first["ownerId"] == "client_123" and first["ownerType"] == "api_token"
    assert first["noradId"] == "25544" and first["type"] == "data" and first["status"] == "Pending"
    assert first["requestedAt"] == "2026-05-05T12:00:00.000Z"
    slot = first["slots"][0]
    assert {k: slot[k] for k in ("missionId", "gsId", "start", "end", "status")} == {
        "missionId": 1, "gsId": "1", "start": "2026-05-06T10:00:00.000Z", "end": "2026-05-06T10:10:00.000Z",
        "status": "Pending"}


def test_status_follows_the_clock_and_files_appear_after_the_pass(dsn):
    booking_id = dsn.book(uplinkFile={"key": KEY}).json()["bookingId"]
    moments = [("2026-05-05T12:00:29Z", "Pending", "pending"),
               ("2026-05-05T12:00:59Z", "Pending", "available"),
               ("2026-05-05T12:01:00Z", "Confirmed", "available"),
               ("2026-05-06T10:05:00Z", "Active", "available"),
               ("2026-05-06T10:10:00Z", "Completed", "consumed")]
    for moment, status, uplink in moments:
        dsn.clock(set=moment)
        seen = booking(dsn, booking_id)
        assert seen["status"] == status and seen["slots"][0]["status"] == status, moment
        assert files(dsn, booking_id)[0]["status"] == uplink, moment
    assert files(dsn, booking_id, "downlink") == []
    dsn.clock(set="2026-05-06T10:20:00Z")
    downlink = files(dsn, booking_id, "downlink")
    assert [(f["direction"], f["status"], f["s3Key"]) for f in downlink] == [
        ("downlink", "pending", f"clients/client_123/downlink/booking-{booking_id}/data.bin")]
    dsn.clock(set="2026-05-06T10:21:00Z")
    delivered = files(dsn, booking_id, "downlink")[0]
    assert delivered["status"] == "delivered" and delivered["updatedAt"] == "2026-05-06T10:21:00.000Z"
    assert delivered["createdAt"] == "2026-05-06T10:20:00.000Z" and delivered["sha256"] is None
    assert files(dsn, booking_id, "downlink") == [delivered]          # once, not once per look


def test_a_booking_due_soon_is_confirmed_at_its_start_at_the_latest(dsn):
    booking_id = dsn.book(start="2026-05-05T12:00:30Z", end="2026-05-05T12:05:00Z").json()["bookingId"]
    dsn.clock(set="2026-05-05T12:00:30Z")
    assert booking(dsn, booking_id)["status"] == "Active"


def test_an_uplink_key_outside_the_owners_prefix_fails_verification(dsn):
    booking_id = dsn.book().json()["bookingId"]
    attached = dsn.http.post(f"/orbapi/bookings/{booking_id}/uplink-files", json={"key": "clients/client_456/x.bin"},
                             headers=dsn.auth())
    assert attached.status_code == 201 and attached.json()["uplinkFile"]["status"] == "pending"
    dsn.clock(advance=30)
    failed = files(dsn, booking_id)[0]
    assert failed["status"] == "failed" and "clients/client_123/" in failed["statusReason"]
    assert failed["updatedAt"] == "2026-05-05T12:00:30.000Z"


@pytest.mark.parametrize("upload, field", [
    ({"key": KEY, "sha256": "abc"}, "sha256"),
    ({"key": KEY, "sha256": "g" * 64}, "sha256"),
    ({"key": KEY, "sha256": SHA + "0"}, "sha256"),
    ({"sha256": SHA}, "key"),
    ({"key": ""}, "key"),
    ({"key": "/absolute/path"}, "key"),
])
def test_bad_uplink_metadata_is_400_naming_the_field(dsn, upload, field):
    booking_id = dsn.book().json()["bookingId"]
    answer = dsn.http.post(f"/orbapi/bookings/{booking_id}/uplink-files", json=upload, headers=dsn.auth())
    assert answer.status_code == 400 and answer.json()["error"].startswith(f"{field}:")
    assert files(dsn, booking_id) == []


def test_cancelling_before_the_pass_works_once_and_frees_the_station(dsn):
    booking_id = dsn.book().json()["bookingId"]
    answer = dsn.http.delete(f"/orbapi/bookings/{booking_id}", headers=dsn.auth())
    assert answer.status_code == 200
    assert answer.json() == {"status": "success", "message": "Booking cancelled successfully",
                             "bookingId": booking_id, "missionId": booking_id}
    assert booking(dsn, booking_id)["status"] == "Cancelled"
    again = dsn.http.delete(f"/orbapi/bookings/{booking_id}", headers=dsn.auth())
    assert again.status_code == 409 and "already cancelled" in again.json()["error"]
    assert dsn.book(owner="client_456").status_code == 201               # the slot is free again
    attach = dsn.http.post(f"/orbapi/bookings/{booking_id}/uplink-files", json={"key": KEY}, headers=dsn.auth())
    assert attach.status_code == 409 and "cancelled" in attach.json()["error"]
    dsn.clock(set="2026-05-07T00:00:00Z")
    assert files(dsn, booking_id, "downlink") == []                       # no pass, no data


@pytest.mark.parametrize("moment, state", [("2026-05-06T10:00:00Z", "active"), ("2026-05-06T12:00:00Z", "completed")])
def test_cancelling_once_the_pass_has_started_is_409(dsn, moment, state):
    booking_id = dsn.book().json()["bookingId"]
    dsn.clock(set=moment)
    answer = dsn.http.delete(f"/orbapi/bookings/{booking_id}", headers=dsn.auth())
    assert answer.status_code == 409 and f"is {state}" in answer.json()["error"]
    assert booking(dsn, booking_id)["status"] != "Cancelled"


def test_an_overlapping_slot_on_the_same_station_is_409_and_elsewhere_fine(dsn):
    dsn.book()
    mine = dsn.book(start="2026-05-06T10:05:00Z", end="2026-05-06T10:15:00Z")
    assert mine.status_code == 409 and "your booking 1" in mine.json()["error"]
    theirs = dsn.book(start="2026-05-06T10:09:59Z", end="2026-05-06T10:15:00Z", owner="client_456")
    assert theirs.status_code == 409 and "another booking" in theirs.json()["error"]
    assert "booking 1" not in theirs.json()["error"]                     # nothing about others' bookings leaks
    assert dsn.book(start="2026-05-06T10:10:00Z", end="2026-05-06T10:20:00Z").status_code == 201   # back to back
    assert dsn.book(gs_id="3886").status_code == 201                      # another station
    assert len(dsn.get("/bookings").json()["bookings"]) == 3


@pytest.mark.parametrize("change, field, words", [
    ({"slots": [{"start": "2026-05-05T11:00:00Z", "end": "2026-05-05T11:10:00Z", "gs_id": "1"}]}, "slots[0].start",
     "in the future"),
    ({"slots": [{"start": "2026-05-06T10:10:00Z", "end": "2026-05-06T10:00:00Z", "gs_id": "1"}]}, "slots[0].end",
     "after"),
    ({"slots": [{"start": "2026-05-06T10:00:00Z", "end": "2026-05-08T10:00:00Z", "gs_id": "1"}]}, "slots[0]",
     "24 hours"),
    ({"slots": [{"start": "2026-05-06T10:00:00Z", "end": "2026-05-06T10:10:00Z", "gs_id": "999"}]}, "slots[0].gs_id",
     "no ground station"),
    ({"slots": [{"start": "2026-05-06T10:00:00Z", "end": "2026-05-06T10:10:00Z", "gs_id": "7002"}]}, "slots[0].gs_id",
     "no coordinates"),
    ({"slots": [{"start": "soon", "end": "2026-05-06T10:10:00Z", "gs_id": "1"}]}, "slots[0].start", "date-time"),
    ({"slots": []}, "slots", ""),
    ({"slots": [{"start": "2026-05-06T10:00:00Z", "end": "2026-05-06T10:10:00Z", "gs_id": "1"},
                {"start": "2026-05-06T10:05:00Z", "end": "2026-05-06T10:20:00Z", "gs_id": "1"}]}, "slots[1]",
     "overlaps slots[0]"),
    ({"norad_cat_id": 99999}, "norad_cat_id", "not in the catalog"),
    ({"norad_cat_id": 30776}, "norad_cat_id", "re-entered"),
    ({"type": "voice"}, "type", "not one of"),
    ({"uplinkFile": {"key": KEY, "sha256": "xyz"}}, "uplinkFile.sha256", ""),
])
def test_an_invalid_booking_is_400_naming_the_field_and_writes_nothing(dsn, change, field, words):
    body = {"norad_cat_id": 25544, "type": "data",
            "slots": [{"start": "2026-05-06T10:00:00Z", "end": "2026-05-06T10:10:00Z", "gs_id": "1"}], **change}
    answer = dsn.http.post("/orbapi/bookings", json=body, headers=dsn.auth())
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"].startswith(f"{field}") and words in answer.json()["error"]
    assert dsn.get("/bookings").json() == {"bookings": []}


def test_a_multi_slot_booking_gets_one_downlink_file_per_slot(dsn):
    slots = [{"start": "2026-05-06T10:00:00Z", "end": "2026-05-06T10:10:00Z", "gs_id": "1"},
             {"start": "2026-05-06T11:30:00Z", "end": "2026-05-06T11:40:00Z", "gs_id": "4567"}]
    booking_id = dsn.http.post("/orbapi/bookings", json={"norad_cat_id": 25544, "type": "lora", "slots": slots},
                               headers=dsn.auth()).json()["bookingId"]
    dsn.clock(set="2026-05-06T11:00:00Z")
    assert booking(dsn, booking_id)["status"] == "Confirmed"
    assert [s["status"] for s in booking(dsn, booking_id)["slots"]] == ["Completed", "Confirmed"]
    assert len(files(dsn, booking_id, "downlink")) == 1
    dsn.clock(set="2026-05-06T12:00:00Z")
    keys = [f["s3Key"] for f in files(dsn, booking_id, "downlink")]
    assert keys == [f"clients/client_123/downlink/booking-{booking_id}/slot-1-lora-packets.jsonl",
                    f"clients/client_123/downlink/booking-{booking_id}/slot-2-lora-packets.jsonl"]


def test_station_status_reports_its_heartbeat_and_queue(dsn):
    online = dsn.get("/gs/id/4567/status", owner=None).json()
    assert online["groundStation"] == {"id": "4567", "description": "DSN Sofia Tech Park LoRa and X-band/V-band reflector"}
    assert online["online"] is True and online["status"] == "online" and online["host"] == "4567"
    assert 0 <= online["lastSeenAgeMs"] < 2000 and online["queueDepth"] == 0
    offline = dsn.get("/gs/id/6202/status", owner=None).json()
    assert offline["online"] is False and offline["status"] == "offline"
    dsn.clock(advance=3600)
    later = dsn.get("/gs/id/6202/status", owner=None).json()
    assert later["lastSeenAt"] == offline["lastSeenAt"]
    assert later["lastSeenAgeMs"] == offline["lastSeenAgeMs"] + 3_600_000
    dsn.book(start="2026-05-05T13:30:00Z", end="2026-05-05T13:40:00Z", gs_id="4567")
    assert dsn.get("/gs/id/4567/status", owner=None).json()["queueDepth"] == 1
    never = dsn.get("/gs/id/7001/status", owner=None).json()
    assert (never["online"], never["lastSeenAt"], never["lastSeenAgeMs"]) == (False, None, None)
    dsn.clock(set="2026-05-03T00:00:00Z")                    # before the station fell silent
    assert dsn.get("/gs/id/6202/status", owner=None).json()["lastSeenAgeMs"] >= 0


def test_downlink_file_ids_follow_the_bookings_not_the_order_anyone_looks(dsn):
    first = dsn.book().json()["bookingId"]
    second = dsn.book(start="2026-05-06T11:00:00Z", end="2026-05-06T11:05:00Z").json()["bookingId"]
    attached = dsn.http.post(f"/orbapi/bookings/{second}/uplink-files", json={"key": KEY},
                             headers=dsn.auth()).json()["uplinkFile"]["id"]
    dsn.clock(set="2026-05-06T12:00:00Z")
    later = files(dsn, second, "downlink")[0]["id"]          # the second booking is looked at first
    earlier = files(dsn, first, "downlink")[0]["id"]
    assert earlier < later < attached                        # numbered as the bookings and the upload were made
