"""The virtual clock every time-dependent rule reads.

By default it follows real time. Tests and scenarios freeze it, set it to a
chosen instant or move it forward, so that token expiry, job progress and
"the next thirty minutes" can be exercised in milliseconds instead of hours.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 instant; a value without an offset is taken as UTC."""
    value = datetime.fromisoformat(text.strip().upper().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def iso(moment: datetime) -> str:
    """UTC instant as ISO 8601 with a Z suffix, to the second."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(moment: datetime) -> str:
    """UTC instant as ISO 8601 with milliseconds and a Z suffix (JavaScript's toISOString)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Clock:
    """Real time shifted by an offset, optionally frozen at one instant."""

    def __init__(self, start: datetime | None = None, frozen: bool = False) -> None:
        self._lock = threading.Lock()
        self._start = start
        self._initial_frozen = frozen
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0
            self._frozen_at: float | None = None
            if self._start is not None:
                self._offset = self._start.timestamp() - time.time()
            if self._initial_frozen:
                self._frozen_at = time.time() + self._offset

    def timestamp(self) -> float:
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return time.time() + self._offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp(), tz=timezone.utc)

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def advance(self, seconds: float) -> None:
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += seconds
            else:
                self._offset += seconds

    def set(self, moment: datetime) -> None:
        with self._lock:
            target = moment.timestamp()
            if self._frozen_at is not None:
                self._frozen_at = target
            else:
                self._offset = target - time.time()

    def freeze(self, frozen: bool) -> None:
        with self._lock:
            if frozen and self._frozen_at is None:
                self._frozen_at = time.time() + self._offset
            elif not frozen and self._frozen_at is not None:
                # Resume from the frozen instant rather than jumping to real time.
                self._offset = self._frozen_at - time.time()
                self._frozen_at = None

    def as_json(self) -> dict:
        return {"now": iso(self.now()), "frozen": self.frozen}
