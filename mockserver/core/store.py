"""Where a sandbox keeps its state: in memory (the default) or in an SQLite file (``--state``).

Models keep JSON-shaped records in named collections and change them inside
``store.transaction()``, so a request either writes everything it meant to or
nothing (a bad row in an upload must not leave half a file behind). Counters
(``next_id``) and logs (the journal) live here too, so that every worker of a
mock that serves with several processes sees one state.

The SQLite store runs in WAL mode with ``synchronous=NORMAL``: a transaction is
in the file once it commits, so killing the mock (even with SIGKILL) loses
nothing it acknowledged; only a power cut can lose the last few commits. A
transaction holds the writers' lock (a lock file beside the state file) from its
first read, so two workers never both take the same seat. The logs are in a second
file (the state file's name with ``.log``), so journaling a request never waits on
a transaction of records. Each worker caches the records it reads, collection by
collection, until a worker changes that collection.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from collections import deque
from contextlib import contextmanager
from dataclasses import fields, is_dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator, Protocol

try:
    import fcntl
except ImportError:       # not on Windows: SQLite's own lock alone orders the writers there
    fcntl = None  # type: ignore[assignment]


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
    def refresh(self) -> None: ...
    @property
    def persistent(self) -> bool: ...


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=True)


TIME = "$time"     # how a record marks an instant


def plain(value: Any) -> Any:
    """A value as a JSON-shaped record: dataclasses become dicts of their fields, instants
    ``{"$time": iso}``, tuples lists."""
    if isinstance(value, datetime):
        return {TIME: value.isoformat()}
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def revive(value: Any) -> Any:
    """The value :func:`plain` made a record of (tuples come back as lists)."""
    if isinstance(value, dict):
        if len(value) == 1 and TIME in value:
            return datetime.fromisoformat(value[TIME])
        return {key: revive(item) for key, item in value.items()}
    if isinstance(value, list):
        return [revive(item) for item in value]
    return value


# --- in memory -------------------------------------------------------------------------------------
class MemoryCollection:
    """Records kept as JSON text, as the SQLite store keeps them: a caller gets a copy each time, and a
    value that would not survive a state file fails here too, not only with ``--state``."""

    def __init__(self) -> None:
        self._items: dict[str, str] = {}

    def get(self, key: str, default: Any = None) -> Any:
        text = self._items.get(key)
        return json.loads(text) if text is not None else default

    def put(self, key: str, value: Any) -> None:
        self._items[key] = _dump(value)

    def delete(self, key: str) -> bool:
        return self._items.pop(key, None) is not None

    def values(self) -> list[Any]:
        return [json.loads(text) for text in self._items.values()]

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

    def refresh(self) -> None:
        """Nothing to do: no other process shares this store."""

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
RECORDS, LOG = "records", "log"        # the two parts of a state file a writer may hold
LOG_SUFFIX = ".log"                    # the logs' file: the state file's name with this added
SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY,
    collection TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    UNIQUE (collection, key)
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
-- the logs (the journal: an entry per request) are in a file of their own, attached as "log": its
-- writes take that file's lock, and a worker journaling a request does not wait on one storing a record
CREATE TABLE IF NOT EXISTS log.logs (
    name TEXT NOT NULL,
    seq INTEGER NOT NULL,
    entry TEXT NOT NULL,
    PRIMARY KEY (name, seq)
);
-- how many times each collection's records have changed: a worker's cache of a collection is good
-- while its version stands still
CREATE TABLE IF NOT EXISTS versions (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS record_added AFTER INSERT ON records BEGIN
    INSERT INTO versions (name, value) VALUES (NEW.collection, 1)
    ON CONFLICT (name) DO UPDATE SET value = value + 1; END;
CREATE TRIGGER IF NOT EXISTS record_changed AFTER UPDATE ON records BEGIN
    INSERT INTO versions (name, value) VALUES (NEW.collection, 1)
    ON CONFLICT (name) DO UPDATE SET value = value + 1; END;
CREATE TRIGGER IF NOT EXISTS record_removed AFTER DELETE ON records BEGIN
    INSERT INTO versions (name, value) VALUES (OLD.collection, 1)
    ON CONFLICT (name) DO UPDATE SET value = value + 1; END;
"""


