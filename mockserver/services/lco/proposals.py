"""Semesters, proposals, time allocations and the demo users who belong to them.

LCO divides time into semesters of uneven history: until 2016 A ran April to
September and B October to March; 2017AB ran eight months, April to November
2017; 2018 and 2019 began in December and June, 2019B ran eight months to
January 2020; since then A runs February to July and B August to January. Each
ends one second before the next begins. A proposal has members and, per semester,
telescope class and instrument, a time allocation in hours: standard time,
rapid-response (TOO) time, and the IPP time that raising a request's priority
spends. The demo proposals are made for the semester holding the sandbox's
start and the one before, so they are current whenever the sandbox runs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from datetime import UTC, datetime, timedelta

FIRST_YEAR, LAST_YEAR = 2014, 2035
SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class Semester:
    id: str
    start: datetime
    end: datetime

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment <= self.end


def _span(semester_id: str, start: datetime, following: datetime) -> Semester:
    return Semester(semester_id, start, following - SECOND)


@lru_cache(maxsize=1)
def semesters() -> tuple[Semester, ...]:
    """Every semester from 2014A on, latest first (the portal's order)."""
    def day(year: int, month: int) -> datetime:
        return datetime(year, month, 1, tzinfo=UTC)
    found = []
    for year in range(FIRST_YEAR, 2017):
        found += [_span(f"{year}A", day(year, 4), day(year, 10)), _span(f"{year}B", day(year, 10), day(year + 1, 4))]
    found.append(_span("2017AB", day(2017, 4), day(2017, 12)))
    for year in (2018, 2019):
        found.append(_span(f"{year}A", day(year - 1, 12), day(year, 6)))
    found += [_span("2018B", day(2018, 6), day(2018, 12)), _span("2019B", day(2019, 6), day(2020, 2))]
    for year in range(2020, LAST_YEAR + 1):
        found += [_span(f"{year}A", day(year, 2), day(year, 8)), _span(f"{year}B", day(year, 8), day(year + 1, 2))]
    return tuple(sorted(found, key=lambda s: s.start, reverse=True))


def semester_of(moment: datetime) -> Semester | None:
    return next((s for s in semesters() if s.contains(moment)), None)


@dataclass
class TimeAllocation:
    semester: str
    telescope_class: str
    instrument_name: str
    std_allocation: float = 100.0
    std_time_used: float = 0.0
    too_allocation: float = 10.0
    too_time_used: float = 0.0
    ipp_limit: float = 10.0
    ipp_time_available: float = 5.0

    def as_json(self, proposal: str) -> dict:
        return {"std_allocation": self.std_allocation, "std_time_used": self.std_time_used,
                "ipp_limit": self.ipp_limit, "ipp_time_available": self.ipp_time_available,
                "too_allocation": self.too_allocation, "too_time_used": self.too_time_used,
                "telescope_class": self.telescope_class, "instrument_name": self.instrument_name,
                "semester": self.semester, "proposal": proposal}


@dataclass
class Membership:
    first_name: str
    last_name: str
    time_limit: float = -1          # seconds a member may request; -1: no limit


@dataclass
class Proposal:
    id: str
    title: str
    pi: str
    allocations: list[TimeAllocation]
    members: dict[str, Membership]
    active: bool = True
    public: bool = False
    abstract: str = ""
    tag: str = "LCO"
    created: datetime = field(default_factory=lambda: datetime(2014, 1, 1, tzinfo=UTC))

    def allocation(self, semester: str, telescope_class: str, instrument: str) -> TimeAllocation | None:
        return next((a for a in self.allocations if (a.semester, a.telescope_class, a.instrument_name)
                     == (semester, telescope_class, instrument)), None)


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    email: str
    title: str
    institution: str


DEMO_USERS = (DemoUser("astro", "Ada", "Astro", "astro@example.org", "Dr", "Example University"),
              DemoUser("bob", "Bob", "Bright", "bob@example.org", "Prof", "Example Observatory"),
              DemoUser("carol", "Carol", "Cadence", "carol@example.org", "Ms", "Example College"))

#: every instrument type a general proposal gets time on, with its telescope class
GENERAL = (("1m0", "1M0-SCICAM-SINISTRO"), ("0m4", "0M4-SCICAM-SBIG"), ("2m0", "2M0-FLOYDS-SCICAM"),
           ("2m0", "2M0-SCICAM-SPECTRAL"), ("1m0", "1M0-NRES-SCICAM"))


def demo_proposals(start: datetime) -> list[Proposal]:
    """The seeded proposals, for the semester holding ``start`` and the one before."""
    current = semester_of(start) or semesters()[0]
    ordered = semesters()
    previous = ordered[min(ordered.index(current) + 1, len(ordered) - 1)]
    now, before = current.id, previous.id

    def general(semester: str, **amounts: float) -> list[TimeAllocation]:
        return [TimeAllocation(semester, cls, inst, **amounts) for cls, inst in GENERAL]

    def members(*usernames: str, limits: dict[str, float] | None = None) -> dict[str, Membership]:
        users = {u.username: u for u in DEMO_USERS}
        return {name: Membership(users[name].first_name, users[name].last_name, (limits or {}).get(name, -1))
                for name in usernames}

    return [
        Proposal(f"LCO{now}-001", "Supernova light curves", "astro", general(now),
                 members("astro", "carol", limits={"carol": 3600})),
        Proposal(f"KEY{now}-002", "Exoplanet transit timing", "bob", general(now) + general(before),
                 members("bob", "astro")),
        Proposal(f"LCO{now}-003", "Spent proposal", "astro",
                 [TimeAllocation(now, "1m0", "1M0-SCICAM-SINISTRO", std_allocation=10.0, std_time_used=10.0,
                                 ipp_time_available=0.0)], members("astro")),
        Proposal(f"LCO{before}-004", "Last semester's survey", "carol", general(before), members("carol"),
                 active=False),
        Proposal("LCOEngineering", "LCO engineering", "bob", general(now) + general(before), members("bob"),
                 public=True, tag="LCOENG"),
    ]


def demo_memberships(start: datetime) -> dict[str, list[str]]:
    """username -> the proposals the user belongs to, in proposal order."""
    found: dict[str, list[str]] = {u.username: [] for u in DEMO_USERS}
    for proposal in demo_proposals(start):
        for name in proposal.members:
            found[name].append(proposal.id)
    return found
