"""The examiner's rules: each reads the journal of one run and says passed, failed or not exercised.

A rule only sees what the service saw: requests, statuses, the token each one
carried (as a fingerprint), waits measured in real seconds, and the notes the
service wrote (a token handed out, a job looked at, a file uploaded, a resource
created). Evidence names journal entries as ``#seq`` so a reader can find them
in the JSON report.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Callable

from mockserver.core.clock import parse_instant

PASSED, FAILED, NOT_EXERCISED = "passed", "failed", "not exercised"
DEAD = ("expired", "revoked")
TOLERANCE = 0.05          # seconds: clocks and scheduling, not a client's choice
Entry = dict[str, Any]


@dataclass
class Run:
    """What the examiner knows of one run."""

    entries: list[Entry]                 # the client's requests, oldest first (control API excluded)
    token_ttl: float | None              # the scenario's token lifetime, if it sets one
    timed_out: bool = False
    exit_status: int | None = None


@dataclass
class Verdict:
    rule: str
    outcome: str
    summary: str
    evidence: list[str] = field(default_factory=list)
    required: bool = True

    @property
    def ok(self) -> bool:
        return self.outcome == PASSED or not self.required


@dataclass(frozen=True)
class Rule:
    name: str
    title: str
    judge: Callable[..., tuple[str, str, list[str]]]
    params: dict[str, Any]


# --- reading entries ------------------------------------------------------------------------------
def show(e: Entry) -> str:
    """One entry as evidence: ``#7 3.21 s GET /ods_data -> 403 (revoked token)``."""
    text = f"#{e['seq']} {e['elapsed']:.2f} s {e['method']} {e['path']} -> {e['status']}"
    if e.get("retry_after"):
        text += f" Retry-After: {e['retry_after']}"
    if e.get("auth") in DEAD:
        text += f" ({e['auth']} token)"
    if "fault" in e.get("notes", []):
        text += " [scenario fault]"
    return text


def answered(e: Entry) -> float:
    """When the answer left, in the journal's real seconds."""
    return e["elapsed"] + (e.get("duration_ms") or 0) / 1000


def key(e: Entry) -> tuple[str, str]:
    return e["method"], e["path"]


def noted(e: Entry, prefix: str) -> list[str]:
    return [n[len(prefix):] for n in e.get("notes", []) if n.startswith(prefix)]


def is_dead_refusal(e: Entry) -> bool:
    return e.get("auth") in DEAD and e["status"] in (401, 403)


def fetches(entries: list[Entry]) -> list[Entry]:
    return [e for e in entries if noted(e, "token:fetched:")]


