"""Wire strings made safe for Home Assistant: object ids, topic parts and display text, all bounded."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from .wire import Hadd

# Home Assistant's discovery topic matcher accepts only these in node and object ids.
_UNSAFE_ID = re.compile(r"[^a-zA-Z0-9_-]")
MAX_ID = 64
MAX_NAME = 64
MAX_UNIT = 16
# A Janitoo value uuid that goes into a state topic HA subscribes to: no level separator, no wildcard,
# no control character, bounded. Anything else is not bridged at all.
_TOPIC_UNSAFE = re.compile(r"[/+#\x00-\x1f\x7f]")
MAX_UUID = 128


def object_id(raw: str, max_len: int = MAX_ID) -> str:
    """`raw` as an id of [a-zA-Z0-9_-] only, at most `max_len` long.

    When anything had to change, a short hash of the original is appended, so two different wire
    strings (`a/b`, `a+b`) can never end up as the same id.
    """
    clean = _UNSAFE_ID.sub("_", raw)
    if clean == raw and 0 < len(raw) <= max_len:
        return raw
    digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{clean[: max_len - 9].strip('_') or 'x'}_{digest}"


def topic_safe(raw: str) -> bool:
    """Can `raw` be one level of an MQTT topic that HA subscribes to?"""
    return 0 < len(raw) <= MAX_UUID and _TOPIC_UNSAFE.search(raw) is None


def text(raw: object, max_len: int = MAX_NAME, fallback: str = "") -> str:
    """Display text: control and format characters dropped, whitespace collapsed, at most `max_len`."""
    if not isinstance(raw, str):
        raw = "" if raw is None else str(raw)
    raw = raw[: max_len * 4]  # bound the work before the per-character pass
    kept = "".join(
        " " if ch.isspace() else ch for ch in raw if unicodedata.category(ch)[0] != "C" or ch.isspace()
    )
    out = " ".join(kept.split())[:max_len].strip()
    return out or fallback


def humanize(uuid: str) -> str:
    """`tutorial3_temperature` -> `Tutorial3 temperature`: an entity name from a value uuid."""
    words = text(uuid.replace("_", " ").replace("-", " "), MAX_NAME)
    return words[:1].upper() + words[1:] if words else "Value"


def node_id(hadd: Hadd, network: str = "") -> str:
    """The HA node id of a Janitoo node: `janitoo_0225_0004`, or `janitoo_<network>_0225_0004`."""
    base = f"{hadd.controller:04d}_{hadd.node:04d}"
    return f"janitoo_{object_id(network, 24)}_{base}" if network else f"janitoo_{base}"
