"""Retained state (an extension the original ignores), sans-IO: its topics, payloads, and a late joiner's
reading of them into a NetworkMap.

Theory of operation. A node process publishes, retained, off the original's topics (which stay QoS 0 and
not retained, JNT-WIRE-04):

- `<prefix>/retained/status/CCCC`: `{"state": "ONLINE", "controllers": [C, ...]}` for the controllers of
  one MQTT connection, the connection's last will being the same with `"OFFLINE"`: a crash is recorded
  by the broker itself;
- `<prefix>/retained/controllers/CCCC`: `{"nodes": [<node dict with state>, ...], "values": [<value
  dict>, ...], "status": S}`, one per controller (a bus), republished (coalesced) when a value or a state
  changes; `status` names the status topic that covers it, so a hostile status topic can only speak for
  controllers that point to it. One message per controller, not per node: a broker drops QoS 0 messages
  beyond a backlog per client (mosquitto's max_queued_messages, 1,000), and a late joiner gets every
  retained message at once.

A clean stop clears both (empty retained payloads); a node removed from a config is gone from its
controller's next publication, at the next start; a controller removed from a config is cleared at the
next start of its process (it reads back its own status topics, which list the controllers of the last run). A late client subscribes to
`<prefix>/retained/#`, then publishes a nonce on its own `<prefix>/retained/sync/<token>`: the broker
delivers the retained messages before that marker, so the marker says "that was all" without a timer.
Every payload is hostile: sizes, shapes, and the hadd of the topic against the hadd of the node dict.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from . import jsonfast
from .addressing import Hadd
from .errors import ProtocolError
from .model import NodeInfo, ValueInfo
from .network import NetworkMap

# Largest retained payload (EMQX's default packet limit: 100 nodes of 10 values take about 400 kB).
MAX_RETAINED_PAYLOAD = 1024 * 1024
# Most nodes and values one controller's retained state may hold, and most controllers one status covers.
MAX_RETAINED_NODES = 10000
MAX_RETAINED_VALUES = 50000
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

    def controller(self, controller: int) -> str:
        return f"{self.root}controllers/{controller:04d}"

    def status(self, controller: int) -> str:
        return f"{self.root}status/{controller:04d}"

    def sync(self, token: str) -> str:
        return f"{self.root}sync/{token}"

    def everything(self) -> str:
        """What a late joiner subscribes to (`<prefix>/retained/#`)."""
        return f"{self.root}#"


def _text(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), default=str)


def _dumps(obj: Any) -> bytes:
    return _text(obj).encode("utf-8")


def controller_payload(
    nodes: list[NodeInfo] | tuple[NodeInfo, ...], values: list[ValueInfo] | tuple[ValueInfo, ...], status: int
) -> bytes:
    """The retained payload of one controller: its node dicts (with states), its value dicts, its status."""
    return _joined([_text(n.to_wire()) for n in nodes], [_text(v.to_wire()) for v in values], status)


@dataclass(frozen=True, slots=True)
class NodePart:
    """One node's share of a controller payload, as JSON text: its node dict, and its value dicts joined."""

    node: str
    values: str  # "" when it has none

    @property
    def size(self) -> int:
        return len(self.node) + len(self.values)


def node_part(node: NodeInfo, values: list[ValueInfo] | tuple[ValueInfo, ...]) -> NodePart:
    """A node's part, written once and kept by a bus until the node changes (RetainedState)."""
    return NodePart(_text(node.to_wire()), ",".join([_text(v.to_wire()) for v in values]))


def payload_of_parts(parts: list[NodePart], status: int) -> bytes:
    """`controller_payload` of the parts' nodes and values, byte for byte, from their kept text."""
    return _joined([p.node for p in parts], [p.values for p in parts if p.values], status)


def _joined(nodes: list[str], values: list[str], status: int) -> bytes:
    # What _dumps writes for {"nodes": [...], "values": [...], "status": S}, from texts it wrote.
    return f'{{"nodes":[{",".join(nodes)}],"values":[{",".join(values)}],"status":{_text(status)}}}'.encode()


def status_payload(state: str, controllers: list[int] | tuple[int, ...]) -> bytes:
    """The retained status of one connection's controllers (ONLINE, or OFFLINE as its last will)."""
    return _dumps({"state": state, "controllers": sorted(controllers)})


