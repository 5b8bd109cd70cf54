"""Reading one JSON object the way a Django REST framework serializer reads it.

Each field has a kind (text, number, whole number, choice, date-time, yes/no),
whether it is required or its default, and its bounds. Reading an object gives
the cleaned values and DRF's messages for the fields that are wrong, word for
word, so a client that shows the portal's errors shows the mock's the same way.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

REQUIRED = "This field is required."
NOT_NULL = "This field may not be null."
NOT_BLANK = "This field may not be blank."
NOT_STRING = "Not a valid string."
NOT_NUMBER = "A valid number is required."
NOT_INTEGER = "A valid integer is required."
BAD_DATETIME = ("Datetime has wrong format. Use one of these formats instead: "
                "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].")
ABSENT = object()
_ISO = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,6})\d*)?)?"
                  r"\s*(Z|[+-]\d\d:?\d\d)?$")


def not_a_dict(value: Any) -> str:
    return f"Invalid data. Expected a dictionary, but got {type(value).__name__}."


def not_a_list(value: Any) -> str:
    return f'Expected a list of items but got type "{type(value).__name__}".'


@dataclass(frozen=True)
class Field:
    kind: str                                   # text, float, int, choice, datetime, bool
    required: bool = False
    default: Any = ABSENT                       # used when the field is absent and not required
    null: bool = False
    blank: bool = True
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    required_message: str = REQUIRED
    null_message: str = NOT_NULL
    blank_message: str = NOT_BLANK


def text(**options: Any) -> Field:
    return Field("text", **options)


def number(**options: Any) -> Field:
    return Field("float", **options)


def whole(**options: Any) -> Field:
    return Field("int", **options)


def choice(*choices: str, **options: Any) -> Field:
    return Field("choice", choices=choices, **options)


def moment(**options: Any) -> Field:
    return Field("datetime", **options)


def flag(**options: Any) -> Field:
    return Field("bool", **options)


def _bounds(value: float, field: Field) -> str | None:
    # limits are written as given: 1 stays "1", 25.0 stays "25.0", as Django's validators write them
    if field.minimum is not None and value < field.minimum:
        return f"Ensure this value is greater than or equal to {field.minimum}."
    if field.maximum is not None and value > field.maximum:
        return f"Ensure this value is less than or equal to {field.maximum}."
    return None


def parse_datetime(value: Any) -> datetime | None:
    """DRF's DateTimeField input: ISO 8601 with T or a space, a naive time being UTC; None if it is not one."""
    if not isinstance(value, str):
        return None
    match = _ISO.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        parsed = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
                          int((fraction or "0").ljust(6, "0")), tzinfo=UTC)
    except ValueError:
        return None
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = sign * (int(digits[:2]) * 60 + int(digits[2:]))
        parsed -= timedelta(minutes=offset)
    return parsed


def clean(value: Any, field: Field) -> tuple[Any, str | None]:
    """(the cleaned value, None) or (None, DRF's message)."""
    if value is None:
        return (None, None) if field.null else (None, field.null_message)
    if field.kind == "text":
        if isinstance(value, (bool, dict, list)):
            return None, NOT_STRING
        value = str(value)
        if not value.strip() and not field.blank:
            return None, field.blank_message
        if field.max_length is not None and len(value) > field.max_length:
            return None, f"Ensure this field has no more than {field.max_length} characters."
        return value, None
    if field.kind == "choice":
        if isinstance(value, (dict, list)) or str(value) not in field.choices:
            shown = value if not isinstance(value, bool) else str(value)
            return None, f'"{shown}" is not a valid choice.'
        return str(value), None
    if field.kind == "float":
        try:
            if isinstance(value, (dict, list)) or (isinstance(value, str) and len(value) > 1000):
                raise ValueError
            number_value = float(value)
        except (TypeError, ValueError):
            return None, NOT_NUMBER
        if not math.isfinite(number_value):
            return None, NOT_NUMBER
        return number_value, _bounds(number_value, field)
    if field.kind == "int":
        if isinstance(value, bool) or isinstance(value, (dict, list)):
            return None, NOT_INTEGER
        try:
            whole_value = int(value) if not isinstance(value, float) else None
        except (TypeError, ValueError):
            whole_value = None
        if whole_value is None:
            if isinstance(value, float) and value.is_integer():
                whole_value = int(value)
            elif isinstance(value, str) and re.fullmatch(r"\s*-?\d+\.0*\s*", value):
                whole_value = int(float(value))
            else:
                return None, NOT_INTEGER
        return whole_value, _bounds(whole_value, field)
    if field.kind == "datetime":
        parsed = parse_datetime(value)
        return (parsed, None) if parsed is not None else (None, BAD_DATETIME)
    if field.kind == "bool":
        truth = {True: True, False: False, "true": True, "True": True, "1": True,
                 "false": False, "False": False, "0": False}  # 1 and 0 are True and False as keys
        if isinstance(value, (dict, list)) or value not in truth:
            return None, f'"{value}" is not a valid boolean.'
        return truth[value], None
    raise ValueError(f"unknown field kind {field.kind}")


def read(data: Any, fields: dict[str, Field]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Every field's cleaned value (defaults filled) and the messages of the wrong ones."""
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, field in fields.items():
        if name not in data:
            if field.required:
                errors[name] = [field.required_message]
            elif field.default is not ABSENT:
                values[name] = field.default
            continue
        value, problem = clean(data[name], field)
        if problem is not None:
            errors[name] = [problem]
        else:
            values[name] = value
    return values, errors