class SqliteCollection:
    """Records in the file. Reads are served from the connection's cache while no record has changed
    since the request began (see :meth:`SqliteStore.refresh`); a write drops what it makes stale."""

    def __init__(self, store: "SqliteStore", name: str) -> None:
        self._store = store
        self._name = name

    def _rows(self, sql: str, *args: Any) -> list[tuple]:
        return self._store.execute(sql, (self._name, *args)).fetchall()

    def _cached(self, what: Any, read: Any) -> list[tuple]:
        cache = self._store.cache()
        key = (self._name, what)
        if key not in cache:
            cache[key] = read()
        return cache[key]

    def _changed(self, key: str | None = None) -> None:
        cache = self._store.cache()
        for what in (("value", key), "values", "keys"):
            cache.pop((self._name, what), None)
        if key is None:
            for entry in [k for k in cache if k[0] == self._name]:
                del cache[entry]

    def get(self, key: str, default: Any = None) -> Any:
        rows = self._cached(("value", key),
                            lambda: self._rows("SELECT value FROM records WHERE collection = ? AND key = ?", key))
        return json.loads(rows[0][0]) if rows else default

    def put(self, key: str, value: Any) -> None:
        with self._store.writing():
            self._store.execute("INSERT INTO records (collection, key, value) VALUES (?, ?, ?) "
                                "ON CONFLICT (collection, key) DO UPDATE SET value = excluded.value",
                                (self._name, key, _dump(value)))
        self._changed(key)

    def delete(self, key: str) -> bool:
        with self._store.writing():
            gone = self._store.execute("DELETE FROM records WHERE collection = ? AND key = ?",
                                       (self._name, key)).rowcount > 0
        self._changed(key)
        return gone

    def values(self) -> list[Any]:
        rows = self._cached("values", lambda: self._rows("SELECT value FROM records WHERE collection = ? ORDER BY id"))
        return [json.loads(v) for (v,) in rows]

    def keys(self) -> list[str]:
        rows = self._cached("keys", lambda: self._rows("SELECT key FROM records WHERE collection = ? ORDER BY id"))
        return [k for (k,) in rows]

    def __contains__(self, key: object) -> bool:
        return self.get(str(key), _ABSENT) is not _ABSENT

    def __len__(self) -> int:
        return len(self.keys())

    def clear(self) -> None:
        with self._store.writing():
            self._store.execute("DELETE FROM records WHERE collection = ?", (self._name,))
        self._changed()


_ABSENT = object()


class SqliteLog:
    def __init__(self, store: "SqliteStore", name: str, capacity: int) -> None:
        self._store = store
        self._name = name
        self._capacity = capacity

    def append(self, entry: dict[str, Any]) -> dict[str, Any]:
        # one statement numbers and writes the entry: it is its own transaction, the cheapest SQLite has
        with self._store.writing(LOG):
            (seq,) = self._store.execute(
                "INSERT INTO log.logs (name, seq, entry) SELECT ?, coalesce(max(seq), 0) + 1, ? FROM log.logs "
                "WHERE name = ? "
                "RETURNING seq", (self._name, _dump(entry), self._name)).fetchone()
            if seq % 1000 == 0:     # trim now and then, not on every request
                self._store.execute("DELETE FROM log.logs WHERE name = ? AND seq <= ?",
                                    (self._name, seq - self._capacity))
        return {"seq": seq, **entry}

    def entries(self) -> list[dict[str, Any]]:
        rows = self._store.execute("SELECT seq, entry FROM log.logs WHERE name = ? ORDER BY seq DESC LIMIT ?",
                                   (self._name, self._capacity)).fetchall()
        return [{"seq": seq, **json.loads(e)} for seq, e in reversed(rows)]

    def clear(self) -> None:
        with self._store.writing(LOG):
            self._store.execute("DELETE FROM log.logs WHERE name = ?", (self._name,))


class SqliteStore:
    """Collections, counters and logs in one SQLite file, shared by every process that opens it.

    Each service keeps its own part of the file (``namespace``): several services can share
    one file, and a reset of one leaves the others alone.
    """

    persistent = True

    def __init__(self, path: str | Path, namespace: str = "") -> None:
        self.path = Path(path)
        self._prefix = f"{namespace}:" if namespace else ""
        self._file = _SharedFile.of(self.path)
        self._local = self._file.local
        self._lock = self._file.lock

    def _connection(self) -> sqlite3.Connection:
        return self._file.connection()

    def execute(self, sql: str, args: tuple = ()) -> sqlite3.Cursor:
        return self._connection().execute(sql, args)

    def writing(self, part: str = RECORDS) -> Any:
        """Hold the right to write the records or the logs (see :meth:`_SharedFile.writing`)."""
        return self._file.writing(part)

    def cache(self) -> dict:
        """This thread's cache of records read from the file."""
        return self._file.cache()

    def refresh(self) -> None:
        """Forget cached records if a record has changed (by any worker) since the last look. Each request
        begins with it, so a request reads what every worker had committed when it began."""
        self._file.refresh()

    def collection(self, name: str) -> SqliteCollection:
        return SqliteCollection(self, self._prefix + name)

    def log(self, name: str, capacity: int) -> SqliteLog:
        return SqliteLog(self, self._prefix + name, capacity)

    def next_id(self, name: str) -> int:
        name = self._prefix + name
        with self.writing():      # one statement: its own transaction, or part of the caller's
            return self.execute("INSERT INTO counters (name, value) VALUES (?, 1) "
                                "ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
                                (name,)).fetchone()[0]

    @contextmanager
    def transaction(self) -> Iterator["SqliteStore"]:
        """One SQLite transaction (nested calls join the outer one); an exception rolls it all back."""
        with self._file.writing():
            connection = self._connection()
            outer = self._local.depth == 0
            if outer:
                # The lock file already keeps every other writer of the records out, so the transaction
                # need not lock the file up front: BEGIN IMMEDIATE would lock the logs' file as well, and
                # every request's journal entry would wait for it. Without the lock file, it must.
                connection.execute("BEGIN" if fcntl is not None else "BEGIN IMMEDIATE")
                self._file.refresh()          # with the write lock held: what is cached now stays true
            self._local.depth += 1
            try:
                yield self
            except BaseException:
                self._local.depth -= 1
                if outer:
                    connection.execute("ROLLBACK")
                    self._file.cache().clear()   # it may hold what was rolled back
                raise
            self._local.depth -= 1
            if outer:
                connection.execute("COMMIT")

    def clear(self) -> None:
        """Forget this namespace's state (every name in it begins with the prefix)."""
        low, high = self._prefix, self._prefix[:-1] + chr(ord(self._prefix[-1]) + 1) if self._prefix else "\U0010ffff"
        with self.transaction():
            for table, column in (("records", "collection"), ("counters", "name"), ("log.logs", "name")):
                self.execute(f"DELETE FROM {table} WHERE {column} >= ? AND {column} < ?", (low, high))
            self._file.cache().clear()

    def close(self) -> None:
        self._file.close()


