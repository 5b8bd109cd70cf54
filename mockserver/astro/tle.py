"""Parse and validate uploaded TLE element sets in 3LE form (name line + line 1 + line 2).

sgp4's own parser is deliberately lenient: it ignores checksums and happily
turns garbage columns into numbers.  A mock server that accepts such input
would hand clients orbits that no real catalogue would ever serve, so every
set is checked column by column here and rejected with a sentence that says
which set, which line and what is wrong.
"""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sgp4.api import SGP4_ERRORS, Satrec

LINE_LENGTH = 69
_CATALOG = re.compile(r" *[0-9]+|[A-HJ-NP-Z][0-9]{4}")  # plain digits or Alpha-5


@dataclass(frozen=True)
class ElementSet:
    """One validated element set; the raw lines are kept so they can be served back verbatim."""

    name: str
    line1: str
    line2: str
    catalog_number: str
    epoch: datetime

    def satrec(self) -> Satrec:
        """Build a fresh propagator (Satrec objects are mutable, so none is shared)."""
        return Satrec.twoline2rv(self.line1, self.line2)


class TLEError(ValueError):
    """One element set is wrong.

    The parts are kept as attributes (set_number is 1-based, 0 when the text
    holds no set at all; line is 1, 2 or None for the name line / whole set)
    so an API layer can report them as fields, while str() gives one sentence
    a person can act on.
    """

    def __init__(self, set_number: int, name: str | None, line: int | None, problem: str):
        # All four go to args so the exception survives pickling and copying.
        super().__init__(set_number, name, line, problem)
        self.set_number = set_number
        self.name = name
        self.line = line
        self.problem = problem

    def __str__(self) -> str:
        if self.set_number == 0:
            return self.problem
        where = f"element set {self.set_number}"
        if self.name:
            where += f" ({self.name!r})"
        if self.line is not None:
            where += f", line {self.line}"
        return f"{where}: {self.problem}"


def checksum(line: str) -> int:
    """Mod-10 checksum of a TLE line: digits count their value, '-' counts 1, the rest 0."""
    total = 0
    for char in line[: LINE_LENGTH - 1]:
        if "0" <= char <= "9":
            total += ord(char) - ord("0")
        elif char == "-":
            total += 1
    return total % 10


def _clean_name(name: str) -> str:
    name = name.strip()
    return name[2:].strip() if name.startswith("0 ") else name


def _looks_like_tle_line(text: str) -> bool:
    return text[:2] in ("1 ", "2 ") and len(text) == LINE_LENGTH


def _two_line_error(set_number: int) -> TLEError:
    return TLEError(set_number, None, None, "the name line looks like a TLE line; this seems to be "
                    "a 2LE file (no name lines), but 3LE text with a name before each set is expected")


