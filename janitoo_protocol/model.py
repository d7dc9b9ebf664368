"""Typed value and node descriptions, and their exact wire dicts (`to_wire` / `from_wire`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from operator import attrgetter, itemgetter
from typing import Any

from .addressing import Hadd, known_hadds, parse_hadd_or_none
from .codes import string_to_bool
from .errors import ProtocolError

# The key order of the original's value dict, so our payloads read like theirs.
VALUE_KEYS: tuple[str, ...] = (
    "uuid", "node_uuid", "voice_uuid", "hadd", "cmd_class", "is_readonly", "is_writeonly", "default",
    "label", "help", "units", "list_items", "max", "min", "genre", "type", "index", "is_polled",
    "poll_delay", "reply_hadd", "data",
)  # fmt: skip
NODE_KEYS: tuple[str, ...] = (
    "uuid", "oid", "capabilities", "cmd_classes", "name", "product_name", "product_type",
    "product_manufacturer", "location", "heartbeat", "config_timeout", "hadd",
)  # fmt: skip


def _int(raw: Mapping[str, Any], key: str, default: int) -> int:
    v = raw.get(key, default)
    if v is None:
        return default
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    try:
        return int(v)
    except (TypeError, ValueError, OverflowError):
        raise ProtocolError(f"{key} must be an integer, got {v!r}") from None


def _opt_str(v: Any) -> str | None:
    return v if v is None or type(v) is str else str(v)


def _bool(v: Any, default: bool) -> bool:
    if v is None:
        return default
    return string_to_bool(v)


@dataclass(slots=True)
class ValueInfo:
    """One value of a node (one index of it), as carried on the wire.

    Treat it as immutable (use `dataclasses.replace`). It is not frozen only because a frozen
    dataclass costs twice as much to build, and receivers build one per value they hear.
    """

    uuid: str
    hadd: Hadd | None = None
    node_uuid: str | None = None
    genre: int = 1
    type: int = 1
    cmd_class: int = 0
    index: int = 0
    data: Any = None
    default: Any = None
    label: str | None = None
    help: str | None = None
    units: str | None = None
    min: Any = None
    max: Any = None
    list_items: Any = None
    is_readonly: bool = True
    is_writeonly: bool = False
    is_polled: bool = False
    poll_delay: float = 0
    voice_uuid: str | None = None
    reply_hadd: Hadd | None = None
    entry_name: str | None = None
    # Keys we do not model (e.g. a blink value's `delays`, a reply's `error`, our correlation key).
    extra: Mapping[str, Any] = field(default_factory=dict)
    # The keys the payload had, so a decoded value re-encodes to the same key set (echoes omit some).
    wire_keys: tuple[str, ...] | None = field(default=None, compare=False, repr=False)
    # A producer's promise, for the encoder: infos with equal `alike` keys have equal fields but `data`
    # (a node's values build one from what their fields come from), so the text written for one serves
    # all (valuejson). Not an init field: `replace`, the way to change a field, leaves it None.
    alike: tuple[Any, ...] | None = field(default=None, init=False, compare=False, repr=False)

    @classmethod
    def from_wire(cls, raw: Mapping[str, Any]) -> ValueInfo:
        """Build from a wire dict; raises ProtocolError when it is not a value dict."""
        if cls is ValueInfo:
            return value_from_wire(raw)
        return _value_from_mapping(cls, raw)

    def to_wire(self) -> dict[str, Any]:
        """The wire dict: the keys it was decoded with, or the original's full key set."""
        keys = self.wire_keys
        if keys is not None and not self.extra:
            # The common case of a decoded value, every key one of ours: its fields read in one call.
            read = _READERS.get(keys)
            if read is None:
                read = _reader(keys)
            if read is not None:
                out = dict(zip(keys, read(self), strict=True))
                if self.hadd is not None and "hadd" in out:
                    out["hadd"] = str(self.hadd)
                if self.reply_hadd is not None and "reply_hadd" in out:
                    out["reply_hadd"] = str(self.reply_hadd)
                return out
        full = {
            "entry_name": self.entry_name,
            "uuid": self.uuid,
            "node_uuid": self.node_uuid,
            "voice_uuid": self.voice_uuid,
            "hadd": None if self.hadd is None else str(self.hadd),
            "cmd_class": self.cmd_class,
            "is_readonly": self.is_readonly,
            "is_writeonly": self.is_writeonly,
            "default": self.default,
            "label": self.label,
            "help": self.help,
            "units": self.units,
            "list_items": self.list_items,
            "max": self.max,
            "min": self.min,
            "genre": self.genre,
            "type": self.type,
            "index": self.index,
            "is_polled": self.is_polled,
            "poll_delay": self.poll_delay,
            "reply_hadd": None if self.reply_hadd is None else str(self.reply_hadd),
            "data": self.data,
        }
        if self.wire_keys is not None:
            out = {k: full[k] if k in full else self.extra.get(k) for k in self.wire_keys}
            for k, v in self.extra.items():
                out.setdefault(k, v)
            return out
        if self.entry_name is None:
            del full["entry_name"]
        full.update(self.extra)
        return full

    def with_data(self, data: Any) -> ValueInfo:
        """A copy holding `data`."""
        return replace(self, data=data)


