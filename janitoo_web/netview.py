"""The web manager's picture of the network: nodes, liveness, primaries, value histories and recent traffic.

Sans-IO: fed with (message, now, wall) and answering with the events the pages need, as small JSON-ready
dicts. Everything from the wire is hostile, so every collection has a ceiling and every text shown is cut
to a bounded length here, before it reaches a template or a WebSocket.
"""

from __future__ import annotations

import json
import math
from array import array
from collections import deque
from dataclasses import dataclass, replace
from typing import Any

from .wire import (
    FAILED,
    OFFLINE,
    STATES,
    UNKNOWN,
    DiscoveryReply,
    DiscoveryRequest,
    Genre,
    Hadd,
    Heartbeat,
    HeartbeatDispatch,
    LeaseMessage,
    LivenessTracker,
    Message,
    NetworkMap,
    NodeInfo,
    ResolvHeartbeat,
    StateChange,
    ValueInfo,
    ValuePublication,
    ValueReply,
    ValueRequest,
    ValueType,
)

MAX_NODES = 5000  # hadds beyond this are ignored (any LAN client can invent hadds)
MAX_VALUES_PER_NODE = 400
MAX_UUID = 100
MAX_TEXT = 200  # characters of any wire text kept for display
HISTORY = 60  # points of a numeric user value's chart
TRAFFIC = 300  # recent messages kept for a traffic page that opens
NUMERIC_TYPES = frozenset({ValueType.DECIMAL, ValueType.INT, ValueType.BYTE, ValueType.SHORT})
# States a node comes back from: hearing it again means it restarted, so its values are asked again.
_GONE = frozenset({OFFLINE, FAILED, "DEAD", UNKNOWN})

Event = dict[str, Any]


def cut(text: Any, limit: int = MAX_TEXT) -> str:
    """A wire text, made text and cut to `limit` characters (an ellipsis says it was cut)."""
    s = text if isinstance(text, str) else str(text)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def shown(data: Any, limit: int = MAX_TEXT) -> Any:
    """A value's data as the pages show it: numbers and booleans as they are, anything else as short text."""
    if data is None or isinstance(data, bool | int):
        return data
    if isinstance(data, float):
        return data if math.isfinite(data) else str(data)
    if isinstance(data, str):
        return cut(data, limit)
    try:
        text = json.dumps(data, default=str)
    except (TypeError, ValueError, RecursionError):
        text = repr(type(data))
    return cut(text, limit)


def state_word(state: str | None) -> str:
    """One of the protocol's liveness states (a made-up word from the wire shows as UNKNOWN)."""
    return state if state in STATES else UNKNOWN


def value_key(genre: int, uuid: str, index: int) -> str:
    return f"{genre}:{uuid}:{index}"


def is_numeric(value: ValueInfo) -> bool:
    return (
        value.type in NUMERIC_TYPES
        and isinstance(value.data, int | float)
        and not isinstance(value.data, bool)
    )


class History:
    """The last HISTORY (wall time, number) points of one value, in a preallocated ring: never grows."""

    __slots__ = ("_t", "_v", "_next", "_len")

    def __init__(self) -> None:
        self._t = array("d", bytes(8 * HISTORY))
        self._v = array("d", bytes(8 * HISTORY))
        self._next = 0
        self._len = 0

    def add(self, wall: float, value: float) -> None:
        self._t[self._next] = wall
        self._v[self._next] = value
        self._next = (self._next + 1) % HISTORY
        self._len = min(self._len + 1, HISTORY)

    def points(self) -> list[list[float]]:
        start = (self._next - self._len) % HISTORY
        return [
            [round(self._t[(start + i) % HISTORY], 3), self._v[(start + i) % HISTORY]]
            for i in range(self._len)
        ]

    def __len__(self) -> int:
        return self._len


@dataclass
class PrimaryInfo:
    """What the last resolv heartbeat of a primary said."""

    hadd: Hadd
    state: str
    epoch: Any
    priority: Any
    last_seen: float


