"""Every request a service answered, for verification and certification."""
from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any


class Journal:
    """A bounded log of requests; the newest ``capacity`` entries are kept.

    Each entry gets ``seq`` (1, 2, ... since the journal began) and ``elapsed``: when the
    request arrived, in real seconds since the journal began. Real, not virtual: waits a
    client makes (Retry-After, polling) are judged on the time it actually waited.
    Clearing the journal begins it again.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._begin()

    def _begin(self) -> None:
        self._seq = 0
        self._started = time.monotonic()

    def elapsed(self) -> float:
        """Real seconds since the journal began."""
        return time.monotonic() - self._started

    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._seq += 1
            entry = {"seq": self._seq, **entry}
            self._entries.append(entry)
        return entry

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._begin()