def _value_from_mapping(cls: type[ValueInfo], raw: Mapping[str, Any]) -> ValueInfo:
    """ValueInfo.from_wire's general path: any mapping, any key order, the original's odd types converted."""
    if type(raw) is dict:
        n = len(raw)
        # A dict with exactly the original's keys (here in another order than the original's, which
        # values_from_wire reads faster), each of the JSON type the original sends, is taken as it is:
        # the checks further down would change nothing.
        try:
            if n == _ALL_KEYS_LEN:
                fields = _get_all(raw)
            elif n == _VALUE_KEYS_LEN:
                fields = _get_value_keys(raw) + (None,)
            else:
                fields = None
        except KeyError:
            fields = None
        if fields is not None:
            (uuid, node_uuid, voice_uuid, hadd, cmd_class, ro, wo, default, label, help_text, units,
             list_items, vmax, vmin, genre, vtype, index, polled, poll, reply_hadd, data,
             entry_name) = fields  # fmt: skip
            if (
                type(uuid) is str and uuid
                and type(cmd_class) is int and type(genre) is int and type(vtype) is int
                and type(index) is int and (type(poll) is int or type(poll) is float)
                and type(ro) is bool and type(wo) is bool and type(polled) is bool
                and (node_uuid is None or type(node_uuid) is str) and (label is None or type(label) is str)
                and (help_text is None or type(help_text) is str) and (units is None or type(units) is str)
                and (voice_uuid is None or type(voice_uuid) is str)
                and (entry_name is None or type(entry_name) is str)
            ):  # fmt: skip
                if hadd is not None:
                    hadd = (type(hadd) is str and _known_hadds.get(hadd)) or parse_hadd_or_none(hadd)
                if reply_hadd is not None:
                    reply_hadd = (
                        type(reply_hadd) is str and _known_hadds.get(reply_hadd)
                    ) or parse_hadd_or_none(reply_hadd)
                return cls(
                    uuid, hadd, node_uuid, genre, vtype, cmd_class, index, data, default, label, help_text,
                    units, vmin, vmax, list_items, ro, wo, polled, poll, voice_uuid, reply_hadd, entry_name,
                    {}, _KEY_ORDERS.get(order := tuple(raw)) or _key_order(order),
                )  # fmt: skip
    if type(raw) is not dict and not isinstance(raw, Mapping):
        raise ProtocolError(f"a value must be a JSON object, got {type(raw).__name__}")
    uuid = raw.get("uuid")
    if not isinstance(uuid, str) or not uuid:
        raise ProtocolError(f"a value needs a text uuid, got {uuid!r}")
    g = raw.get
    # Fast paths: well-formed payloads already carry the right JSON types; only odd ones (string
    # numbers, string booleans...) go through the converting helpers.
    cmd_class = g("cmd_class")
    if type(cmd_class) is not int:
        if cmd_class is None and "cmd_classes" in raw:
            # The "old protocol" fallback of the original receivers.
            cc = g("cmd_classes")
            cmd_class = cc[0] if isinstance(cc, list) and cc else cc
        cmd_class = _int({"cmd_class": cmd_class}, "cmd_class", 0)
    genre = g("genre")
    if type(genre) is not int:
        genre = _int(raw, "genre", 1)
    vtype = g("type")
    if type(vtype) is not int:
        vtype = _int(raw, "type", 1)
    index = g("index")
    if type(index) is not int:
        index = _int(raw, "index", 0)
    poll = g("poll_delay", 0)
    if type(poll) is not int and type(poll) is not float:
        try:
            poll = float(poll) if poll is not None and not isinstance(poll, bool) else 0
        except (TypeError, ValueError, OverflowError):
            raise ProtocolError(f"poll_delay must be a number, got {poll!r}") from None
    ro = g("is_readonly")
    if type(ro) is not bool:
        ro = _bool(ro, True)
    wo = g("is_writeonly")
    if type(wo) is not bool:
        wo = _bool(wo, False)
    polled = g("is_polled")
    if type(polled) is not bool:
        polled = _bool(polled, False)
    # Text fields are kept as they come when they are text (or null), else made text.
    node_uuid, label, help_text = g("node_uuid"), g("label"), g("help")
    units, voice_uuid, entry_name = g("units"), g("voice_uuid"), g("entry_name")
    if not all(
        v is None or type(v) is str for v in (node_uuid, label, help_text, units, voice_uuid, entry_name)
    ):
        node_uuid, label, help_text, units, voice_uuid, entry_name = (
            _opt_str(v) for v in (node_uuid, label, help_text, units, voice_uuid, entry_name)
        )
    hadd = g("hadd")
    reply_hadd = g("reply_hadd")
    extra = {} if raw.keys() <= _VALUE_KEYSET else {k: v for k, v in raw.items() if k not in _VALUE_KEYSET}
    return cls(
        uuid,
        None if hadd is None else parse_hadd_or_none(hadd),
        node_uuid,
        genre,
        vtype,
        cmd_class,
        index,
        g("data"),
        g("default"),
        label,
        help_text,
        units,
        g("min"),
        g("max"),
        g("list_items"),
        ro,
        wo,
        polled,
        poll,
        voice_uuid,
        None if reply_hadd is None else parse_hadd_or_none(reply_hadd),
        entry_name,
        extra,
        wire_keys=tuple(raw.keys()),
    )


