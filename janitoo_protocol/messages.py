"""Protocol messages as small typed objects, with `decode(topic, payload)` and `encode(message)`.

`decode` is tolerant: it accepts every shape the original Janitoo emits (bare-word and JSON heartbeats,
2-level, 3-level and bare-node discovery data, single and indexed value publications, string booleans,
string addresses, MongoDB `{"$date": ...}` extended JSON) and normalises them to one form. `encode` is
exact: plain JSON in the original's shapes. Anything malformed raises `ProtocolError` naming the topic;
no other exception escapes `decode`.
"""

from __future__ import annotations

import datetime as _dt
import enum
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .addressing import Hadd, parse_hadd_or_none
from .codes import COMMAND_DISCOVERY, NETWORK_REQUESTS, Genre, string_to_bool
from .errors import ProtocolError
from .model import NodeInfo, ValueInfo
from .topics import DEFAULT_TOPICS, TopicInfo, TopicKind, Topics

# Our request/reply correlation key. The original echoes unknown request keys back, so it works with
# original nodes too, and they ignore it.
CORRELATION_KEY = "jnt_cid"
# Where our nodes say why a request was refused (the original was silent).
ERROR_KEY = "error"

# Which genre each discovery request asks for (None: the nodes themselves).
REQUEST_GENRES: dict[str, Genre | None] = {
    "request_info_nodes": None,
    "request_info_users": Genre.USER,
    "request_info_configs": Genre.CONFIG,
    "request_info_systems": Genre.SYSTEM,
    "request_info_basics": Genre.BASIC,
    "request_info_commands": Genre.COMMAND,
}
GENRE_REQUESTS: dict[Genre, str] = {g: k for k, g in REQUEST_GENRES.items() if g is not None}
# Genres whose discovery data carries an index level (3-level); the others are 2-level (§4.2).
_INDEXED_GENRES = {Genre.USER, Genre.CONFIG, Genre.BASIC}

_STATE_RE = re.compile(r"^[A-Z][A-Z_]{0,31}$")


def _text_of(extra: Mapping[str, Any], key: str) -> str | None:
    """An extension key (correlation, error) as text, None when absent."""
    v = extra.get(key)
    return None if v is None else str(v)


class ReplyShape:
    """The layouts of discovery `data` seen on the wire (§4.2)."""

    BY_UUID = "by_uuid"  # nodes keyed by node uuid (node managers)
    BY_HADD = "by_hadd"  # nodes keyed by hadd (the resolv server)
    BARE = "bare"  # a single node dict (controller managers)
    INDEXED = "indexed"  # values: hadd -> uuid -> index -> value
    FLAT = "flat"  # values: hadd -> uuid -> value


class ReplyRoute(enum.Enum):
    """Which topic a discovery reply travelled on."""

    BROADCAST = "broadcast"  # /broadcast/reply/<reply_hadd>
    NODE = "node"  # /nodes/<reply_hadd>/reply
    RESOLV = "resolv"  # /dhcp/resolv/reply/<reply_hadd>
    RESOLV_BROADCAST = "resolv_broadcast"  # /dhcp/resolv/broadcast/


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """A node's own heartbeat: `/dhcp/heartbeat/<hadd>` with a bare state word."""

    hadd: Hadd
    state: str


@dataclass(frozen=True, slots=True)
class HeartbeatDispatch:
    """A liveness state published by a primary on `/dhcp/heartbeat/` (add_node -1: whole controller)."""

    add_ctrl: int
    add_node: int
    state: str

    @property
    def hadd(self) -> Hadd:
        return Hadd(self.add_ctrl, max(self.add_node, 0))

    @property
    def whole_controller(self) -> bool:
        return self.add_node == -1


@dataclass(frozen=True, slots=True)
class ResolvHeartbeat:
    """The primary's liveness on `/dhcp/resolv/heartbeat`; `extra` carries our epoch and priority."""

    add_ctrl: int
    add_node: int
    state: str = "ONLINE"
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def hadd(self) -> Hadd:
        return Hadd(self.add_ctrl, self.add_node)


@dataclass(frozen=True, slots=True)
class DiscoveryRequest:
    """A `request_info_*` request: broadcast (target None), to one node, or a resolv request."""

    kind: str
    reply_hadd: Hadd | None
    target: Hadd | None = None
    resolv: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def genre(self) -> Genre | None:
        return REQUEST_GENRES.get(self.kind)