@dataclass(frozen=True, slots=True)
class RetainedController:
    """One controller's retained state, validated."""

    controller: int
    nodes: tuple[NodeInfo, ...]
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
    """An empty retained payload: a controller's (`status` False) or a status topic's state was cleared."""

    controller: int
    status: bool = False


@dataclass(frozen=True, slots=True)
class SyncMarker:
    """A client's end-of-retained marker."""

    token: str
    nonce: str


Retained = RetainedController | RetainedStatus | Cleared | SyncMarker


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
    if kind == "controllers" and len(parts) == 2:
        ctrl = _controller(parts[1], topic)
        if not payload:
            return Cleared(ctrl)
        return _nodes(ctrl, _object(payload, topic), topic)
    if kind == "status" and len(parts) == 2:
        ctrl = _controller(parts[1], topic)
        if not payload:
            return Cleared(ctrl, status=True)
        return _status(ctrl, _object(payload, topic), topic)
    raise ProtocolError("not a retained-state topic", topic)


def _object(payload: bytes, topic: str) -> Mapping[str, Any]:
    try:
        obj = jsonfast.loads(payload)  # msgspec where installed: a late join reads a whole network
    except (ValueError, RecursionError):
        raise ProtocolError("retained payload is not JSON", topic) from None
    if not isinstance(obj, dict):
        raise ProtocolError("retained payload is not a JSON object", topic)
    return obj


def _nodes(ctrl: int, obj: Mapping[str, Any], topic: str) -> RetainedController:
    raw_nodes, raw_values, status = obj.get("nodes"), obj.get("values"), obj.get("status")
    if not isinstance(raw_nodes, list) or not 0 < len(raw_nodes) <= MAX_RETAINED_NODES:
        raise ProtocolError(
            f"retained controller: 'nodes' must be a list of 1 to {MAX_RETAINED_NODES}", topic
        )
    if not isinstance(raw_values, list) or len(raw_values) > MAX_RETAINED_VALUES:
        raise ProtocolError(f"retained controller: 'values' must be a list of at most {MAX_RETAINED_VALUES}",
                            topic)  # fmt: skip
    if type(status) is not int or not 0 <= status <= 9999:
        raise ProtocolError("retained controller: 'status' must be a controller number", topic)
    try:
        nodes = tuple(NodeInfo.from_wire(n) for n in raw_nodes)
        values = tuple(ValueInfo.from_wire(v) for v in raw_values)
    except (ProtocolError, ValueError, TypeError) as exc:
        raise ProtocolError(f"retained controller: {getattr(exc, 'reason', exc)}", topic) from None
    # The addresses are the topic's: a payload speaking for another controller is a lie, not a mistake.
    hadds: set[Hadd] = set()
    for n in nodes:
        if n.hadd is None or n.hadd.controller != ctrl:
            raise ProtocolError(
                f"retained controller: node hadd {n.hadd} is not of controller {ctrl:04d}", topic
            )
        if n.state is not None and n.state not in _STATES:
            raise ProtocolError(f"retained controller: unknown state {n.state[:20]!r}", topic)
        hadds.add(n.hadd)
    for v in values:
        if v.hadd not in hadds:
            raise ProtocolError(f"retained controller: value {v.uuid[:40]!r} has hadd {v.hadd}, not one of its "
                                "nodes", topic)  # fmt: skip
    return RetainedController(ctrl, nodes, values, status)


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
    controllers: dict[int, RetainedController] = field(default_factory=dict)
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
        elif isinstance(item, RetainedController):
            self.controllers[item.controller] = item
        elif isinstance(item, RetainedStatus):
            self.statuses[item.controller] = item
        elif item.status:
            self.statuses.pop(item.controller, None)
        else:
            self.controllers.pop(item.controller, None)
        return self.synced

    def offline(self, rc: RetainedController) -> bool:
        """Does the status that covers this controller (its last will) say OFFLINE?"""
        status = self.statuses.get(rc.status)
        return status is not None and status.state == OFFLINE and rc.controller in status.controllers

    def network_map(self) -> NetworkMap:
        """Every retained node and value, each node with its state (OFFLINE when its will says so)."""
        out = NetworkMap()
        for rc in self.controllers.values():
            offline = self.offline(rc)
            for node in rc.nodes:
                assert node.hadd is not None
                out.nodes[node.hadd] = replace(node, state=OFFLINE) if offline else node
            for v in rc.values:
                out.merge_value(v)
        return out