_VALUE_KEYSET = frozenset(VALUE_KEYS) | {"entry_name"}
# The original's keys, with and without entry_name, fetched at once by from_wire's hot path.
_get_value_keys = itemgetter(*VALUE_KEYS)
_get_all = itemgetter(*VALUE_KEYS, "entry_name")
_VALUE_KEYS_LEN = len(VALUE_KEYS)
# to_wire's readers of a value's fields in a key order (None: a key that is no field, or a single key).
_READERS: dict[tuple[str, ...], Callable[[Any], tuple[Any, ...]] | None] = {}


def _reader(keys: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]] | None:
    read = attrgetter(*keys) if len(keys) > 1 and _VALUE_KEYSET.issuperset(keys) else None
    if len(_READERS) >= _MAX_KEY_ORDERS:
        _READERS.clear()
    _READERS[keys] = read
    return read


# The key orders seen, each kept once: the values of a reply (or of a sender) share one.
_KEY_ORDERS: dict[tuple[str, ...], tuple[str, ...]] = {}
_MAX_KEY_ORDERS = 1024


def _key_order(keys: tuple[str, ...]) -> tuple[str, ...]:
    kept = _KEY_ORDERS.get(keys)
    if kept is None:
        if len(_KEY_ORDERS) >= _MAX_KEY_ORDERS:
            _KEY_ORDERS.clear()
        kept = _KEY_ORDERS[keys] = keys
    return kept


