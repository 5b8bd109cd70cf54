"""Userrequests: checked, stored with their durations, listed, filtered, and shown as the portal shows them."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ...core.errors import ApiError
from ...core.store import plain, revive
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
DUE = "next-due"     # the world's record of when the earliest open userrequest is due to change

if TYPE_CHECKING:
    from ..lco.world import Observatory


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

    @property
    def due(self) -> datetime:
        """When the clock next changes this request's state (observed, or its windows over)."""
        if self.observation is not None:
            return min(self.observation.end, self.last_end)
        return self.last_end

    def as_json(self) -> dict[str, Any]:
        body = self.body
        return {"id": self.id, "location": body["location"], "constraints": body["constraints"],
                "target": body["target"], "molecules": body["molecules"],
                "windows": [{"start": drf_time(w["start"]), "end": drf_time(w["end"])} for w in body["windows"]],
                "duration": body["duration"], "observation_note": body["observation_note"], "state": self.state,
                "modified": drf_time(self.modified or self.created), "fail_count": self.fail_count,
                "scheduled_count": self.scheduled_count, "created": drf_time(self.created),
                "completed": drf_time(self.completed), "acceptability_threshold": body["acceptability_threshold"]}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> "Request":
        values = revive(record)
        if values["observation"] is not None:
            values["observation"] = Observation(**values["observation"])
        return cls(**values)


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

    @property
    def due(self) -> datetime | None:
        """When the clock next changes this userrequest's state; None once it is over."""
        if self.state in TERMINAL:
            return None
        return min((r.due for r in self.requests if r.state in ("PENDING", "SCHEDULED")), default=None)

    def as_record(self) -> dict[str, Any]:
        return {**plain(self), "hours": [[*key, hours] for key, hours in self.hours.items()]}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> "UserRequest":
        values = {**record, "requests": [Request.from_record(r) for r in record["requests"]],
                  "hours": {(semester, telescope_class, instrument): hours
                            for semester, telescope_class, instrument, hours in record["hours"]}}
        for name in ("created", "modified"):
            values[name] = revive(values[name])
        return cls(**values)