@dataclass(frozen=True, slots=True)
class ValueRequest:
    """A GET or SET of one value, sent to `/nodes/<target>/request` (or, wastefully, broadcast)."""

    hadd: Hadd
    uuid: str
    genre: int
    cmd_class: int
    reply_hadd: Hadd | None
    data: Any = None
    is_writeonly: bool = False
    is_readonly: bool = True
    index: int | None = None
    target: Hadd | None = None  # the topic's hadd; None when sent on /broadcast/request
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_set(self) -> bool:
        return self.is_writeonly

    @property
    def correlation(self) -> str | None:
        return _text_of(self.extra, CORRELATION_KEY)


@dataclass(frozen=True, slots=True)
class DiscoveryReply:
    """An answer to a `request_info_*` request, its data normalised to nodes or flat values."""

    kind: str
    reply_hadd: Hadd | None
    route: ReplyRoute
    nodes: tuple[NodeInfo, ...] = ()
    values: tuple[ValueInfo, ...] = ()
    topic_hadd: Hadd | None = None  # the hadd in the topic (normally reply_hadd)
    extra: Mapping[str, Any] = field(default_factory=dict)
    # How `data` was laid out on the wire (ReplyShape); None: the usual shape for the kind and route.
    shape: str | None = field(default=None, compare=False)

    @property
    def genre(self) -> Genre | None:
        return REQUEST_GENRES.get(self.kind)

    @property
    def correlation(self) -> str | None:
        return _text_of(self.extra, CORRELATION_KEY)

    @property
    def controllers(self) -> set[int]:
        """The controllers this reply speaks for."""
        return {h.controller for h in self.hadds()}

    def hadds(self) -> set[Hadd]:
        out = {n.hadd for n in self.nodes if n.hadd is not None}
        out.update(v.hadd for v in self.values if v.hadd is not None)
        return out


@dataclass(frozen=True, slots=True)
class ValueReply:
    """A node's answer to a value GET/SET on `/nodes/<reply_hadd>/reply` (basic, user, command)."""

    reply_hadd: Hadd
    value: ValueInfo

    @property
    def correlation(self) -> str | None:
        return _text_of(self.value.extra, CORRELATION_KEY)

    @property
    def error(self) -> str | None:
        return _text_of(self.value.extra, ERROR_KEY)


@dataclass(frozen=True, slots=True)
class ValuePublication:
    """A value on `/values/<genre>/<hadd>/<uuid>`: one dict, or one per index (`indexed`)."""

    genre: Genre
    hadd: Hadd
    uuid: str
    values: tuple[ValueInfo, ...]
    indexed: bool = False

    @property
    def value(self) -> ValueInfo:
        """The index-0 value (or the first one)."""
        for v in self.values:
            if v.index == 0:
                return v
        return self.values[0]

    @property
    def correlation(self) -> str | None:
        return _text_of(self.value.extra, CORRELATION_KEY)

    @property
    def error(self) -> str | None:
        return _text_of(self.value.extra, ERROR_KEY)


@dataclass(frozen=True, slots=True)
class LeaseMessage:
    """The DHCP lease RPC (`/dhcp/lease/*`, `/dhcp/resolv/hadd`...) and its `/reply/<rep_uuid>` answers."""

    action: str  # new, repair, lock, release, remove, resolv/hadd, ... or "reply"
    payload: Mapping[str, Any]
    rep_uuid: str | None = None


Message = (
    Heartbeat
    | HeartbeatDispatch
    | ResolvHeartbeat
    | DiscoveryRequest
    | ValueRequest
    | DiscoveryReply
    | ValueReply
    | ValuePublication
    | LeaseMessage
)


# --------------------------------------------------------------------------------------------- decoding


def _object_hook(obj: dict[str, Any]) -> Any:
    # MongoDB extended JSON from the original's bson encoder: turn it into plain values.
    if len(obj) == 1:
        if "$date" in obj:
            return _ext_date(obj["$date"])
        if "$uuid" in obj:
            return str(obj["$uuid"])
        if "$numberLong" in obj:
            try:
                return int(obj["$numberLong"])
            except (TypeError, ValueError, OverflowError):
                return obj
    return obj


def _ext_date(v: Any) -> Any:
    if isinstance(v, dict):
        v = v.get("$numberLong", v)
    try:
        ms = int(v)
    except (TypeError, ValueError, OverflowError):
        return v  # already an ISO string (relaxed extended JSON)
    try:
        return _dt.datetime.fromtimestamp(ms / 1000, tz=_dt.UTC).isoformat()
    except (ValueError, OverflowError, OSError):
        return v  # outside what datetime can hold: keep the number as plain data


