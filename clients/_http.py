"""HTTP plumbing shared by the Skymock service clients: tokens fetched once and
renewed when they die, retries that respect ``Retry-After``, errors carrying the
server's explanation, and replaceable clocks so tests never really wait."""
from __future__ import annotations

import argparse
import io
import json
import logging
import os
import sys
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from datetime import timezone
from typing import Any, Callable, Iterable, Mapping, Sequence, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
from dotenv import dotenv_values

__version__ = "0.1.0"
USER_AGENT = f"skymock-client/{__version__}"

log = logging.getLogger("skymock.clients")
T = TypeVar("T")
FileSpec = Mapping[str, tuple[str, bytes | str, str]]  # field: (filename, content, type)


def _redact_url(url: str) -> str:
    """Drop query and fragment: some services put keys there."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def server_message(body: Any) -> str:
    """Extract a human-readable explanation from an error body."""
    if isinstance(body, dict):
        detail = body.get("detail")
        if isinstance(detail, list):  # FastAPI validation errors
            return "; ".join(_validation_item(item) for item in detail)
        if body.get("error_message"):                          # the MMODA dispatcher's errors
            debug = body.get("debug_message")
            return f"{body['error_message']}: {debug}" if debug else str(body["error_message"])
        exit_status = body.get("exit_status")
        if isinstance(exit_status, dict) and exit_status.get("message"):   # a refused MMODA query
            return str(exit_status["message"])
        for key in ("detail", "error_description", "message", "error"):
            if body.get(key):
                return str(body[key])
        status = body.get("status")
        if isinstance(status, dict) and status.get("text"):      # an envelope such as OKAPI's
            return str(status["text"])
    if isinstance(body, (dict, list)):
        return json.dumps(body)[:500]
    return str(body or "").strip()[:500]


def _validation_item(item: Any) -> str:
    # Only loc and msg: the "input" member may echo submitted secrets.
    if not isinstance(item, dict):
        return str(item)
    loc = ".".join(str(part) for part in item.get("loc", []))
    msg = item.get("msg", "invalid")
    return f"{loc}: {msg}" if loc else str(msg)


class ApiError(Exception):
    """A request that did not end with an expected status. ``status`` is None if
    no response arrived; ``body`` is the parsed JSON, else the text."""

    def __init__(self, status: int | None, body: Any, method: str, url: str,
                 note: str | None = None) -> None:
        self.status = status
        self.body = body
        self.method = method
        self.url = _redact_url(url)
        self.note = note
        super().__init__(str(self))

    @classmethod
    def from_response(cls, resp: requests.Response, note: str | None = None) -> ApiError:
        try:
            body: Any = resp.json()
        except ValueError:
            body = resp.text
        method = resp.request.method if resp.request is not None else "?"
        return cls(resp.status_code, body, method or "?", resp.url, note)

    @property
    def message(self) -> str:
        """The server's own explanation, without the request summary."""
        return server_message(self.body)

    def __str__(self) -> str:
        what = f"HTTP {self.status}" if self.status is not None else "no response"
        text = f"{self.method} {self.url} failed with {what}"
        text += f": {self.message}" if self.message else ""
        return text + (f" ({self.note})" if self.note else "")