# Hadd.parse's memory of the texts it parsed (one look-up instead of two calls).
_known_hadds = known_hadds()
_ALL_KEYS_LEN = len(VALUE_KEYS) + 1
_NODE_KEYSET = frozenset(NODE_KEYS) | {"state"}

# The two key orders every value dict of the original (and of our encoder) comes in: True when
# entry_name leads. The batch builder below reads a dict in one of them by position, not by key.
_ORIGINAL_ORDERS: dict[tuple[str, ...], bool] = {("entry_name", *VALUE_KEYS): True, VALUE_KEYS: False}
# Each key order seen -> (its kept tuple, its _ORIGINAL_ORDERS entry or None). Keyed by the first tuple
# seen: msgspec (and json, within a payload) reuse their key strings, so a look-up compares pointers.
_ORDERS: dict[tuple[Any, ...], tuple[tuple[str, ...], bool | None]] = {}
_new_object = object.__new__


def _order(keys: tuple[Any, ...]) -> tuple[tuple[str, ...], bool | None]:
    info = _ORDERS.get(keys)
    if info is None:
        if len(_ORDERS) >= _MAX_KEY_ORDERS:
            _ORDERS.clear()
        info = _ORDERS[keys] = (_KEY_ORDERS.get(keys) or _key_order(keys), _ORIGINAL_ORDERS.get(keys))
    return info


def values_from_wire(raws: Iterable[Any]) -> list[ValueInfo]:
    """`[ValueInfo.from_wire(raw) for raw in raws]`, faster: a discovery reply's hot path.

    A dict in one of the original's key orders, each field of the JSON type the original sends, is read
    by position and its ValueInfo filled slot by slot (no `__init__` call, no look-up per key): what
    the general path (_value_from_mapping) would build from it, field for field. Anything else goes
    through that general path, in turn: the same values, and the same first error. value_from_wire
    below is the same steps for one value.
    """
    out: list[ValueInfo] = []
    add = out.append
    general = _value_from_mapping
    new = _new_object
    known = _known_hadds
    prev: tuple[Any, ...] | None = None
    kept: tuple[str, ...] = ()
    named_first: bool | None = None
    for raw in raws:
        if type(raw) is not dict:
            add(general(ValueInfo, raw))
            continue
        keys = tuple(raw)
        # The values of one reply share their order (and msgspec and json share the key strings within
        # one payload, so this comparison is one of pointers).
        if keys != prev:
            prev = keys
            kept, named_first = _ORDERS.get(keys) or _order(keys)
        if named_first:
            (entry_name, uuid, node_uuid, voice_uuid, hadd, cmd_class, ro, wo, default, label, help_text,
             units, list_items, vmax, vmin, genre, vtype, index, polled, poll, reply_hadd, data) = raw.values()  # fmt: skip
        elif named_first is not None:
            (uuid, node_uuid, voice_uuid, hadd, cmd_class, ro, wo, default, label, help_text, units,
             list_items, vmax, vmin, genre, vtype, index, polled, poll, reply_hadd, data) = raw.values()  # fmt: skip
            entry_name = None
        else:
            add(general(ValueInfo, raw))
            continue
        if not (
            type(uuid) is str and uuid
            and type(cmd_class) is int and type(genre) is int and type(vtype) is int
            and type(index) is int and (type(poll) is int or type(poll) is float)
            and type(ro) is bool and type(wo) is bool and type(polled) is bool
            and (node_uuid is None or type(node_uuid) is str) and (label is None or type(label) is str)
            and (help_text is None or type(help_text) is str) and (units is None or type(units) is str)
            and (voice_uuid is None or type(voice_uuid) is str)
            and (entry_name is None or type(entry_name) is str)
        ):  # fmt: skip
            add(general(ValueInfo, raw))
            continue
        if hadd is not None:
            hadd = (type(hadd) is str and known.get(hadd)) or parse_hadd_or_none(hadd)
        if reply_hadd is not None:
            reply_hadd = (type(reply_hadd) is str and known.get(reply_hadd)) or parse_hadd_or_none(reply_hadd)
        v = new(ValueInfo)
        v.uuid = uuid
        v.hadd = hadd
        v.node_uuid = node_uuid
        v.genre = genre
        v.type = vtype
        v.cmd_class = cmd_class
        v.index = index
        v.data = data
        v.default = default
        v.label = label
        v.help = help_text
        v.units = units
        v.min = vmin
        v.max = vmax
        v.list_items = list_items
        v.is_readonly = ro
        v.is_writeonly = wo
        v.is_polled = polled
        v.poll_delay = poll
        v.voice_uuid = voice_uuid
        v.reply_hadd = reply_hadd
        v.entry_name = entry_name
        v.extra = {}
        v.wire_keys = kept
        v.alike = None
        add(v)
    return out