def asked_wait(e: Entry) -> float | None:
    """Seconds the answer's Retry-After asked for, in either form; None without one."""
    value = (e.get("retry_after") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        return parsedate_to_datetime(value).timestamp() - parse_instant(e["time"]).timestamp()
    except (TypeError, ValueError):
        return None


def token_per_request(entries: list[Entry]) -> str | None:
    """Why the client looks like it fetches a token for every request, or None."""
    used = [e for e in entries if e.get("token")]
    got = fetches(entries)
    if len(got) >= 3 and 2 * len(got) >= len(used):
        return (f"fetched {len(got)} tokens for {len(used)} authenticated requests: keep a token and reuse it "
                "until it dies or nears its expiry")
    return None


# --- the rules ------------------------------------------------------------------------------------
def reactive_refresh(run: Run, max_refused: int = 2) -> tuple[str, str, list[str]]:
    greedy = token_per_request(run.entries)
    if greedy:
        return FAILED, greedy, [show(e) for e in fetches(run.entries)[:5]]
    deaths = [e for e in run.entries if is_dead_refusal(e)]
    if not deaths:
        return NOT_EXERCISED, "no request met a dead token: the run ended before the scenario revoked it", []
    first = deaths[0]
    later = [e for e in run.entries if e["seq"] > first["seq"]]
    fetch = next((e for e in later if noted(e, "token:fetched:")), None)
    if fetch is None:
        return FAILED, f"after the refusal at #{first['seq']} the client never fetched a new token", \
            [show(e) for e in deaths[:5]]
    refused = [e for e in deaths if e["seq"] < fetch["seq"]]
    if len(refused) > max_refused:
        return FAILED, f"sent {len(refused)} requests with the dead token before fetching a new one", \
            [show(e) for e in refused[:6]]
    dead_tokens = {e["token"] for e in deaths if e.get("token")}
    reused = [e for e in later if e["seq"] > fetch["seq"] and e.get("token") in dead_tokens]
    if reused:
        return FAILED, f"used the dead token {len(reused)} more time(s) after fetching a new one", \
            [show(e) for e in reused[:5]]
    repeat = next((e for e in later if e["seq"] > fetch["seq"] and key(e) == key(first)
                   and not is_dead_refusal(e)), None)
    if repeat is None:
        return FAILED, f"fetched a new token at #{fetch['seq']} but never repeated the refused " \
                       f"{first['method']} {first['path']}", [show(first), show(fetch)]
    storm = [e for e in later if first["seq"] < e["seq"] < repeat["seq"] and noted(e, "token:fetched:")]
    if len(storm) > 1:
        return FAILED, f"fetched {len(storm)} tokens to recover from one refusal (one is enough)", \
            [show(e) for e in storm[:5]]
    return PASSED, f"refused at #{first['seq']} for a dead token, one new token at #{fetch['seq']}, " \
                   f"the request repeated at #{repeat['seq']}", [show(first), show(fetch), show(repeat)]


def proactive_refresh(run: Run, lifetime: float | None = None) -> tuple[str, str, list[str]]:
    greedy = token_per_request(run.entries)
    if greedy:
        return FAILED, greedy, [show(e) for e in fetches(run.entries)[:5]]
    expired = [e for e in run.entries if e.get("auth") == "expired" and e["status"] in (401, 403)]
    if expired:
        return FAILED, f"sent {len(expired)} request(s) with a token past its expiry: renew before it " \
                       "(expires_in, or the JWT's exp)", [show(e) for e in expired[:5]]
    life = lifetime or run.token_ttl
    used = [e for e in run.entries if e.get("token")]
    renewed = [e for e in fetches(run.entries) if used and e["seq"] >= used[0]["seq"]]   # not the first login
    span = used[-1]["elapsed"] - used[0]["elapsed"] if used else 0.0
    if not renewed and (life is None or span < life):
        return NOT_EXERCISED, f"the authenticated requests spanned {span:.1f} s, less than the token's " \
                              f"lifetime ({life or 'unknown'} s)", []
    return PASSED, f"no request carried an expired token over {span:.1f} s; renewed {len(renewed)} time(s)", \
        [show(e) for e in renewed[:5]]


def retry_after(run: Run) -> tuple[str, str, list[str]]:
    asked = [e for e in run.entries if e["status"] in (429, 503) and asked_wait(e) is not None]
    if not asked:
        return NOT_EXERCISED, "no answer asked the client to wait (429 or 503 with Retry-After)", []
    early, kept = [], []
    for e in asked:
        wait = asked_wait(e) or 0.0
        following = next((n for n in run.entries if n["seq"] > e["seq"] and key(n) == key(e)), None)
        if following is None:
            continue
        gap = following["elapsed"] - answered(e)
        (early if gap < wait - TOLERANCE else kept).append(
            f"{show(e)}; asked {wait:.1f} s, next try #{following['seq']} after {gap:.2f} s")
    if early:
        return FAILED, f"{len(early)} retry(s) came sooner than Retry-After asked", early[:5]
    return PASSED, f"waited as asked after {len(asked)} answer(s) with Retry-After", kept[:5] or \
        ["the client gave up instead of retrying"]


def _runs(entries: list[Entry], failing: Callable[[Entry], bool]) -> list[list[Entry]]:
    """Consecutive attempts at one request, each after a failing answer to the one before."""
    current: dict[tuple[str, str], list[Entry]] = {}
    runs: list[list[Entry]] = []
    for e in entries:
        k = key(e)
        previous = current.get(k)
        if previous and failing(previous[-1]):
            previous.append(e)
        else:
            current[k] = [e]
            runs.append(current[k])
    return [r for r in runs if len(r) > 1 or failing(r[0])]


def _server_error(e: Entry) -> bool:
    return e["status"] >= 500 and not e.get("retry_after")


def backoff(run: Run, min_wait: float = 0.2) -> tuple[str, str, list[str]]:
    runs = [r for r in _runs(run.entries, _server_error) if len(r) > 1]
    if not runs:
        return NOT_EXERCISED, "no request was retried after a 5xx answer without Retry-After", []
    problems, seen = [], []
    for r in runs:
        gaps = [b["elapsed"] - answered(a) for a, b in zip(r, r[1:])]
        shown = ", ".join(f"{g:.2f}" for g in gaps)
        line = f"{r[0]['method']} {r[0]['path']}: waits {shown} s between {len(r)} tries"
        seen.append(line)
        if min(gaps) < min_wait - TOLERANCE:
            problems.append(f"{line}; at least {min_wait:g} s expected")
        elif len(gaps) >= 2 and gaps[-1] <= gaps[0]:
            problems.append(f"{line}; the waits should grow")
    if problems:
        return FAILED, "retried 5xx answers without backing off", problems[:5]
    return PASSED, f"backed off in {len(runs)} series of retries", seen[:5]


def _failure(e: Entry) -> bool:
    return e["status"] in (408, 429) or e["status"] >= 500


def bounded_retries(run: Run, max_attempts: int = 10) -> tuple[str, str, list[str]]:
    runs = [r for r in _runs(run.entries, _failure) if _failure(r[0])]
    if not runs:
        return NOT_EXERCISED, "no request failed with 408, 429 or 5xx", []
    longest = max(runs, key=len)
    what = f"{longest[0]['method']} {longest[0]['path']}"
    if len(longest) > max_attempts:
        return FAILED, f"sent {what} {len(longest)} times in a row while it failed; give up after at most " \
                       f"{max_attempts}", [show(longest[0]), "...", show(longest[-1])]
    still = run.timed_out and _failure(run.entries[-1])
    if still:
        return FAILED, f"was still retrying {what} when the time limit stopped it", [show(run.entries[-1])]
    return PASSED, f"at most {len(longest)} tries of one request ({what}), then it stopped or succeeded", \
        [show(longest[0]), show(longest[-1])]


def polling(run: Run, min_interval: float = 1.0, max_interval: float = 60.0) -> tuple[str, str, list[str]]:
    looks: dict[str, list[tuple[Entry, str]]] = defaultdict(list)
    for e in run.entries:
        for note in noted(e, "job:"):
            job, _, state = note.rpartition(":")
            looks[job].append((e, state))
    waited = {job: seq for job, seq in looks.items() if any(state == "running" for _, state in seq)}
    if not waited:
        return NOT_EXERCISED, "no asynchronous job was seen still running", []
    problems, seen = [], []
    for job, seq in waited.items():
        gaps = []
        for (a, _), (b, _) in zip(seq, seq[1:]):
            gap = b["elapsed"] - answered(a)
            gaps.append(gap)
            floor = max(min_interval, float(a["retry_after"]) if (a.get("retry_after") or "").isdigit() else 0)
            if gap < floor - TOLERANCE:
                problems.append(f"job {job}: #{b['seq']} looked {gap:.2f} s after #{a['seq']}; wait at least {floor:g} s")
            elif gap > max_interval:
                problems.append(f"job {job}: #{b['seq']} came {gap:.1f} s after #{a['seq']}; look at least every "
                                f"{max_interval:g} s")
        done_paths: set[str] = set()
        for e, state in seq:
            if e["path"] in done_paths:
                problems.append(f"job {job}: {show(e)} after the result had been fetched; fetch it once")
            if state == "done":
                done_paths.add(e["path"])
        if not done_paths and seq[-1][0] is run.entries[-1] and run.timed_out:
            problems.append(f"job {job}: still polling when the time limit stopped the client")
        seen.append(f"job {job}: {len(seq)} looks, waits " + ", ".join(f"{g:.1f}" for g in gaps) + " s")
    if problems:
        return FAILED, f"{len(problems)} polling problem(s)", problems[:6]
    return PASSED, f"polled {len(waited)} job(s) at a sane pace and stopped when they were done", seen[:5]


def upload_pacing(run: Run, seconds: float = 10.0) -> tuple[str, str, list[str]]:
    uploads = [e for e in run.entries if noted(e, "upload:")]
    if len(uploads) < 2:
        return NOT_EXERCISED, "fewer than two uploads reached the service", []
    close = [f"#{b['seq']} came {b['elapsed'] - a['elapsed']:.2f} s after #{a['seq']}"
             for a, b in zip(uploads, uploads[1:]) if b["elapsed"] - a["elapsed"] < seconds - TOLERANCE]
    if close:
        return FAILED, f"{len(close)} upload(s) closer than the {seconds:g} s the service asks for", close[:5]
    return PASSED, f"{len(uploads)} uploads, each at least {seconds:g} s after the one before", \
        [show(e) for e in uploads[:5]]


def size_caps(run: Run) -> tuple[str, str, list[str]]:
    uploads = [e for e in run.entries if e["method"] in ("POST", "PUT", "PATCH")]
    if not uploads:
        return NOT_EXERCISED, "the client sent no request with a body", []
    over = [e for e in uploads if e["status"] == 413 and "fault" not in e.get("notes", [])]
    if over:
        return FAILED, f"{len(over)} request(s) over the service's size cap (413): check sizes before sending", \
            [show(e) for e in over[:5]]
    return PASSED, f"{len(uploads)} request(s) with a body, none over a cap", []


def one_upload_per_file(run: Run) -> tuple[str, str, list[str]]:
    uploads = [(e, noted(e, "upload:")[0]) for e in run.entries if noted(e, "upload:")]
    if not uploads:
        return NOT_EXERCISED, "no file was uploaded", []
    accepted: dict[str, Entry] = {}
    again = []
    for e, digest in uploads:
        if digest in accepted:
            again.append(f"{show(e)}: the same file was accepted at #{accepted[digest]['seq']}")
        elif e["status"] < 300:
            accepted[digest] = e
    if again:
        return FAILED, f"uploaded {len(again)} accepted file(s) again; re-send only after a refusal", again[:5]
    return PASSED, f"{len(accepted)} file(s) uploaded once each ({len(uploads)} attempts)", []


def no_duplicates(run: Run) -> tuple[str, str, list[str]]:
    created: dict[str, list[Entry]] = defaultdict(list)
    for e in run.entries:
        for what in noted(e, "created:"):
            created[what].append(e)
    lost = [e for e in run.entries if "processed" in e.get("notes", [])]
    if not created and not lost:
        return NOT_EXERCISED, "the client created nothing", []
    twice = {what: es for what, es in created.items() if len(es) > 1}
    if twice:
        lines = [f"{what.split(':')[0]} created {len(es)} times: " + ", ".join(f"#{e['seq']}" for e in es)
                 for what, es in twice.items()]
        return FAILED, "the same submission created more than one resource: after an ambiguous failure, look " \
                       "before you resend", lines[:5] + [show(e) for e in lost[:2]]
    return PASSED, f"{sum(len(es) for es in created.values())} resource(s) created, no duplicate" + \
        (f", though {len(lost)} answer(s) were lost" if lost else ""), [show(e) for e in lost[:3]]


def stops_on_refusal(run: Run, max_repeats: int = 1) -> tuple[str, str, list[str]]:
    deaths = [e for e in run.entries if is_dead_refusal(e)]
    if not deaths:
        return NOT_EXERCISED, "no request met a dead credential", []
    first: dict[str, Entry] = {}
    for e in deaths:
        first.setdefault(e["token"], e)
    problems = []
    for token, e in first.items():
        repeats = [n for n in run.entries if n["seq"] > e["seq"] and n.get("token") == token]
        if len(repeats) > max_repeats:
            problems.append(f"after {show(e)} the dead credential was sent {len(repeats)} more times")
    if problems:
        return FAILED, "kept sending a credential the service had refused; stop and report it", problems[:5]
    return PASSED, "stopped sending the refused credential", [show(e) for e in list(first.values())[:3]]


def valid_requests(run: Run, allow: list[int] | None = None) -> tuple[str, str, list[str]]:
    if not run.entries:
        return NOT_EXERCISED, "the command sent no request to the mock: is it using the URL in the environment?", []
    allowed = set(allow or ())
    judged_elsewhere = {413, 429}          # size caps and pacing have rules of their own
    bad = [e for e in run.entries if 400 <= e["status"] < 500 and "fault" not in e.get("notes", [])
           and e["status"] not in allowed | judged_elsewhere and not is_dead_refusal(e)]
    if bad:
        return FAILED, f"{len(bad)} request(s) refused as the client's own mistake; the JSON report's journal " \
                       "and the service's error bodies say what was wrong", [show(e) for e in bad[:5]]
    return PASSED, f"{len(run.entries)} request(s), none refused for the client's own mistake", []


RULES: dict[str, Rule] = {rule.name: rule for rule in (
    Rule("reactive-refresh", "renews a dead token once and repeats the request", reactive_refresh,
         {"max_refused": 2}),
    Rule("proactive-refresh", "renews a token before its known expiry", proactive_refresh, {"lifetime": None}),
    Rule("retry-after", "waits at least Retry-After (seconds or HTTP-date)", retry_after, {}),
    Rule("backoff", "backs off on repeated 5xx", backoff, {"min_wait": 0.2}),
    Rule("bounded-retries", "gives up after a bounded number of tries", bounded_retries, {"max_attempts": 10}),
    Rule("polling", "polls jobs at a sane pace, stops when done, fetches once", polling,
         {"min_interval": 1.0, "max_interval": 60.0}),
    Rule("upload-pacing", "leaves the pause the service asks for between uploads", upload_pacing, {"seconds": 10.0}),
    Rule("size-caps", "keeps requests under the size caps", size_caps, {}),
    Rule("one-upload-per-file", "uploads each file once", one_upload_per_file, {}),
    Rule("no-duplicates", "never creates the same resource twice", no_duplicates, {}),
    Rule("stops-on-refusal", "stops sending a refused credential", stops_on_refusal, {"max_repeats": 1}),
    Rule("valid-requests", "sends requests the service accepts as well formed", valid_requests, {"allow": []}),
)}


def judge(run: Run, name: str, params: dict[str, Any], required: bool = True) -> Verdict:
    rule = RULES[name]
    outcome, summary, evidence = rule.judge(run, **params)
    return Verdict(name, outcome, summary, evidence, required)
