"""`decode(topic, payload)`: one MQTT message to a typed message, tolerant of every shape the original emits.

It accepts bare-word and JSON heartbeats, 2-level, 3-level and bare-node discovery data, single and indexed
value publications, string booleans, string addresses and MongoDB `{"$date": ...}` extended JSON, and
normalises them to one form. Anything malformed raises `ProtocolError` naming the topic; no other exception
escapes `decode`.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .addressing import Hadd, parse_hadd_or_none
from .codes import CommandClass, NodeState, RequestKind, string_to_bool
from .errors import ProtocolError
from .events import (
    REQUEST_GENRES,
    DiscoveryReply,
    DiscoveryRequest,
    Heartbeat,
    HeartbeatDispatch,
    LeaseMessage,
    Message,
    ReplyRoute,
    ReplyShape,
    ResolvHeartbeat,
    ValuePublication,
    ValueReply,
    ValueRequest,
)
from .jsonfast import loads
from .model import NodeInfo, ValueInfo, value_from_wire, values_from_wire
from .topics import DEFAULT_TOPICS, TopicInfo, TopicKind, Topics

_STATE_RE = re.compile(r"^[A-Z][A-Z_]{0,31}$")
# The known state words as NodeState members (a str enum: equal to the words, and written as them).
_STATES: dict[str, str] = {s.value: s for s in NodeState}
# A plain int: compared once per request on the receive path.
_DISCOVERY = int(CommandClass.DISCOVERY)
_VALUES = TopicKind.VALUES


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


def _json_object(payload: bytes | bytearray | str, topic: str) -> dict[str, Any]:
    try:
        # The extended-JSON hook costs a Python call per object: only pay it when a "$" key may be there.
        # (A one-byte search runs at memchr's speed, a two-byte one a hundred times slower: '$' first.)
        if type(payload) is bytes:
            hook = b"$" in payload and b'"$' in payload
        elif isinstance(payload, str):
            hook = "$" in payload and '"$' in payload
        else:
            hook = b"$" in payload and b'"$' in payload
        obj = json.loads(_text(payload, topic), object_hook=_object_hook) if hook else loads(payload)
    except (ValueError, RecursionError) as exc:
        raise _not_json(exc, topic) from None
    if type(obj) is not dict:
        raise _not_an_object(obj, topic)
    return obj


def _not_json(exc: ValueError | RecursionError, topic: str) -> ProtocolError:
    if isinstance(exc, UnicodeDecodeError):
        return ProtocolError(f"payload is not UTF-8 ({exc.reason} at byte {exc.start})", topic)
    return ProtocolError(f"payload is not JSON ({exc})", topic)


def _not_an_object(obj: Any, topic: str) -> ProtocolError:
    return ProtocolError(f"payload must be a JSON object, got {type(obj).__name__}", topic)


def _state(raw: Any, topic: str) -> str:
    if not isinstance(raw, str):
        raise ProtocolError(f"heartbeat state must be a word, got {raw!r}", topic)
    state = raw.strip().upper()
    known = _STATES.get(state)
    if known is not None:
        return known
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
        return cc is not None and not isinstance(cc, bool) and int(cc) == _DISCOVERY
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
        info = topics.parse(topic)
    except (ProtocolError, *_MALFORMED) as exc:
        raise _protocol_error(exc, topic) from None
    return decode_parsed(info, topic, payload)


# What a payload shape nobody thought of could raise in the decoders below, despite their checks: it must
# still come out as a ProtocolError, never crash a receiver.
_MALFORMED = (LookupError, TypeError, ValueError, AttributeError, RecursionError, OverflowError)


def _protocol_error(exc: Exception, topic: str) -> ProtocolError:
    """The ProtocolError, naming the topic, that decoding raises for `exc`."""
    if isinstance(exc, ProtocolError):
        return exc if exc.topic is not None else ProtocolError(exc.reason, topic)
    return ProtocolError(f"malformed payload ({type(exc).__name__}: {exc})", topic)


def decode_parsed(info: TopicInfo, topic: str, payload: bytes | bytearray | str) -> Message:
    """`decode` of a topic already parsed into `info` (a receiver remembers the TopicInfo of its topics)."""
    try:
        # A receiver's most frequent message, a single value publication, decoded here in one call: the
        # steps of _decode, _json_object and _publication below, without their calls (each costs about
        # as much as a field of the value). Anything else (an extended-JSON "$", a payload that is not
        # bytes, an indexed publication) takes the general path.
        if info.kind is _VALUES and type(payload) is bytes and b"$" not in payload:
            try:
                obj = loads(payload)
            except (ValueError, RecursionError) as exc:
                raise _not_json(exc, topic) from None
            if type(obj) is not dict:
                raise _not_an_object(obj, topic)
            if "genre" not in obj and "uuid" not in obj:
                return _publication(obj, info, topic)
            # _single_publication, inline.
            m = _new_object(ValuePublication)
            _set_genre(m, info.genre)
            _set_hadd(m, info.hadd)
            _set_uuid(m, info.uuid)
            _set_values(m, (value_from_wire(obj),))
            _set_indexed(m, False)
            return m
        return _decode(info, topic, payload)
    except (ProtocolError, *_MALFORMED) as exc:
        raise _protocol_error(exc, topic) from None


def _decode(info: TopicInfo, topic: str, payload: bytes | bytearray | str) -> Message:
    kind = info.kind
    if kind is TopicKind.HEARTBEAT:
        assert info.hadd is not None
        stripped = _text(payload, topic).strip()
        if stripped.startswith("{"):
            return _dispatch(_json_object(stripped, topic), topic)
        if stripped.startswith('"'):
            try:
                stripped = json.loads(stripped)
            except ValueError:
                raise ProtocolError("heartbeat payload is a broken JSON string", topic) from None
        return Heartbeat(info.hadd, _state(stripped, topic))
    obj = _json_object(payload, topic)
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
    shape: ReplyShape | None = None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ProtocolError(f"{kind} data must be a JSON object, got {type(data).__name__}", topic)
    if kind == RequestKind.NODES:
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


def _nodes(data: Mapping[str, Any], topic: str) -> tuple[tuple[NodeInfo, ...], ReplyShape | None]:
    # A controller manager answers with a bare node dict; node managers key by uuid, resolv by hadd.
    if "hadd" in data and "uuid" in data and not isinstance(data.get("uuid"), dict):
        return (NodeInfo.from_wire(data),), ReplyShape.BARE
    nodes = tuple(NodeInfo.from_wire(n) for n in data.values())
    by_hadd = bool(nodes) and all(k == _text_hadd(n.hadd) for k, n in zip(data, nodes, strict=True))
    return nodes, (ReplyShape.BY_HADD if by_hadd else ReplyShape.BY_UUID) if nodes else None


def _values(data: Mapping[str, Any], topic: str) -> tuple[tuple[ValueInfo, ...], ReplyShape | None]:
    # The original's normalisation of discovery data: bare value, {uuid: value}, {hadd: {uuid: value}} or
    # {hadd: {uuid: {index: value}}}; a second-level item with a "uuid" key is a value.
    if "uuid" in data and not isinstance(data.get("uuid"), dict):
        return (ValueInfo.from_wire(data),), ReplyShape.FLAT
    if data:
        first = next(iter(data.values()))
        if isinstance(first, dict) and "uuid" in first and not isinstance(first.get("uuid"), dict):
            data = {"0": data}
    shape: ReplyShape | None = None

    def value_dicts() -> Iterator[Any]:
        # Walked lazily, in order, so that values_from_wire builds every value before the walk goes on:
        # a malformed value or level raises the same first error as building value by value would.
        nonlocal shape
        for per_node in data.values():
            if not isinstance(per_node, dict):
                raise ProtocolError(f"value data must be nested JSON objects, got {type(per_node).__name__}")
            for item in per_node.values():
                if not isinstance(item, dict):
                    raise ProtocolError(f"value data must be nested JSON objects, got {type(item).__name__}")
                if "uuid" in item and not isinstance(item.get("uuid"), dict):
                    shape = shape or ReplyShape.FLAT
                    yield item
                else:
                    shape = shape or ReplyShape.INDEXED
                    yield from item.values()
            # The parsed dicts are decode's own: each node's are let go once its values are built. A
            # decode then holds about as many containers at once as json.loads' own result, not twice
            # as many, and sets off no extra pass of the garbage collector (one pass over the ~800
            # young objects of a 100-node reply costs as much as building 50 values).
            per_node.clear()

    values = tuple(values_from_wire(value_dicts()))
    return values, shape


# ValuePublication is a frozen dataclass: its __init__ sets each field through object.__setattr__. The
# receivers' hot path sets the same slots to the same values directly, at half the cost.
_new_object = object.__new__
_set_genre, _set_hadd, _set_uuid, _set_values, _set_indexed = (
    getattr(ValuePublication, f).__set__ for f in ("genre", "hadd", "uuid", "values", "indexed")
)


def _single_publication(
    genre: Any, hadd: Hadd | None, uuid: str | None, value: ValueInfo
) -> ValuePublication:
    """ValuePublication(genre, hadd, uuid, (value,)), built faster (a values topic names hadd and uuid)."""
    m = _new_object(ValuePublication)
    _set_genre(m, genre)
    _set_hadd(m, hadd)
    _set_uuid(m, uuid)
    _set_values(m, (value,))
    _set_indexed(m, False)
    return m


def _publication(obj: Mapping[str, Any], info: TopicInfo, topic: str) -> ValuePublication:
    assert info.hadd is not None and info.genre is not None and info.uuid is not None
    # Receivers tell a single value from an indexed set by a "genre" (or "uuid") key at the top level.
    if "genre" in obj or "uuid" in obj:
        return _single_publication(info.genre, info.hadd, info.uuid, values_from_wire((obj,))[0])
    if not obj:
        raise ProtocolError("an indexed value publication needs at least one index", topic)
    values = tuple(values_from_wire(obj.values()))
    return ValuePublication(info.genre, info.hadd, info.uuid, values, indexed=True)


def _text_hadd(h: Hadd | None) -> str | None:
    return None if h is None else str(h)
