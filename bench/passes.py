"""Pass search against skyfield: the same satellite, stations and fortnight, in one run.

    python bench/passes.py [--days 14] [--step 15] [--repeat 7] [--goal 20]

Prints the time of Skymock's search (sgp4 on NumPy arrays, polar tracks included) and of
skyfield's find_events for every station, their ratio, and how far apart the AOS/LOS of
the two are. The exit status is 1 when the ratio is under --goal or the results disagree
by a second or more, so the benchmark can gate a CI job.
"""
from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from skyfield.api import EarthSatellite, load, wgs84  # noqa: E402

from racing import race  # noqa: E402
from mockserver.astro.passes import find_passes  # noqa: E402
from mockserver.services.dsn.catalog import Catalog  # noqa: E402

ISS = 25544


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=float, default=14)
    parser.add_argument("--step", type=int, default=15)
    parser.add_argument("--mask", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--goal", type=float, default=20.0, help="required speed-up over skyfield")
    args = parser.parse_args(argv)

    start = datetime(2026, 5, 5, tzinfo=timezone.utc)
    catalog = Catalog(start, seed=42)
    element_set = catalog.element_sets[ISS]
    stations = [s for s in catalog.stations if s.located]
    end = start + timedelta(days=args.days)

    satrec = element_set.satrec()
    sites = [s.site() for s in stations]
    ts = load.timescale(builtin=True)
    satellite = EarthSatellite(element_set.line1, element_set.line2, "ISS", ts)
    t0, t1 = ts.from_datetime(start), ts.from_datetime(end)
    observers = {s.id: wgs84.latlon(s.latitude, s.longitude, elevation_m=s.altitude) for s in stations}
    (ours_s, passes), (theirs_s, events) = race(
        args.repeat,
        lambda: find_passes(satrec, sites, start.timestamp(), end.timestamp(), args.mask, args.step),
        lambda: {sid: satellite.find_events(observer, t0, t1, altitude_degrees=args.mask)
                 for sid, observer in observers.items()})

    worst = 0.0
    matched = 0
    for sid, (times, kinds) in events.items():
        stamps = [(t.utc_datetime().timestamp(), int(k)) for t, k in zip(times, kinds)]
        while stamps and stamps[0][1] != 0:          # a pass already up at the start: not reported by Skymock
            stamps.pop(0)
        rises = [t for t, k in stamps if k == 0]
        sets = [t for t, k in stamps if k == 2]
        mine = [p for p in passes if p.station_id == sid]
        if len(mine) != len(rises):
            print(f"station {sid}: Skymock found {len(mine)} passes, skyfield {len(rises)}")
            worst = float("inf")
        for p, rise, set_ in zip(mine, rises, sets):
            worst = max(worst, abs(p.aos - rise), abs(p.los - set_))
            matched += 1

    ratio = theirs_s / ours_s
    points = sum(len(p.track_times) for p in passes)
    print(f"ISS over {len(stations)} stations, {args.days:g} days, step {args.step} s, mask {args.mask:g} deg")
    print(f"  skymock   {ours_s * 1000:8.1f} ms   {len(passes)} passes, {points} polar-track points")
    print(f"  skyfield  {theirs_s * 1000:8.1f} ms   find_events per station (no tracks)")
    print(f"  ratio     {ratio:8.1f} x   (goal {args.goal:g} x)")
    print(f"  agreement {worst:8.3f} s   largest AOS/LOS difference over {matched} passes")
    return 0 if ratio >= args.goal and worst < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
