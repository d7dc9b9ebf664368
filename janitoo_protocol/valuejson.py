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


_TEXT = frozenset({str})
# A node's value instances fit many times over (a controller of 100 nodes with 2 values each needs 200);
# a kept text and its key take about 1 kB. A full cache starts again from empty; when its texts were
# seldom used again (a big simulation publishing more distinct values than this), the next MAX_KEPT
# values are written plainly, which costs no more than json.dumps.
MAX_KEPT = 1024
MAX_KEPT_TEXT = 4096  # characters

Kept = tuple[str, str | None]  # (text up to the data, text after it), or (whole text, None): no data

_float_repr = float.__repr__
_int_repr = int.__repr__
_isfinite = math.isfinite


def value_writer(dumps: Callable[[Any], str]) -> Callable[[ValueInfo], str]:
    """A function writing `dumps(value.to_wire())` for a value, from the kept text when there is one."""
    kept_texts: dict[tuple[Any, ...], Kept] = {}
    # The same texts by their values' `alike` keys (model.py): one look-up of a short key instead of
    # reading and comparing every field, for the values a node publishes again and again.
    kept_alike: dict[tuple[Any, ...], Kept] = {}
    hits = 0  # kept texts used again since the cache was last emptied
    plain = 0  # writes left that keep nothing, after a cache whose texts were seldom used again

    def write(value: ValueInfo) -> str:
        nonlocal hits, plain
        # Extension keys, and a list value's items (a list: no key), are written whole each time.
        if value.extra or plain or type(value.list_items) is list:
            if plain:
                plain -= 1
            return dumps(value.to_wire())
        alike = value.alike
        kept = None if alike is None else kept_alike.get(alike)
        if kept is None:
            kept = kept_text(value, alike)
            if kept is None:
                return dumps(value.to_wire())
        hits += 1
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

    def kept_text(value: ValueInfo, alike: tuple[Any, ...] | None) -> Kept | None:
        """The text kept for the value's fields (and under `alike`), made and kept if it may be; None:
        write the value plainly."""
        nonlocal hits, plain
        fields = _static(value)
        types = tuple(map(type, fields))
        key = (fields, types, value.wire_keys)
        try:
            kept = kept_texts.get(key)
        except TypeError:  # an unhashable field (a list of items...): never kept
            return None
        if kept is None:
            # Only keys of keyable types are ever stored, with floats as their repr: a key equal to one
            # of them has the same types, and no raw float is equal to a repr.
            if not _KEYABLE.issuperset(types) and not all(map(_keyable, types)):
                return None
            if float in types:
                key = (
                    tuple(_float_repr(f) if type(f) is float else f for f in fields),
                    types,
                    value.wire_keys,
                )
                kept = kept_texts.get(key)
            if kept is None:
                if len(kept_texts) >= MAX_KEPT:
                    # Full. If its texts were seldom used again, more distinct values go round than it
                    # holds, and keeping costs more than it saves: the next ones are written plainly.
                    if hits < len(kept_texts):
                        plain = MAX_KEPT
                    hits = 0
                    kept_texts.clear()
                    kept_alike.clear()
                    if plain:
                        plain -= 1
                        return None
                kept = _split(value.to_wire(), dumps)
                # Keys that are not text could be equal without being the same key on the wire: not kept;
                # nor a text far longer than a value's (about 500 bytes): the cache stays a few MB at most.
                if (value.wire_keys is None or _TEXT.issuperset(map(type, value.wire_keys))) and (
                    len(kept[0]) + len(kept[1] or "") <= MAX_KEPT_TEXT
                ):
                    kept_texts[key] = kept
                else:
                    alike = None  # written this once, kept under no key
                hits -= 1  # not a use again (counted by the caller)
        if alike is not None:
            if len(kept_alike) >= MAX_KEPT:
                kept_alike.clear()
            kept_alike[alike] = kept
        return kept

    return write


def _split(wire: dict[str, Any], dumps: Callable[[Any], str]) -> Kept:
    """The dict's JSON text cut around the value of "data".

    Only dicts of the keyable scalars come here, so `"data": ` occurs once in the text, as the key: a
    quote in a string is always escaped, so no string holds `data"`.
    """
    if "data" not in wire:
        return dumps(wire), None
    wire["data"] = None  # a dict of its own (to_wire builds a new one): changed in place
    text = dumps(wire)
    at = text.index('"data": null') + len('"data": ')
    return text[:at], text[at + len("null") :]
