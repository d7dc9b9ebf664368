"""Checks on everything a browser sends: hadds, the value a SET names, and its new data against type and bounds."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from .netview import NUMERIC_TYPES
from .wire import Genre, Hadd, ValueInfo, ValueType

MAX_TEXT = 1024  # characters of a text value a page may send
_HADD_RE = re.compile(r"[0-9]{4}/[0-9]{4}")  # ASCII digits only: \d also matches "٠٢٢٥"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_INT_RANGES = {ValueType.BYTE: (0, 255), ValueType.SHORT: (-32768, 32767)}
_TRUE = {"true", "on", "1", "yes"}
_FALSE = {"false", "off", "0", "no"}


class Invalid(ValueError):
    """What the browser sent cannot be a SET: the message says what and why, in one line."""


def parse_hadd(text: Any) -> Hadd:
    """A hadd written `CCCC/NNNN` (exactly four digits each)."""
    if not isinstance(text, str) or not _HADD_RE.fullmatch(text):
        raise Invalid("a hadd is written CCCC/NNNN, four digits each")
    return Hadd(int(text[:4]), int(text[5:]))


@dataclass(frozen=True)
class SetRequest:
    """A browser's SET, its fields checked for shape (the value itself is checked by `checked_data`)."""

    hadd: Hadd
    genre: int
    uuid: str
    index: int
    data: Any


def parse_set(body: Any) -> SetRequest:
    if not isinstance(body, dict):
        raise Invalid("the request must be a JSON object")
    hadd = parse_hadd(body.get("hadd"))
    genre, uuid, index = body.get("genre"), body.get("uuid"), body.get("index", 0)
    if type(genre) is not int or genre not in {int(g) for g in Genre}:
        raise Invalid("genre must be one of 1-5")
    if not isinstance(uuid, str) or not 0 < len(uuid) <= 100:
        raise Invalid("uuid must be a text of 1 to 100 characters")
    if type(index) is not int or not 0 <= index <= 9999:
        raise Invalid("index must be an integer 0-9999")
    return SetRequest(hadd, genre, uuid, index, body.get("data"))


def _number(value: ValueInfo, data: Any, integer: bool) -> int | float:
    if isinstance(data, bool):
        raise Invalid(f"{value.uuid} takes a number, not {data!r}")
    try:
        if isinstance(data, str):
            text = data.strip()
            number: int | float = int(text) if integer else float(text)
        elif isinstance(data, int | float):
            number = data
        else:
            raise ValueError
    except (ValueError, OverflowError):
        raise Invalid(
            f"{value.uuid} takes {'an integer' if integer else 'a number'}, not {str(data)[:40]!r}"
        ) from None
    if not math.isfinite(number):
        raise Invalid(f"{value.uuid} takes a finite number")
    if integer:
        if number != int(number):
            raise Invalid(f"{value.uuid} takes an integer, not {number}")
        number = int(number)
    low, high = (
        _INT_RANGES.get(ValueType(value.type), (None, None)) if value.type in _INT_RANGES else (None, None)
    )
    for bound in (value.min, low):
        if _is_num(bound) and number < bound:  # type: ignore[operator]
            raise Invalid(f"{value.uuid}: {number} is below the minimum {bound}")
    for bound in (value.max, high):
        if _is_num(bound) and number > bound:  # type: ignore[operator]
            raise Invalid(f"{value.uuid}: {number} is above the maximum {bound}")
    return number


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def list_items(value: ValueInfo) -> list[str] | None:
    """The choices of a list value, when the node gave them as a list of texts."""
    items = value.list_items
    if isinstance(items, list | tuple) and items and all(isinstance(i, str) for i in items):
        return [str(i) for i in items[:100]]
    return None


def input_kind(value: ValueInfo) -> str:
    """The input a page shows for a writable value: number, integer, bool, select, button or text."""
    if value.type == ValueType.BOOL:
        return "bool"
    if list_items(value) is not None:
        return "select"
    if value.type == ValueType.BUTTON:
        return "button"
    if value.type in NUMERIC_TYPES:
        return "number" if value.type == ValueType.DECIMAL else "integer"
    return "text"


def is_writable(value: ValueInfo) -> bool:
    return not value.is_readonly


def checked_data(value: ValueInfo, data: Any) -> Any:
    """The data to SET on `value`, converted to its type and checked against its bounds and choices."""
    if not is_writable(value):
        raise Invalid(f"{value.uuid} is read-only")
    kind = input_kind(value)
    if kind == "bool":
        if isinstance(data, bool):
            return data
        word = str(data).strip().lower() if isinstance(data, str | int) else ""
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise Invalid(f"{value.uuid} takes on or off")
    if kind == "select":
        items = list_items(value) or []
        if data not in items:
            raise Invalid(f"{value.uuid} takes one of {', '.join(items)[:200]}")
        return data
    if kind in ("number", "integer"):
        return _number(value, data, kind == "integer")
    if kind == "button":
        return True if data is None or data == "" else _text(value, data)
    if value.type == ValueType.HADD:
        return str(parse_hadd(data))
    return _text(value, data)


def _text(value: ValueInfo, data: Any) -> str:
    if not isinstance(data, str):
        raise Invalid(f"{value.uuid} takes a text")
    if len(data) > MAX_TEXT:
        raise Invalid(f"{value.uuid}: a text of at most {MAX_TEXT} characters")
    if _CONTROL.search(data):
        raise Invalid(f"{value.uuid}: control characters are not allowed")
    return data
