"""The observing schedule behind the ODS feed: deterministic, real sky positions.

Time is cut into one-hour sessions per facility group (VLA, GBT, VLBA). Each
session is one project: a band, a science target that is up for the whole
hour, and the compact calibrator nearest to it; scans alternate calibrator and
target, sometimes opening on a flux calibrator. Which target, band and scan
lengths come from a random generator seeded by (seed, group, session), so the
same seed gives the same schedule at any instant, and the feed moves forward
as the virtual clock does. Slew times come from the facility's slew rates and
the real azimuth/elevation of the previous and next source.
"""
from __future__ import annotations

import math
import random
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timedelta, timezone
from typing import Any

from ...astro.sky import Site, alt_az, alt_az_many
from ...data import load

SESSION = timedelta(hours=1)
EPOCH = datetime(2020, 1, 1, tzinfo=timezone.utc)
VLA_CONFIGS = ["D", "C", "B", "A"]  # the VLA cycles its configurations about every four months
SETTLE_SEC = 6.0
VERSION = "v1.0.0"


@dataclass(frozen=True)
class Source:
    name: str
    ra: float
    dec: float
    kind: str


@dataclass(frozen=True)
class Scan:
    group: str
    source: Source
    start: datetime
    end: datetime
    freq_lower_hz: float
    freq_upper_hz: float
    integ_sec: float


def _sources() -> list[Source]:
    return [Source(s["name"], s["ra"], s["dec"], s["kind"]) for s in load("radio_sources.json")["sources"]]