def value_from_wire(raw: Any) -> ValueInfo:
    """`ValueInfo.from_wire(raw)`: values_from_wire's steps for a single value (a value publication's hot
    path), without the list and the loop. Keep the two alike: tests check both against the general path.

    A dict with exactly the original's keys in another order (the original's Python 2 dicts came in
    several) is read by key rather than by position, then checked and filled the same way."""
    if type(raw) is dict:
        keys = tuple(raw)
        kept, named_first = _ORDERS.get(keys) or _order(keys)
        if named_first:
            (entry_name, uuid, node_uuid, voice_uuid, hadd, cmd_class, ro, wo, default, label, help_text,
             units, list_items, vmax, vmin, genre, vtype, index, polled, poll, reply_hadd, data) = raw.values()  # fmt: skip
        elif named_first is not None:
            (uuid, node_uuid, voice_uuid, hadd, cmd_class, ro, wo, default, label, help_text, units,
             list_items, vmax, vmin, genre, vtype, index, polled, poll, reply_hadd, data) = raw.values()  # fmt: skip
            entry_name = None
        else:
            try:
                if len(keys) == _ALL_KEYS_LEN:
                    fields = _get_all(raw)
                elif len(keys) == _VALUE_KEYS_LEN:
                    fields = _get_value_keys(raw) + (None,)
                else:
                    return _value_from_mapping(ValueInfo, raw)
            except KeyError:
                return _value_from_mapping(ValueInfo, raw)
            (uuid, node_uuid, voice_uuid, hadd, cmd_class, ro, wo, default, label, help_text, units,
             list_items, vmax, vmin, genre, vtype, index, polled, poll, reply_hadd, data,
             entry_name) = fields  # fmt: skip
        if (
            type(uuid) is str and uuid
            and type(cmd_class) is int and type(genre) is int and type(vtype) is int
            and type(index) is int and (type(poll) is int or type(poll) is float)
            and type(ro) is bool and type(wo) is bool and type(polled) is bool
            and (node_uuid is None or type(node_uuid) is str) and (label is None or type(label) is str)
            and (help_text is None or type(help_text) is str) and (units is None or type(units) is str)
            and (voice_uuid is None or type(voice_uuid) is str)
            and (entry_name is None or type(entry_name) is str)
        ):  # fmt: skip
            if hadd is not None:
                hadd = (type(hadd) is str and _known_hadds.get(hadd)) or parse_hadd_or_none(hadd)
            if reply_hadd is not None:
                reply_hadd = (type(reply_hadd) is str and _known_hadds.get(reply_hadd)) or parse_hadd_or_none(
                    reply_hadd
                )
            v = _new_object(ValueInfo)
            v.uuid = uuid
            v.hadd = hadd
            v.node_uuid = node_uuid
            v.genre = genre
            v.type = vtype
            v.cmd_class = cmd_class
            v.index = index
            v.data = data
            v.default = default
            v.label = label
            v.help = help_text
            v.units = units
            v.min = vmin
            v.max = vmax
            v.list_items = list_items
            v.is_readonly = ro
            v.is_writeonly = wo
            v.is_polled = polled
            v.poll_delay = poll
            v.voice_uuid = voice_uuid
            v.reply_hadd = reply_hadd
            v.entry_name = entry_name
            v.extra = {}
            v.wire_keys = kept
            v.alike = None
            return v
    return _value_from_mapping(ValueInfo, raw)


