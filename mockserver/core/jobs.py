"""Asynchronous work on the virtual clock: accepted now, answered when done.

Services whose real counterpart answers "accepted, ask again later" (202, a
job id, a status to poll) keep their jobs here. A job's outcome is computed
when it is accepted, so bad input is refused at once and the answer is real;
only *when* it may be read follows the pace: a number of clock seconds since
submission and/or a number of polls answered "still running" first. Tests
move the clock or poll; scenarios slow the pace down to examine a client.
"""
from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from .clock import Clock
from .errors import invalid
from .store import Store

RUNNING, DONE = "running", "done"


@dataclass
class JobPace:
    """How long a job runs: clock seconds and/or polls answered "running" before it is done.

    When both are set, both must be met; when neither is, a job is done at once.
    ``retry_after``, when set, is the Retry-After (seconds) a "still running" answer asks
    clients to wait; unset, none is sent.
    """

    seconds: float | None = 2.0
    polls: int | None = None
    retry_after: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {"seconds": self.seconds, "polls": self.polls, "retry_after": self.retry_after}

    @classmethod
    def parse(cls, body: dict[str, Any], current: "JobPace") -> "JobPace":
        """A new pace from a control-API body; fields left out keep their current value."""
        seconds = _bounded(body, "seconds", current.seconds, 86_400 * 365, "a number of seconds", whole=False)
        polls = _bounded(body, "polls", current.polls, 10_000, "a whole number", whole=True)
        retry_after = _bounded(body, "retry_after", current.retry_after, 86_400, "a whole number of seconds",
                               whole=True)
        return cls(None if seconds is None else float(seconds), polls, retry_after)


def _bounded(body: dict[str, Any], name: str, current: Any, high: float, what: str, whole: bool) -> Any:
    """body[name] if given (null or a number from 0 to ``high``), else ``current``."""
    if name not in body:
        return current
    value = body[name]
    kinds = (int,) if whole else (int, float)
    if value is not None and (isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value)
                              or not 0 <= value <= high):
        raise invalid(name, f"must be null or {what} from 0 to {int(high)}", value)
    return value


class JobBook:
    """The jobs of one sandbox, kept in its store (collection ``jobs``)."""

    def __init__(self, clock: Clock, store: Store, pace: JobPace, seed: int,
                 note: Callable[[str], None] = lambda text: None) -> None:
        self._clock = clock
        self._note = note               # tells the journal what became of a job: the examiner reads it
        self._store = store
        self._jobs = store.collection("jobs")
        self._outcomes = store.collection("job-outcomes")
        self.pace = pace
        self._seed = seed

    def submit(self, owner: str, kind: str, outcome: Any, job_id: str | None = None) -> dict[str, Any]:
        """Accept a job whose ``outcome`` is already known; returns its record (without the outcome).

        ``job_id`` is for services that derive ids from the request (None: a seeded UUID4).
        """
        with self._store.transaction():
            # the n-th job of a sandbox has the same id after every reset, whichever worker takes it
            serial = self._store.next_id("job")
            job_id = job_id or str(uuid.UUID(int=random.Random(f"skymock-jobs:{self._seed}:{serial}").getrandbits(128),
                                             version=4))
            record = {"id": job_id, "owner": owner, "kind": kind, "submitted_at": self._clock.timestamp(), "polls": 0}
            self._jobs.put(job_id, record)
            self._outcomes.put(job_id, outcome)   # apart: a large result is copied only when it is read
        self._note(f"job:{job_id}:submitted")
        return record

    def find(self, job_id: str, owner: str, kind: str) -> dict[str, Any] | None:
        """The job if it exists, is of this kind and belongs to this owner (else None: not visible)."""
        record = self._jobs.get(job_id)
        if record is None or record["owner"] != owner or record["kind"] != kind:
            return None
        return record

    def get(self, job_id: str) -> dict[str, Any] | None:
        return self._jobs.get(job_id)

    def all(self) -> list[dict[str, Any]]:
        """Every job's record, oldest first."""
        return sorted(self._jobs.values(), key=lambda r: r["submitted_at"])

    def poll(self, job_id: str) -> tuple[str, dict[str, Any]]:
        """Look at a job once: (RUNNING or DONE, its record). A look while running counts as a poll."""
        with self._store.transaction():
            record = self._jobs.get(job_id)
            if self._is_done(record):
                self._note(f"job:{job_id}:{DONE}")
                return DONE, record
            record["polls"] += 1
            self._jobs.put(job_id, record)
            self._note(f"job:{job_id}:{RUNNING}")
            return RUNNING, record

    def outcome(self, job_id: str) -> Any:
        """What a job computed (read it once it is done)."""
        return self._outcomes.get(job_id)

    def progress(self, record: dict[str, Any]) -> float:
        """How far along a job is, 0 to 1, by the larger of its time and poll fractions."""
        fractions = []
        if self.pace.seconds:
            fractions.append((self._clock.timestamp() - record["submitted_at"]) / self.pace.seconds)
        if self.pace.polls:
            fractions.append(record["polls"] / self.pace.polls)
        return max(0.0, min(1.0, min(fractions))) if fractions else 1.0

    def _is_done(self, record: dict[str, Any]) -> bool:
        waited = self.pace.seconds is None or self._clock.timestamp() - record["submitted_at"] >= self.pace.seconds
        polled = self.pace.polls is None or record["polls"] >= self.pace.polls
        return waited and polled

    def count(self) -> dict[str, int]:
        records = self._jobs.values()
        done = sum(1 for r in records if self._is_done(r))
        return {"running": len(records) - done, "done": done}
