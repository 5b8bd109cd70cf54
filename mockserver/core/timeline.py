"""Scripted events of a scenario: what happens to the sandbox while a client runs.

An event has a trigger and an action. The trigger is a moment (``at``: real seconds
since the sandbox's journal began; the examiner clears it when the client starts) or the client's own traffic (``after``: its Nth request,
optionally only those matching a path regex, a method or a status). Actions are what
a bad day brings: tokens revoked, a fault (a 429 burst, a 503 window, a lost
answer), the clock jumping, jobs slowing down.

Moments are checked when a request arrives, so an event due at 5 s takes effect on
the first request after 5 s; to the client that is the same as a timer.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from .errors import ApiError, invalid
from .faults import Fault, FaultBook, parse_fault
from .jobs import JobPace
from .journal import Journal

ACTIONS = ("revoke-tokens", "fault", "advance-clock", "job-pace")


class _Sandbox(Protocol):  # what the actions touch; core.service.Sandbox has all of it
    tokens: Any
    faults: FaultBook
    clock: Any
    jobs: Any
    journal: Journal


@dataclass
class Event:
    action: str
    at: float | None = None              # real seconds since the journal began
    after: int | None = None             # the client's Nth matching request
    path: str | None = None              # for ``after``: count only requests whose path matches
    method: str | None = None
    status: int | None = None
    fault: Fault | None = None
    seconds: float | None = None         # advance-clock
    pace: dict[str, Any] | None = None   # job-pace
    seen: int = 0
    fired: bool = False

    def counts(self, entry: dict[str, Any]) -> bool:
        if self.path is not None and re.search(self.path, entry["path"]) is None:
            return False
        if self.method is not None and self.method.upper() != entry["method"]:
            return False
        return self.status is None or self.status == entry["status"]

    def describe(self) -> str:
        when = f"at {self.at:g} s" if self.at is not None else f"after request {self.after}"
        scope = " ".join(x for x in (self.method, self.path and f"~{self.path}",
                                     self.status and f"answered {self.status}") if x)
        what = self.action
        if self.fault is not None:
            what += f" {self.fault.status or ''} x{self.fault.count or 'inf'}".rstrip()
            if self.fault.retry_after is not None:
                what += f" Retry-After {self.fault.retry_after} s{' (date)' if self.fault.retry_after_date else ''}"
        if self.seconds is not None:
            what += f" {self.seconds:g} s"
        return f"{when}{' of ' + scope if scope else ''}: {what}"


def parse_event(body: Any, where: str = "event") -> Event:
    """One event from its description (a scenario file's timeline entry), naming what is wrong."""
    if not isinstance(body, dict):
        raise invalid(where, "must be a mapping with 'at' or 'after' and 'do'", body)
    known = {"at", "after", "path", "method", "status", "do", "fault", "seconds", "pace"}
    extra = sorted(set(body) - known)
    if extra:
        raise invalid(f"{where}.{extra[0]}", f"is not an event field; use {', '.join(sorted(known))}")
    action = body.get("do")
    if action not in ACTIONS:
        raise invalid(f"{where}.do", f"must be one of {', '.join(ACTIONS)}", action)
    at, after = body.get("at"), body.get("after")
    if (at is None) == (after is None):
        raise invalid(f"{where}.at", "give exactly one trigger: 'at' (seconds) or 'after' (a request count)")
    if at is not None and (isinstance(at, bool) or not isinstance(at, (int, float)) or not 0 <= at <= 86_400):
        raise invalid(f"{where}.at", "must be a number of seconds from 0 to 86400", at)
    if after is not None and (isinstance(after, bool) or not isinstance(after, int) or not 1 <= after <= 100_000):
        raise invalid(f"{where}.after", "must be a whole number of requests from 1 to 100000", after)
    path = body.get("path")
    if path is not None:
        try:
            re.compile(path)
        except (re.error, TypeError, OverflowError):    # OverflowError: a repeat count past re's limit
            raise invalid(f"{where}.path", "must be a regular expression", path) from None
    status = body.get("status")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599):
        raise invalid(f"{where}.status", "must be an HTTP status code", status)
    event = Event(action=action, at=None if at is None else float(at), after=after, path=path,
                  method=body.get("method"), status=status)
    if action == "fault":
        spec = body.get("fault")
        if not isinstance(spec, dict):
            raise invalid(f"{where}.fault", "must describe the fault: status, count, retry_after, path ...", spec)
        try:
            event.fault = parse_fault(spec)
        except ApiError as exc:   # it names the fault's field: say where the fault is
            raise invalid(f"{where}.fault.{exc.field}" if exc.field else f"{where}.fault", exc.message) from None
    elif action == "advance-clock":
        seconds = body.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 < seconds <= 3.2e9:
            raise invalid(f"{where}.seconds", "must be a positive number of seconds", seconds)
        event.seconds = float(seconds)
    elif action == "job-pace":
        pace = body.get("pace")
        if not isinstance(pace, dict):
            raise invalid(f"{where}.pace", "must give seconds, polls and/or retry_after", pace)
        JobPace.parse(pace, JobPace())  # refuse a bad pace now, not when it fires
        event.pace = pace
    return event


@dataclass
class Timeline:
    """The events of one run, fired against the sandbox as the client's requests come."""

    events: list[Event] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def load(self, events: list[Event]) -> None:
        """Replace the events; requests are counted from now, moments from the journal's beginning."""
        with self._lock:
            self.events = [replace(e, seen=0, fired=False) for e in events]

    def before_request(self, box: _Sandbox) -> None:
        """Fire the events whose moment has come."""
        if not self.events:          # the usual case: no scenario, no need to read the journal's start
            return
        now = box.journal.elapsed()
        with self._lock:
            due = [e for e in self.events if not e.fired and e.at is not None and e.at <= now]
            for event in due:
                event.fired = True
        for event in due:
            self._apply(event, box)

    def after_request(self, entry: dict[str, Any], box: _Sandbox) -> None:
        """Count a client request; fire the events it completes."""
        with self._lock:
            due = []
            for event in self.events:
                if event.fired or event.after is None or not event.counts(entry):
                    continue
                event.seen += 1
                if event.seen >= event.after:
                    event.fired = True
                    due.append(event)
        for event in due:
            self._apply(event, box)

    @staticmethod
    def _apply(event: Event, box: _Sandbox) -> None:
        if event.action == "revoke-tokens":
            box.tokens.expire()
        elif event.action == "fault" and event.fault is not None:
            box.faults.add(replace(event.fault, fired=0))
        elif event.action == "advance-clock" and event.seconds is not None:
            box.clock.advance(event.seconds)
        elif event.action == "job-pace" and event.pace is not None:
            box.jobs.pace = JobPace.parse(event.pace, box.jobs.pace)
