"""Injected failures: an error status, a delay, a 429 with Retry-After.

A rule matches requests by method and a path regex; it fires ``count`` times
(or until cleared when no count is given), each time answering with its status
in the service's own error shape, or only adding latency when it has no status.
Retry-After is sent in seconds, or as an HTTP-date on the sandbox clock
(``retry_after_date``). With ``after_processing`` the service does the work and
only the answer is lost: the ambiguous failure that tempts clients to resend a write.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any

from .errors import ApiError, invalid
from .store import MemoryStore, Store


@dataclass
class Fault:
    status: int | None = None
    count: int | None = None
    path: str | None = None
    method: str | None = None
    retry_after: int | None = None
    latency_ms: int = 0
    message: str = "Injected fault"
    retry_after_date: bool = False
    after_processing: bool = False
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return not self.path or re.search(self.path, path) is not None

    def spent(self) -> bool:
        return self.count is not None and self.fired >= self.count

    def as_json(self) -> dict[str, Any]:
        data = {k: v for k, v in vars(self).items() if v is not None and v is not False}
        if self.count is not None:
            data["remaining"] = self.count - self.fired
        return data

    def error(self, now: float) -> ApiError:
        """The answer, at sandbox-clock time ``now`` (epoch seconds)."""
        headers = {}
        if self.retry_after is not None:
            if self.retry_after_date:  # whole seconds: round up so waiting until the date waits long enough
                when = datetime.fromtimestamp(math.ceil(now + self.retry_after), tz=timezone.utc)
                headers["Retry-After"] = format_datetime(when, usegmt=True)
            else:
                headers["Retry-After"] = str(self.retry_after)
        return ApiError(self.status or 500, self.message, headers=headers)


def parse_fault(body: dict[str, Any]) -> Fault:
    """Validate a fault description from the control API, naming the field that is wrong."""
    def integer(name: str, low: int, high: int) -> int | None:
        value = body.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise invalid(name, f"must be an integer from {low} to {high}", value)
        return value

    status = integer("status", 400, 599)
    latency = integer("latency_ms", 0, 60_000) or 0
    if status is None and not latency:
        raise invalid("status", "give a status (400-599), a latency_ms, or both")
    path = body.get("path")
    if path is not None:
        if not isinstance(path, str):
            raise invalid("path", "must be a regular expression string", path)
        try:
            re.compile(path)
        except (re.error, OverflowError) as exc:   # a repeat count past re's limit (a{9999999999}) overflows
            raise invalid("path", f"is not a valid regular expression: {exc}", path) from None
    method = body.get("method")
    if method is not None and (not isinstance(method, str) or not method.isalpha()):
        raise invalid("method", "must be an HTTP method name such as GET", method)
    message = body.get("message", "Injected fault")
    if not isinstance(message, str):
        raise invalid("message", "must be a string", message)
    flags = {}
    for name in ("retry_after_date", "after_processing"):
        value = body.get(name, False)
        if not isinstance(value, bool):
            raise invalid(name, "must be true or false", value)
        flags[name] = value
    retry_after = integer("retry_after", 0, 86_400)
    if flags["retry_after_date"] and retry_after is None:
        raise invalid("retry_after_date", "needs retry_after: the seconds the date lies ahead")
    if flags["after_processing"] and status is None:
        raise invalid("after_processing", "needs a status: the answer that replaces the service's own")
    return Fault(status=status, count=integer("count", 1, 1_000_000), path=path,
                 method=method, retry_after=retry_after, latency_ms=latency, message=message, **flags)


class FaultBook:
    """The injected faults of a sandbox, kept in its store so that every worker fires them, and
    a fault with a count fires that many times in all."""

    def __init__(self, store: Store | None = None) -> None:
        self._store = store or MemoryStore()
        self._faults = self._store.collection("faults")

    def add(self, fault: Fault) -> None:
        with self._store.transaction():
            self._faults.put(str(self._store.next_id("fault")), vars(fault))

    def take(self, method: str, path: str) -> Fault | None:
        """The first live fault matching this request, counted as fired."""
        if not len(self._faults):          # the usual case, without taking the write lock
            return None
        with self._store.transaction():
            for key in self._faults.keys():
                fault = Fault(**self._faults.get(key))
                if not fault.spent() and fault.matches(method, path):
                    fault.fired += 1
                    self._faults.put(key, vars(fault))
                    return fault
        return None

    def list(self) -> list[dict[str, Any]]:
        faults = [Fault(**data) for data in self._faults.values()]
        return [fault.as_json() for fault in faults if not fault.spent()]

    def clear(self) -> None:
        self._faults.clear()
