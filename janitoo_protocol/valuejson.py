"""A value's wire dict as JSON text, for `encode`: the fields that stay the same between two publications
(label, help, units, genre, cmd_class...) are written once and kept; only `data` is written each time.

The text is exactly `dumps(value.to_wire())`: the kept part was written by that very function, split
around `data`, and it is used for a value only when every field but `data` is equal to the one it was
written for, and of the same type (1, 1.0 and True are equal in Python, not on the wire; so are 0.0 and
-0.0, hence floats are compared by their repr). Values holding other types (lists, dicts, extension keys)
are written whole each time.
"""

from __future__ import annotations

import enum
import math
import operator
from collections.abc import Callable
from typing import Any

from .addressing import Hadd
from .jsonfast import encode_str
from .model import ValueInfo

# Every field of ValueInfo but `data`, `extra` and `wire_keys`, which are handled apart.
_STATIC_FIELDS = (
    "uuid", "hadd", "node_uuid", "genre", "type", "cmd_class", "index", "default", "label", "help", "units",
    "min", "max", "list_items", "is_readonly", "is_writeonly", "is_polled", "poll_delay", "voice_uuid",
    "reply_hadd", "entry_name",
)  # fmt: skip
_static = operator.attrgetter(*_STATIC_FIELDS)
# Immutable types whose equality, with the type alongside, means the same JSON text (floats aside); int
# and str enums too (see _keyable).
_KEYABLE = frozenset({str, int, bool, type(None), float, Hadd})


def _keyable(t: type) -> bool:
    # The protocol's codes (CommandClass, Genre... are int and str enums) are written as their value.
    return t in _KEYABLE or (issubclass(t, int | str) and issubclass(t, enum.Enum))


# A busy node's values (every instance of every value of every node it runs) fit many times over; a kept
# text is a few hundred bytes. A full cache starts again from empty.
MAX_KEPT = 4096

Kept = tuple[str, str | None]  # (text up to the data, text after it), or (whole text, None): no data

_float_repr = float.__repr__
_int_repr = int.__repr__
_isfinite = math.isfinite


def value_writer(dumps: Callable[[Any], str]) -> Callable[[ValueInfo], str]:
    """A function writing `dumps(value.to_wire())` for a value, from the kept text when there is one."""
    kept_texts: dict[tuple[Any, ...], Kept] = {}

    def write(value: ValueInfo) -> str:
        if value.extra:
            return dumps(value.to_wire())
        fields = _static(value)
        types = tuple(map(type, fields))
        key = (fields, types, value.wire_keys)
        try:
            kept = kept_texts.get(key)
        except TypeError:  # an unhashable field (a list of items...): never kept
            return dumps(value.to_wire())
        if kept is None:
            # Only keys of keyable types are ever stored, with floats as their repr: a key equal to one
            # of them has the same types, and no raw float is equal to a repr.
            if not _KEYABLE.issuperset(types) and not all(map(_keyable, types)):
                return dumps(value.to_wire())
            if float in types:
                key = (
                    tuple(_float_repr(f) if type(f) is float else f for f in fields),
                    types,
                    value.wire_keys,
                )
                kept = kept_texts.get(key)
            if kept is None:
                kept = _split(value.to_wire(), dumps)
                # Keys that are not text could be equal without being the same key on the wire: not kept.
                if value.wire_keys is None or all(type(k) is str for k in value.wire_keys):
                    if len(kept_texts) >= MAX_KEPT:
                        kept_texts.clear()
                    kept_texts[key] = kept
        head, tail = kept
        if tail is None:
            return head
        # The common kinds of data written here as json's C encoder writes them; the rest by dumps.
        data = value.data
        t = type(data)
        if t is float and _isfinite(data):
            return head + _float_repr(data) + tail
        if t is int:
            return head + _int_repr(data) + tail
        if t is str:
            return head + encode_str(data) + tail
        if t is bool:
            return head + ("true" if data else "false") + tail
        if data is None:
            return head + "null" + tail
        return head + dumps(data) + tail

    return write


def _split(wire: dict[str, Any], dumps: Callable[[Any], str]) -> Kept:
    """The dict's JSON text cut around the value of "data"."""
    if "data" not in wire:
        return dumps(wire), None
    keys = list(wire)
    at = keys.index("data")
    before = dumps({k: wire[k] for k in keys[:at]})
    after = dumps({k: wire[k] for k in keys[at + 1 :]})
    head = before[:-1] + ', "data": ' if at else '{"data": '
    tail = ", " + after[1:] if at + 1 < len(keys) else "}"
    return head, tail