class _SharedFile:
    """One connection per thread to a state file, shared by every store (namespace) of the process
    that opens it: a transaction that spans two namespaces (a portal request that writes the
    observatory it shares with the archive) is one SQLite transaction, not two that wait on each other."""

    _open: dict[Path, "_SharedFile"] = {}
    _guard = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = path
        self.local = threading.local()
        self.lock = threading.RLock()        # threads of one process take turns; processes lock the file
        self._closed = threading.Event()
        self._writers = {RECORDS: 0, LOG: 0}
        self._lock_files = {part: open(f"{path}{suffix}.lock", "ab") if fcntl is not None else None  # noqa: SIM115
                            for part, suffix in ((RECORDS, ""), (LOG, LOG_SUFFIX))}

    @contextmanager
    def writing(self, part: str = RECORDS) -> Iterator[None]:
        """Hold the right to write, among this process's threads and every process on the file.

        Writers queue on a lock file the kernel hands over at once, rather than on SQLite's own
        lock, whose waiters sleep and retry (1, 2, 5 ... 100 ms): under load from several workers
        that sleeping was most of a write's latency.
        """
        lock_file = self._lock_files[part]
        with self.lock:
            self._writers[part] += 1
            if self._writers[part] == 1 and lock_file is not None:
                fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                self._writers[part] -= 1
                if self._writers[part] == 0 and lock_file is not None:
                    fcntl.flock(lock_file, fcntl.LOCK_UN)

    @classmethod
    def of(cls, path: Path) -> "_SharedFile":
        key = path.resolve()
        with cls._guard:
            if key not in cls._open:
                opened = cls(key)
                opened.connection().executescript(SCHEMA)     # once: a script would end a transaction under way
                threading.Thread(target=opened._checkpoints, name=f"checkpoints of {key.name}", daemon=True).start()
                cls._open[key] = opened
            return cls._open[key]

    def connection(self) -> sqlite3.Connection:
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA busy_timeout = 30000")
            connection.execute("ATTACH DATABASE ? AS log", (f"{self.path}{LOG_SUFFIX}",))
            for schema in ("main", "log"):
                connection.execute(f"PRAGMA {schema}.journal_mode = WAL")
                connection.execute(f"PRAGMA {schema}.synchronous = NORMAL")
                # checkpoints (copying the WAL into the file, with an fsync) run in a thread of their own
                # (see _checkpoints), not in whichever request's commit happens to fill the WAL
                connection.execute(f"PRAGMA {schema}.wal_autocheckpoint = 0")
            self.local.connection = connection
            self.local.depth = 0
            self.local.cache = {}
            self.local.version = None
        return connection

    def _checkpoints(self, every: float = 1.0) -> None:
        """Copy the WAL back into the files now and then, without making anyone wait (PASSIVE)."""
        while not self._closed.wait(every):
            if not self.path.exists():   # a test's temporary directory went away: nothing left to keep
                return
            try:
                for schema in ("main", "log"):
                    self.connection().execute(f"PRAGMA {schema}.wal_checkpoint(PASSIVE)")
            except sqlite3.Error:        # closed or gone under it
                return

    def cache(self) -> dict:
        self.connection()
        return self.local.cache

    def refresh(self) -> None:
        # a collection's version moves with every change of one of its records, by any worker (the journal's
        # entries and the counters move none); this connection's own writes drop what they make stale as they go.
        # SQLite's data_version tells at once whether any other connection has committed to the file since.
        connection = self.connection()
        (committed,) = connection.execute("PRAGMA main.data_version").fetchone()
        if committed == getattr(self.local, "committed", None):
            return
        self.local.committed = committed
        versions = dict(connection.execute("SELECT name, value FROM versions").fetchall())
        seen = self.local.version or {}
        if versions != seen:
            moved = {name for name in versions.keys() | seen.keys() if versions.get(name) != seen.get(name)}
            cache = self.local.cache
            for key in [key for key in cache if key[0] in moved]:
                del cache[key]
            self.local.version = versions

    def close(self) -> None:
        self._closed.set()
        connection = getattr(self.local, "connection", None)
        if connection is not None:
            connection.close()
            self.local.connection = None