def _text(payload: bytes | bytearray | str, topic: str) -> str:
    if isinstance(payload, str):
        return payload
    try:
        return bytes(payload).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"payload is not UTF-8 ({exc.reason} at byte {exc.start})", topic) from None


def _json_object(text: str, topic: str) -> dict[str, Any]:
    try:
        # The extended-JSON hook costs a Python call per object: only pay it when a "$" key may be there.
        obj = json.loads(text, object_hook=_object_hook) if '"$' in text else json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"payload is not JSON ({exc})", topic) from None
    if not isinstance(obj, dict):
        raise ProtocolError(f"payload must be a JSON object, got {type(obj).__name__}", topic)
    return obj


def _state(raw: Any, topic: str) -> str:
    if not isinstance(raw, str):
        raise ProtocolError(f"heartbeat state must be a word, got {raw!r}", topic)
    state = raw.strip().upper()
    if not _STATE_RE.match(state):
        raise ProtocolError(f"heartbeat state must be a word like ONLINE, got {raw[:40]!r}", topic)
    return state


def _address_part(raw: Any, key: str, topic: str) -> int:
    # Resolv heartbeats carry "0001" strings, dispatches carry ints; accept both.
    if isinstance(raw, bool):
        raise ProtocolError(f"{key} must be an integer, got {raw!r}", topic)
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str):
        try:
            return int(raw)
        except ValueError:
            pass
    raise ProtocolError(f"{key} must be an integer, got {raw!r}", topic)


def _extra(obj: Mapping[str, Any], known: Iterable[str]) -> dict[str, Any]:
    ks = set(known)
    return {k: v for k, v in obj.items() if k not in ks}


_DISCOVERY_KEYS = ("cmd_class", "genre", "uuid", "reply_hadd")
_REQUEST_KEYS = (
    "cmd_class", "genre", "uuid", "reply_hadd", "hadd", "data", "is_writeonly", "is_readonly", "index",
)  # fmt: skip


def _is_discovery(obj: Mapping[str, Any]) -> bool:
    cc = obj.get("cmd_class")
    try:
        return cc is not None and not isinstance(cc, bool) and int(cc) == COMMAND_DISCOVERY
    except (TypeError, ValueError):
        return False


def _kind(obj: Mapping[str, Any], topic: str) -> str:
    kind = obj.get("uuid")
    if not isinstance(kind, str) or not kind:
        raise ProtocolError(f"a discovery message needs a text uuid, got {kind!r}", topic)
    return kind


def decode(topic: str, payload: bytes | bytearray | str, topics: Topics = DEFAULT_TOPICS) -> Message:
    """Decode one MQTT message into a typed message; raises ProtocolError and nothing else."""
    try:
        return _decode(topics.parse(topic), topic, payload)
    except ProtocolError as exc:
        if exc.topic is None:
            raise ProtocolError(exc.reason, topic) from None
        raise
    except (LookupError, TypeError, ValueError, AttributeError, RecursionError, OverflowError) as exc:
        # Belt and braces: the decoders below check shapes, but a payload shape nobody thought of
        # must still come out as a ProtocolError, never crash a receiver.
        raise ProtocolError(f"malformed payload ({type(exc).__name__}: {exc})", topic) from None


