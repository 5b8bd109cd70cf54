"""Where a sandbox keeps its state: in memory (the default) or in an SQLite file (``--state``).

Models keep JSON-shaped records in named collections and change them inside
``store.transaction()``, so a request either writes everything it meant to or
nothing (a bad row in an upload must not leave half a file behind). Counters
(``next_id``) and logs (the journal) live here too, so that every worker of a
mock that serves with several processes sees one state.

The SQLite store runs in WAL mode with ``synchronous=NORMAL``: a transaction is
in the file once it commits, so killing the mock (even with SIGKILL) loses
nothing it acknowledged; only a power cut can lose the last few commits. Its
transactions are ``BEGIN IMMEDIATE``: a request that reads then writes holds the
write lock from its first read, so two workers never both take the same seat.
"""
from __future__ import annotations

import copy
import json
import sqlite3
import threading
from collections import deque
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Protocol


class Collection(Protocol):
    """Records by key. Values are JSON-shaped; callers get copies, never live objects."""

    def get(self, key: str, default: Any = None) -> Any: ...
    def put(self, key: str, value: Any) -> None: ...
    def delete(self, key: str) -> bool: ...
    def values(self) -> list[Any]: ...
    def keys(self) -> list[str]: ...
    def __contains__(self, key: object) -> bool: ...
    def __len__(self) -> int: ...
    def clear(self) -> None: ...


class Log(Protocol):
    """Entries in order, each numbered (``seq``) from 1; only the newest ``capacity`` are kept."""

    def append(self, entry: dict[str, Any]) -> dict[str, Any]: ...
    def entries(self) -> list[dict[str, Any]]: ...
    def clear(self) -> None: ...


class Store(Protocol):
    def collection(self, name: str) -> Collection: ...
    def log(self, name: str, capacity: int) -> Log: ...
    def next_id(self, name: str) -> int: ...
    def transaction(self) -> Any: ...
    def clear(self) -> None: ...
    @property
    def persistent(self) -> bool: ...


# --- in memory -------------------------------------------------------------------------------------
class MemoryCollection:
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


class MemoryLog:
    def __init__(self, capacity: int) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=capacity)
        self._seq = 0
        self._lock = threading.Lock()

    def append(self, entry: dict[str, Any]) -> dict[str, Any]:
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
            self._seq = 0


class MemoryStore:
    """The default store: collections in memory, one lock for all writes."""

    persistent = False

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._collections: dict[str, MemoryCollection] = {}
        self._logs: dict[str, MemoryLog] = {}
        self._counters: dict[str, int] = {}

    def collection(self, name: str) -> MemoryCollection:
        with self._lock:
            return self._collections.setdefault(name, MemoryCollection())

    def log(self, name: str, capacity: int) -> MemoryLog:
        with self._lock:
            return self._logs.setdefault(name, MemoryLog(capacity))

    def next_id(self, name: str) -> int:
        with self._lock:
            self._counters[name] = self._counters.get(name, 0) + 1
            return self._counters[name]

    @contextmanager
    def transaction(self) -> Iterator["MemoryStore"]:
        """Hold the write lock; validate first, then write, so a failure writes nothing."""
        with self._lock:
            yield self

    def clear(self) -> None:
        with self._lock:
            for collection in self._collections.values():
                collection.clear()
            for log in self._logs.values():
                log.clear()
            self._counters.clear()


