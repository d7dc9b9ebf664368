"""The bridge's state machine, sans-IO: network map and liveness in, retained discovery and availability out.

Theory of operation. The runtime feeds the bridge what happens, each with the time: a discovery result
(`discovered`), a Janitoo message (`message`), HA's status (`ha_status`), a (re)connection to the broker
(`connected`), a command HA published (`command`) and the outcome of a SET (`set_done`); and it calls
`tick(now)` at `next_wake()`. Each returns the actions to carry out, in order:

    Publish(topic, payload, retain)   an MQTT publication (discovery configs, availability, refusals)
    Refresh(targets)                  GET these values so their nodes publish them again (HA's states)
    Discover(hadd)                    ask this controller for its nodes and values
    SetValue(entity, data)            send the Janitoo SET, wait for the ack, then call set_done

Retained configs are the bridge's memory in the broker; `connected` republishes everything, because a
broker restarted without persistence has forgotten them, and HA's birth (`online` on its status topic)
does the same for an HA that restarted. Janitoo publications are not retained, so after announcing
entities the bridge waits `refresh_delay` seconds (HA subscribes to new entities' topics a moment after
their config) and then asks the nodes for their values: their answers on `/values/...` are HA's states.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from . import naming
from .mapping import CommandError, Entity, Layout, Target, bridge_entities, command_data, node_entities
from .wire import (
    DEAD,
    FAILED,
    OFFLINE,
    STATES,
    Genre,
    Hadd,
    Heartbeat,
    HeartbeatDispatch,
    LivenessTracker,
    Message,
    NetworkMap,
    NodeInfo,
    StateChange,
    ValuePublication,
)

log = logging.getLogger("janitoo.ha")

UNAVAILABLE = frozenset({OFFLINE, FAILED, DEAD})


@dataclass(frozen=True)
class Publish:
    topic: str
    payload: str
    retain: bool = True


@dataclass(frozen=True)
class Refresh:
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class Discover:
    hadd: Hadd


@dataclass(frozen=True)
class SetValue:
    entity: Entity
    data: Any


Action = Publish | Refresh | Discover | SetValue


@dataclass
class Options:
    """What a bridge is allowed and asked to do."""

    refresh_delay: float = 2.0  # seconds between announcing entities and asking for their values
    forget_after: float = 7 * 86400.0  # a node unavailable this long leaves HA (0: never)
    heartbeat_count: int = 3
    max_nodes: int = 1024
    max_entities_per_node: int = 256
    rediscover_every: float = 30.0  # at most one discovery per unknown controller in this time


@dataclass
class _Node:
    info: NodeInfo
    configs: dict[str, str] = field(default_factory=dict)  # config topic -> payload last published
    unavailable_since: float | None = None


class Bridge:
    """Home Assistant's view of one Janitoo network."""

    def __init__(self, layout: Layout, options: Options | None = None) -> None:
        self.layout = layout
        self.options = options or Options()
        self.map = NetworkMap()
        self.liveness = LivenessTracker(heartbeat_count=self.options.heartbeat_count)
        self.nodes: dict[Hadd, _Node] = {}
        self.entities: dict[tuple[str, str], Entity] = {}  # (node_id, object_id) -> entity
        self._refresh_at: float | None = None
        self._refresh_first = 0.0
        self._refresh_hadds: set[Hadd] = set()
        self._asked: dict[int, float] = {}  # controller -> when a discovery was last asked for
        self._bridge_entities = bridge_entities(layout)

    # ------------------------------------------------------------------------------ inputs

    def connected(self, now: float) -> list[Action]:
        """Connected (again) to the broker: say the bridge is online and publish everything again."""
        out: list[Action] = [Publish(self.layout.bridge_availability, "online")]
        out += self._bridge_configs()
        for hadd in sorted(self.nodes):
            out += self._node_actions(hadd, force=True)
        self._schedule_refresh(self.nodes, now)
        return out

    def ha_status(self, payload: bytes, now: float) -> list[Action]:
        """HA's birth (or last will) on `<discovery_prefix>/status`."""
        if payload.strip().lower() != b"online":
            return []
        log.info("Home Assistant is online: publishing %d devices again", len(self.nodes))
        return self.connected(now)

    def discovered(self, network: NetworkMap, now: float) -> list[Action]:
        """Nodes and values from a discovery: merged, their entities announced, then their values asked for."""
        self.map.update(network)
        touched = set(network.nodes) | set(network.values)
        out: list[Action] = []
        for hadd in sorted(touched):
            node = network.nodes.get(hadd) or self.map.nodes.get(hadd)
            if node is None:
                continue
            if hadd not in self.nodes:
                if len(self.nodes) >= self.options.max_nodes:
                    log.warning("more than %d nodes: %s not bridged", self.options.max_nodes, hadd)
                    continue
                self.nodes[hadd] = _Node(node)
            else:
                self.nodes[hadd].info = node
            # Answering a discovery proves the node alive; BOOT or CONFIG as it says, else ONLINE.
            state = node.state if node.state in ("BOOT", "CONFIG") else "ONLINE"
            out += self._changes(self.liveness.observe(hadd, state, now, period=_period(node)), now)
            out += self._node_actions(hadd)
        self._schedule_refresh(touched & set(self.nodes), now)
        return out

    def message(self, message: Message, now: float) -> list[Action]:
        """A message of the network: heartbeats move availability, publications may add values."""
        if isinstance(message, HeartbeatDispatch) and message.whole_controller:
            # A controller's last will: every node of it at once.
            return self._changes(self.liveness.observe_controller(message.add_ctrl, message.state, now), now)
        if isinstance(message, Heartbeat | HeartbeatDispatch):
            if message.hadd not in self.nodes:
                # Never tracked before it is known: random hadds must not grow the tracker.
                return self._unknown(message.hadd, message.state, now)
            return self._changes(self.liveness.observe(message.hadd, message.state, now), now)
        if isinstance(message, ValuePublication):
            return self._publication(message, now)
        return []

    def command(self, topic: str, payload: bytes, now: float) -> list[Action]:
        """HA published on a command topic: a SET, or a refusal reported without asking the node."""
        parts = topic.split("/")
        if len(parts) < 3 or parts[-1] != "set":
            return []
        entity = self.entities.get((parts[-3], parts[-2]))
        if entity is None or entity.target is None or topic != self.layout.command_topic(*entity.key):
            log.warning("command on %.100s: no such entity", topic)
            return []
        try:
            data = command_data(entity, payload)
        except CommandError as exc:
            return self.set_done(entity, None, str(exc), now)
        return [SetValue(entity, data)]

    def set_done(self, entity: Entity, data: Any, error: str | None, now: float) -> list[Action]:
        """The outcome of a SET: a refusal (or no acknowledgement) is logged and published with its reason."""
        if error is None:
            return []
        target = entity.target
        where = f"{target.hadd} {target.uuid}" if target else entity.object_id
        what = "command" if data is None else f"command {naming.text(repr(data), 64)}"
        log.warning("%s for %s refused: %s", what, where, error)
        report: dict[str, Any] = {
            "error": naming.text(error, 255),
            "entity": entity.config.get("unique_id"),
            "data": data if isinstance(data, bool | int | float) else naming.text(data, 64) if data else None,
            "at": round(now, 3),
        }
        if target is not None:
            report["hadd"] = str(target.hadd)
            report["uuid"] = naming.text(target.uuid, 128)
            report["genre"] = target.genre.topic_word
        return [Publish(self.layout.refusal_topic, json.dumps(report, ensure_ascii=False))]

    def tick(self, now: float) -> list[Action]:
        out = self._changes(self.liveness.tick(now), now)
        out += self._forget(now)
        if self._refresh_at is not None and now >= self._refresh_at:
            self._refresh_at = None
            hadds, self._refresh_hadds = self._refresh_hadds, set()
            targets = tuple(
                e.target
                for e in self.entities.values()
                if e.target is not None
                and e.platform != "button"
                and e.target.hadd in hadds
                and self._available(e.target.hadd)
            )
            if targets:
                out.append(Refresh(targets))
        return out

    def next_wake(self) -> float | None:
        wakes = [
            w for w in (self.liveness.next_deadline(), self._refresh_at, self._next_forget()) if w is not None
        ]
        return min(wakes) if wakes else None

    def shutdown(self) -> list[Action]:
        """A clean stop: the bridge's entities go unavailable (nodes keep their own availability)."""
        return [Publish(self.layout.bridge_availability, "offline")]

    # ------------------------------------------------------------------------------ internals

    def _available(self, hadd: Hadd) -> bool:
        return self.liveness.state(hadd) not in UNAVAILABLE

    def _bridge_configs(self) -> list[Action]:
        out: list[Action] = []
        for e in self._bridge_entities:
            out.append(Publish(self.layout.config_topic(e.platform, *e.key), e.payload()))
        return out

    def _node_actions(self, hadd: Hadd, force: bool = False) -> list[Action]:
        """This node's configs (new, changed, or every one when `force`), its availability and state."""
        node = self.nodes[hadd]
        values = [(g, v) for g, uuids in self.map.values.get(hadd, {}).items()
                  for by_index in uuids.values() for v in by_index.values()]  # fmt: skip
        entities = node_entities(
            node.info, hadd, values, self.layout, STATES, self.options.max_entities_per_node
        )
        configs = {self.layout.config_topic(e.platform, *e.key): e.payload() for e in entities}
        out: list[Action] = []
        nid = self.layout.node_id(hadd)
        state = self.liveness.state(hadd)
        out.append(
            Publish(self.layout.availability_topic(nid), "offline" if state in UNAVAILABLE else "online")
        )
        out.append(Publish(self.layout.state_topic(nid), state if state in STATES else "UNKNOWN"))
        for topic in sorted(set(node.configs) - set(configs)):
            out.append(Publish(topic, ""))  # an entity that is gone: its config removed
        for topic, payload in configs.items():
            if force or node.configs.get(topic) != payload:
                out.append(Publish(topic, payload))
        for key in [k for k in self.entities if k[0] == nid]:
            del self.entities[key]
        for e in entities:
            self.entities[e.key] = e
        node.configs = configs
        return out

    def _schedule_refresh(self, hadds: Iterable[Hadd], now: float) -> None:
        """Ask for these nodes' values `refresh_delay` after the last announcement (debounced)."""
        self._refresh_hadds.update(hadds)
        if not self._refresh_hadds:
            return
        if self._refresh_at is None:
            self._refresh_first = now
        # Postponed while announcements keep coming (HA subscribes to the newest entities last), but
        # never more than ten delays after the first: a stream of new nodes cannot starve the refresh.
        limit = self._refresh_first + 10 * self.options.refresh_delay
        self._refresh_at = max(now, min(now + self.options.refresh_delay, limit))

    def _changes(self, changes: list[StateChange], now: float) -> list[Action]:
        out: list[Action] = []
        for change in changes:
            if change.hadd not in self.nodes:
                continue
            nid = self.layout.node_id(change.hadd)
            node = self.nodes[change.hadd]
            was, is_ = change.old in UNAVAILABLE, change.new in UNAVAILABLE
            # HA's liveness sensor is an enum of the protocol's words: another word reads UNKNOWN.
            out.append(
                Publish(self.layout.state_topic(nid), change.new if change.new in STATES else "UNKNOWN")
            )
            if was != is_ or change.old == "UNKNOWN":
                out.append(Publish(self.layout.availability_topic(nid), "offline" if is_ else "online"))
            if is_ and node.unavailable_since is None:
                node.unavailable_since = now
            if not is_:
                node.unavailable_since = None
                if was:
                    # Back: its values may have changed while HA could not see them.
                    self._schedule_refresh([change.hadd], now)
            log.info("node %s is %s", change.hadd, change.new)
        return out

    def _unknown(self, hadd: Hadd, state: str, now: float) -> list[Action]:
        """A heartbeat from a node not yet bridged: ask its controller, at most once per period."""
        if hadd in self.nodes or state.upper() in UNAVAILABLE or len(self.nodes) >= self.options.max_nodes:
            return []
        last = self._asked.get(hadd.controller)
        if last is not None and now - last < self.options.rediscover_every:
            return []
        if len(self._asked) > 4 * self.options.max_nodes:
            self._asked.clear()
        self._asked[hadd.controller] = now
        return [Discover(hadd.controller_hadd)]

    def _publication(self, pub: ValuePublication, now: float) -> list[Action]:
        if pub.hadd not in self.nodes:
            return []
        out: list[Action] = []
        new = False
        for value in pub.values:
            known = self.map.get_value(pub.hadd, value.uuid, value.index, pub.genre)
            if pub.genre == Genre.SYSTEM and value.uuid == "heartbeat":
                period = _float(value.data)
                if period:
                    self.liveness.set_period(pub.hadd, period)
            # A full value dict (not an echo) of a value not seen yet: a new entity, up to the node's limit.
            if (
                known is None
                and value.wire_keys is not None
                and {"genre", "type"} <= set(value.wire_keys)
                and self._value_count(pub.hadd) < self.options.max_entities_per_node
            ):
                self.map.merge_value(
                    value if value.hadd is not None else replace(value, hadd=pub.hadd), pub.genre
                )
                new = True
        if new:
            out += self._node_actions(pub.hadd)
        return out

    def _value_count(self, hadd: Hadd) -> int:
        return sum(
            len(by_index) for uuids in self.map.values.get(hadd, {}).values() for by_index in uuids.values()
        )

    def _next_forget(self) -> float | None:
        if not self.options.forget_after:
            return None
        times = [n.unavailable_since for n in self.nodes.values() if n.unavailable_since is not None]
        return min(times) + self.options.forget_after if times else None

    def _forget(self, now: float) -> list[Action]:
        if not self.options.forget_after:
            return []
        out: list[Action] = []
        for hadd in sorted(self.nodes):
            node = self.nodes[hadd]
            if node.unavailable_since is None or now < node.unavailable_since + self.options.forget_after:
                continue
            log.info(
                "node %s unavailable for %g s: removed from Home Assistant", hadd, self.options.forget_after
            )
            nid = self.layout.node_id(hadd)
            out += [Publish(topic, "") for topic in sorted(node.configs)]
            out += [
                Publish(self.layout.availability_topic(nid), ""),
                Publish(self.layout.state_topic(nid), ""),
            ]
            for key in [k for k in self.entities if k[0] == nid]:
                del self.entities[key]
            del self.nodes[hadd]
            self.map.nodes.pop(hadd, None)
            self.map.values.pop(hadd, None)
            self.liveness.forget(hadd)
        return out


def _period(node: NodeInfo) -> float | None:
    p = _float(node.heartbeat)
    return p if p and p >= 1 else None


def _float(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float | str):
        return None
    try:
        f = float(x)
    except ValueError:
        return None
    return f if 0 < f < 1e7 else None