def _decode(info: TopicInfo, topic: str, payload: bytes | bytearray | str) -> Message:
    text = _text(payload, topic)
    kind = info.kind
    if kind is TopicKind.HEARTBEAT:
        assert info.hadd is not None
        stripped = text.strip()
        if stripped.startswith("{"):
            return _dispatch(_json_object(stripped, topic), topic)
        if stripped.startswith('"'):
            try:
                stripped = json.loads(stripped)
            except ValueError:
                raise ProtocolError("heartbeat payload is a broken JSON string", topic) from None
        return Heartbeat(info.hadd, _state(stripped, topic))
    obj = _json_object(text, topic)
    if kind is TopicKind.VALUES:  # the most frequent kind first
        return _publication(obj, info, topic)
    if kind is TopicKind.HEARTBEAT_DISPATCH:
        return _dispatch(obj, topic)
    if kind is TopicKind.RESOLV_HEARTBEAT:
        return ResolvHeartbeat(
            _address_part(obj.get("add_ctrl"), "add_ctrl", topic),
            _address_part(obj.get("add_node", 0), "add_node", topic),
            _state(obj.get("state", "ONLINE"), topic),
            _extra(obj, ("add_ctrl", "add_node", "state")),
        )
    if kind is TopicKind.BROADCAST_REQUEST or kind is TopicKind.NODE_REQUEST:
        target = info.hadd if kind is TopicKind.NODE_REQUEST else None
        if _is_discovery(obj):
            return DiscoveryRequest(
                _kind(obj, topic),
                parse_hadd_or_none(obj.get("reply_hadd")),
                target=target,
                extra=_extra(obj, _DISCOVERY_KEYS),
            )
        return _value_request(obj, target, topic)
    if kind is TopicKind.RESOLV_REQUEST:
        return DiscoveryRequest(
            _kind(obj, topic),
            parse_hadd_or_none(obj.get("reply_hadd")),
            resolv=True,
            extra=_extra(obj, _DISCOVERY_KEYS),
        )
    if kind is TopicKind.BROADCAST_REPLY:
        return _discovery_reply(obj, ReplyRoute.BROADCAST, info.hadd, topic)
    if kind is TopicKind.RESOLV_REPLY:
        return _discovery_reply(obj, ReplyRoute.RESOLV, info.hadd, topic)
    if kind is TopicKind.RESOLV_BROADCAST:
        return _discovery_reply(obj, ReplyRoute.RESOLV_BROADCAST, None, topic)
    if kind is TopicKind.NODE_REPLY:
        assert info.hadd is not None
        if _is_discovery(obj):
            return _discovery_reply(obj, ReplyRoute.NODE, info.hadd, topic)
        return ValueReply(info.hadd, ValueInfo.from_wire(obj))
    if kind is TopicKind.LEASE:
        assert info.action is not None
        rep = obj.get("rep_uuid")
        return LeaseMessage(info.action, obj, None if rep is None else str(rep))
    if kind is TopicKind.RPC_REPLY:
        return LeaseMessage("reply", obj, info.uuid)
    raise ProtocolError("unhandled topic", topic)  # pragma: no cover - every kind is handled above


def _dispatch(obj: Mapping[str, Any], topic: str) -> HeartbeatDispatch:
    if "add_ctrl" not in obj or "add_node" not in obj:
        raise ProtocolError("a JSON heartbeat needs add_ctrl and add_node", topic)
    return HeartbeatDispatch(
        _address_part(obj["add_ctrl"], "add_ctrl", topic),
        _address_part(obj["add_node"], "add_node", topic),
        _state(obj.get("state", "ONLINE"), topic),
    )


def _value_request(obj: Mapping[str, Any], target: Hadd | None, topic: str) -> ValueRequest:
    uuid = obj.get("uuid")
    if not isinstance(uuid, str) or not uuid:
        raise ProtocolError(f"a value request needs a text uuid, got {uuid!r}", topic)
    hadd = parse_hadd_or_none(obj.get("hadd"))
    if hadd is None:
        hadd = target
    if hadd is None:
        raise ProtocolError("a value request needs the target hadd", topic)
    index = obj.get("index")

    def integer(key: str, default: int | None) -> int:
        v = obj.get(key, default)
        if v is None or isinstance(v, bool):
            raise ProtocolError(f"{key} must be an integer, got {v!r}", topic)
        try:
            return int(v)
        except (TypeError, ValueError):
            raise ProtocolError(f"{key} must be an integer, got {v!r}", topic) from None

    return ValueRequest(
        hadd=hadd,
        uuid=uuid,
        genre=integer("genre", None),
        cmd_class=integer("cmd_class", 0),
        reply_hadd=parse_hadd_or_none(obj.get("reply_hadd")),
        data=obj.get("data"),
        is_writeonly=string_to_bool(obj.get("is_writeonly", False)),
        # The original's default when absent is "read".
        is_readonly=string_to_bool(obj.get("is_readonly", True)),
        index=None if index is None else integer("index", 0),
        target=target,
        extra=_extra(obj, _REQUEST_KEYS),
    )


