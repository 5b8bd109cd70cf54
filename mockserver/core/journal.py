"""Every request a service answered, for verification and certification."""
from __future__ import annotations

import time
from typing import Any

from .store import MemoryStore, Store

BEGAN = "journal-began"


class Journal:
    """A bounded log of requests, kept in the sandbox's store; the newest ``capacity`` entries are kept.

    Each entry gets ``seq`` (1, 2, ... since the journal began) and ``elapsed``: when the
    request arrived, in real seconds since the journal began. Real, not virtual: waits a
    client makes (Retry-After, polling) are judged on the time it actually waited.
    Clearing the journal begins it again. Every worker of a mock writes to the same journal.
    """

    def __init__(self, store: Store | None = None, capacity: int = 10_000) -> None:
        store = store or MemoryStore()
        self._log = store.log("journal", capacity)
        self._meta = store.collection("sandbox")
        self._shared = store.persistent       # other workers may begin it again: read the start each time
        self._began = self._meta.get(BEGAN)
        if self._began is None:
            self._begin()

    def _begin(self) -> None:
        self._began = time.time()
        self._meta.put(BEGAN, self._began)

    def elapsed(self) -> float:
        """Real seconds since the journal began."""
        began = self._meta.get(BEGAN, self._began) if self._shared else self._began
        return time.time() - began

    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        return self._log.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        return self._log.entries()

    def clear(self) -> None:
        self._log.clear()
        self._begin()