def json_object(resp: requests.Response) -> dict[str, Any]:
    """The response body as a JSON object, or ApiError if it is anything else."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        method = resp.request.method if resp.request is not None else "?"
        raise ApiError(resp.status_code, resp.text[:200], method or "?", resp.url,
                       "expected a JSON object")
    return body


@dataclass(frozen=True, repr=False)
class Token:
    """A credential plus, when known, a deadline on the monotonic clock."""

    value: str
    expires_at: float | None = None

    @classmethod
    def expiring(cls, value: str, lifetime: float | None, now: float) -> Token:
        """Build a token whose lifetime (seconds, if known) starts at ``now``."""
        return cls(value, None if lifetime is None else now + lifetime)

    def __repr__(self) -> str:  # keep tokens out of logs and tracebacks
        return f"Token(value=<redacted>, expires_at={self.expires_at!r})"


class TokenAuth(ABC):
    """Strategy for obtaining and presenting a token; subclass per service."""

    #: statuses meaning "this token is no longer accepted"
    dead_statuses: frozenset[int] = frozenset({401})
    #: renew this many seconds before a known expiry to avoid racing it
    refresh_margin: float = 30.0
    #: authorization scheme put in front of the token value
    scheme: str = "Bearer"

    @abstractmethod
    def fetch(self, session: ApiSession) -> Token:
        """Obtain a fresh token, usually via ``session.request(..., authenticate=False)``."""

    def apply(self, headers: dict[str, str], token: Token) -> None:
        headers["Authorization"] = f"{self.scheme} {token.value}"


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds asked for by Retry-After (delta-seconds or HTTP-date, compared with
    the epoch time ``now``); None if absent or unparseable, so backoff applies."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now)


@dataclass
class RetryPolicy:
    """When and how long to wait before resending a failed request."""

    statuses: frozenset[int] = frozenset({408, 429, 500, 502, 503, 504})
    #: statuses saying the request was not acted on: the only ones a write is resent after
    unprocessed: frozenset[int] = frozenset({408, 429, 503})
    max_attempts: int = 4
    backoff_base: float = 0.5
    backoff_factor: float = 2.0
    backoff_cap: float = 30.0
    max_wait: float = 120.0
    wall_clock: Callable[[], float] = time.time  # for HTTP-date Retry-After

    def backoff(self, attempt: int) -> float:
        """Exponential delay after the given (1-based) failed attempt."""
        return min(self.backoff_cap, self.backoff_base * self.backoff_factor ** (attempt - 1))

    def wait_before_retry(self, attempt: int, retry_after: str | None) -> float | None:
        """Seconds to wait, or None when the server asks for more than max_wait."""
        asked = parse_retry_after(retry_after, self.wall_clock())
        if asked is not None and asked > self.max_wait:
            return None
        return min(self.max_wait, max(self.backoff(attempt), asked or 0.0))


def _fresh_files(files: FileSpec | None) -> dict[str, tuple[str, io.BytesIO, str]] | None:
    """New file objects for every attempt, so a retry sends the whole content."""
    if files is None:
        return None
    return {field: (name, io.BytesIO(content.encode() if isinstance(content, str)
                                     else bytes(content)), ctype)
            for field, (name, content, ctype) in files.items()}


class ApiSession:
    """A requests.Session with a base URL, token handling and retries.
    Not thread-safe: the cached token is shared without locking."""

    def __init__(self, base_url: str, *, auth: TokenAuth | None = None,
                 retry: RetryPolicy | None = None, sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic, timeout: float = 30.0,
                 user_agent: str = USER_AGENT, session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.monotonic = monotonic
        self.timeout = timeout
        self.http = session or requests.Session()
        self.http.headers["User-Agent"] = user_agent
        self._token: Token | None = None

    def url(self, path: str) -> str:
        # Plain concatenation keeps any path prefix of base_url (urljoin would not).
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def token(self, *, force: bool = False) -> Token:
        """The cached token, fetched on first use or when (nearly) expired."""
        if self.auth is None:
            raise RuntimeError("this session has no TokenAuth")
        if force or self._token is None or self._is_stale(self._token):
            self._token = self.auth.fetch(self)
        return self._token

    def _is_stale(self, token: Token) -> bool:
        if token.expires_at is None or self.auth is None:
            return False
        return self.monotonic() >= token.expires_at - self.auth.refresh_margin

    def request(self, method: str, path: str, *, data: Any = None, json: Any = None,
                files: FileSpec | None = None, params: Mapping[str, Any] | None = None,
                headers: Mapping[str, str] | None = None,
                expected: Iterable[int] = (200,), authenticate: bool = True,
                idempotent: bool | None = None) -> requests.Response:
        """Send a request; return the response if its status is expected, else
        raise ApiError. A status in ``auth.dead_statuses`` gets one token renewal
        and one resend: if that is refused too, the refusal is real.

        A write (POST, PATCH) that fails with 500, 502 or 504 may have been done
        before the answer was lost: it is not resent, so a booking is never made
        twice. ``idempotent=True`` says resending is harmless (a login, an upload
        the service deduplicates)."""
        expected = tuple(expected)
        use_auth = authenticate and self.auth is not None
        if idempotent is None:
            idempotent = method.upper() not in ("POST", "PATCH")
        call = dict(method=method, url=self.url(path), data=data, json=json, files=files,
                    params=params, headers=headers, expected=expected, use_auth=use_auth,
                    idempotent=idempotent)
        resp = self._send_with_retries(**call)
        if use_auth and resp.status_code in self.auth.dead_statuses:  # type: ignore[union-attr]
            log.info("%s %s: token refused (HTTP %s), renewing once",
                     method, _redact_url(resp.url), resp.status_code)
            self.token(force=True)
            resp = self._send_with_retries(**call)
        if resp.status_code not in expected:
            note = None
            if resp.status_code in self.retry.statuses and (idempotent or resp.status_code in self.retry.unprocessed):
                note = f"gave up after {self.retry.max_attempts} attempts"
            elif resp.status_code in self.retry.statuses:
                note = "not resent: the service may have done it before the answer was lost; check before retrying"
            raise ApiError.from_response(resp, note)
        return resp

    def _send_with_retries(self, *, method: str, url: str, expected: tuple[int, ...],
                           use_auth: bool, files: FileSpec | None, idempotent: bool,
                           headers: Mapping[str, str] | None, **kwargs: Any) -> requests.Response:
        policy = self.retry
        retried = policy.statuses if idempotent else policy.statuses & policy.unprocessed
        for attempt in range(1, policy.max_attempts + 1):
            last = attempt == policy.max_attempts
            try:
                resp = self._send_once(method, url, use_auth, files, headers, kwargs)
            except requests.exceptions.SSLError:
                raise  # a certificate problem does not heal by waiting
            except (requests.ConnectionError, requests.Timeout) as exc:
                if last or (not idempotent and not isinstance(exc, requests.ConnectTimeout)):
                    raise ApiError(None, None, method, url,
                                   f"{type(exc).__name__} after {attempt} attempts") from exc
                self._pause(policy.backoff(attempt), method, url, type(exc).__name__, attempt)
                continue
            if resp.status_code not in retried or resp.status_code in expected or last:
                return resp
            wait = policy.wait_before_retry(attempt, resp.headers.get("Retry-After"))
            if wait is None:
                raise ApiError.from_response(
                    resp, f"server asked to retry after {resp.headers.get('Retry-After')}, "
                          f"beyond the {policy.max_wait:g} s limit")
            self._pause(wait, method, url, f"HTTP {resp.status_code}", attempt)
        raise AssertionError("unreachable: the last attempt always returns or raises")

    def _send_once(self, method: str, url: str, use_auth: bool, files: FileSpec | None,
                   headers: Mapping[str, str] | None, kwargs: dict[str, Any]) -> requests.Response:
        # Headers and token are rebuilt per attempt: a long retry wait can
        # outlast the token, and the proactive check in token() catches that.
        send_headers = dict(headers or {})
        if use_auth:
            self.auth.apply(send_headers, self.token())  # type: ignore[union-attr]
        resp = self.http.request(method, url, headers=send_headers, files=_fresh_files(files),
                                 timeout=self.timeout, **kwargs)
        log.debug("%s %s -> %s", method, _redact_url(url), resp.status_code)
        return resp

    def _pause(self, seconds: float, method: str, url: str, why: str, attempt: int) -> None:
        log.info("%s %s: %s, retrying in %.1f s (attempt %d of %d)", method,
                 _redact_url(url), why, seconds, attempt, self.retry.max_attempts)
        self.sleep(seconds)

    def poll(self, fetch_status: Callable[[], T], is_done: Callable[[T], bool], *,
             interval: float, timeout: float, max_interval: float | None = None,
             progress: Callable[[T], None] | None = None) -> T:
        """:func:`poll` using this session's clocks."""
        return poll(fetch_status, is_done, interval=interval, timeout=timeout,
                    max_interval=max_interval, progress=progress,
                    sleep=self.sleep, monotonic=self.monotonic)


