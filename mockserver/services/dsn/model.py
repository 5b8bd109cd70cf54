"""DSN orbapi: every rule of the service, without HTTP.

- pass search: sgp4 passes of one satellite (catalog or raw TLE) over the stations;
- bookings: validated slots, no two live bookings on one station at once, status
  moving with the clock (Pending -> Confirmed -> Active -> Completed, or Cancelled);
- files: uplink metadata verified against the owner's prefix, downlink files
  appearing after each slot;
- mission profiles: arbitrary JSON per satellite and owner;
- reference data lookups (catalog.py holds the data).

Objects belong to the token's owner; anyone else is told they do not exist.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from ...astro.passes import find_passes
from ...astro.tle import ElementSet, TLEError, parse_element_set
from ...core.auth import Credential
from ...core.clock import iso_ms, parse_instant
from ...core.errors import ApiError, invalid
from ...core.service import Sandbox, note_created
from .catalog import Catalog, Station

SCOPE_PASSES, SCOPE_BOOK, SCOPE_CANCEL, SCOPE_PROFILES = (
    "passes:read", "bookings:create", "bookings:cancel", "mission-profile:create")
ALL_SCOPES = [SCOPE_PASSES, SCOPE_BOOK, SCOPE_CANCEL, SCOPE_PROFILES]
SERVICE_ROLE = "service"

MAX_DAYS = 14
CONFIRM_AFTER = timedelta(minutes=1)
VERIFY_AFTER = timedelta(seconds=30)
DOWNLINK_AFTER = timedelta(minutes=10)
DELIVERED_AFTER = timedelta(minutes=11)
MAX_SLOT = timedelta(hours=24)
CATALOG_REFRESH = timedelta(days=3)
SHA256 = re.compile(r"[0-9a-fA-F]{64}")
DOWNLINK_NAME = {"data": "data.bin", "lora": "lora-packets.jsonl"}


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found or not visible to this API token")


def _time(value: Any, field: str) -> datetime:
    if not isinstance(value, str):
        raise invalid(field, "must be an ISO 8601 date-time string such as 2026-05-06T10:00:00Z", value)
    try:
        return parse_instant(value)
    except (ValueError, OverflowError):
        raise invalid(field, f"{value!r} is not an ISO 8601 date-time such as 2026-05-06T10:00:00Z", value) from None


def _times(seconds: np.ndarray) -> list[str]:
    """Unix seconds as ISO 8601 strings with milliseconds, all at once."""
    stamps = np.round(np.asarray(seconds) * 1000).astype("datetime64[ms]")
    return [text + "Z" for text in np.datetime_as_string(stamps, unit="ms").tolist()]


class DsnModel:
    def __init__(self, sandbox: Sandbox) -> None:
        self.box = sandbox
        self._catalog = Catalog(sandbox.clock.now(), sandbox.settings.seed)
        self.bookings = sandbox.store.collection("bookings")
        self.files = sandbox.store.collection("files")
        self.profiles = sandbox.store.collection("profiles")

    def _next(self, kind: str) -> int:
        return self.box.store.next_id(kind)

    def now(self) -> datetime:
        return self.box.clock.now()

    @property
    def catalog(self) -> Catalog:
        """The reference data, its element sets re-dated when the clock has moved days away from them
        (as a real catalog is refreshed), so that passes are always computed from a current TLE."""
        now = self.now()
        if abs(now - self._catalog.catalog_epoch) > CATALOG_REFRESH:
            self._catalog = Catalog(now, self.box.settings.seed)
        return self._catalog

    # --- pass search ------------------------------------------------------------------------
    def search_passes(self, body: dict[str, Any]) -> dict[str, Any]:
        element_set, name = self._element_set(body)
        now = self.now()
        start = _time(body["start"], "start") if body.get("start") is not None else now
        days = body.get("days", 7)
        if body.get("end") is not None:
            end = _time(body["end"], "end")
            if end <= start:
                raise invalid("end", "must be after start", body["end"])
            end = min(end, start + timedelta(days=MAX_DAYS))
        else:
            end = start + timedelta(days=days)
        stations = self._search_stations(body.get("groundStationIds"))
        mask = float(body.get("minElevationDeg", 10))
        step = int(body.get("stepSeconds", 60))
        satrec = element_set.satrec()
        found = find_passes(satrec, [s.site() for s in stations], start.timestamp(),
                            end.timestamp(), mask, step)
        passes = []
        for p in found:
            times = _times(np.array([p.rise, p.set, p.aos, p.los, p.max_elevation_time]))
            track = [{"azimuth": round(az, 2), "elevation": round(el, 2), "time": at} for az, el, at in
                     zip(p.track_azimuth.tolist(), p.track_elevation.tolist(), _times(p.track_times))]
            passes.append({"groundStationId": p.station_id, "rise_time": times[0], "set_time": times[1],
                           "aos": times[2], "los": times[3], "aos_azimuth": round(p.aos_azimuth, 2),
                           "los_azimuth": round(p.los_azimuth, 2), "max_elevation": round(p.max_elevation, 2),
                           "max_elevation_time": times[4], "slant_range_km": round(p.slant_range_km, 1),
                           "duration_seconds": round(p.los - p.aos, 1), "polar_track": track})
        return {"satellite": {"noradId": satrec.satnum, "name": name,
                              "tle": {"name": name, "line1": element_set.line1, "line2": element_set.line2}},
                "groundStations": [s.as_json() for s in stations], "passes": passes, "total": len(passes),
                "start": iso_ms(start), "end": iso_ms(end), "minElevationDeg": mask, "stepSeconds": step,
                "generated_at": iso_ms(now)}

    def _element_set(self, body: dict[str, Any]) -> tuple[ElementSet, str | None]:
        norad_id, tle = body.get("noradId"), body.get("tle")
        if norad_id is None and tle is None:
            raise invalid("noradId", "give noradId (a NORAD catalog number) or tle ({name, line1, line2})")
        if tle is not None:
            if not isinstance(tle, dict) or not isinstance(tle.get("line1"), str) or not isinstance(tle.get("line2"), str):
                raise invalid("tle", "must be an object with string fields line1 and line2 (and an optional name)")
            name = tle.get("name") if isinstance(tle.get("name"), str) else None
            try:
                element_set = parse_element_set(name or "", tle["line1"], tle["line2"])
            except TLEError as exc:
                raise invalid("tle", str(exc)) from None
            satnum = element_set.satrec().satnum
            if norad_id is not None and satnum != norad_id:
                raise invalid("noradId", f"{norad_id} does not match the TLE's catalog number {satnum}", norad_id)
            return element_set, name or (self.catalog.satellite(satnum) or {}).get("name")
        satellite = self.catalog.satellite(norad_id)
        if satellite is None:
            raise invalid("noradId", f"satellite {norad_id} is not in the catalog; search with a tle instead", norad_id)
        if norad_id not in self.catalog.element_sets:
            raise invalid("noradId", f"satellite {norad_id} ({satellite['name']}) re-entered on "
                                     f"{satellite['decayed']} and has no current TLE", norad_id)
        return self.catalog.element_sets[norad_id], satellite["name"]

    def _search_stations(self, ids: list[str] | None) -> list[Station]:
        if ids is None:
            return [s for s in self.catalog.stations if s.located]
        stations = []
        for station_id in ids:
            station = self.catalog.station(station_id)
            if station is None:
                raise invalid("groundStationIds", f"there is no ground station {station_id!r}", station_id)
            if not station.located:
                raise invalid("groundStationIds", f"ground station {station_id!r} has no coordinates yet, "
                                                  "so it has no passes", station_id)
            stations.append(station)
        return stations

    # --- bookings -------------------------------------------------------------------------------
    def create_booking(self, who: Credential, body: dict[str, Any]) -> dict[str, Any]:
        norad_id = body["norad_cat_id"]
        satellite = self.catalog.satellite(norad_id)
        if satellite is None:
            raise invalid("norad_cat_id", f"satellite {norad_id} is not in the catalog", norad_id)
        if norad_id not in self.catalog.element_sets:
            raise invalid("norad_cat_id", f"satellite {norad_id} ({satellite['name']}) has re-entered", norad_id)
        now = self.now()
        slots = [self._slot(i, raw, now) for i, raw in enumerate(body["slots"])]
        for i, (start, end, station) in enumerate(slots):
            for j, (other_start, other_end, other_station) in enumerate(slots[:i]):
                if station == other_station and start < other_end and other_start < end:
                    raise invalid(f"slots[{i}]", f"overlaps slots[{j}] on ground station {station!r}")
        upload = body.get("uplinkFile")
        if upload is not None:
            self._check_upload(upload, "uplinkFile.")
        with self.box.store.transaction():
            for i, (start, end, station) in enumerate(slots):
                self._refuse_overlap(i, start, end, station, who.owner)
            booking_id = self._next("booking")
            booking = {"id": booking_id, "owner": who.owner, "ownerType": "api_token", "noradId": str(norad_id),
                       "type": body["type"], "requestedAt": iso_ms(now), "cancelledAt": None,
                       "slots": [{"id": self._next("slot"), "gsId": station, "start": iso_ms(start),
                                  "end": iso_ms(end)} for start, end, station in slots]}
            self.bookings.put(str(booking_id), booking)
            self._index_slots(booking, add=True)
            file = self._attach(booking, upload, now) if upload is not None else None
            self._plan_downlinks(booking)
        note_created("booking", body)
        return {"status": "success", "bookingId": booking_id, "missionId": booking_id, "uplinkFile": file}

    def _slot(self, index: int, raw: dict[str, Any], now: datetime) -> tuple[datetime, datetime, str]:
        where = f"slots[{index}]"
        start, end = _time(raw["start"], f"{where}.start"), _time(raw["end"], f"{where}.end")
        if end <= start:
            raise invalid(f"{where}.end", "must be after the slot's start", raw["end"])
        if start <= now:
            raise invalid(f"{where}.start", f"must be in the future (the service's clock says {iso_ms(now)})",
                          raw["start"])
        if end - start > MAX_SLOT:
            raise invalid(where, "a slot may last at most 24 hours")
        station = self.catalog.station(raw["gs_id"])
        if station is None:
            raise invalid(f"{where}.gs_id", f"there is no ground station {raw['gs_id']!r}", raw["gs_id"])
        if not station.located:
            raise invalid(f"{where}.gs_id", f"ground station {raw['gs_id']!r} has no coordinates yet and "
                                            "cannot track satellites", raw["gs_id"])
        return start, end, station.id

    def _station_days(self, station: str, start: datetime, end: datetime) -> list[Any]:
        """The index of booked slots by ground station and UTC day: a new slot is checked against the
        slots of its own station and days only, so booking stays quick however many bookings there are."""
        first, last = start.date(), end.date()      # a slot may run past midnight
        return [self.box.store.collection(f"slots:{station}:{first + timedelta(days=d)}")
                for d in range((last - first).days + 1)]

    def _index_slots(self, booking: dict[str, Any], add: bool) -> None:
        for slot in booking["slots"]:
            for day in self._station_days(slot["gsId"], parse_instant(slot["start"]), parse_instant(slot["end"])):
                if add:
                    day.put(str(slot["id"]), {**slot, "bookingId": booking["id"], "owner": booking["owner"]})
                else:
                    day.delete(str(slot["id"]))

    def _refuse_overlap(self, index: int, start: datetime, end: datetime, station: str, owner: str) -> None:
        for day in self._station_days(station, start, end):
            for slot in day.values():
                taken_start, taken_end = parse_instant(slot["start"]), parse_instant(slot["end"])
                if start < taken_end and taken_start < end:
                    whose = f"your booking {slot['bookingId']}" if slot["owner"] == owner else "another booking"
                    raise ApiError(409, f"slots[{index}] overlaps {whose} on ground station {station!r}, "
                                        f"which holds it from {slot['start']} to {slot['end']}",
                                   field=f"slots[{index}]")

    def list_bookings(self, who: Credential) -> dict[str, Any]:
        mine = [b for b in self.bookings.values() if b["owner"] == who.owner]
        mine.sort(key=lambda b: b["id"], reverse=True)
        return {"bookings": [self._booking_view(b) for b in mine]}

    def _owned_booking(self, who: Credential, booking_id: int) -> dict[str, Any]:
        booking = self.bookings.get(str(booking_id))
        if booking is None or booking["owner"] != who.owner:
            raise not_found(f"Booking {booking_id}")
        return booking

    def _slot_status(self, booking: dict[str, Any], slot: dict[str, Any], now: datetime) -> str:
        if booking["cancelledAt"] is not None:
            return "Cancelled"
        start, end = parse_instant(slot["start"]), parse_instant(slot["end"])
        if now >= end:
            return "Completed"
        if now >= start:
            return "Active"
        if now >= min(parse_instant(booking["requestedAt"]) + CONFIRM_AFTER, start):
            return "Confirmed"
        return "Pending"

    def _booking_status(self, slot_states: list[str]) -> str:
        for state in ("Cancelled", "Active", "Pending"):
            if state in slot_states:
                return state
        return "Completed" if all(s == "Completed" for s in slot_states) else "Confirmed"

    def _booking_view(self, booking: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        slots = [{"id": s["id"], "missionId": booking["id"], "gsId": s["gsId"], "start": s["start"], "end": s["end"],
                  "status": self._slot_status(booking, s, now)} for s in booking["slots"]]
        return {"id": booking["id"], "bookingId": booking["id"], "missionId": booking["id"],
                "ownerId": booking["owner"], "ownerType": booking["ownerType"], "noradId": booking["noradId"],
                "type": booking["type"], "status": self._booking_status([s["status"] for s in slots]),
                "requestedAt": booking["requestedAt"], "cancelledAt": booking["cancelledAt"], "slots": slots}

    def cancel_booking(self, who: Credential, booking_id: int) -> dict[str, Any]:
        with self.box.store.transaction():
            booking = self._owned_booking(who, booking_id)
            if booking["cancelledAt"] is not None:
                raise ApiError(409, f"Booking {booking_id} is already cancelled (at {booking['cancelledAt']})")
            now = self.now()
            first = min(parse_instant(s["start"]) for s in booking["slots"])
            if now >= first:
                state = self._booking_view(booking)["status"]
                raise ApiError(409, f"Booking {booking_id} is {state.lower()}: its first slot started at "
                                    f"{iso_ms(first)}, and a booking can only be cancelled before its pass")
            booking["cancelledAt"] = iso_ms(now)
            self.bookings.put(str(booking_id), booking)
            self._index_slots(booking, add=False)        # its slots are free again
            for record in self.files.values():          # no pass, no data
                if record["bookingId"] == booking_id and record["direction"] == "downlink":
                    self.files.delete(str(record["id"]))
        return {"status": "success", "message": "Booking cancelled successfully", "bookingId": booking_id,
                "missionId": booking_id}

    # --- files ----------------------------------------------------------------------------------
    @staticmethod
    def _check_upload(upload: dict[str, Any], prefix: str = "") -> None:
        key = upload.get("key")
        if not isinstance(key, str) or not key.strip():
            raise invalid(f"{prefix}key", "is required: the object's key in the DSN S3 bucket")
        if len(key) > 1024 or key.startswith("/") or "\\" in key or any(ord(c) < 32 for c in key):
            raise invalid(f"{prefix}key", "must be an S3 object key: at most 1024 characters, no leading '/', "
                                          "no backslashes or control characters", key)
        sha = upload.get("sha256")
        if sha is not None and (not isinstance(sha, str) or not SHA256.fullmatch(sha)):
            raise invalid(f"{prefix}sha256", "must be exactly 64 hexadecimal characters", sha)

    def _attach(self, booking: dict[str, Any], upload: dict[str, Any], now: datetime) -> dict[str, Any]:
        record = {"id": self._next("file"), "bookingId": booking["id"], "direction": "uplink",
                  "s3Key": upload["key"], "sha256": upload.get("sha256"), "createdAt": iso_ms(now)}
        self.files.put(str(record["id"]), record)
        return self._file_view(booking, record, now)

    def attach_uplink(self, who: Credential, booking_id: int, upload: dict[str, Any]) -> dict[str, Any]:
        self._check_upload(upload)
        with self.box.store.transaction():
            booking = self._owned_booking(who, booking_id)
            state = self._booking_view(booking)["status"]
            if state in ("Cancelled", "Completed"):
                raise ApiError(409, f"Booking {booking_id} is {state.lower()}; uplink files can only be attached "
                                    "to a booking whose pass is still ahead")
            file = self._attach(booking, upload, self.now())
        return {"status": "success", "bookingId": booking_id, "missionId": booking_id, "uplinkFile": file}

    def _file_view(self, booking: dict[str, Any], record: dict[str, Any], now: datetime) -> dict[str, Any]:
        created = parse_instant(record["createdAt"])
        view = {"id": record["id"], "missionId": booking["id"], "direction": record["direction"],
                "s3Key": record["s3Key"], "sha256": record["sha256"]}
        if record["direction"] == "downlink":
            delivered = created - DOWNLINK_AFTER + DELIVERED_AFTER
            status, updated = ("delivered", delivered) if now >= delivered else ("pending", created)
        else:
            status, updated = "pending", created
            verified = created + VERIFY_AFTER
            prefix = f"clients/{booking['owner']}/"
            if now >= verified:
                if not record["s3Key"].startswith(prefix):
                    status, updated = "failed", verified
                    view["statusReason"] = f"the key is outside this owner's prefix {prefix}"
                else:
                    status, updated = "available", verified
                    # used by the first pass that ends after the file was verified
                    ends = [parse_instant(s["end"]) for s in booking["slots"] if parse_instant(s["end"]) > verified]
                    if booking["cancelledAt"] is None and ends and now >= min(ends):
                        status, updated = "consumed", min(ends)
        view.update(status=status, createdAt=record["createdAt"], updatedAt=iso_ms(updated))
        return view

    def list_files(self, who: Credential, booking_id: int, direction: str) -> dict[str, Any]:
        booking = self._owned_booking(who, booking_id)
        now = self.now()
        files = [f for f in self.files.values() if f["bookingId"] == booking_id and f["direction"] == direction
                 and parse_instant(f["createdAt"]) <= now]
        files.sort(key=lambda f: (f["createdAt"], f["id"]))          # oldest first
        return {"bookingId": booking_id, "missionId": booking_id,
                "files": [self._file_view(booking, f, now) for f in files]}

    def _plan_downlinks(self, booking: dict[str, Any]) -> None:
        """Each slot's downlink file, numbered when the booking is made and listed from ten minutes
        after the slot ends (its createdAt), so ids do not depend on when anyone looks."""
        name = DOWNLINK_NAME[booking["type"]]
        for n, slot in enumerate(booking["slots"]):
            key = f"clients/{booking['owner']}/downlink/booking-{booking['id']}/" + (
                name if len(booking["slots"]) == 1 else f"slot-{n + 1}-{name}")
            ready = parse_instant(slot["end"]) + DOWNLINK_AFTER
            record = {"id": self._next("file"), "bookingId": booking["id"], "slotId": slot["id"],
                      "direction": "downlink", "s3Key": key, "sha256": None, "createdAt": iso_ms(ready)}
            self.files.put(str(record["id"]), record)

    # --- mission profiles -----------------------------------------------------------------------
    def create_profile(self, who: Credential, norad_id: int, body: dict[str, Any]) -> dict[str, Any]:
        if self.catalog.satellite(norad_id) is None:
            raise ApiError(404, f"Satellite {norad_id} not found")
        name = body.get("name")
        if name is not None and (not isinstance(name, str) or len(name) > 200):
            raise invalid("name", "must be a string of at most 200 characters", name)
        profile = body["profile"] if "profile" in body else body
        now = iso_ms(self.now())
        with self.box.store.transaction():
            record = {"id": self._next("profile"), "satelliteNoradId": norad_id, "name": name, "profile": profile,
                      "createdBy": who.owner, "createdByType": SERVICE_ROLE if SERVICE_ROLE in who.roles
                      else "api_client", "createdAt": now, "updatedAt": now}
            self.profiles.put(str(record["id"]), record)
        return {"status": "success", "profile": record}

    def _visible(self, who: Credential, profile: dict[str, Any]) -> bool:
        return profile["createdBy"] == who.owner or SERVICE_ROLE in who.roles

    def list_profiles(self, who: Credential, norad_id: int) -> dict[str, Any]:
        if self.catalog.satellite(norad_id) is None:
            raise ApiError(404, f"Satellite {norad_id} not found")
        found = [p for p in self.profiles.values() if p["satelliteNoradId"] == norad_id and self._visible(who, p)]
        return {"noradId": norad_id, "profiles": sorted(found, key=lambda p: p["id"])}

    def get_profile(self, who: Credential, profile_id: int) -> dict[str, Any]:
        profile = self.profiles.get(str(profile_id))
        if profile is None or not self._visible(who, profile):
            raise not_found(f"Mission profile {profile_id}")
        return {"profile": profile}

    def delete_profile(self, who: Credential, profile_id: int) -> dict[str, Any]:
        with self.box.store.transaction():
            self.get_profile(who, profile_id)
            self.profiles.delete(str(profile_id))
        return {"status": "success", "message": "Mission profile deleted successfully", "profileId": profile_id}

    # --- ground-station status --------------------------------------------------------------------
    def station_status(self, station: Station) -> dict[str, Any]:
        now = self.now()
        last, online = self.catalog.heartbeat(station, now)
        soon = now + timedelta(hours=1)
        queued = sum(1 for b in self.bookings.values() if b["cancelledAt"] is None
                     for s in b["slots"] if s["gsId"] == station.id and now <= parse_instant(s["start"]) <= soon)
        return {"groundStation": {"id": station.id, "description": station.description}, "host": station.id,
                "online": online, "status": "online" if online else "offline",
                "lastSeenAt": iso_ms(last) if last else None,
                "lastSeenAgeMs": round((now - last).total_seconds() * 1000) if last else None, "queueDepth": queued}
