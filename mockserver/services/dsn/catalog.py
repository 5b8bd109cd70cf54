"""The DSN's public reference data: satellites, element sets, ground stations, transmitters.

Satellites, their transmitters and the element sets come from a real snapshot
(see data/dsn_catalog.json). So that predicted passes fall in the sandbox's
present, every element set is re-dated: the snapshot's epochs are shifted
together so that the newest lands at midnight UTC of the day the sandbox's
clock starts, with the orbital elements untouched and the checksum redone.

Ground stations (data/dsn_stations.json) report a heartbeat: an online station
polls the command broker every few seconds of the virtual clock; an offline one
was last heard from some hours before the sandbox started.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from ...astro.passes import GroundSite
from ...astro.tle import ElementSet, checksum, parse_element_set
from ...core.clock import iso_ms
from ...data import load

BASE57 = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
ONLINE_WITHIN_S = 60.0          # a station heard from within this is online
LORA_MODE_ID = 89


def short_uuid(*parts: str) -> str:
    """A deterministic 22-character base57 id, the form SatNOGS gives transmitters."""
    number = int.from_bytes(hashlib.sha256(":".join(parts).encode()).digest(), "big")
    chars = []
    for _ in range(22):
        number, digit = divmod(number, 57)
        chars.append(BASE57[digit])
    return "".join(chars)


def redate(line1: str, line2: str, epoch: datetime) -> tuple[str, str]:
    """The same element set with its epoch field (line 1, columns 19-32) set to ``epoch``."""
    start = datetime(epoch.year, 1, 1, tzinfo=timezone.utc)
    day = (epoch - start).total_seconds() / 86_400 + 1
    field = f"{epoch.year % 100:02d}{day:012.8f}"
    body = line1[:18] + field + line1[32:68]
    return body + str(checksum(body)), line2


@dataclass(frozen=True)
class Station:
    id: str
    description: str
    latitude: float | None
    longitude: float | None
    altitude: float | None
    min_horizon: float | None
    heartbeat_s: float | None       # None: the station has never polled the broker
    offline_hours: float | None
    transmitters: tuple[str, ...] = ()

    @property
    def located(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    def site(self) -> GroundSite:
        return GroundSite(self.id, float(self.latitude or 0), float(self.longitude or 0), float(self.altitude or 0))

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "description": self.description, "latitude": self.latitude,
                "longitude": self.longitude, "altitude": self.altitude, "min_horizon": self.min_horizon}


class Catalog:
    """Reference data of one sandbox, with its element sets dated to the sandbox's start."""

    def __init__(self, start: datetime, seed: int) -> None:
        data = load("dsn_catalog.json")
        self.seed = seed
        self.started = start
        self.modes: list[dict[str, Any]] = data["modes"]
        self.satellites: list[dict[str, Any]] = [self._satellite(s) for s in data["satellites"]]
        self._by_norad = {s["norad_cat_id"]: s for s in self.satellites}
        raw = [s for s in data["satellites"] if s["tle"]]
        newest = max(parse_element_set(s["tle"]["tle0"], s["tle"]["tle1"], s["tle"]["tle2"]).epoch for s in raw)
        shift = datetime(start.year, start.month, start.day, tzinfo=timezone.utc) - newest
        self.catalog_epoch = newest + shift
        self.element_sets: dict[int, ElementSet] = {}
        self.tles: list[dict[str, Any]] = []
        for sat in raw:
            original = parse_element_set(sat["tle"]["tle0"], sat["tle"]["tle1"], sat["tle"]["tle2"])
            line1, line2 = redate(original.line1, original.line2, original.epoch + shift)
            element_set = parse_element_set(sat["tle"]["tle0"], line1, line2)
            self.element_sets[sat["norad_cat_id"]] = element_set
            self.tles.append({"id": sat["norad_cat_id"], "name": sat["name"], "tle0": sat["tle"]["tle0"],
                              "tle1": line1, "tle2": line2, "tle_source": sat["tle"].get("source", "CelesTrak"),
                              "updated": iso_ms(self.catalog_epoch)})
        self.stations = [Station(**{**s, "transmitters": tuple(s["transmitters"])})
                         for s in load("dsn_stations.json")["stations"]]
        self._station = {s.id: s for s in self.stations}
        self.transmitters = [self._transmitter(t) for t in data["transmitters"]] + self._station_transmitters()

    # --- satellites and element sets -------------------------------------------------------
    @staticmethod
    def _satellite(raw: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in raw.items() if key != "tle"}

    def satellite(self, norad_id: int) -> dict[str, Any] | None:
        return self._by_norad.get(norad_id)

    def find_satellites(self, text: str) -> list[dict[str, Any]]:
        needle = text.casefold()
        return [s for s in self.satellites if needle in s["name"].casefold() or needle in (s["names"] or "").casefold()]

    def tle(self, norad_id: int) -> dict[str, Any] | None:
        return next((t for t in self.tles if t["id"] == norad_id), None)

    def find_tles(self, text: str) -> list[dict[str, Any]]:
        needle = text.casefold()
        return [t for t in self.tles if needle in t["name"].casefold() or needle in t["tle0"].casefold()]

    # --- ground stations -----------------------------------------------------------------------
    def station(self, station_id: str) -> Station | None:
        return self._station.get(station_id)

    def find_stations(self, text: str) -> list[Station]:
        needle = text.casefold()
        return [s for s in self.stations if needle in s.description.casefold()]

    def heartbeat(self, station: Station, now: datetime) -> tuple[datetime | None, bool]:
        """When the station last polled the broker (None: never), and whether that makes it online."""
        if station.heartbeat_s is None:
            return None, False
        if station.offline_hours is not None:
            # silent since some hours before the sandbox started (never later than the clock's now)
            last = min(self.started - timedelta(hours=station.offline_hours), now)
        else:
            period = station.heartbeat_s
            phase = int(hashlib.sha256(f"{self.seed}:{station.id}".encode()).hexdigest(), 16) % 1000 / 1000 * period
            stamp = now.timestamp()
            last = datetime.fromtimestamp(stamp - ((stamp - phase) % period), tz=timezone.utc)
        return last, (now - last).total_seconds() <= ONLINE_WITHIN_S

    # --- transmitters ------------------------------------------------------------------------------
    def mode(self, given: str) -> dict[str, Any] | None:
        """A mode by name (any letter case) or by number."""
        text = given.strip()
        for mode in self.modes:
            if (text.isdigit() and mode["id"] == int(text)) or mode["name"].casefold() == text.casefold():
                return mode
        return None

    @staticmethod
    def _transmitter(raw: dict[str, Any]) -> dict[str, Any]:
        return {**raw, "gs_id": None}

    def _station_transmitters(self) -> list[dict[str, Any]]:
        """One transmitter record per band each station lists (LoRa, VHF, UHF, S-, X-, V-band)."""
        bands = {"lora": ("LoRa(868MHz) band", "LoRa", 868_100_000, None),
                 "vhf": ("VHF(145MHz) band", "AFSK", 145_850_000, 1200),
                 "uhf": ("UHF(435MHz) band", "GMSK", 435_000_000, 9600),
                 "s-band": ("S-band(2.1GHz) band", "BPSK", 2_100_000_000, 64_000),
                 "x-band": ("X-band(7.2GHz) band", "BPSK", 7_200_000_000, 256_000),
                 "v-band": ("V-band(70GHz) band", "BPSK", 70_000_000_000, 1_000_000)}
        modes = {m["name"]: m["id"] for m in self.modes}
        result = []
        for station in self.stations:
            place = station.description.removeprefix("DSN ").split(" ")[0]
            for key in station.transmitters:
                label, mode, frequency, baud = bands[key]
                uuid = "ZzPz4gcsNBPKPKAFPmer7g" if (station.id, key) == ("3886", "lora") else \
                    short_uuid(str(self.seed), "gs", station.id, key)
                result.append({"uuid": uuid, "description": f"DSN {place} {label}", "alive": True,
                               "type": "Transmitter", "uplink_low": frequency, "uplink_high": None,
                               "downlink_low": None, "downlink_high": None, "mode": mode,
                               "mode_id": modes.get(mode, LORA_MODE_ID), "uplink_mode": mode, "baud": baud,
                               "norad_cat_id": None, "gs_id": station.id,
                               "status": "active" if station.offline_hours is None else "inactive",
                               "service": "Amateur"})
        return result

    def transmitter(self, uuid: str) -> dict[str, Any] | None:
        return next((t for t in self.transmitters if t["uuid"] == uuid), None)
