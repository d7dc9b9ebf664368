"""What data a value accepts: shapes, text that can never become config structure, finite bounded numbers."""

from __future__ import annotations

import math
import reprlib
import unicodedata
from typing import Final

from janitoo_protocol import Hadd, ProtocolError, ValueType

# Longest text a value stores. Names, locations and labels are short; a kilobyte leaves room for a
# URL or a cron-like schedule and keeps every config line and log line bounded.
MAX_TEXT: Final = 1024
# Most items an array value holds (ARRAY data is stored `a|b|c` on one config line).
MAX_ITEMS: Final = 64

# Unicode categories refused in text: controls (C0, DEL, C1: \t \x0b \x0c \x1c-\x1e \x85 ...), the line
# and paragraph separators (\u2028 \u2029) and lone surrogates (they cannot be written as UTF-8).
# `str.splitlines()` breaks on characters of exactly these categories, and configparser on \n and \r,
# so refused text can never start a new line (a new key or a new [section]) in the INI file.
_REFUSED_CATEGORIES: Final = frozenset({"Cc", "Zl", "Zp", "Cs"})

# Integer ranges by type: what the wire and the config file may carry.
_INT_RANGES: Final[dict[int, tuple[int, int]]] = {
    ValueType.BYTE: (0, 255),
    ValueType.SHORT: (-(2**15), 2**15 - 1),
    ValueType.INT: (-(2**63), 2**63 - 1),
}
_NUMERIC: Final = frozenset({ValueType.BYTE, ValueType.SHORT, ValueType.INT, ValueType.DECIMAL})

_REPR: Final = reprlib.Repr()
_REPR.maxstring = 60
_REPR.maxother = 60
_REPR.maxlist = 5
_REPR.maxdict = 5


# Poll delays: 0 turns polling off; otherwise at least a second (a sensor polled faster floods the
# network and wears the bus) and at most a day.
POLL_MIN: Final = 1
POLL_MAX: Final = 86400


class ValueRefused(Exception):
    """A write that the value refuses (read-only, wrong type, out of range, not in the list)."""


def short(data: object) -> str:
    """A bounded, one-line repr of data for refusal reasons and log lines."""
    return _REPR.repr(data).replace("\r", "\\r").replace("\n", "\\n")


def check_text(text: str) -> None:
    """Refuse text that is too long or holds a character that could break a line."""
    if len(text) > MAX_TEXT:
        raise ValueRefused(f"text of {len(text)} characters is longer than {MAX_TEXT}")
    reason = line_break_in(text)
    if reason is not None:
        raise ValueRefused(f"{reason} is not allowed")


def line_break_in(text: str) -> str | None:
    """Why `text` cannot be one line of a config file (a character that breaks or hides a line), or None."""
    for position, char in enumerate(text):
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            return f"control character U+{ord(char):04X} at position {position}"
    return None


def check_poll_delay(delay: float) -> None:
    """Refuse a poll delay that is neither 0 (off) nor within POLL_MIN..POLL_MAX seconds."""
    if delay != 0 and not POLL_MIN <= delay <= POLL_MAX:
        raise ValueRefused(
            f"poll delay {short(delay)} must be 0 (off) or between {POLL_MIN} and {POLL_MAX} s"
        )


def check_shape(value_type: int, data: object) -> None:
    """Refuse data of a JSON shape the type cannot hold, before any conversion runs.

    Conversion is lenient on purpose (the original's clients send numbers as strings), so the shape
    is checked first: objects are never values, booleans are not numbers, and arrays only for ARRAY.
    """
    if isinstance(data, dict):
        raise ValueRefused(f"an object is not a {_label(value_type)} value")
    if isinstance(data, list | tuple):
        if value_type != ValueType.ARRAY:
            raise ValueRefused(f"an array is not a {_label(value_type)} value")
        if len(data) > MAX_ITEMS:
            raise ValueRefused(f"an array of {len(data)} items is longer than {MAX_ITEMS}")
        for item in data:
            if not isinstance(item, str | int | float) or isinstance(item, bool):
                raise ValueRefused(f"array items are strings or numbers, not {short(item)}")
        return
    if isinstance(data, bool) and value_type in _NUMERIC:
        raise ValueRefused(f"{data} is not a number")
    # int() would truncate 0.5 to 0 (a poll delay of half a second would turn polling off).
    if isinstance(data, float) and value_type in _INT_RANGES and not data.is_integer():
        raise ValueRefused(f"{data} is not a whole number")
    if isinstance(data, str):
        check_text(data)


def check_converted(value_type: int, data: object) -> None:
    """Refuse converted data out of its type's range: non-finite numbers, integers too large, bad hadds."""
    if isinstance(data, float) and not math.isfinite(data):
        raise ValueRefused(f"{data} is not a finite number")
    if isinstance(data, int) and not isinstance(data, bool) and value_type in _INT_RANGES:
        low, high = _INT_RANGES[value_type]
        if not low <= data <= high:
            raise ValueRefused(f"{short(data)} is out of the {_label(value_type)} range {low}..{high}")
    if isinstance(data, str):
        check_text(data)
    elif isinstance(data, list):
        for item in data:
            check_converted(ValueType.STRING, item)
        if len("|".join(map(str, data))) > MAX_TEXT:
            raise ValueRefused(f"the array is longer than {MAX_TEXT} characters once stored")
    if value_type == ValueType.HADD and data is not None:
        try:
            Hadd.parse(str(data))
        except ProtocolError as exc:
            raise ValueRefused(exc.reason) from None


def _label(value_type: int) -> str:
    try:
        return ValueType(value_type).label
    except ValueError:
        return f"type {value_type}"