def _rank(p: PrimaryInfo) -> tuple[float, float]:
    def num(v: Any) -> float:
        try:
            f = float(v)
        except (TypeError, ValueError, OverflowError):
            return float("-inf")
        return f if math.isfinite(f) else float("-inf")

    return num(p.epoch), num(p.priority)


class NetView:
    """Nodes (a NetworkMap), their liveness (a LivenessTracker), primaries, histories and traffic."""

    def __init__(self, max_nodes: int = MAX_NODES) -> None:
        self.map = NetworkMap()
        self.tracker = LivenessTracker()
        self.max_nodes = max_nodes
        self.last_heartbeat: dict[Hadd, float] = {}
        self.primaries: dict[Hadd, PrimaryInfo] = {}
        self.roles: dict[Hadd, str] = {}
        self.histories: dict[tuple[Hadd, str, int], History] = {}
        # When each value was last published live (monotonic): a discovery that began before keeps out.
        self._live_at: dict[tuple[Hadd, str, int], float] = {}
        self.traffic: deque[Event] = deque(maxlen=TRAFFIC)
        self.ignored = 0  # messages about hadds or values beyond the ceilings
        # Controllers to ask for their nodes and values (new, or back after a silence); the host drains it.
        self.wanted: set[Hadd] = set()
        self._value_counts: dict[Hadd, int] = {}

    # ------------------------------------------------------------------------------------------ queries

    def hadds(self) -> list[Hadd]:
        return sorted(set(self.map.nodes) | set(self.tracker.hadds()))

    def knows(self, hadd: Hadd) -> bool:
        return hadd in self.map.nodes or hadd in self.tracker

    def state(self, hadd: Hadd) -> str:
        return state_word(self.tracker.state(hadd))

    def node_row(self, hadd: Hadd, now: float) -> Event:
        node = self.map.nodes.get(hadd)
        seen = self.tracker.last_seen(hadd)  # its last heartbeat, or the discovery it answered
        return {
            "hadd": str(hadd),
            "controller": hadd.is_controller,
            "name": cut(node.name) if node else "",
            "location": cut(node.location) if node else "",
            "product": cut(node.product_name) if node else "",
            "state": self.state(hadd),
            "age": None if seen is None else round(max(0.0, now - seen), 1),
            "role": self.roles.get(hadd, ""),
        }

    def node_rows(self, now: float) -> list[Event]:
        return [self.node_row(h, now) for h in self.hadds()]

    def primary(self) -> PrimaryInfo | None:
        """The primary in charge: the highest epoch (then priority) heard."""
        return max(self.primaries.values(), key=_rank) if self.primaries else None

    def role_rows(self, now: float) -> list[Event]:
        """The primary (and contenders) from resolv heartbeats, then the secondaries from their system value."""
        rows: list[Event] = []
        current = self.primary()
        others = sorted((p for p in self.primaries.values() if p is not current), key=lambda p: p.hadd)
        for p in ([current] if current else []) + others:
            rows.append({
                "role": "primary" if p is current else "primary (contender)", "hadd": str(p.hadd),
                "state": state_word(p.state), "epoch": shown(p.epoch, 40), "priority": shown(p.priority, 40),
                "age": round(max(0.0, now - p.last_seen), 1),
            })  # fmt: skip
        for hadd in sorted(self.roles):
            if hadd in self.primaries:
                continue
            seen = self.last_heartbeat.get(hadd)
            rows.append({
                "role": self.roles[hadd], "hadd": str(hadd), "state": self.state(hadd), "epoch": None,
                "priority": None, "age": None if seen is None else round(max(0.0, now - seen), 1),
            })  # fmt: skip
        return rows

    def values_of(self, hadd: Hadd) -> dict[Genre, list[ValueInfo]]:
        """A node's values by genre, sorted by uuid then index."""
        out: dict[Genre, list[ValueInfo]] = {}
        for genre, uuids in sorted(self.map.values.get(hadd, {}).items()):
            out[genre] = [uuids[u][i] for u in sorted(uuids) for i in sorted(uuids[u])]
        return out

    def history(self, hadd: Hadd, uuid: str, index: int) -> list[list[float]]:
        h = self.histories.get((hadd, uuid, index))
        return h.points() if h is not None else []

    # ------------------------------------------------------------------------------------------ inputs

    def _admit(self, hadd: Hadd) -> bool:
        """Is there room for `hadd`? Every known hadd is in the tracker, so its size is the count."""
        return self.knows(hadd) or len(self.tracker) < self.max_nodes

    def add_discovery(
        self, network: NetworkMap, now: float, wall: float, live_since: float | None = None
    ) -> list[Event]:
        """Merge what a discovery found; every node that answered is alive.

        A value heard live since `live_since` (when the connection came up: from then on every publication
        is heard) keeps its data. A discovery brings nothing newer: a reply carries the node's cached data,
        a retained copy follows the live publication by up to a tenth of a second, so a discovery begun
        just after a publication can still read the data before it (the node page of a booting appliance
        went back from "sleeping" to "booting"). Values heard before a reconnect may have missed changes:
        the discovery's data wins over them."""
        events: list[Event] = []
        for node in network.node_list():
            events.extend(self._add_node(node, now))
        for genres in network.values.values():
            for genre, uuids in genres.items():
                for by_index in uuids.values():
                    for value in by_index.values():
                        self._merge_value(value, genre, wall, described=True, stale_before=live_since)
        for hadd in list(network.values):
            self._learn_role(hadd)
        return events

    def _add_node(self, node: NodeInfo, now: float) -> list[Event]:
        hadd = node.hadd
        if hadd is None or not self._admit(hadd):
            self.ignored += 1
            return []
        known = self.knows(hadd)
        self.map.nodes[hadd] = node
        period = float(node.heartbeat) if node.heartbeat and node.heartbeat > 0 else None
        if hadd not in self.tracker or self.tracker.state(hadd) == UNKNOWN:
            self.tracker.observe(hadd, node.state or "ONLINE", now, period)
        elif period:
            self.tracker.set_period(hadd, period)
        return [{"t": "node", "new": not known, "row": self.node_row(hadd, now)}]

    def _merge_value(
        self, value: ValueInfo, genre: Genre | int, wall: float, described: bool = False,
        live_at: float | None = None, stale_before: float | None = None,
    ) -> bool:  # fmt: skip
        hadd = value.hadd
        if hadd is None or len(value.uuid) > MAX_UUID:
            self.ignored += 1
            return False
        if not self.knows(hadd):
            # Values of a node not discovered yet: its controller is asked, and answers with all of them.
            if len(self.tracker) < self.max_nodes:
                self.wanted.add(hadd.controller_hadd)
            return False
        old = self.map.get_value(hadd, value.uuid, value.index, genre)
        if old is None:
            if self._value_counts.get(hadd, 0) >= MAX_VALUES_PER_NODE:
                self.ignored += 1
                return False
            self._value_counts[hadd] = self._value_counts.get(hadd, 0) + 1
        elif (
            stale_before is not None
            and self._live_at.get((hadd, value.uuid, value.index), stale_before) > stale_before
        ):
            value = replace(value, data=old.data)  # heard live on this connection: not older
        elif not described:
            # Replies and publications flip is_readonly/is_writeonly to say which way they travel (the
            # original's echo): whether a value can be written is what discovery said.
            value = replace(value, is_readonly=old.is_readonly, is_writeonly=old.is_writeonly)
        if not self.map.merge_value(value, genre):
            return False
        if live_at is not None:
            self._live_at[(hadd, value.uuid, value.index)] = live_at
        if int(genre) == Genre.USER:
            merged = self.map.get_value(hadd, value.uuid, value.index, genre)
            if merged is not None and is_numeric(merged):
                key = (hadd, value.uuid, value.index)
                hist = self.histories.get(key)
                if hist is None:
                    hist = self.histories[key] = History()
                hist.add(wall, float(merged.data))
        return True

    def _learn_role(self, hadd: Hadd) -> None:
        per_index = self.map.values.get(hadd, {}).get(Genre.SYSTEM, {}).get("network_controller")
        if per_index:
            role = str(next(iter(per_index.values())).data or "").strip().lower()
            if role in ("primary", "secondary"):
                self.roles[hadd] = role

    def _changes(self, changes: list[StateChange], now: float) -> list[Event]:
        return [{"t": "state", "row": self.node_row(c.hadd, now)} for c in changes]

    def feed(self, message: Message | None, topic: str, now: float, wall: float,
             error: str | None = None) -> list[Event]:  # fmt: skip
        """One message from the wire (None with `error` when it did not decode)."""
        events: list[Event] = [{"t": "traffic", "line": self._describe(message, topic, wall, error)}]
        self.traffic.append(events[0]["line"])
        if isinstance(message, Heartbeat):
            events.extend(self._heartbeat(message.hadd, message.state, now))
        elif isinstance(message, HeartbeatDispatch):
            if message.whole_controller:
                events.extend(
                    self._changes(self.tracker.observe_controller(message.add_ctrl, message.state, now), now)
                )
            elif self.knows(message.hadd):
                events.extend(self._changes(self.tracker.observe(message.hadd, message.state, now), now))
        elif isinstance(message, ResolvHeartbeat):
            events.extend(self._primary(message, now))
        elif isinstance(message, ValuePublication):
            events.extend(self._publication(message, now, wall))
        elif isinstance(message, DiscoveryReply):
            # Another client's discovery answered on the broadcast route: what it says is news to us too.
            for node in message.nodes:
                events.extend(self._add_node(node, now))
            for value in message.values:
                self._merge_value(
                    value, message.genre if message.genre is not None else value.genre, wall, described=True
                )
        return events

    def _heartbeat(self, hadd: Hadd, state: str, now: float) -> list[Event]:
        known = self.knows(hadd)
        if not known and not self._admit(hadd):
            self.ignored += 1
            return []
        before = self.tracker.state(hadd) if hadd in self.tracker else UNKNOWN
        node = self.map.nodes.get(hadd)
        period = float(node.heartbeat) if node is not None and node.heartbeat and node.heartbeat > 0 else None
        changes = self.tracker.observe(hadd, state, now, period)
        self.last_heartbeat[hadd] = now
        if (hadd not in self.map.nodes or before in _GONE) and state_word(state) not in _GONE:
            self.wanted.add(hadd.controller_hadd)
        if not known:
            return [{"t": "node", "new": True, "row": self.node_row(hadd, now)}]
        if changes:
            return self._changes(changes, now)
        return [{"t": "seen", "hadd": str(hadd), "age": 0.0}]

    def _primary(self, message: ResolvHeartbeat, now: float) -> list[Event]:
        old = self.primaries.get(message.hadd)
        if old is None and len(self.primaries) >= 64:
            self.ignored += 1
            return []
        info = PrimaryInfo(
            message.hadd, message.state, message.extra.get("epoch"), message.extra.get("priority"), now
        )
        self.primaries[message.hadd] = info
        if old is not None and (old.state, old.epoch, old.priority) == (
            info.state,
            info.epoch,
            info.priority,
        ):
            return []
        return [{"t": "roles", "rows": self.role_rows(now)}]

    def _publication(self, pub: ValuePublication, now: float, wall: float) -> list[Event]:
        events: list[Event] = []
        for value in pub.values:
            v = value if value.hadd is not None else replace(value, hadd=pub.hadd)
            if v.hadd != pub.hadd or not self._merge_value(v, pub.genre, wall, live_at=now):
                continue
            merged = self.map.get_value(pub.hadd, v.uuid, v.index, pub.genre)
            if merged is None:
                continue
            events.append({
                "t": "value", "hadd": str(pub.hadd), "key": value_key(int(pub.genre), v.uuid, v.index),
                "data": shown(merged.data), "at": round(wall, 3),
                "numeric": int(pub.genre) == Genre.USER and is_numeric(merged),
            })  # fmt: skip
            events.extend(self._node_texts(pub.hadd, pub.genre, merged, now))
        return events

    def _node_texts(self, hadd: Hadd, genre: Genre, value: ValueInfo, now: float) -> list[Event]:
        """A node's name, location and heartbeat period are config/system values: keep the row current."""
        node = self.map.nodes.get(hadd)
        if node is None or value.index != 0:
            return []
        if genre == Genre.CONFIG and value.uuid in ("name", "location") and isinstance(value.data, str):
            if getattr(node, value.uuid) != value.data:
                changed = (
                    replace(node, name=value.data)
                    if value.uuid == "name"
                    else replace(node, location=value.data)
                )
                self.map.nodes[hadd] = changed
                return [{"t": "node", "new": False, "row": self.node_row(hadd, now)}]
        elif genre == Genre.SYSTEM and value.uuid == "heartbeat" and is_numeric(value) and value.data > 0:
            self.tracker.set_period(hadd, float(value.data))
        elif genre == Genre.SYSTEM and value.uuid == "network_controller":
            self._learn_role(hadd)
        return []

    def tick(self, now: float) -> list[Event]:
        """Age silent nodes to PENDING, FAILED, DEAD."""
        return self._changes(self.tracker.tick(now), now)

    # ------------------------------------------------------------------------------------------ traffic

    def _describe(self, m: Message | None, topic: str, wall: float, error: str | None) -> Event:
        kind, hadd, text = _describe(m, error)
        return {
            "at": round(wall, 3),
            "kind": kind,
            "hadd": hadd,
            "topic": cut(topic, 120),
            "text": cut(text, 240),
        }