class UserRequestBook:
    """The observatory's userrequests, one record each in its store.

    Time moves them on (:meth:`advance`); the store keeps the earliest moment one of them is
    due, so a request that finds nothing due reads one value instead of every userrequest.
    """

    def __init__(self, world: Observatory) -> None:
        self.world = world
        self.network: Network = world.network
        self.seed = world.settings.seed
        self.completion_fraction = world.settings.completion_fraction
        self._records = world.store.collection("userrequests")
        self._state = world.store.collection("world")

    @property
    def proposals(self) -> dict[str, Proposal]:
        return self.world.proposals

    def all(self) -> list[UserRequest]:
        return [UserRequest.from_record(r) for r in self._records.values()]

    def save(self, made: UserRequest) -> None:
        self._records.put(str(made.id), made.as_record())

    def _due_no_later_than(self, moment: datetime | None) -> None:
        if moment is None:
            return
        due = self._state.get(DUE)
        if due is None or moment.timestamp() < due:
            self._state.put(DUE, moment.timestamp())

    # --- checking ----------------------------------------------------------------------------
    def _context(self, now: datetime, proposals: dict[str, Proposal] | None = None) -> serializers.Context:
        return serializers.Context(self.network, now, lambda request: largest_interval(request, self.network),
                                   tuple(proposals if proposals is not None else self.proposals))

    def clean(self, body: Any, username: str, now: datetime,
              proposals: dict[str, Proposal] | None = None) -> tuple[dict[str, Any], dict[rules.Key, float]]:
        """The cleaned userrequest and the hours it asks of each allocation, or Invalid."""
        proposals = proposals if proposals is not None else self.proposals
        cleaned = serializers.userrequest(body, self._context(now, proposals))
        return cleaned, rules.check(cleaned, username, proposals[cleaned["proposal"]], now)

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
        """Check and store a userrequest, debiting the IPP time it spends, as one transaction: two
        workers submitting at once both see the time the other spent."""
        with self.world.store.transaction():
            proposals = self.proposals
            try:
                cleaned, hours = self.clean(body, username, now, proposals)
            except serializers.Invalid as invalid:
                raise field_errors(invalid.errors) from None
            proposal = proposals[cleaned["proposal"]]
            if cleaned["ipp_value"] > 1:          # a raised priority spends IPP time
                rules.debit_ipp(proposal, hours, cleaned["ipp_value"])
                self.world.save_proposal(proposal)
            made = UserRequest(self.world.store.next_id("userrequest"), username, proposal.id, cleaned["group_id"],
                               cleaned["observation_type"], cleaned["operator"], cleaned["ipp_value"], now,
                               hours=hours)
            for item in cleaned["requests"]:
                item.pop("largest_interval", None)
                number = self.world.store.next_id("request")
                observation = plan(item, number, self.network, now, self.seed, self.completion_fraction)
                made.requests.append(Request(number, item, now, observation=observation))
            self.save(made)
            self._due_no_later_than(made.due)
            return made

    def cancel(self, made: UserRequest, now: datetime) -> None:
        """Cancel a userrequest and its pending requests, giving back the IPP time it spent."""
        with self.world.store.transaction():
            made.state, made.modified = "CANCELED", now
            for item in made.requests:
                if item.state in ("PENDING", "SCHEDULED"):
                    item.state, item.modified = "CANCELED", now
            proposal = self.proposals[made.proposal]
            rules.credit_ipp(proposal, made.hours, made.ipp_value)
            self.world.save_proposal(proposal)
            self.save(made)

    # --- time passing -------------------------------------------------------------------------
    def advance(self, now: datetime) -> None:
        """Move every open userrequest to the state the clock has brought it to."""
        due = self._state.get(DUE)
        if due is None or now.timestamp() < due:
            return
        with self.world.store.transaction():
            due = self._state.get(DUE)          # another worker may have done it meanwhile
            if due is None or now.timestamp() < due:
                return
            proposals = self.proposals
            touched: set[str] = set()
            next_due: float | None = None
            for made in self.all():
                if made.state in TERMINAL:
                    continue
                if made.due is not None and made.due <= now:
                    self._advance(made, now, proposals)
                    touched.add(made.proposal)
                    self.save(made)
                if made.due is not None:
                    next_due = min(next_due, made.due.timestamp()) if next_due is not None else made.due.timestamp()
            for name in touched:
                self.world.save_proposal(proposals[name])
            if next_due is None:
                self._state.delete(DUE)
            else:
                self._state.put(DUE, next_due)

    def _advance(self, made: UserRequest, now: datetime, proposals: dict[str, Proposal]) -> None:
        for item in made.requests:
            if item.state not in ("PENDING", "SCHEDULED"):
                continue
            if item.observation is not None and item.observation.end <= now:
                self._complete(made, item, proposals[made.proposal])
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
                rules.credit_ipp(proposals[made.proposal], made.hours, made.ipp_value)

    @staticmethod
    def _complete(made: UserRequest, item: Request, proposal: Proposal) -> None:
        observed = item.observation
        item.state, item.completed, item.modified = "COMPLETED", observed.end, observed.end
        item.scheduled_count += 1
        semester = semester_of(observed.start)
        allocation = proposal.allocation(semester.id if semester else "", item.body["location"]["telescope_class"],
                                         item.body["molecules"][0]["instrument_name"])
        if allocation is not None:
            hours = item.body["duration"] / 3600
            if made.observation_type == "TARGET_OF_OPPORTUNITY":
                allocation.too_time_used += hours
            else:
                allocation.std_time_used += hours

    def completed(self) -> list[tuple[UserRequest, Request]]:
        """Every observed request with its userrequest (what the archive has frames of)."""
        return [(made, item) for made in self.all() for item in made.requests
                if item.state == "COMPLETED" and item.observation is not None]

    # --- reading ----------------------------------------------------------------------------
    def _visible_proposals(self, username: str | None, member_of: list[str]) -> set[str]:
        """A user sees the userrequests of their proposals; an anonymous caller those of public proposals."""
        if username is None:
            return {p.id for p in self.proposals.values() if p.public}
        return set(member_of)

    def visible_to(self, username: str | None, member_of: list[str]) -> list[UserRequest]:
        chosen = self._visible_proposals(username, member_of)
        return [u for u in self.all() if u.proposal in chosen]

    def get(self, number: int, username: str | None, member_of: list[str]) -> UserRequest:
        record = self._records.get(str(number))
        if record is None or record["proposal"] not in self._visible_proposals(username, member_of):
            raise ApiError(404, "Not found.")
        return UserRequest.from_record(record)

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
