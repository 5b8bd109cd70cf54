"""Propagation of many satellites over a day with sgp4's array API, against a plain loop, in one run.

    python bench/propagation.py [--satellites 1000] [--hours 24] [--step 60] [--subset 20] [--repeat 5] [--limit 1.0]

Builds a constellation from the element sets the mock ships (the DSN catalog's real
LEO satellites, copied with their nodes and mean anomalies spread round the orbit and
the checksums redone), then times Skymock's batch propagation (``propagate_many``: one
SatrecArray call over the whole satellites x epochs grid) and, as the reference, a
Python loop of ``Satrec.sgp4`` over the same epochs for a subset of the satellites,
scaled up to all of them. It prints both, their ratio, and how far apart the positions
of the two are. The exit status is 1 when the best round of the batch takes --limit
seconds or more, or the two disagree by 1e-6 km or more.
"""
from __future__ import annotations

import argparse
import math
import sys
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from sgp4.api import Satrec  # noqa: E402

from racing import race  # noqa: E402
from mockserver.astro.orbits import propagate_many  # noqa: E402
from mockserver.astro.passes import split_jd  # noqa: E402
from mockserver.astro.tle import ElementSet, checksum, parse_element_set  # noqa: E402
from mockserver.services.dsn.catalog import Catalog  # noqa: E402

START = datetime(2026, 5, 5, tzinfo=timezone.utc)
GOLDEN_DEG = 360.0 * (1 - 1 / ((1 + math.sqrt(5)) / 2))     # spreads copies evenly round the orbit


def constellation(count: int, start: datetime) -> list[ElementSet]:
    """``count`` valid element sets: the shipped catalog's, copied in turn with new catalog numbers,
    right ascensions of the node and mean anomalies. The same on every run."""
    bases = list(Catalog(start, seed=42).element_sets.values())
    found: list[ElementSet] = []
    for i in range(count):
        base = bases[i % len(bases)]
        copy = i // len(bases)
        number = f"{80000 + i:05d}"
        node = (float(base.line2[17:25]) + copy * 360.0 / math.ceil(count / len(bases))) % 360.0
        anomaly = (float(base.line2[43:51]) + copy * GOLDEN_DEG) % 360.0
        line1 = base.line1[:2] + number + base.line1[7:68]
        line2 = base.line2[:2] + number + base.line2[7:17] + f"{node:8.4f}" + base.line2[25:43] + f"{anomaly:8.4f}" \
            + base.line2[51:68]
        found.append(parse_element_set(f"{base.name} #{copy}", line1 + str(checksum(line1)),
                                       line2 + str(checksum(line2))))
    return found


def plain_loop(satellites: list[Satrec], times: np.ndarray) -> np.ndarray:
    """Positions (satellites, times, 3) from one Satrec.sgp4 call per satellite and epoch."""
    jd, fr = split_jd(times)
    pairs = list(zip(jd.tolist(), fr.tolist()))
    return np.array([[satrec.sgp4(j, f)[1] for j, f in pairs] for satrec in satellites])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--satellites", type=int, default=1000)
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--step", type=float, default=60.0, help="seconds between epochs (default 60)")
    parser.add_argument("--subset", type=int, default=20, help="satellites the plain loop propagates (default 20)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--limit", type=float, default=1.0, help="seconds the batch must stay under (default 1)")
    args = parser.parse_args(argv)

    element_sets = constellation(args.satellites, START)
    satellites = [e.satrec() for e in element_sets]
    subset = satellites[:min(args.subset, len(satellites))]
    times = START.timestamp() + args.step * np.arange(int(round(args.hours * 3600 / args.step)) + 1)
    (ours_s, batch), (loop_s, looped) = race(args.repeat, lambda: propagate_many(satellites, times),
                                             lambda: plain_loop(subset, times))
    position, _, errors = batch
    theirs_s = loop_s * len(satellites) / len(subset)
    worst = float(np.nanmax(np.abs(position[:len(subset)] - looped)))
    ratio = theirs_s / ours_s

    print(f"{len(satellites)} satellites x {times.size} epochs ({args.hours:g} h at {args.step:g} s), "
          f"best of {args.repeat} rounds")
    print(f"  skymock    {ours_s:8.3f} s   propagate_many (SatrecArray), {int(np.count_nonzero(errors))} "
          "states with an sgp4 error")
    print(f"  plain loop {theirs_s:8.3f} s   Satrec.sgp4 per satellite and epoch "
          f"({loop_s:.3f} s for {len(subset)} satellites, scaled)")
    print(f"  ratio      {ratio:8.1f} x")
    print(f"  agreement  {worst:8.1e} km largest position difference over {len(subset)} satellites")
    met = ours_s < args.limit and worst < 1e-6
    print(f"{'GOAL MET' if met else 'MISSED'}  batch propagation {ours_s:.3f} s (goal under {args.limit:g} s)")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