def poll(fetch_status: Callable[[], T], is_done: Callable[[T], bool], *, interval: float,
         timeout: float, max_interval: float | None = None,
         progress: Callable[[T], None] | None = None, backoff: float = 1.5,
         sleep: Callable[[float], None] = time.sleep,
         monotonic: Callable[[], float] = time.monotonic) -> T:
    """Call ``fetch_status`` until ``is_done`` accepts its result, passing each
    result to ``progress``. Waits grow from ``interval`` by ``backoff`` up to
    ``max_interval`` so long jobs are not hammered; a last look at the deadline
    precedes TimeoutError."""
    deadline = monotonic() + timeout
    ceiling = interval if max_interval is None else max(interval, max_interval)
    wait = interval
    while True:
        status = fetch_status()
        if progress is not None:
            progress(status)
        if is_done(status):
            return status
        remaining = deadline - monotonic()
        if remaining <= 0:
            raise TimeoutError(f"not done after {timeout:g} s")
        sleep(min(wait, remaining))
        wait = min(ceiling, wait * backoff)


def settings_from(env_prefix: str, *, args: Mapping[str, Any] | None,
                  env_file: str | os.PathLike[str] | None,
                  names: Iterable[str] = ()) -> dict[str, Any]:
    """Merge settings for the keys of ``args`` plus ``names``: non-None args win,
    then PREFIX_NAME variables, then the dotenv file; else None. Empty strings
    count as unset. The file is read, not loaded, so os.environ stays clean."""
    args = dict(args or {})
    prefix = env_prefix.rstrip("_").upper() + "_"
    # interpolate=False: secrets are literal, "${...}" must not be expanded.
    dotenv = dotenv_values(env_file, interpolate=False) if env_file else {}
    merged: dict[str, Any] = {}
    for name in dict.fromkeys([*args, *names]):
        var = prefix + name.upper()
        for value in (args.get(name), os.environ.get(var), dotenv.get(var)):
            if value is not None and value != "":
                merged[name] = value
                break
        else:
            merged[name] = None
    return merged


def run_command(work: Callable[[], int]) -> int:
    """Run a client command: 1 for an error the service answered (or a wait that timed out), 2 for a usage, configuration or
    file problem (the reason on stderr either way), else what ``work`` returns."""
    try:
        return work()
    except (ApiError, TimeoutError) as exc:     # the service answered, or did not finish in time
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (ValueError, OSError) as exc:  # ConfigError, an unreadable, malformed or oversize file
        print(f"error: {exc}", file=sys.stderr)
        return 2


def run_subcommand(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> int:
    """Parse a command line whose subcommands set ``func``, and run it as :func:`run_command` does."""
    args = parser.parse_args(argv)
    return run_command(lambda: args.func(args))