def _discovery_reply(
    obj: Mapping[str, Any], route: ReplyRoute, topic_hadd: Hadd | None, topic: str
) -> DiscoveryReply:
    kind = _kind(obj, topic)
    data = obj.get("data")
    nodes: tuple[NodeInfo, ...] = ()
    values: tuple[ValueInfo, ...] = ()
    shape: str | None = None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ProtocolError(f"{kind} data must be a JSON object, got {type(data).__name__}", topic)
    if kind == "request_info_nodes":
        nodes, shape = _nodes(data, topic)
    elif kind in REQUEST_GENRES:
        values, shape = _values(data, topic)
    return DiscoveryReply(
        kind=kind,
        reply_hadd=parse_hadd_or_none(obj.get("reply_hadd")),
        route=route,
        nodes=nodes,
        values=values,
        topic_hadd=topic_hadd,
        extra=_extra(obj, (*_DISCOVERY_KEYS, "data")),
        shape=shape,
    )


def _nodes(data: Mapping[str, Any], topic: str) -> tuple[tuple[NodeInfo, ...], str | None]:
    # A controller manager answers with a bare node dict; node managers key by uuid, resolv by hadd.
    if "hadd" in data and "uuid" in data and not isinstance(data.get("uuid"), dict):
        return (NodeInfo.from_wire(data),), ReplyShape.BARE
    nodes = tuple(NodeInfo.from_wire(n) for n in data.values())
    by_hadd = bool(nodes) and all(k == _h(n.hadd) for k, n in zip(data, nodes, strict=True))
    return nodes, (ReplyShape.BY_HADD if by_hadd else ReplyShape.BY_UUID) if nodes else None


def _values(data: Mapping[str, Any], topic: str) -> tuple[tuple[ValueInfo, ...], str | None]:
    # The original's normalisation (§4.2): bare value, {uuid: value}, {hadd: {uuid: value}} or
    # {hadd: {uuid: {index: value}}}; a second-level item with a "uuid" key is a value.
    if "uuid" in data and not isinstance(data.get("uuid"), dict):
        return (ValueInfo.from_wire(data),), ReplyShape.FLAT
    if data:
        first = next(iter(data.values()))
        if isinstance(first, dict) and "uuid" in first and not isinstance(first.get("uuid"), dict):
            data = {"0": data}
    out: list[ValueInfo] = []
    shape: str | None = None
    for per_node in data.values():
        if not isinstance(per_node, dict):
            raise ProtocolError(f"value data must be nested JSON objects, got {type(per_node).__name__}")
        for item in per_node.values():
            if not isinstance(item, dict):
                raise ProtocolError(f"value data must be nested JSON objects, got {type(item).__name__}")
            if "uuid" in item and not isinstance(item.get("uuid"), dict):
                out.append(ValueInfo.from_wire(item))
                shape = shape or ReplyShape.FLAT
            else:
                out.extend(ValueInfo.from_wire(v) for v in item.values())
                shape = shape or ReplyShape.INDEXED
    return tuple(out), shape


def _publication(obj: Mapping[str, Any], info: TopicInfo, topic: str) -> ValuePublication:
    assert info.hadd is not None and info.genre is not None and info.uuid is not None
    # Receivers tell the shapes apart by whether the top level has a "genre" key (§4.4).
    if "genre" in obj or "uuid" in obj:
        return ValuePublication(info.genre, info.hadd, info.uuid, (ValueInfo.from_wire(obj),))
    if not obj:
        raise ProtocolError("an indexed value publication needs at least one index", topic)
    values = tuple(ValueInfo.from_wire(v) for v in obj.values())
    return ValuePublication(info.genre, info.hadd, info.uuid, values, indexed=True)


# --------------------------------------------------------------------------------------------- encoding


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, default=_json_default).encode("utf-8")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Hadd):
        return str(obj)
    if isinstance(obj, _dt.datetime | _dt.date):
        return obj.isoformat()
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    raise TypeError(f"cannot encode {type(obj).__name__} as JSON")


def _h(h: Hadd | None) -> str | None:
    return None if h is None else str(h)


def discovery_data(reply: DiscoveryReply) -> dict[str, Any]:
    """The `data` dict of a discovery reply in the original's shape for its kind and route."""
    resolv = reply.route in (ReplyRoute.RESOLV, ReplyRoute.RESOLV_BROADCAST)
    shape = reply.shape
    if reply.kind == "request_info_nodes":
        if shape == ReplyShape.BARE and len(reply.nodes) == 1:
            return reply.nodes[0].to_wire()
        # Node managers key nodes by node uuid; the resolv server keys them by hadd.
        by_hadd = shape == ReplyShape.BY_HADD if shape else resolv
        return {(_h(n.hadd) if by_hadd else n.uuid) or n.uuid: n.to_wire() for n in reply.nodes}
    indexed = shape == ReplyShape.INDEXED if shape else reply.genre in _INDEXED_GENRES
    data: dict[str, dict[str, Any]] = {}
    for v in reply.values:
        per_node = data.setdefault(_h(v.hadd) or "", {})
        if indexed:
            per_node.setdefault(v.uuid, {})[str(v.index)] = v.to_wire()
        else:
            per_node[v.uuid] = v.to_wire()
    return data