def _number(text: str) -> float | None:
    """Parse a fixed-width numeric field; None if it is not a finite number."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _epoch(field: str) -> datetime | None:
    """Turn the 'yyddd.dddddddd' epoch field into an aware UTC datetime, or None if invalid."""
    if not re.fullmatch(r"[0-9]{2}[ 0-9]{2}[0-9]\.[0-9]+ *", field):
        return None
    two_digit = int(field[:2])
    year = 2000 + two_digit if two_digit < 57 else 1900 + two_digit  # Space Track's pivot
    day = _number(field[2:])
    days_in_year = 366 if calendar.isleap(year) else 365
    if day is None or not 1 <= day < days_in_year + 1:
        return None
    return datetime(year, 1, 1, tzinfo=timezone.utc) + timedelta(days=day - 1)


def parse_element_set(name: str, line1: str, line2: str, set_number: int = 1) -> ElementSet:
    """Validate one name/line 1/line 2 triple and return it as an ElementSet.

    Trailing whitespace (including the CR of Windows line endings) is dropped
    before any check; everything else must sit in the exact columns the
    format defines.
    """
    name = _clean_name(name)
    lines = (line1.rstrip(), line2.rstrip())

    def fail(line: int | None, problem: str) -> TLEError:
        return TLEError(set_number, name or None, line, problem)

    if _looks_like_tle_line(name):
        raise _two_line_error(set_number)
    for number, text in enumerate(lines, start=1):
        if not text.startswith(f"{number} "):
            raise fail(number, f"line {number} must start with '{number} ' but starts with {text[:2]!r}")
        if len(text) != LINE_LENGTH:
            raise fail(number, f"line is {len(text)} characters long; a TLE line has exactly {LINE_LENGTH}")
        digit, expected = text[-1], checksum(text)
        if not digit.isdigit() or not digit.isascii():
            raise fail(number, f"checksum (column 69) is {digit!r}, not a digit")
        if int(digit) != expected:
            raise fail(number, f"checksum digit is {digit} but the line's digits add up to {expected}")
    line1, line2 = lines

    catalog = line1[2:7]
    if not _CATALOG.fullmatch(catalog):
        raise fail(1, f"catalog number {catalog!r} (columns 3-7) is neither digits nor Alpha-5")
    if line2[2:7] != catalog:
        raise fail(2, f"catalog number {line2[2:7]!r} does not match {catalog!r} on line 1")
    if line1[7] not in "UCS":
        raise fail(1, f"classification (column 8) is {line1[7]!r}; it must be U, C or S")
    epoch = _epoch(line1[18:32])
    if epoch is None:
        raise fail(1, f"epoch {line1[18:32]!r} (columns 19-32) is not a valid yyddd.dddddddd value")

    if not re.fullmatch(r"[0-9]{7}", line2[26:33]):
        raise fail(2, f"eccentricity {line2[26:33]!r} (columns 27-33) must be seven digits")
    angles = (("inclination", 8, 16, 180.0), ("right ascension of the ascending node", 17, 25, 360.0),
              ("argument of perigee", 34, 42, 360.0), ("mean anomaly", 43, 51, 360.0))
    for label, start, end, limit in angles:
        value = _number(line2[start:end])
        if value is None or not 0.0 <= value <= limit:
            raise fail(2, f"{label} {line2[start:end].strip()!r} (columns {start + 1}-{end}) "
                          f"must be a number from 0 to {limit:g} degrees")
    mean_motion = _number(line2[52:63])
    if mean_motion is None or mean_motion <= 0:
        raise fail(2, f"mean motion {line2[52:63].strip()!r} (columns 53-63) "
                      "must be a positive number of revolutions per day")

    element_set = ElementSet(name, line1, line2, catalog, epoch)
    try:
        sat = element_set.satrec()
        code = sat.sgp4(sat.jdsatepoch, sat.jdsatepochF)[0]
    except (ValueError, RuntimeError) as exc:
        raise fail(None, f"sgp4 cannot read the element set ({exc})") from exc
    if code:
        reason = SGP4_ERRORS.get(code, f"error code {code}")
        raise fail(None, f"sgp4 rejects the elements at their own epoch: {reason}")
    return element_set


def parse_3le(text: str) -> list[ElementSet]:
    """Parse 3LE text into element sets, stopping at the first bad set.

    Blank lines are skipped wherever they appear, so sets may be separated
    by empty lines and the file may end with one.
    """
    lines = [line.rstrip() for line in text.splitlines()]
    lines = [line for line in lines if line.strip()]
    if not lines:
        raise TLEError(0, None, None, "no element sets found: the text is empty or blank")

    sets: list[ElementSet] = []
    for start in range(0, len(lines), 3):
        set_number = start // 3 + 1
        group = lines[start:start + 3]
        if len(group) < 3:
            name = _clean_name(group[0])
            if _looks_like_tle_line(name):
                raise _two_line_error(set_number)
            missing = "line 2 is" if len(group) == 2 else "line 1 and line 2 are"
            raise TLEError(set_number, name or None, len(group),
                           f"the text ends before the set is complete; {missing} missing")
        sets.append(parse_element_set(*group, set_number=set_number))
    return sets


def parse_tle_text(text: str) -> ElementSet:
    """One element set written as text: its two lines, or a name line and its two lines."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) == 2:
        return parse_element_set("", *lines)
    if len(lines) == 3:
        return parse_element_set(*lines)
    raise TLEError(0, None, None, f"a TLE is two lines (or a name line and two lines); this text has {len(lines)}")