# Our extension key in a node's discovery dict: true when the node reads and writes the instance a GET
# or SET names by `index` (the original's nodes ignore it, always use instance 0, and echo it back).
INDEX_KEY = "jnt_index"


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """A node as described in `request_info_nodes` replies."""

    uuid: str
    hadd: Hadd | None = None
    oid: str = "generic"
    name: str = "Default name"
    location: str = "Default location"
    product_name: str = "Default product name"
    product_type: str = "Default product type"
    product_manufacturer: str = "Default product manufacturer"
    capabilities: tuple[int, ...] = ()
    cmd_classes: tuple[int, ...] = ()
    heartbeat: float = 30
    config_timeout: float = 3
    state: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    wire_keys: tuple[str, ...] | None = field(default=None, compare=False, repr=False)

    @property
    def is_controller(self) -> bool:
        """The node stands for its whole controller (`NNNN/0000`)."""
        return self.hadd is not None and self.hadd.is_controller

    @property
    def honours_index(self) -> bool:
        """The node says (extension key `jnt_index`) that a GET or SET reaches the instance it names."""
        return self.extra.get(INDEX_KEY) is True

    @classmethod
    def from_wire(cls, raw: Mapping[str, Any]) -> NodeInfo:
        """Build from a wire dict; raises ProtocolError when it is not a node dict."""
        if not isinstance(raw, Mapping):
            raise ProtocolError(f"a node must be a JSON object, got {type(raw).__name__}")
        uuid = raw.get("uuid")
        if not isinstance(uuid, str) or not uuid:
            raise ProtocolError(f"a node needs a text uuid, got {uuid!r}")

        def ints(key: str) -> tuple[int, ...]:
            v = raw.get(key) or ()
            if not isinstance(v, list | tuple):
                v = (v,)
            try:
                return tuple(int(x) for x in v)
            except (TypeError, ValueError, OverflowError):
                raise ProtocolError(f"node {uuid}: {key} must be a list of integers, got {v!r}") from None

        def num(key: str, default: float) -> float:
            v = raw.get(key, default)
            try:
                return default if v is None else (v if isinstance(v, int | float) else float(v))
            except (TypeError, ValueError):
                raise ProtocolError(f"node {uuid}: {key} must be a number, got {v!r}") from None

        def text(key: str, default: str) -> str:
            v = raw.get(key, default)
            return default if v is None else str(v)

        state = raw.get("state")
        return cls(
            uuid=uuid,
            hadd=parse_hadd_or_none(raw.get("hadd")),
            oid=text("oid", "generic"),
            name=text("name", "Default name"),
            location=text("location", "Default location"),
            product_name=text("product_name", "Default product name"),
            product_type=text("product_type", "Default product type"),
            product_manufacturer=text("product_manufacturer", "Default product manufacturer"),
            capabilities=ints("capabilities"),
            cmd_classes=ints("cmd_classes"),
            heartbeat=num("heartbeat", 30),
            config_timeout=num("config_timeout", 3),
            state=None if state is None else str(state).upper(),
            extra={k: v for k, v in raw.items() if k not in _NODE_KEYSET},
            wire_keys=tuple(raw.keys()),
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire dict: the keys it was decoded with, or the original's full key set."""
        full: dict[str, Any] = {
            "uuid": self.uuid,
            "oid": self.oid,
            "capabilities": list(self.capabilities),
            "cmd_classes": list(self.cmd_classes),
            "name": self.name,
            "product_name": self.product_name,
            "product_type": self.product_type,
            "product_manufacturer": self.product_manufacturer,
            "location": self.location,
            "heartbeat": self.heartbeat,
            "config_timeout": self.config_timeout,
            "hadd": None if self.hadd is None else str(self.hadd),
        }
        if self.state is not None:
            full["state"] = self.state
        if self.wire_keys is not None:
            out = {k: full[k] if k in full else self.extra.get(k) for k in self.wire_keys}
            for k, v in self.extra.items():
                out.setdefault(k, v)
            return out
        full.update(self.extra)
        return full
