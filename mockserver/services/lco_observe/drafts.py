"""Drafts: the portal's saved, unsubmitted userrequests (the web form keeps them; any client may)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ...core.errors import ApiError
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
    def __init__(self) -> None:
        self.drafts: dict[int, Draft] = {}

    def _clean(self, body: Any, member_of: list[str], partial: dict[str, Any] | None = None) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise field_errors({"non_field_errors": [f.not_a_dict(body)]})
        values, errors = f.read({**(partial or {}), **body}, DRAFT)
        if "content" in values:
            try:
                json.loads(values["content"])
            except ValueError:
                errors["content"] = ["Content must be valid JSON"]
        if errors:
            raise field_errors(errors)
        if values["proposal"] not in member_of:
            raise field_errors({"non_field_errors": ["You are not a member of that proposal"]})
        return values

    def create(self, author: str, member_of: list[str], body: Any, now: datetime) -> Draft:
        values = self._clean(body, member_of)
        number = max(self.drafts, default=0) + 1
        self.drafts[number] = Draft(number, author, values["proposal"], values["title"], values["content"], now, now)
        return self.drafts[number]

    def mine(self, author: str) -> list[Draft]:
        return sorted((d for d in self.drafts.values() if d.author == author), key=lambda d: d.modified, reverse=True)

    def get(self, author: str, number: int) -> Draft:
        found = self.drafts.get(number)
        if found is None or found.author != author:
            raise ApiError(404, "Not found.")
        return found

    def update(self, author: str, member_of: list[str], number: int, body: Any, now: datetime,
               partial: bool) -> Draft:
        draft = self.get(author, number)
        current = {"proposal": draft.proposal, "title": draft.title, "content": draft.content} if partial else None
        values = self._clean(body, member_of, current)
        draft.proposal, draft.title, draft.content, draft.modified = (values["proposal"], values["title"],
                                                                      values["content"], now)
        return draft

    def delete(self, author: str, number: int) -> None:
        del self.drafts[self.get(author, number).id]
