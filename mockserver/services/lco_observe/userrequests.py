"""Userrequests: checked, stored with their durations, listed, filtered, and shown as the portal shows them."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ...core.errors import ApiError
from ..lco.drf import drf_time, field_errors, form_datetime
from ..lco.network import Network
from ..lco.proposals import Proposal, semester_of
from . import rules, serializers
from .durations import exposure_duration
from .observability import largest_interval, reported_interval
from .scheduler import TERMINAL, Observation, plan, userrequest_state

STATES = ("PENDING", "SCHEDULED", "COMPLETED", "WINDOW_EXPIRED", "CANCELED")
ORDERS = ("title", "modified", "created", "end")
BAD_CHOICE = "Select a valid choice. %(value)s is not one of the available choices."


@dataclass
class Request:
    id: int
    body: dict[str, Any]                 # the cleaned request: location, constraints, target, molecules, windows...
    created: datetime
    state: str = "PENDING"
    modified: datetime | None = None
    completed: datetime | None = None
    fail_count: int = 0
    scheduled_count: int = 0
    observation: Observation | None = None     # when and where the simulated network will observe it

    @property
    def last_end(self) -> datetime:
        return max(w["end"] for w in self.body["windows"])

    def as_json(self) -> dict[str, Any]:
        body = self.body
        return {"id": self.id, "location": body["location"], "constraints": body["constraints"],
                "target": body["target"], "molecules": body["molecules"],
                "windows": [{"start": drf_time(w["start"]), "end": drf_time(w["end"])} for w in body["windows"]],
                "duration": body["duration"], "observation_note": body["observation_note"], "state": self.state,
                "modified": drf_time(self.modified or self.created), "fail_count": self.fail_count,
                "scheduled_count": self.scheduled_count, "created": drf_time(self.created),
                "completed": drf_time(self.completed), "acceptability_threshold": body["acceptability_threshold"]}


@dataclass
class UserRequest:
    id: int
    submitter: str
    proposal: str
    group_id: str
    observation_type: str
    operator: str
    ipp_value: float
    created: datetime
    requests: list[Request] = field(default_factory=list)
    state: str = "PENDING"
    modified: datetime | None = None
    hours: dict[rules.Key, float] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "requests": [r.as_json() for r in self.requests], "submitter": self.submitter,
                "group_id": self.group_id, "observation_type": self.observation_type, "operator": self.operator,
                "ipp_value": self.ipp_value, "created": drf_time(self.created), "state": self.state,
                "modified": drf_time(self.modified or self.created), "proposal": self.proposal}

    @property
    def end(self) -> datetime:
        return max(w["end"] for r in self.requests for w in r.body["windows"])


class UserRequestBook:
    def __init__(self, network: Network, proposals: dict[str, Proposal], seed: int = 42,
                 completion_fraction: float = 0.9) -> None:
        self.network = network
        self.proposals = proposals
        self.seed = seed
        self.completion_fraction = completion_fraction
        self.userrequests: dict[int, UserRequest] = {}
        self._next_request = 1

    # --- checking ----------------------------------------------------------------------------
    def _context(self, now: datetime) -> serializers.Context:
        return serializers.Context(self.network, now, lambda request: largest_interval(request, self.network),
                                   tuple(self.proposals))

    def clean(self, body: Any, username: str, now: datetime) -> tuple[dict[str, Any], dict[rules.Key, float]]:
        """The cleaned userrequest and the hours it asks of each allocation, or Invalid."""
        cleaned = serializers.userrequest(body, self._context(now))
        return cleaned, rules.check(cleaned, username, self.proposals[cleaned["proposal"]], now)

    def validate(self, body: Any, username: str, now: datetime) -> dict[str, Any]:
        try:
            cleaned, _ = self.clean(body, username, now)
        except serializers.Invalid as invalid:
            return {"request_durations": {}, "errors": invalid.errors}
        requests = [{"duration": r["duration"],
                     "molecules": [{"duration": exposure_duration(m, self.network)} for m in r["molecules"]],
                     "largest_interval": reported_interval(r["largest_interval"])} for r in cleaned["requests"]]
        return {"request_durations": {"requests": requests, "duration": sum(r["duration"] for r in requests)},
                "errors": {}}

    # --- storing ----------------------------------------------------------------------------
    def submit(self, body: Any, username: str, now: datetime) -> UserRequest:
        try:
            cleaned, hours = self.clean(body, username, now)
        except serializers.Invalid as invalid:
            raise field_errors(invalid.errors) from None
        proposal = self.proposals[cleaned["proposal"]]
        rules.debit_ipp(proposal, hours, cleaned["ipp_value"])
        number = max(self.userrequests, default=0) + 1
        made = UserRequest(number, username, proposal.id, cleaned["group_id"], cleaned["observation_type"],
                           cleaned["operator"], cleaned["ipp_value"], now, hours=hours)
        for item in cleaned["requests"]:
            item.pop("largest_interval", None)
            observation = plan(item, self._next_request, self.network, now, self.seed, self.completion_fraction)
            made.requests.append(Request(self._next_request, item, now, observation=observation))
            self._next_request += 1
        self.userrequests[number] = made
        return made

    # --- time passing -------------------------------------------------------------------------
    def advance(self, now: datetime) -> None:
        """Move every open userrequest to the state the clock has brought it to."""
        for made in self.userrequests.values():
            if made.state in TERMINAL:
                continue
            for item in made.requests:
                if item.state not in ("PENDING", "SCHEDULED"):
                    continue
                if item.observation is not None and item.observation.end <= now:
                    self._complete(made, item)
                elif item.last_end <= now:
                    item.state, item.modified = "WINDOW_EXPIRED", item.last_end
            state = userrequest_state(made.operator, [r.state for r in made.requests])
            if state in TERMINAL:
                moment = max((r.modified or r.created) for r in made.requests)
                for item in made.requests:
                    if item.state in ("PENDING", "SCHEDULED"):
                        item.state, item.modified = state, moment
                made.state, made.modified = state, moment
                if state == "WINDOW_EXPIRED":
                    rules.credit_ipp(self.proposals[made.proposal], made.hours, made.ipp_value)

    def _complete(self, made: UserRequest, item: Request) -> None:
        observed = item.observation
        item.state, item.completed, item.modified = "COMPLETED", observed.end, observed.end
        item.scheduled_count += 1
        semester = semester_of(observed.start)
        allocation = self.proposals[made.proposal].allocation(
            semester.id if semester else "", item.body["location"]["telescope_class"],
            item.body["molecules"][0]["instrument_name"])
        if allocation is not None:
            hours = item.body["duration"] / 3600
            if made.observation_type == "TARGET_OF_OPPORTUNITY":
                allocation.too_time_used += hours
            else:
                allocation.std_time_used += hours

    def completed(self) -> list[tuple[UserRequest, Request]]:
        """Every observed request with its userrequest (what the archive has frames of)."""
        return [(made, item) for made in self.userrequests.values() for item in made.requests
                if item.state == "COMPLETED" and item.observation is not None]

    # --- reading ----------------------------------------------------------------------------
    def visible_to(self, username: str | None, member_of: list[str]) -> list[UserRequest]:
        """A user sees the userrequests of their proposals; an anonymous caller those of public proposals."""
        if username is None:
            chosen = {p.id for p in self.proposals.values() if p.public}
        else:
            chosen = set(member_of)
        return [u for u in self.userrequests.values() if u.proposal in chosen]

    def get(self, number: int, username: str | None, member_of: list[str]) -> UserRequest:
        found = next((u for u in self.visible_to(username, member_of) if u.id == number), None)
        if found is None:
            raise ApiError(404, "Not found.")
        return found

    def filtered(self, chosen: list[UserRequest], filters: dict[str, str]) -> list[UserRequest]:
        for name in ("state", "exclude_state"):
            if filters.get(name) is not None and filters[name] not in STATES:
                raise field_errors({name: [BAD_CHOICE]})
        exact = {"id": lambda u: str(u.id), "proposal": lambda u: u.proposal, "operator": lambda u: u.operator,
                 "observation_type": lambda u: u.observation_type, "ipp_value": lambda u: repr(u.ipp_value),
                 "state": lambda u: u.state, "submitter": lambda u: u.submitter}
        for name, value_of in exact.items():
            if filters.get(name):
                wanted = filters[name]
                if name == "ipp_value":
                    try:
                        wanted = repr(float(wanted))
                    except ValueError:
                        raise field_errors({name: ["Enter a number."]}) from None
                chosen = [u for u in chosen if value_of(u) == wanted]
        if filters.get("exclude_state"):
            chosen = [u for u in chosen if u.state != filters["exclude_state"]]
        text = {"title": lambda u: u.group_id, "user": lambda u: u.submitter,
                "target": lambda u: " ".join(r.body["target"]["name"] for r in u.requests)}
        for name, value_of in text.items():
            if filters.get(name):
                chosen = [u for u in chosen if filters[name].lower() in value_of(u).lower()]
        if filters.get("telescope_class"):
            chosen = [u for u in chosen if any(r.body["location"]["telescope_class"] == filters["telescope_class"]
                                               for r in u.requests)]
        bounds = {"created_after": lambda u, t: u.created >= t, "created_before": lambda u, t: u.created <= t,
                  "modified_after": lambda u, t: any((r.modified or r.created) >= t for r in u.requests),
                  "modified_before": lambda u, t: any((r.modified or r.created) <= t for r in u.requests)}
        for name, keep in bounds.items():
            if filters.get(name):
                moment = form_datetime(name, filters[name])
                chosen = [u for u in chosen if keep(u, moment)]
        order = filters.get("order") or filters.get("ordering")
        keys = {"title": lambda u: u.group_id, "modified": lambda u: u.modified or u.created,
                "created": lambda u: u.created, "end": lambda u: u.end, "id": lambda u: u.id}
        if order and order.lstrip("-") in keys:
            return sorted(chosen, key=keys[order.lstrip("-")], reverse=order.startswith("-"))
        if order and filters.get("order"):
            raise field_errors({"order": [BAD_CHOICE]})
        return sorted(chosen, key=lambda u: u.id, reverse=True)
