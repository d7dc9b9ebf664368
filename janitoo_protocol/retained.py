"""Retained state (an extension the original ignores), sans-IO: its topics, payloads, and a late joiner's
reading of them into a NetworkMap.

Theory of operation. A node process publishes, retained, off the original's topics (which stay QoS 0 and
not retained, JNT-WIRE-04):

- `<prefix>/retained/status/CCCC`: `{"state": "ONLINE", "controllers": [C, ...]}` for the controllers of
  one MQTT connection, the connection's last will being the same with `"OFFLINE"`: a crash is recorded
  by the broker itself;
- `<prefix>/retained/nodes/CCCC/NNNN`: `{"node": <node dict with state>, "values": [<value dict>, ...],
  "status": C}`, one per node, republished (coalesced) when its values or state change; `status` names
  the status topic that covers it, so a hostile status topic can only speak for nodes that point to it.

A clean stop clears both (empty retained payloads); a node removed from a config is cleared at the next
start of its process (it reads back its controllers' retained nodes). A late client subscribes to
`<prefix>/retained/#`, then publishes a nonce on its own `<prefix>/retained/sync/<token>`: the broker
delivers the retained messages before that marker, so the marker says "that was all" without a timer.
Every payload is hostile: sizes, shapes, and the hadd of the topic against the hadd of the node dict.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .addressing import Hadd
from .errors import ProtocolError
from .model import NodeInfo, ValueInfo
from .network import NetworkMap

# Largest retained payload read (a node with a few hundred values is well under it).
MAX_RETAINED_PAYLOAD = 256 * 1024
# Most values one node's retained state may hold, and most controllers one status may cover.
MAX_RETAINED_VALUES = 2048
MAX_STATUS_CONTROLLERS = 10000
# Longest sync token (a client id) accepted in a topic.
MAX_TOKEN = 128
ONLINE = "ONLINE"
OFFLINE = "OFFLINE"
_STATES = frozenset({"ONLINE", "OFFLINE", "FAILED", "BOOT", "SYSTEM", "CONFIG", "INIT"})


class RetainedTopics:
    """The topics of the retained-state extension, under an optional prefix (as `Topics`)."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix.rstrip("/")
        self.root = f"{self.prefix}/retained/"

    def node(self, hadd: Hadd) -> str:
        return f"{self.root}nodes/{hadd}"

    def status(self, controller: int) -> str:
        return f"{self.root}status/{controller:04d}"

    def sync(self, token: str) -> str:
        return f"{self.root}sync/{token}"

    def everything(self) -> str:
        """What a late joiner subscribes to (`<prefix>/retained/#`)."""
        return f"{self.root}#"

    def controller_nodes(self, controller: int) -> str:
        """The retained nodes of one controller (`.../retained/nodes/CCCC/+`), as a filter."""
        return f"{self.root}nodes/{controller:04d}/+"


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), default=str).encode("utf-8")


def node_payload(node: NodeInfo, values: list[ValueInfo] | tuple[ValueInfo, ...], status: int) -> bytes:
    """The retained payload of one node: its node dict (with its state), its value dicts, its status."""
    return _dumps({"node": node.to_wire(), "values": [v.to_wire() for v in values], "status": status})


def status_payload(state: str, controllers: list[int] | tuple[int, ...]) -> bytes:
    """The retained status of one connection's controllers (ONLINE, or OFFLINE as its last will)."""
    return _dumps({"state": state, "controllers": sorted(controllers)})


@dataclass(frozen=True, slots=True)
class RetainedNode:
    """One node's retained state, validated."""

    node: NodeInfo
    values: tuple[ValueInfo, ...]
    status: int


@dataclass(frozen=True, slots=True)
class RetainedStatus:
    """One connection's retained status, validated."""

    controller: int
    state: str
    controllers: frozenset[int]


@dataclass(frozen=True, slots=True)
class Cleared:
    """An empty retained payload: the topic's state was cleared (or never existed)."""

    hadd: Hadd | None = None
    controller: int | None = None


@dataclass(frozen=True, slots=True)
class SyncMarker:
    """A client's end-of-retained marker."""

    token: str
    nonce: str


Retained = RetainedNode | RetainedStatus | Cleared | SyncMarker


def _controller(word: str, topic: str) -> int:
    if len(word) != 4 or not word.isdigit():
        raise ProtocolError("a controller is 4 digits", topic)
    return int(word)


def parse_retained(topics: RetainedTopics, topic: str, payload: bytes) -> Retained:
    """Validate one message of `<prefix>/retained/#`; raises ProtocolError for anything not well formed."""
    if not topic.startswith(topics.root):
        raise ProtocolError("not a retained-state topic", topic)
    if len(payload) > MAX_RETAINED_PAYLOAD:
        raise ProtocolError(f"retained payload of {len(payload)} bytes (limit {MAX_RETAINED_PAYLOAD})", topic)
    parts = topic[len(topics.root) :].split("/")
    kind = parts[0]
    if kind == "sync" and len(parts) == 2 and 0 < len(parts[1]) <= MAX_TOKEN:
        return SyncMarker(parts[1], payload[:MAX_TOKEN].decode("utf-8", "replace"))
    if kind == "nodes" and len(parts) == 3:
        try:
            hadd = Hadd.parse(f"{parts[1]}/{parts[2]}")
        except (ProtocolError, ValueError):
            raise ProtocolError("not a node address", topic) from None
        if not payload:
            return Cleared(hadd=hadd)
        return _node(hadd, _object(payload, topic), topic)
    if kind == "status" and len(parts) == 2:
        ctrl = _controller(parts[1], topic)
        if not payload:
            return Cleared(controller=ctrl)
        return _status(ctrl, _object(payload, topic), topic)
    raise ProtocolError("not a retained-state topic", topic)


