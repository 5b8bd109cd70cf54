"""The observing portal's state and rules: users and their tokens, proposals, semesters, instruments.

Userrequests, their validation and their life on the simulated network come in
the modules beside this one; this one answers who the caller is and what they
may use.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ...core.auth import Credential
from ...core.errors import ApiError
from ...core.service import Sandbox, note_created
from ..lco.auth import archive_bearer, login
from ..lco.drf import any_date, drf_time, field_errors, form_boolean, form_datetime
from ..lco.proposals import DEMO_USERS, Proposal, Semester, semester_of, semesters
from ..lco.world import observatory
from . import cadence, network_status, rules, serializers
from .observability import airmasses
from .drafts import DraftBook
from .userrequests import UserRequestBook

NOT_FOUND = "Not found."


class ObservePortal:
    def __init__(self, sandbox: Sandbox) -> None:
        self.box = sandbox
        self.world = observatory(sandbox.settings)
        self.network = self.world.network
        self.people = {u.username: u for u in DEMO_USERS}

    @property
    def proposals(self) -> dict[str, Proposal]:
        return self.world.proposals

    @property
    def book(self) -> UserRequestBook:
        return self.world.book

    @property
    def drafts(self) -> DraftBook:
        return self.world.drafts

    # --- who is asking ---------------------------------------------------------------------------
    def login(self, username: Any, password: Any) -> dict[str, str]:
        return login(self.box.tokens, username, password)

    def member_of(self, user: Credential | None) -> list[Proposal]:
        if user is None:
            return []
        return [self.proposals[p] for p in user.roles if p in self.proposals]

    def profile(self, user: Credential) -> dict[str, Any]:
        person = self.people.get(user.owner)
        current = semester_of(self.box.clock.now())
        return {"username": user.owner, "email": person.email if person else f"{user.owner}@example.org",
                "profile": {"education_user": False, "notifications_enabled": False,
                            "notifications_on_authored_only": False, "simple_interface": False,
                            "view_authored_requests_only": False, "staff_view": False,
                            "title": person.title if person else "", "institution": person.institution if person else "",
                            "api_quota": {"used": 0, "allowed": "unlimited"}},
                "proposals": [{"id": p.id, "title": p.title,
                               "current": bool(current and any(a.semester == current.id for a in p.allocations))}
                              for p in self.member_of(user) if p.active],
                "available_instrument_types": list(self.network.instruments),
                "tokens": {"archive": archive_bearer(self.box.settings.seed, user.owner)}}

    # --- what there is -------------------------------------------------------------------------
    def instruments(self) -> dict[str, Any]:
        return {code: {"type": kind.kind, "class": kind.code[:3], "name": kind.name,
                       "filters": {f.code.lower(): {"type": f.kind, "name": f.name} for f in kind.filters},
                       "binnings": sorted(kind.readout), "default_binning": kind.default_binning}
                for code, kind in self.network.instruments.items()}

    @staticmethod
    def proposal_json(proposal: Proposal) -> dict[str, Any]:
        return {"id": proposal.id, "timeallocation_set": [a.as_json(proposal.id) for a in proposal.allocations],
                "users": {name: {"first_name": m.first_name, "last_name": m.last_name, "time_limit": m.time_limit}
                          for name, m in proposal.members.items()},
                "pi": proposal.pi, "active": proposal.active, "title": proposal.title, "abstract": proposal.abstract,
                "tac_priority": 0, "tac_rank": 0, "public": proposal.public, "non_science": False, "notes": "",
                "created": drf_time(proposal.created), "modified": drf_time(proposal.created), "tag": proposal.tag}

    def list_proposals(self, user: Credential, filters: dict[str, str]) -> list[dict[str, Any]]:
        self.now()                                       # states move with the clock
        chosen = self.member_of(user)
        for name in ("active", "public"):
            wanted = form_boolean(filters.get(name))
            if wanted is not None:
                chosen = [p for p in chosen if getattr(p, name) == wanted]
        if filters.get("semester"):
            chosen = [p for p in chosen if any(a.semester == filters["semester"] for a in p.allocations)]
        if filters.get("id"):
            chosen = [p for p in chosen if p.id == filters["id"]]
        if filters.get("title"):
            chosen = [p for p in chosen if filters["title"].lower() in p.title.lower()]
        for name in ("tac_rank", "tac_priority"):
            if filters.get(name) is not None:
                if not filters[name].lstrip("-").isdigit():
                    raise field_errors({name: ["Enter a whole number."]})
                chosen = [p for p in chosen if int(filters[name]) == 0]
        return [self.proposal_json(p) for p in chosen]

    def proposal(self, user: Credential, proposal_id: str) -> dict[str, Any]:
        self.now()                                       # states move with the clock
        found = next((p for p in self.member_of(user) if p.id == proposal_id), None)
        if found is None:
            raise ApiError(404, NOT_FOUND)
        return self.proposal_json(found)

    @staticmethod
    def semester_json(semester: Semester) -> dict[str, str | None]:
        return {"id": semester.id, "start": drf_time(semester.start), "end": drf_time(semester.end)}

    def list_semesters(self, filters: dict[str, str]) -> list[dict[str, Any]]:
        chosen = semesters()
        if filters.get("semester_contains"):
            moment = any_date(filters["semester_contains"])
            if moment is None:
                raise field_errors({"semester_contains": [f"Could not parse {filters['semester_contains']!r} "
                                                          "as a date"]})
            chosen = [s for s in chosen if s.contains(moment)]
        bounds = {"start": lambda s, t: s.start >= t, "start_lte": lambda s, t: s.start <= t,
                  "end": lambda s, t: s.end < t, "end_gt": lambda s, t: s.end > t}
        for name, keep in bounds.items():
            if filters.get(name):
                moment = form_datetime(name, filters[name])
                chosen = [s for s in chosen if keep(s, moment)]
        if filters.get("id"):
            chosen = [s for s in chosen if filters["id"].lower() in s.id.lower()]
        return [self.semester_json(s) for s in chosen]

    def semester(self, semester_id: str) -> dict[str, Any]:
        found = next((s for s in semesters() if s.id == semester_id), None)
        if found is None:
            raise ApiError(404, NOT_FOUND)
        return self.semester_json(found)

    def now(self) -> datetime:
        """The clock's time, with every userrequest brought up to it first."""
        return self.world.now()

    # --- userrequests -------------------------------------------------------------------------------
    def _member_of(self, user: Credential | None) -> list[str]:
        return [p.id for p in self.member_of(user)]

    def submit(self, user: Credential, body: Any) -> dict[str, Any]:
        made = self.book.submit(body, user.owner, self.now()).as_json()
        note_created("userrequest", body)
        return made

    def validate(self, user: Credential, body: Any) -> dict[str, Any]:
        return self.book.validate(body, user.owner, self.now())

    def list_userrequests(self, user: Credential | None, filters: dict[str, str]) -> list[dict[str, Any]]:
        self.now()                                       # states move with the clock
        chosen = self.book.visible_to(user.owner if user else None, self._member_of(user))
        return [u.as_json() for u in self.book.filtered(chosen, filters)]

    def userrequest(self, user: Credential | None, number: int) -> dict[str, Any]:
        self.now()                                       # states move with the clock
        return self.book.get(number, user.owner if user else None, self._member_of(user)).as_json()

    def _requests(self, user: Credential | None) -> list[Any]:
        self.now()                                       # states move with the clock
        mine = self.book.visible_to(user.owner if user else None, self._member_of(user))
        return [r for u in mine for r in u.requests]

    def list_requests(self, user: Credential | None, filters: dict[str, str]) -> list[dict[str, Any]]:
        chosen = self._requests(user)
        if filters.get("state") is not None:
            if filters["state"] not in ("PENDING", "SCHEDULED", "COMPLETED", "WINDOW_EXPIRED", "CANCELED"):
                raise field_errors({"state": ["Select a valid choice. %(value)s is not one of the available choices."]})
            chosen = [r for r in chosen if r.state == filters["state"]]
        if filters.get("fail_count"):
            if not filters["fail_count"].isdigit():
                raise field_errors({"fail_count": ["Enter a number."]})
            chosen = [r for r in chosen if r.fail_count == int(filters["fail_count"])]
        order = filters.get("ordering") or "-id"
        keys = {"id": lambda r: r.id, "state": lambda r: r.state, "fail_count": lambda r: r.fail_count}
        key = keys.get(order.lstrip("-"), keys["id"])
        return [r.as_json() for r in sorted(chosen, key=key, reverse=order.startswith("-"))]

    def request(self, user: Credential | None, number: int) -> Any:
        found = next((r for r in self._requests(user) if r.id == number), None)
        if found is None:
            raise ApiError(404, NOT_FOUND)
        return found

    def request_airmass(self, user: Credential | None, number: int) -> dict[str, Any]:
        return airmasses(self.request(user, number).body, self.network)

    def airmass_of(self, body: Any) -> dict[str, Any]:
        """Airmasses for a bare request body; its errors (with status 200, as the portal answers) if invalid."""
        try:
            cleaned = serializers.request(body, self.book._context(self.now()))
        except serializers.Invalid as invalid:
            return invalid.errors
        return airmasses(cleaned, self.network)

    # --- the network ------------------------------------------------------------------------------
    def _pending(self) -> list[Any]:
        return [(made, item) for made in self.book.all() for item in made.requests]

    def telescope_states(self, start: datetime | None, end: datetime | None, sites: list[str],
                         telescopes: list[str]) -> dict[str, Any]:
        now = self.now()
        return network_status.telescope_states(self.network, self.box.settings.seed, start or now, end or now,
                                               sites, telescopes)

    def telescope_availability(self, start: datetime | None, end: datetime | None, combine: bool) -> dict[str, Any]:
        now = self.now()
        return network_status.telescope_availability(self.network, self.box.settings.seed,
                                                     start or now - timedelta(days=1), end or now, combine)

    def request_telescope_states(self, user: Credential | None, number: int) -> dict[str, Any]:
        return network_status.request_telescope_states(self.request(user, number), self.network,
                                                       self.box.settings.seed)

    def blocks(self, user: Credential | None, number: int, drop_canceled: bool) -> list[dict[str, Any]]:
        item = self.request(user, number)
        made = next(u for u in self.book.all() if any(r.id == item.id for r in u.requests))
        found = network_status.blocks(made, item, self.now())
        return [b for b in found if not (drop_canceled and b["canceled"])]

    def contention(self, instrument: str) -> dict[str, Any]:
        return network_status.contention(self._pending(), instrument, self.now())

    def pressure(self, instrument: str | None, site: str | None) -> dict[str, Any]:
        return network_status.pressure(self._pending(), self.network, self.now(), instrument, site)

    def cadence(self, user: Credential, body: Any) -> dict[str, Any]:
        """The userrequest with each cadence expanded into visible windows, checked but not stored."""
        if not isinstance(body, dict):
            raise field_errors({"non_field_errors": [f"Invalid data. Expected a dictionary, but got "
                                                     f"{type(body).__name__}."]})
        context = self.book._context(self.now())
        items = body.get("requests")
        if not isinstance(items, list) or not items:
            raise field_errors({"requests": ["This field is required."]})
        expanded: list[tuple[dict[str, Any], dict[str, Any]]] = []
        try:
            for item in items:
                expanded += cadence.expand(item, context)
        except serializers.Invalid as invalid:
            raise field_errors(invalid.errors) from None
        if not expanded:
            raise field_errors({"errors": cadence.NONE_VISIBLE})
        proposed = {**body, "requests": [raw for raw, _ in expanded],
                    "operator": "MANY" if len(expanded) > 1 else body.get("operator")}
        try:
            self.book.clean(proposed, user.owner, self.now())
        except serializers.Invalid as invalid:
            raise field_errors(invalid.errors) from None
        head = {k: proposed[k] for k in ("group_id", "proposal", "ipp_value", "operator", "observation_type")
                if k in proposed}
        return {**head, "requests": [cadence.echo(raw, cleaned) for raw, cleaned in expanded]}

    def cancel(self, user: Credential | None, number: int) -> dict[str, Any]:
        """Cancel a userrequest and its pending requests. The answer shows the requests as they were before, as
        the portal's did (it served them from a cache made before the change); a later GET shows them cancelled."""
        now = self.now()
        with self.world.store.transaction():     # read and change as one: two cancels give the IPP time back once
            found = self.book.get(number, user.owner if user else None, self._member_of(user))
            if found.state in ("COMPLETED", "WINDOW_EXPIRED"):
                raise ApiError(400, "cannot cancel", details={"errors": {"errors": [
                    f"Cannot transition from request state {found.state} to CANCELED for {found.id}"]}})
            answer = found.as_json()
            if found.state != "CANCELED":
                self.book.cancel(found, now)
                answer.update(state="CANCELED", modified=drf_time(now))
        return answer

    def max_allowable_ipp(self, user: Credential, body: Any) -> dict[str, Any]:
        forced = {**body, "ipp_value": 1.0} if isinstance(body, dict) else body
        try:
            cleaned, _ = self.book.clean(forced, user.owner, self.now())
        except serializers.Invalid as invalid:
            return {"errors": invalid.errors}
        proposal = self.proposals[cleaned["proposal"]]
        answer: dict[str, Any] = {}
        summed: dict[rules.Key, float] = {}
        for item in cleaned["requests"]:
            key = next(iter(rules.hours_by_key({**cleaned, "operator": "SINGLE", "requests": [item]})))
            summed[key] = summed.get(key, 0.0) + item["duration"] / 3600
        for (semester, telescope_class, instrument), hours in summed.items():
            allocation = proposal.allocation(semester, telescope_class, instrument)
            available = allocation.ipp_time_available if allocation else 0.0
            answer.setdefault(semester, {}).setdefault(telescope_class, {})[instrument] = {
                "ipp_time_available": available, "ipp_limit": allocation.ipp_limit if allocation else 0.0,
                "request_duration": hours, "max_allowable_ipp_value": rules.max_ipp(available, hours),
                "min_allowable_ipp_value": rules.MIN_IPP}
        return answer

    # --- drafts --------------------------------------------------------------------------------------
    def list_drafts(self, user: Credential) -> list[dict[str, Any]]:
        return [d.as_json() for d in self.drafts.mine(user.owner)]

    def create_draft(self, user: Credential, body: Any) -> dict[str, Any]:
        return self.drafts.create(user.owner, self._member_of(user), body, self.now()).as_json()

    def draft(self, user: Credential, number: int) -> dict[str, Any]:
        return self.drafts.get(user.owner, number).as_json()

    def update_draft(self, user: Credential, number: int, body: Any, partial: bool) -> dict[str, Any]:
        return self.drafts.update(user.owner, self._member_of(user), number, body, self.now(), partial).as_json()

    def delete_draft(self, user: Credential, number: int) -> None:
        self.drafts.delete(user.owner, number)
