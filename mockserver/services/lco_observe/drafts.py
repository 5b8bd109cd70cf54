"""Drafts: the portal's saved, unsubmitted userrequests (the web form keeps them; any client may)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ...core import inputs
from ...core.errors import ApiError
from ...core.store import Store, plain, revive
from ..lco.drf import drf_time, field_errors
from . import fields as f

DRAFT = {"proposal": f.text(required=True, blank=False), "title": f.text(required=True, blank=False, max_length=50),
         "content": f.text(required=True, blank=False)}


@dataclass
class Draft:
    id: int
    author: str
    proposal: str
    title: str
    content: str
    created: datetime
    modified: datetime

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "author": self.author, "proposal": self.proposal, "title": self.title,
                "content": self.content, "created": drf_time(self.created), "modified": drf_time(self.modified)}


class DraftBook:
    """The portal's drafts, one record each in the observatory's store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._records = store.collection("drafts")

    def _clean(self, body: Any, member_of: list[str], partial: dict[str, Any] | None = None) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise field_errors({"non_field_errors": [f.not_a_dict(body)]})
        values, errors = f.read({**(partial or {}), **body}, DRAFT)
        if "content" in values:
            try:      # inputs.loads: content nested past the depth limit is a field error, not a RecursionError
                inputs.loads(values["content"], "Content", field="content")
            except ValueError:
                errors["content"] = ["Content must be valid JSON"]
            except ApiError as refusal:
                errors["content"] = [refusal.message]
        if errors:
            raise field_errors(errors)
        if values["proposal"] not in member_of:
            raise field_errors({"non_field_errors": ["You are not a member of that proposal"]})
        return values

    def _save(self, draft: Draft) -> None:
        self._records.put(str(draft.id), plain(draft))

    def create(self, author: str, member_of: list[str], body: Any, now: datetime) -> Draft:
        values = self._clean(body, member_of)
        draft = Draft(self.store.next_id("draft"), author, values["proposal"], values["title"], values["content"],
                      now, now)
        self._save(draft)
        return draft

    def mine(self, author: str) -> list[Draft]:
        drafts = (Draft(**revive(record)) for record in self._records.values())
        return sorted((d for d in drafts if d.author == author), key=lambda d: d.modified, reverse=True)

    def get(self, author: str, number: int) -> Draft:
        record = self._records.get(str(number))
        if record is None or record["author"] != author:
            raise ApiError(404, "Not found.")
        return Draft(**revive(record))

    def update(self, author: str, member_of: list[str], number: int, body: Any, now: datetime,
               partial: bool) -> Draft:
        with self.store.transaction():
            draft = self.get(author, number)
            current = {"proposal": draft.proposal, "title": draft.title, "content": draft.content} if partial else None
            values = self._clean(body, member_of, current)
            draft.proposal, draft.title, draft.content, draft.modified = (values["proposal"], values["title"],
                                                                          values["content"], now)
            self._save(draft)
            return draft

    def delete(self, author: str, number: int) -> None:
        with self.store.transaction():
            self._records.delete(str(self.get(author, number).id))