def _object(payload: bytes, topic: str) -> Mapping[str, Any]:
    try:
        obj = json.loads(payload)
    except (ValueError, RecursionError):
        raise ProtocolError("retained payload is not JSON", topic) from None
    if not isinstance(obj, dict):
        raise ProtocolError("retained payload is not a JSON object", topic)
    return obj


def _node(hadd: Hadd, obj: Mapping[str, Any], topic: str) -> RetainedNode:
    raw_node, raw_values, status = obj.get("node"), obj.get("values"), obj.get("status")
    if not isinstance(raw_node, dict):
        raise ProtocolError("retained node: 'node' must be an object", topic)
    if not isinstance(raw_values, list) or len(raw_values) > MAX_RETAINED_VALUES:
        raise ProtocolError(f"retained node: 'values' must be a list of at most {MAX_RETAINED_VALUES}", topic)
    if type(status) is not int or not 0 <= status <= 9999:
        raise ProtocolError("retained node: 'status' must be a controller number", topic)
    try:
        node = NodeInfo.from_wire(raw_node)
        values = tuple(ValueInfo.from_wire(v) for v in raw_values)
    except (ProtocolError, ValueError, TypeError) as exc:
        raise ProtocolError(f"retained node: {getattr(exc, 'reason', exc)}", topic) from None
    # The address is the topic's: a payload speaking for another node is a lie, not a mistake.
    if node.hadd != hadd:
        raise ProtocolError(f"retained node: its hadd {node.hadd} is not the topic's {hadd}", topic)
    for v in values:
        if v.hadd != hadd:
            raise ProtocolError(f"retained node: value {v.uuid[:40]!r} has hadd {v.hadd}, not {hadd}", topic)
    if node.state is not None and node.state not in _STATES:
        raise ProtocolError(f"retained node: unknown state {node.state[:20]!r}", topic)
    return RetainedNode(node, values, status)


def _status(ctrl: int, obj: Mapping[str, Any], topic: str) -> RetainedStatus:
    state, ctrls = obj.get("state"), obj.get("controllers")
    if state not in (ONLINE, OFFLINE):
        raise ProtocolError("retained status: 'state' must be ONLINE or OFFLINE", topic)
    if not isinstance(ctrls, list) or len(ctrls) > MAX_STATUS_CONTROLLERS:
        raise ProtocolError("retained status: 'controllers' must be a list", topic)
    if not all(type(c) is int and 0 <= c <= 9999 for c in ctrls) or ctrl not in ctrls:
        raise ProtocolError("retained status: 'controllers' must be controller numbers, its own among them",
                            topic)  # fmt: skip
    return RetainedStatus(ctrl, str(state), frozenset(ctrls))


@dataclass
class RetainedReader:
    """A late joiner's reading of the retained state: feed it every message of `<prefix>/retained/#` until
    `feed` says the sync marker `(token, nonce)` arrived; then `network_map()` is what the broker knew."""

    topics: RetainedTopics
    token: str
    nonce: str
    nodes: dict[Hadd, RetainedNode] = field(default_factory=dict)
    statuses: dict[int, RetainedStatus] = field(default_factory=dict)
    rejected: int = 0
    synced: bool = False

    def feed(self, topic: str, payload: bytes) -> bool:
        """Take one message; True once our sync marker has come (everything retained came before it)."""
        try:
            item = parse_retained(self.topics, topic, payload)
        except ProtocolError:
            self.rejected += 1
            return self.synced
        if isinstance(item, SyncMarker):
            if item.token == self.token and item.nonce == self.nonce:
                self.synced = True
        elif isinstance(item, RetainedNode):
            self.nodes[item.node.hadd] = item  # type: ignore[index]
        elif isinstance(item, RetainedStatus):
            self.statuses[item.controller] = item
        elif item.hadd is not None:
            self.nodes.pop(item.hadd, None)
        elif item.controller is not None:
            self.statuses.pop(item.controller, None)
        return self.synced

    def state_of(self, rn: RetainedNode) -> str | None:
        """The node's state: OFFLINE when its status (the last will) says so, else its own."""
        status = self.statuses.get(rn.status)
        assert rn.node.hadd is not None
        if status is not None and rn.node.hadd.controller in status.controllers and status.state == OFFLINE:
            return OFFLINE
        return rn.node.state

    def network_map(self) -> NetworkMap:
        """Every retained node and value, each node with its state."""
        out = NetworkMap()
        for hadd, rn in self.nodes.items():
            state = self.state_of(rn)
            out.nodes[hadd] = rn.node if state == rn.node.state else replace(rn.node, state=state)
            for v in rn.values:
                out.merge_value(v)
        return out

    def controllers(self) -> set[int]:
        """The controllers the retained state speaks for."""
        return {h.controller for h in self.nodes}
