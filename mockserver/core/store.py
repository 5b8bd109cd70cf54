"""Where a service keeps its objects.

Models keep JSON-shaped records in named collections and change them inside
``store.transaction()``, so a request either writes everything it meant to or
nothing (a bad row in an upload must not leave half a file behind).
"""
from __future__ import annotations

import copy
import threading
from contextlib import contextmanager
from typing import Any, Iterator


class Collection:
    """Records by key. Values are JSON-shaped dicts; callers get copies, never live objects."""

    def __init__(self) -> None:
        self._items: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        value = self._items.get(key, default)
        return copy.deepcopy(value) if value is not default else default

    def put(self, key: str, value: Any) -> None:
        self._items[key] = copy.deepcopy(value)

    def delete(self, key: str) -> bool:
        return self._items.pop(key, None) is not None

    def values(self) -> list[Any]:
        return [copy.deepcopy(v) for v in self._items.values()]

    def keys(self) -> list[str]:
        return list(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()


class MemoryStore:
    """The default store: collections in memory, one lock for all writes."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._collections: dict[str, Collection] = {}

    def collection(self, name: str) -> Collection:
        with self._lock:
            return self._collections.setdefault(name, Collection())

    @contextmanager
    def transaction(self) -> Iterator["MemoryStore"]:
        """Hold the write lock; validate first, then write, so a failure writes nothing."""
        with self._lock:
            yield self

    def clear(self) -> None:
        with self._lock:
            for collection in self._collections.values():
                collection.clear()