def _h(h: Hadd | None) -> str:
    return "-" if h is None else str(h)


def _genre_word(code: Any) -> str:
    try:
        return Genre(code).topic_word
    except (ValueError, TypeError):
        return f"genre {cut(code, 12)}"


def _describe(m: Message | None, error: str | None) -> tuple[str, str, str]:
    """(kind, hadd, one line) for the traffic page, as `jnt spy` would say it."""
    if m is None:
        return "other", "-", f"undecodable: {error or 'unknown reason'}"
    if isinstance(m, Heartbeat):
        return "heartbeat", str(m.hadd), m.state
    if isinstance(m, HeartbeatDispatch):
        where = f"{m.add_ctrl:04d}/*" if m.whole_controller else str(m.hadd)
        return "heartbeat", where, f"dispatched {m.state}"
    if isinstance(m, ResolvHeartbeat):
        return "resolv", str(m.hadd), f"primary {m.state} epoch={shown(m.extra.get('epoch'), 40)}"
    if isinstance(m, DiscoveryRequest):
        return "request", _h(m.target) if m.target else "*", f"{m.kind} from {_h(m.reply_hadd)}"
    if isinstance(m, ValueRequest):
        verb = "SET" if m.is_set else "GET"
        data = f" = {shown(m.data, 80)}" if m.is_set else ""
        return (
            "request",
            str(m.hadd),
            f"{verb} {_genre_word(m.genre)} {m.uuid}[{m.index or 0}]{data} from {_h(m.reply_hadd)}",
        )
    if isinstance(m, DiscoveryReply):
        return "reply", _h(m.topic_hadd), f"{m.kind}: {len(m.nodes)} nodes, {len(m.values)} values"
    if isinstance(m, ValueReply):
        v = m.value
        err = f" refused: {shown(m.error, 80)}" if m.error else ""
        return "reply", _h(v.hadd), f"{_genre_word(v.genre)} {v.uuid}[{v.index}] = {shown(v.data, 80)}{err}"
    if isinstance(m, ValuePublication):
        v = m.value
        units = f" {shown(v.units, 20)}" if v.units else ""
        more = f" (+{len(m.values) - 1} indexes)" if len(m.values) > 1 else ""
        return "value", str(m.hadd), f"{_genre_word(m.genre)} {m.uuid} = {shown(v.data, 80)}{units}{more}"
    if isinstance(m, LeaseMessage):
        return "resolv", "-", f"lease {cut(m.action, 40)}"
    return "other", "-", type(m).__name__
