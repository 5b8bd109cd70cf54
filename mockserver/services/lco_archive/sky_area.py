"""Points and polygons on the sky in WKT, and whether a frame's footprint covers or meets them.

The archive keeps footprints as geography, so a field straddling RA 0 works:
``POLYGON((350 -10, 350 10, 10 10, 10 -10, 350 -10))`` covers ``POINT(0 0)``
but not ``POINT(340 0)``. Footprints are small, so both shapes are projected on
the plane tangent to the footprint's centre (gnomonic), where straight edges
are great circles, and compared there.
"""
from __future__ import annotations

import math
import re

from ..lco.drf import field_errors

NUMBER = r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
POINT = re.compile(rf"^\s*POINT\s*\(\s*({NUMBER})\s+({NUMBER})\s*\)\s*$", re.IGNORECASE)
POLYGON = re.compile(r"^\s*POLYGON\s*\(\s*\((.*)\)\s*\)\s*$", re.IGNORECASE)

Point = tuple[float, float]


def point(text: str, name: str) -> Point:
    match = POINT.match(text)
    if not match:
        raise field_errors({name: [f"Invalid WKT: expected POINT(ra dec) in degrees, got {text!r}"]})
    return _checked(float(match[1]), float(match[2]), name)


def polygon(text: str, name: str) -> list[Point]:
    match = POLYGON.match(text)
    if not match:
        raise field_errors({name: [f"Invalid WKT: expected POLYGON((ra dec, ...)) in degrees, got {text!r}"]})
    corners = []
    for pair in match[1].split(","):
        parts = pair.split()
        if len(parts) != 2 or not all(re.fullmatch(NUMBER, p) for p in parts):
            raise field_errors({name: [f"Invalid WKT: {pair.strip()!r} is not a pair of numbers"]})
        corners.append(_checked(float(parts[0]), float(parts[1]), name))
    if len(corners) < 4 or corners[0] != corners[-1]:
        raise field_errors({name: ["Invalid WKT: a polygon needs at least 4 points, the last equal to the first"]})
    return corners


def _checked(ra: float, dec: float, name: str) -> Point:
    if not (math.isfinite(ra) and math.isfinite(dec)) or abs(dec) > 90 or not -360 <= ra <= 720:
        raise field_errors({name: [f"Invalid coordinates ({ra} {dec}): RA in degrees, Dec from -90 to 90"]})
    return ra % 360, dec


def _project(ra: float, dec: float, ra0: float, dec0: float) -> Point | None:
    """Gnomonic projection around (ra0, dec0); None for the far hemisphere."""
    a, d, a0, d0 = map(math.radians, (ra, dec, ra0, dec0))
    cosine = math.sin(d) * math.sin(d0) + math.cos(d) * math.cos(d0) * math.cos(a - a0)
    if cosine <= 1e-9:
        return None
    x = math.cos(d) * math.sin(a - a0) / cosine
    y = (math.sin(d) * math.cos(d0) - math.cos(d) * math.sin(d0) * math.cos(a - a0)) / cosine
    return x, y


def _centre(corners: list[list[float]] | list[Point]) -> Point:
    x = y = z = 0.0
    for ra, dec in corners[:-1]:
        a, d = math.radians(ra), math.radians(dec)
        x, y, z = x + math.cos(d) * math.cos(a), y + math.cos(d) * math.sin(a), z + math.sin(d)
    return math.degrees(math.atan2(y, x)) % 360, math.degrees(math.atan2(z, math.hypot(x, y)))


def _inside(p: Point, ring: list[Point]) -> bool:
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        if (y1 > p[1]) != (y2 > p[1]) and p[0] < x1 + (p[1] - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def _plane(corners: list, centre: Point) -> list[Point] | None:
    projected = [_project(ra, dec, *centre) for ra, dec in corners]
    return None if any(p is None for p in projected) else projected  # type: ignore[return-value]


def covers(area: list[list[float]], target: Point) -> bool:
    centre = _centre(area)
    ring, spot = _plane(area, centre), _project(*target, *centre)
    return ring is not None and spot is not None and _inside(spot, ring)


def _crosses(a: Point, b: Point, c: Point, d: Point) -> bool:
    def side(p: Point, q: Point, r: Point) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
    return side(a, b, c) * side(a, b, d) < 0 and side(c, d, a) * side(c, d, b) < 0


def intersects(area: list[list[float]], shape: list[Point]) -> bool:
    centre = _centre(area)
    ring, other = _plane(area, centre), _plane(shape, centre)
    if ring is None or other is None:
        return False
    if any(_inside(p, ring) for p in other) or any(_inside(p, other) for p in ring):
        return True
    return any(_crosses(a, b, c, d) for a, b in zip(ring, ring[1:]) for c, d in zip(other, other[1:]))
