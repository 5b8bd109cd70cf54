"""Every request a service answered, for verification and certification."""
from __future__ import annotations

import threading
from collections import deque
from typing import Any


class Journal:
    """A bounded log of requests; the newest ``capacity`` entries are kept."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=capacity)
        self._lock = threading.Lock()

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