# --- in an SQLite file --------------------------------------------------------------------------------
SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY,
    collection TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    UNIQUE (collection, key)
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS logs (
    name TEXT NOT NULL,
    seq INTEGER NOT NULL,
    entry TEXT NOT NULL,
    PRIMARY KEY (name, seq)
);
"""


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=True)


class SqliteCollection:
    def __init__(self, store: "SqliteStore", name: str) -> None:
        self._store = store
        self._name = name

    def _rows(self, sql: str, *args: Any) -> list[tuple]:
        return self._store.execute(sql, (self._name, *args)).fetchall()

    def get(self, key: str, default: Any = None) -> Any:
        rows = self._rows("SELECT value FROM records WHERE collection = ? AND key = ?", key)
        return json.loads(rows[0][0]) if rows else default

    def put(self, key: str, value: Any) -> None:
        self._store.execute("INSERT INTO records (collection, key, value) VALUES (?, ?, ?) "
                            "ON CONFLICT (collection, key) DO UPDATE SET value = excluded.value",
                            (self._name, key, _dump(value)))

    def delete(self, key: str) -> bool:
        return self._store.execute("DELETE FROM records WHERE collection = ? AND key = ?",
                                   (self._name, key)).rowcount > 0

    def values(self) -> list[Any]:
        return [json.loads(v) for (v,) in self._rows("SELECT value FROM records WHERE collection = ? ORDER BY id")]

    def keys(self) -> list[str]:
        return [k for (k,) in self._rows("SELECT key FROM records WHERE collection = ? ORDER BY id")]

    def __contains__(self, key: object) -> bool:
        return bool(self._rows("SELECT 1 FROM records WHERE collection = ? AND key = ?", key))

    def __len__(self) -> int:
        return self._rows("SELECT count(*) FROM records WHERE collection = ?")[0][0]

    def clear(self) -> None:
        self._store.execute("DELETE FROM records WHERE collection = ?", (self._name,))


class SqliteLog:
    def __init__(self, store: "SqliteStore", name: str, capacity: int) -> None:
        self._store = store
        self._name = name
        self._capacity = capacity

    def append(self, entry: dict[str, Any]) -> dict[str, Any]:
        with self._store.transaction():
            (last,) = self._store.execute("SELECT coalesce(max(seq), 0) FROM logs WHERE name = ?",
                                          (self._name,)).fetchone()
            entry = {"seq": last + 1, **entry}
            self._store.execute("INSERT INTO logs (name, seq, entry) VALUES (?, ?, ?)",
                                (self._name, last + 1, _dump(entry)))
            if (last + 1) % 1000 == 0:     # trim now and then, not on every request
                self._store.execute("DELETE FROM logs WHERE name = ? AND seq <= ?",
                                    (self._name, last + 1 - self._capacity))
        return entry

    def entries(self) -> list[dict[str, Any]]:
        rows = self._store.execute("SELECT entry FROM logs WHERE name = ? ORDER BY seq DESC LIMIT ?",
                                   (self._name, self._capacity)).fetchall()
        return [json.loads(e) for (e,) in reversed(rows)]

    def clear(self) -> None:
        self._store.execute("DELETE FROM logs WHERE name = ?", (self._name,))


class SqliteStore:
    """Collections, counters and logs in one SQLite file, shared by every process that opens it.

    Each service keeps its own part of the file (``namespace``): several services can share
    one file, and a reset of one leaves the others alone.
    """

    persistent = True

    def __init__(self, path: str | Path, namespace: str = "") -> None:
        self.path = Path(path)
        self._prefix = f"{namespace}:" if namespace else ""
        self._local = threading.local()
        self._lock = threading.RLock()       # threads of one process take turns; processes lock the file
        self._connection().executescript(SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA busy_timeout = 30000")
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            self._local.connection = connection
            self._local.depth = 0
        return connection

    def execute(self, sql: str, args: tuple = ()) -> sqlite3.Cursor:
        return self._connection().execute(sql, args)

    def collection(self, name: str) -> SqliteCollection:
        return SqliteCollection(self, self._prefix + name)

    def log(self, name: str, capacity: int) -> SqliteLog:
        return SqliteLog(self, self._prefix + name, capacity)

    def next_id(self, name: str) -> int:
        name = self._prefix + name
        with self.transaction():
            self.execute("INSERT INTO counters (name, value) VALUES (?, 1) "
                         "ON CONFLICT (name) DO UPDATE SET value = value + 1", (name,))
            return self.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()[0]

    @contextmanager
    def transaction(self) -> Iterator["SqliteStore"]:
        """One SQLite transaction (nested calls join the outer one); an exception rolls it all back."""
        with self._lock:
            connection = self._connection()
            outer = self._local.depth == 0
            if outer:
                connection.execute("BEGIN IMMEDIATE")
            self._local.depth += 1
            try:
                yield self
            except BaseException:
                self._local.depth -= 1
                if outer:
                    connection.execute("ROLLBACK")
                raise
            self._local.depth -= 1
            if outer:
                connection.execute("COMMIT")

    def clear(self) -> None:
        """Forget this namespace's state (every name in it begins with the prefix)."""
        low, high = self._prefix, self._prefix[:-1] + chr(ord(self._prefix[-1]) + 1) if self._prefix else "\U0010ffff"
        with self.transaction():
            for table, column in (("records", "collection"), ("counters", "name"), ("logs", "name")):
                self.execute(f"DELETE FROM {table} WHERE {column} >= ? AND {column} < ?", (low, high))

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None
