"""The virtual clock every time-dependent rule reads.

By default it follows real time. Tests and scenarios freeze it, set it to a
chosen instant or move it forward, so that token expiry, job progress and
"the next thirty minutes" can be exercised in milliseconds instead of hours.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager, nullcontext
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from .store import Store

CLOCK = "clock"     # the key of the clock's state in a persistent store


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
    """Real time shifted by an offset, optionally frozen at one instant.

    Given a persistent store, the offset and the frozen instant are kept there, so that
    every worker of a mock reads one clock and a restart resumes it.
    """

    def __init__(self, start: datetime | None = None, frozen: bool = False, store: Store | None = None) -> None:
        self._lock = threading.RLock()
        self._start = start
        self._initial_frozen = frozen
        self._store = store if store is not None and store.persistent else None
        self._shared = self._store.collection("sandbox") if self._store is not None else None
        self._offset = 0.0
        self._frozen_at: float | None = None
        if self._shared is None or self._shared.get(CLOCK) is None:
            self.reset()

    @contextmanager
    def _changing(self) -> Iterator[None]:
        """Read the shared state, let the caller change it, write it back, as one transaction."""
        with self._lock, (self._store.transaction() if self._store is not None else nullcontext()):
            self._load()
            yield
            if self._shared is not None:
                self._shared.put(CLOCK, [self._offset, self._frozen_at])

    def _load(self) -> None:
        if self._shared is not None:
            state = self._shared.get(CLOCK)
            if state is not None:
                self._offset, self._frozen_at = state

    def reset(self) -> None:
        with self._changing():
            self._offset = 0.0
            self._frozen_at = None
            if self._start is not None:
                self._offset = self._start.timestamp() - time.time()
            if self._initial_frozen:
                self._frozen_at = time.time() + self._offset

    def timestamp(self) -> float:
        with self._lock:
            self._load()
            if self._frozen_at is not None:
                return self._frozen_at
            return time.time() + self._offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp(), tz=timezone.utc)

    @property
    def frozen(self) -> bool:
        with self._lock:
            self._load()
            return self._frozen_at is not None

    def advance(self, seconds: float) -> None:
        with self._changing():
            if self._frozen_at is not None:
                self._frozen_at += seconds
            else:
                self._offset += seconds

    def set(self, moment: datetime) -> None:
        with self._changing():
            target = moment.timestamp()
            if self._frozen_at is not None:
                self._frozen_at = target
            else:
                self._offset = target - time.time()

    def freeze(self, frozen: bool) -> None:
        with self._changing():
            if frozen and self._frozen_at is None:
                self._frozen_at = time.time() + self._offset
            elif not frozen and self._frozen_at is not None:
                # Resume from the frozen instant rather than jumping to real time.
                self._offset = self._frozen_at - time.time()
                self._frozen_at = None

    def as_json(self) -> dict:
        return {"now": iso(self.now()), "frozen": self.frozen}