def _separation(a: Source, b: Source) -> float:
    ra1, dec1, ra2, dec2 = map(math.radians, (a.ra, a.dec, b.ra, b.dec))
    cos = math.sin(dec1) * math.sin(dec2) + math.cos(dec1) * math.cos(dec2) * math.cos(ra1 - ra2)
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def vla_configuration(when: datetime) -> str:
    months = (when.year - EPOCH.year) * 12 + when.month - 1
    return VLA_CONFIGS[(months // 4) % len(VLA_CONFIGS)]


class Schedule:
    """Scans for every facility, generated on demand and remembered per session."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.groups: dict[str, dict[str, Any]] = load("radio_observatories.json")["groups"]
        self.sources = _sources()
        self._cache: OrderedDict[tuple[str, int], list[tuple[Scan, list[dict[str, Any]]]]] = OrderedDict()
        # A session's plan is needed again as the "previous session" of the next one.
        self._plan = lru_cache(maxsize=1024)(self._plan_session)

    # --- public -----------------------------------------------------------------------------
    def records(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """ODS records of scans that end after ``start`` and begin before ``end``."""
        out: list[dict[str, Any]] = []
        for group in self.groups:
            first = self._session_index(start) - 1
            for index in range(first, self._session_index(end) + 1):
                for scan, records in self._session_records(group, index):
                    if scan.end > start and scan.start < end:
                        out.extend(dict(r) for r in records)
        out.sort(key=lambda r: (r["src_start_utc"], r["site_id"]))
        return out

    # --- sessions -----------------------------------------------------------------------------
    @staticmethod
    def _session_index(when: datetime) -> int:
        return int((when - EPOCH) // SESSION)

    def _session_records(self, group: str, index: int) -> list[tuple[Scan, list[dict[str, Any]]]]:
        """Each scan of a session with its ODS records, computed once and remembered."""
        key = (group, index)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        scans = self._plan(group, index)
        earlier = self._plan(group, index - 1) if scans else []
        previous = earlier[-1].source if earlier else None
        result = []
        for scan in scans:
            result.append((scan, self._records_of(scan, previous)))
            previous = scan.source
        self._cache[key] = result
        if len(self._cache) > 512:
            self._cache.popitem(last=False)
        return result

    def _reference_site(self, group: str) -> Site:
        stations = self.groups[group]["stations"]
        middle = stations[len(stations) // 2]  # for the VLBA, a station near the array's centre
        return Site(middle["site_id"], middle["lat"], middle["lon"], middle["el_m"])

    def _plan_session(self, group: str, index: int) -> list[Scan]:
        info = self.groups[group]
        rng = random.Random(f"{self.seed}:{group}:{index}")
        start = EPOCH + index * SESSION
        if rng.random() < 0.12:  # maintenance, tests or idle time: nothing to report this hour
            return []
        target = self._pick_target(group, start, rng)
        if target is None:
            return []
        calibrator = min((s for s in self.sources if s.kind == "phase" and s is not target),
                         key=lambda s: _separation(s, target))
        name, low, high = rng.choice(info["bands"])
        width = min(high - low, info["max_bandwidth_ghz"])
        lower = round(rng.uniform(low, high - width), 3)
        freq = (lower * 1e9, (lower + width) * 1e9)
        integ = rng.choice(info["corr_integ_time_sec"])
        sequence: list[tuple[Source, float]] = []
        flux = self._visible_flux_calibrator(group, start, rng)
        if flux is not None:
            sequence.append((flux, rng.uniform(180, 420)))
        while sum(d for _, d in sequence) < SESSION.total_seconds():
            sequence.append((calibrator, rng.uniform(60, 150)))
            sequence.append((target, rng.uniform(240, 720)))
        scans, cursor = [], start + timedelta(seconds=rng.uniform(0, 30))
        stop = start + SESSION
        for source, seconds in sequence:
            end = min(cursor + timedelta(seconds=seconds, microseconds=rng.randrange(1_000_000)), stop)
            if end - cursor < timedelta(seconds=30):
                break
            scans.append(Scan(group, source, cursor, end, freq[0], freq[1], integ))
            cursor = end
        return scans

    def _pick_target(self, group: str, start: datetime, rng: random.Random) -> Source | None:
        site = self._reference_site(group)
        floor = self.groups[group]["min_elevation_deg"] + 10
        targets = [s for s in self.sources if s.kind == "target"]
        ras, decs = [s.ra for s in targets], [s.dec for s in targets]
        up_start, _ = alt_az_many(ras, decs, site, start)
        up_end, _ = alt_az_many(ras, decs, site, start + SESSION)
        visible = [s for s, a, b in zip(targets, up_start, up_end) if a > floor and b > floor]
        return rng.choice(visible) if visible else None

    def _visible_flux_calibrator(self, group: str, start: datetime, rng: random.Random) -> Source | None:
        if rng.random() > 0.3:
            return None
        site = self._reference_site(group)
        floor = self.groups[group]["min_elevation_deg"] + 10
        fluxes = [s for s in self.sources if s.kind == "flux"]
        alts, _ = alt_az_many([s.ra for s in fluxes], [s.dec for s in fluxes], site, start)
        visible = [s for s, alt in zip(fluxes, alts) if alt > floor]
        return rng.choice(visible) if visible else None

    # --- records ----------------------------------------------------------------------------------
    def _records_of(self, scan: Scan, previous: Source | None) -> list[dict[str, Any]]:
        info = self.groups[scan.group]
        records = []
        for station in info["stations"]:
            site = Site(station["site_id"], station["lat"], station["lon"], station["el_m"])
            altitude, azimuth = alt_az(scan.source.ra, scan.source.dec, site, scan.start)
            if altitude < info["min_elevation_deg"]:
                continue  # this antenna cannot see the source; it does not observe this scan
            records.append({
                "site_id": station["site_id"].format(config=vla_configuration(scan.start)),
                "site_lat_deg": station["lat"],
                "site_lon_deg": station["lon"],
                "site_el_m": station["el_m"],
                "dish_diameter_m": info["dish_diameter_m"],
                "subarray": 0,
                "src_id": scan.source.name,
                "src_ra_j2000_deg": scan.source.ra,
                "src_dec_j2000_deg": scan.source.dec,
                "src_start_utc": _stamp(scan.start),
                "src_end_utc": _stamp(scan.end),
                "slew_sec": self._slew_seconds(info, site, previous, scan, (altitude, azimuth)),
                "trk_rate_ra_deg_per_sec": 0.0,
                "trk_rate_dec_deg_per_sec": 0.0,
                "corr_integ_time_sec": scan.integ_sec,
                "freq_lower_hz": scan.freq_lower_hz,
                "freq_upper_hz": scan.freq_upper_hz,
                "version": VERSION,
            })
        return records

    @staticmethod
    def _slew_seconds(info: dict[str, Any], site: Site, previous: Source | None, scan: Scan,
                      target: tuple[float, float]) -> float:
        if previous is None or previous == scan.source:
            return 0.0 if previous == scan.source else SETTLE_SEC
        old_alt, old_az = alt_az(previous.ra, previous.dec, site, scan.start)
        d_az = abs((target[1] - old_az + 180) % 360 - 180)
        d_el = abs(target[0] - max(old_alt, info["min_elevation_deg"]))
        rate = info["slew_deg_per_min"]
        return round(max(d_az / rate["az"], d_el / rate["el"]) * 60 + SETTLE_SEC, 1)


def _stamp(moment: datetime) -> str:
    """ODS timestamps are UTC without an offset, with microseconds."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds")
