"""`encode(message)`: a typed message to `(topic, payload bytes)`, exactly in the original's shapes."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

from .addressing import Hadd
from .codes import CommandClass, Genre, RequestKind
from .errors import ProtocolError, UsageError
from .events import (
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
from .jsonfast import encode_str, encoder
from .topics import DEFAULT_TOPICS, Topics
from .valuejson import value_writer

# Genres whose discovery data carries an index level (hadd -> uuid -> index); the others have two.
_INDEXED_GENRES = {Genre.USER, Genre.CONFIG, Genre.BASIC}
_DISCOVERY = int(CommandClass.DISCOVERY)
_SYSTEM = int(Genre.SYSTEM)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Hadd):
        return str(obj)
    if isinstance(obj, _dt.datetime | _dt.date):
        return obj.isoformat()
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    raise UsageError(f"cannot encode {type(obj).__name__} as JSON")


# json.dumps(obj, default=_json_default): the wire's separators, ASCII escapes and key order.
_json = encoder(_json_default)


def _dumps(obj: Any) -> bytes:
    return _json(obj).encode("utf-8")


# A value's wire dict as JSON text (its unchanging part written once, see valuejson).
_value = value_writer(_json)


def _nested_json(tree: dict[str, Any]) -> str:
    """JSON text of nested dicts with text keys whose leaves are JSON texts already."""
    if not tree:
        return "{}"
    return (
        "{"
        + ", ".join(
            [encode_str(k) + ": " + (v if type(v) is str else _nested_json(v)) for k, v in tree.items()]
        )
        + "}"
    )


def _h(h: Hadd | None) -> str | None:
    return None if h is None else str(h)


def discovery_data(reply: DiscoveryReply) -> dict[str, Any]:
    """The `data` dict of a discovery reply in the original's shape for its kind and route."""
    resolv = reply.route in (ReplyRoute.RESOLV, ReplyRoute.RESOLV_BROADCAST)
    shape = reply.shape
    if reply.kind == RequestKind.NODES:
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


def _values_json(reply: DiscoveryReply) -> str | None:
    """`discovery_data(reply)` as JSON text for a values reply, written in one pass with each value from
    valuejson. None when the dicts would not come out in the values' order (a node, a uuid or an index
    seen again after another one, json.dumps' way with keys that are not text): the caller then builds
    the dicts."""
    indexed = reply.shape == ReplyShape.INDEXED if reply.shape else reply.genre in _INDEXED_GENRES
    # Between two levels: what closes the innermost dict, and what opens a uuid's entry.
    close, open_ = ("}, ", ": {") if indexed else (", ", ": ")
    pieces: list[str] = []
    add = pieces.append
    nodes_done: set[str] = set()
    uuids_done: set[str] = set()
    indexes_done: set[str] = set()
    node = uuid = None
    hadd: Any = _NO_HADD
    for v in reply.values:
        vuuid = v.uuid
        if type(vuuid) is not str:
            return None
        if indexed:
            i = v.index
            if type(i) is int and 0 <= i < _SMALL:
                index, index_key = _INDEX_TEXTS[i], _INDEX_KEYS[i]
            else:
                index = str(i)
                index_key = encode_str(index) + ": "
        else:
            index = index_key = ""
        # The values of a node come one after the other, with the same Hadd object: named once.
        if v.hadd is not hadd:
            hadd = v.hadd
            name = _h(hadd) or ""
            if name != node:
                if name in nodes_done:
                    return None
                nodes_done.add(name)
                if node is not None:
                    add("}}, " if indexed else "}, ")
                add(encode_str(name) + ": {" + encode_str(vuuid) + open_)
                node, uuid = name, vuuid
                uuids_done = {vuuid}
                indexes_done = {index}
                add(index_key + _value(v))
                continue
        if vuuid != uuid:
            if vuuid in uuids_done:
                return None
            uuids_done.add(vuuid)
            add(close + encode_str(vuuid) + open_)
            uuid = vuuid
            indexes_done = {index}
        elif indexed and index not in indexes_done:
            indexes_done.add(index)
            add(", ")
        else:
            return None
        add(index_key + _value(v))
    if node is None:
        return "{}"
    add("}}}" if indexed else "}}")
    return "{" + "".join(pieces)


_NO_HADD = object()  # no value's hadd is this
# Index keys of the indexed shape, as text and as JSON, for the usual small indexes.
_SMALL = 256
_INDEX_TEXTS = tuple(str(i) for i in range(_SMALL))
_INDEX_KEYS = tuple(f'"{i}": ' for i in range(_SMALL))


def _discovery_reply(m: DiscoveryReply, topics: Topics) -> tuple[str, bytes]:
    rep_body = _discovery_envelope(m.kind, m.reply_hadd, m.extra)
    topic = _reply_topic(m, topics)
    if m.kind != RequestKind.NODES and "data" not in rep_body:
        data = _values_json(m)
        if data is not None:
            # "data" comes last (json.dumps writes keys in order): the envelope's text ends `"data": null}`.
            rep_body["data"] = None
            text = _json(rep_body)
            return topic, (text[: -len("null}")] + data + "}").encode("utf-8")
    rep_body["data"] = discovery_data(m)
    return topic, _dumps(rep_body)


def encode(message: Message, topics: Topics = DEFAULT_TOPICS) -> tuple[str, bytes]:
    """Encode a message to `(topic, payload bytes)` in the original's exact shapes."""
    m = message
    if isinstance(m, ValuePublication):  # the most frequent kind first
        topic = topics.values(m.genre, m.hadd, m.uuid)
        if m.indexed:
            return topic, _nested_json({str(v.index): _value(v) for v in m.values}).encode("utf-8")
        return topic, _value(m.values[0]).encode("utf-8")
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
        return _discovery_reply(m, topics)
    if isinstance(m, ValueReply):
        return topics.node_reply(m.reply_hadd), _value(m.value).encode("utf-8")
    if isinstance(m, LeaseMessage):
        if m.action == "reply":
            return topics.rpc_reply(m.rep_uuid or ""), _dumps(dict(m.payload))
        return topics.lease(m.action), _dumps(dict(m.payload))
    raise UsageError(f"not a Janitoo message: {type(m).__name__}")


def _discovery_envelope(kind: str, reply_hadd: Hadd | None, extra: Mapping[str, Any]) -> dict[str, Any]:
    """The keys every discovery request and reply carries (a reply is the request echoed + data)."""
    body: dict[str, Any] = {"cmd_class": _DISCOVERY, "genre": _SYSTEM, "uuid": kind}
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