def encode(message: Message, topics: Topics = DEFAULT_TOPICS) -> tuple[str, bytes]:
    """Encode a message to `(topic, payload bytes)` in the original's exact shapes."""
    m = message
    if isinstance(m, Heartbeat):
        return topics.heartbeat(m.hadd), m.state.encode("ascii")
    if isinstance(m, HeartbeatDispatch):
        return topics.heartbeat_dispatch(), _dumps(
            {"add_ctrl": m.add_ctrl, "add_node": m.add_node, "state": m.state}
        )
    if isinstance(m, ResolvHeartbeat):
        # The original's DHCP server sends the address parts as zero-padded strings.
        body: dict[str, Any] = {
            "add_ctrl": f"{m.add_ctrl:04d}",
            "add_node": f"{m.add_node:04d}",
            "state": m.state,
        }
        body.update(m.extra)
        return topics.resolv_heartbeat(), _dumps(body)
    if isinstance(m, DiscoveryRequest):
        req_body = _discovery_envelope(m.kind, m.reply_hadd, m.extra)
        if m.resolv:
            return topics.resolv_request(), _dumps(req_body)
        if m.target is None:
            return topics.broadcast_request(), _dumps(req_body)
        return topics.node_request(m.target), _dumps(req_body)
    if isinstance(m, ValueRequest):
        req: dict[str, Any] = {
            "cmd_class": m.cmd_class,
            "uuid": m.uuid,
            "data": m.data,
            "reply_hadd": _h(m.reply_hadd),
            "genre": m.genre,
            "is_writeonly": m.is_writeonly,
            "is_readonly": m.is_readonly,
            "hadd": str(m.hadd),
        }
        if m.index is not None:
            req["index"] = m.index
        req.update(m.extra)
        topic = topics.broadcast_request() if m.target is None else topics.node_request(m.target)
        return topic, _dumps(req)
    if isinstance(m, DiscoveryReply):
        rep_body = _discovery_envelope(m.kind, m.reply_hadd, m.extra)
        rep_body["data"] = discovery_data(m)
        return _reply_topic(m, topics), _dumps(rep_body)
    if isinstance(m, ValueReply):
        return topics.node_reply(m.reply_hadd), _dumps(m.value.to_wire())
    if isinstance(m, ValuePublication):
        topic = topics.values(m.genre, m.hadd, m.uuid)
        if m.indexed:
            return topic, _dumps({str(v.index): v.to_wire() for v in m.values})
        return topic, _dumps(m.values[0].to_wire())
    if isinstance(m, LeaseMessage):
        if m.action == "reply":
            return topics.rpc_reply(m.rep_uuid or ""), _dumps(dict(m.payload))
        return topics._t(f"/dhcp/{'' if m.action.startswith('resolv/') else 'lease/'}{m.action}"), _dumps(
            dict(m.payload)
        )
    raise TypeError(f"not a Janitoo message: {type(m).__name__}")


def _discovery_envelope(kind: str, reply_hadd: Hadd | None, extra: Mapping[str, Any]) -> dict[str, Any]:
    """The keys every discovery request and reply carries (a reply is the request echoed + data)."""
    body: dict[str, Any] = {"cmd_class": COMMAND_DISCOVERY, "genre": int(Genre.SYSTEM), "uuid": kind}
    body["reply_hadd"] = _h(reply_hadd)
    body.update(extra)
    return body


def _reply_topic(m: DiscoveryReply, topics: Topics) -> str:
    target = m.topic_hadd or m.reply_hadd
    if m.route is ReplyRoute.RESOLV_BROADCAST:
        return topics.resolv_broadcast()
    if target is None:
        raise ProtocolError(f"a {m.route.value} reply needs a reply hadd")
    if m.route is ReplyRoute.BROADCAST:
        return topics.broadcast_reply(target)
    if m.route is ReplyRoute.RESOLV:
        return topics.resolv_reply(target)
    return topics.node_reply(target)


def is_network_request(kind: str) -> bool:
    return kind in NETWORK_REQUESTS
