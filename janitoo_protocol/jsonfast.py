"""The JSON backend of the codec: msgspec's decoder where it is installed, the standard library otherwise.

Chosen once, at import (msgspec itself is imported by the first decoding). msgspec is declared only for the machines PyPI has wheels for (x86_64, aarch64,
arm64, AMD64); a 32-bit Raspberry Pi, or `JANITOO_JSON=json` in the environment, gets the standard
library's `json` with the same results, only slower.

`loads(payload)` gives exactly what `json.loads(payload.decode("utf-8"))` gives, or raises what it raises:
msgspec parses what both accept into the same values (big integers stay exact, duplicate keys keep the
last value at the first key's place, nesting counts against the same recursion limit), and whatever
msgspec refuses goes to `json`, which accepts what the original's Python sent (`NaN` and `Infinity`
literals, lone surrogate escapes, numbers beyond a float's range) and gives the standard errors for the
rest. The one deliberate difference: msgspec calls no Python function per level of nesting, so near the
recursion limit it accepts a payload about five levels deeper than `json` would (both refuse anything
deeper; a receiver's limits are far below either).

`dumps(obj, default)` is `json.dumps(obj, default=default)` (the default separators, ASCII escapes and
key order of the wire) without building a `JSONEncoder` for every call. No fast library writes these
bytes: msgspec and orjson write compact UTF-8, floats their own way, and NaN as null.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Callable
from json import encoder as _json_encoder
from typing import Any

Default = Callable[[Any], Any]


def _msgspec_decoder(payload: bytes) -> Any:
    """The first decoding: imports msgspec (about 15 ms, not paid by a `jnt` command that decodes
    nothing), puts its decoder in place, and decodes with it (or with json, if it cannot be loaded)."""
    global _decode, _DecodeErrors, BACKEND
    try:
        import msgspec
    except ImportError:
        _decode, BACKEND = None, "json"
        return json_loads(payload)
    # Anything msgspec refuses is handed to json: it has the last word on what is valid.
    _DecodeErrors = (msgspec.DecodeError, RecursionError, UnicodeError, ValueError, TypeError)
    _decode = msgspec.json.Decoder().decode
    return _decode(payload)


_asked_for_json = os.environ.get("JANITOO_JSON", "").strip().lower() == "json"
# The backend is chosen here, once; msgspec itself is imported by the first decoding.
_decode: Callable[[bytes], Any] | None = (
    None if _asked_for_json or importlib.util.find_spec("msgspec") is None else _msgspec_decoder
)
_DecodeErrors: tuple[type[BaseException], ...] = ()

BACKEND = "json" if _decode is None else "msgspec"
"""The decoder in use: `msgspec` or `json`."""


def loads(payload: bytes | bytearray | str) -> Any:
    """`json.loads` of the payload read as UTF-8 (same value, same exceptions), faster with msgspec."""
    if _decode is not None and type(payload) is bytes:
        try:
            return _decode(payload)
        except _DecodeErrors:
            pass
    return json.loads(payload if isinstance(payload, str) else bytes(payload).decode("utf-8"))


def json_loads(payload: bytes | bytearray | str) -> Any:
    """The standard library's path of `loads`, whatever the backend (for tests comparing the two)."""
    return json.loads(payload if isinstance(payload, str) else bytes(payload).decode("utf-8"))


# json's C encoder (typeshed does not describe it); None on an interpreter without the accelerator.
_c_make_encoder: Any = getattr(_json_encoder, "c_make_encoder", None)
_encode_str = _json_encoder.encode_basestring_ascii


def encoder(default: Default) -> Callable[[Any], str]:
    """A function writing `obj` as `json.dumps(obj, default=default)` does, character for character."""
    make = _c_make_encoder
    try:
        make({}, default, _encode_str, None, ": ", ", ", False, False, True)
    except TypeError:  # pragma: no cover - no accelerator (make is None), or one that takes other arguments
        return json.JSONEncoder(default=default).encode

    def dumps(obj: Any) -> str:
        # A fresh markers dict per call, as json.dumps has: circular structures raise ValueError, and an
        # error half-way through leaves nothing behind for the next call.
        return "".join(make({}, default, _encode_str, None, ": ", ", ", False, False, True)(obj, 0))

    return dumps


encode_str: Callable[[str], str] = _encode_str
"""A str as a JSON string literal, non-ASCII escaped (`json.dumps(s)` for an exact str)."""
