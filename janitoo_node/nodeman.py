"""The node manager of one bus: builds its nodes, answers discovery, GET and SET, sends heartbeats
and polls. Messages in, messages out: the transport is a `publish` callable, time is the bus's scheduler."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from janitoo_protocol import (
    DiscoveryReply,
    DiscoveryRequest,
    Genre,
    Hadd,
    Heartbeat,
    Message,
    ValueInfo,
    ValuePublication,
    ValueReply,
    ValueRequest,
)
from janitoo_protocol.codes import COMMAND_CONFIGURATION
from janitoo_protocol.events import CORRELATION_KEY, ERROR_KEY, REQUEST_GENRES, ReplyRoute, value_publication

from .bus import Bus, Component, ComponentFactory
from .config import ConfigError, JanitooConfig
from .node import Node
from .retainedstate import RetainedState
from .scheduler import Timer
from .validation import ValueRefused, check_poll_delay, line_break_in, short
from .values import Value

log = logging.getLogger("janitoo.nodeman")

_GENRES: Mapping[int, Genre] = {int(g): g for g in Genre}

# Longest correlation id echoed in a reply (ours are 12 hex digits; uuid4 strings are 36).
MAX_CORRELATION = 64
# Longest value uuid a request may name (the catalogue's are under 40 characters).
MAX_UUID = 128

Publish = Callable[[Message], None]
# Keys of a config/system request echo (§4.3 case 1): the request's own keys plus label and help.
_ECHO_KEYS = ("cmd_class", "uuid", "data", "reply_hadd", "genre", "is_writeonly", "is_readonly", "hadd")


class NodeManager:
    """Owns the nodes of one bus (controller + components) and speaks the protocol for them."""

    def __init__(
        self,
        bus: Bus,
        component_factories: Mapping[str, ComponentFactory],
        publish: Publish,
    ) -> None:
        self.bus = bus
        self.config: JanitooConfig = bus.ctx.config
        self.publish = publish
        self.nodes: dict[Hadd, Node] = {}
        self.online = False
        self._heartbeat_timers: dict[Hadd, Timer] = {}
        self._poll_timers: dict[Value, Timer] = {}  # by value (its node's hadd and its uuid)
        # The late-join extension (retainedstate.py): set by the runtime that owns a connection for it.
        self.retained: RetainedState | None = None
        # Spread the periodic work over its period (see _phase); the simulator sets it.
        self.spread = False
        self._polling = False
        self._build(component_factories)

    # ------------------------------------------------------------------------------ building

    @property
    def controller(self) -> Node:
        assert self.bus.node is not None
        return self.bus.node

    def _node(
        self, uuid: str, section: str, oid: str, owner: Bus | Component, defaults: dict[str, Any]
    ) -> Node:
        cfg = self.config
        hadd = cfg.get_hadd(section)
        if hadd in self.nodes:
            raise ConfigError(
                cfg.path, f"hadd {hadd} is already used by {self.nodes[hadd].uuid}", section, "hadd"
            )
        node = Node(
            uuid,
            hadd,
            oid=oid,
            section=section,
            config=cfg,
            name=cfg.get(section, "name", defaults["name"]) or defaults["name"],
            location=cfg.get(section, "location", "Default location") or "Default location",
            product_name=owner.product_name,
            product_type=owner.product_type,
            product_manufacturer=owner.product_manufacturer,
            capabilities=defaults["capabilities"],
            cmd_classes=owner.cmd_classes,
            heartbeat=cfg.get_float(section, "heartbeat", 30.0),
            config_timeout=cfg.get_float(section, "config_timeout", 3.0),
            check_heartbeat=owner.check_heartbeat,
        )
        for key in ("heartbeat", "config_timeout"):
            # The bounds a SET obeys (node.py), so what the file holds is what the network may set.
            low, high = node.values[key].min, node.values[key].max
            if not low <= getattr(node, key) <= high:
                raise ConfigError(cfg.path, f"must be between {low} and {high} seconds", section, key)
        self.nodes[hadd] = node
        node.on_poll_change = self._poll_changed
        node.on_heartbeat_change = self._heartbeat_changed
        return node

    def _build(self, factories: Mapping[str, ComponentFactory]) -> None:
        bus = self.bus
        oid = bus.ctx.section
        node = self._node(oid, oid, oid, bus, {"name": f"{bus.product_name} controller",
                                              "capabilities": bus.capabilities})  # fmt: skip
        bus.node = node
        node.add_values(bus.create_values())
        for decl in self.config.components(oid):
            factory = factories.get(decl.entry)
            if factory is None:
                raise ConfigError(self.config.path, f"unknown component entry {decl.entry!r}", oid,
                                  f"components.{decl.key}")  # fmt: skip
            if not self.config.parser.has_section(decl.section):
                raise ConfigError(
                    self.config.path, f"missing section [{decl.section}] for components.{decl.key}"
                )
            component = factory(bus, decl)
            cnode = self._node(decl.section, decl.section, decl.entry, component,
                               {"name": component.default_name, "capabilities": ()})  # fmt: skip
            component.node = cnode
            cnode.add_values(component.create_values())
            bus.components[decl.key] = component
        for n in self.nodes.values():
            n.load_persisted()
            for v in n.values.values():
                if v.master is not None and v.uuid.endswith("_poll"):
                    v.setter = _set_poll_delay

    # ------------------------------------------------------------------------------ life cycle

    def start(self) -> None:
        """Start the bus and components, then go ONLINE: first heartbeats at once, polls scheduled."""
        # A plugin that cannot start must not stop the others, nor the heartbeats that say it failed.
        bus_ok = _start(self.controller, self.bus.start, f"bus {self.bus.oid}")
        for component in self.bus.components.values():
            assert component.node is not None
            if bus_ok:
                _start(component.node, component.start, f"component {component.section}")
            else:
                component.node.failure = f"its bus {self.bus.oid} failed to start"
        self.online = True
        for node in self.nodes.values():
            self._heartbeat(node, first=True)
            for value in node.values.values():
                if value.is_polled:
                    self._schedule_poll(node, value, first=True)
        if self.retained is not None:
            self.retained.start(self)

    def stop(self) -> None:
        """Cancel timers, stop components and bus, and say OFFLINE for every node."""
        self.online = False
        if self.retained is not None:
            self.retained.clear()
        for t in list(self._heartbeat_timers.values()) + list(self._poll_timers.values()):
            t.cancel()
        self._heartbeat_timers.clear()
        self._poll_timers.clear()
        for component in self.bus.components.values():
            try:
                component.stop()
            except Exception:  # noqa: BLE001 - stop the others anyway
                log.exception("component %s failed to stop", component.section)
        try:
            self.bus.stop()
        except Exception:  # noqa: BLE001
            log.exception("bus %s failed to stop", self.bus.oid)
        for node in self.nodes.values():
            self.publish(Heartbeat(node.hadd, "OFFLINE"))

    def value_published(self, hadd: Hadd) -> None:
        """A value of node `hadd` was published (by us or a component, on any thread): the retained
        state follows, at once for anything but a poll (an event a late reader must not miss)."""
        retained = self.retained
        if retained is None:  # the extension is off: nothing to look up
            return
        node = self.nodes.get(hadd)
        if node is not None:
            retained.changed(node, event=not self._polling)

    def republish_retained(self) -> None:
        """Publish the retained state again now (after a broker restart that lost it)."""
        if self.online and self.retained is not None:
            self.retained.flush()

    def announce(self) -> None:
        """Heartbeat every node now (after a broker reconnect, so the network sees us at once)."""
        if self.online:
            for node in self.nodes.values():
                self._heartbeat(node, first=True)  # spread again after, if spread: not all in step

    # ------------------------------------------------------------------------------ heartbeats

    def _phase(self, period: float, *key: object) -> float:
        """The delay between the first heartbeat or poll of a task (at start) and its second.

        A whole period, unless `spread`: then a fraction of it fixed by the task's name. Nodes started
        together would otherwise beat and poll in step for hours, every task in the same instant (a
        simulated network of thousands of nodes: one burst a period, not a steady flow), and drift apart
        only slowly, so that the same network costs more and more CPU as it runs (the soak's rise).
        """
        if not self.spread:
            return period
        return period * (zlib.crc32(repr(key).encode()) % 997 + 1) / 998

    def _heartbeat(self, node: Node, first: bool = False) -> None:
        old = self._heartbeat_timers.pop(node.hadd, None)
        if old is not None:
            old.cancel()
        if not self.online:
            return
        state = node.heartbeat_state()
        self.publish(Heartbeat(node.hadd, state))
        if self.retained is not None:
            self.retained.state_changed(node, state)
        delay = self._phase(node.heartbeat, node.hadd) if first else node.heartbeat
        self._heartbeat_timers[node.hadd] = self.bus.call_later(delay, self._heartbeat, node)

    def _heartbeat_changed(self, node: Node) -> None:
        # A new period takes effect at once (the original ignored it until queried).
        self._heartbeat(node)

    # ------------------------------------------------------------------------------ polls

    def _schedule_poll(
        self, node: Node, value: Value, first: bool = False, delay: float | None = None
    ) -> None:
        old = self._poll_timers.pop(value, None)
        if old is not None:
            old.cancel()
        if not self.online or not value.is_polled:
            return
        # The first poll runs right after start so the network gets readings at once, not after a period.
        if delay is None:
            delay = 0.0 if first else value.poll_delay
        self._poll_timers[value] = self.bus.call_later(delay, self._poll, node, value, first)

    def _poll(self, node: Node, value: Value, first: bool = False) -> None:
        if not self.online:
            return
        self._polling = True  # a periodic reading: its retained copy may be coalesced with others
        try:
            self.publish_value(value, fresh=True)
        finally:
            self._polling = False
        delay = self._phase(value.poll_delay, node.hadd, value.uuid) if first else None
        self._schedule_poll(node, value, delay=delay)

    def _poll_changed(self, value: Value) -> None:
        # 0 disables; a later non-zero re-enables (the original needed a restart for that).
        if value.node is not None:
            self._schedule_poll(value.node, value, first=False)

    def publish_value(self, value: Value, fresh: bool = False) -> None:
        """Publish a value on /values/<genre>/<hadd>/<uuid>: indexed if it has instances."""
        node = value.node
        if node is None:
            return
        # This runs for every publication: a look-up, not an enum call; the traits read once.
        genre = _GENRES.get(value.traits.genre)
        if genre is None:
            log.error("%s %s: genre %s cannot be published", node.hadd, value.uuid, value.genre)
            return
        indexes = value.indexes
        if len(indexes) == 1:  # most values: no list nor generator to build
            i = indexes[0]
            infos: tuple[ValueInfo, ...] = (value.info(i, data=value.read(i) if fresh else None),)
        else:
            infos = tuple([value.info(i, data=value.read(i) if fresh else None) for i in indexes])
        self.publish(value_publication(genre, node.hadd, value.uuid, infos, value.is_multi))

    # ------------------------------------------------------------------------------ requests

    def owns(self, hadd: Hadd) -> bool:
        return hadd in self.nodes

    def handle(self, message: Message) -> None:
        """Answer a decoded request addressed to us (broadcast or one of our hadds)."""
        if not self.online:
            return
        if isinstance(message, DiscoveryRequest) and not message.resolv:
            if message.target is not None and message.target not in self.nodes:
                return
            self._discovery(message)
        elif isinstance(message, ValueRequest):
            self._value_request(message)

    def _discovery(self, req: DiscoveryRequest) -> None:
        if req.kind not in REQUEST_GENRES:
            log.warning("unknown discovery request %r from %s: ignored", req.kind, req.reply_hadd)
            return
        if req.reply_hadd is None:
            log.warning("discovery request %s without reply_hadd: cannot answer", req.kind)
            return
        route = ReplyRoute.BROADCAST if req.target is None else ReplyRoute.NODE
        genre = REQUEST_GENRES[req.kind]
        if genre is None:
            nodes = tuple(n.info(state=n.heartbeat_state()) for n in self.nodes.values())
            reply = DiscoveryReply(req.kind, req.reply_hadd, route, nodes=nodes, extra=reply_extra(req.extra))
        else:
            values = tuple(
                info for n in self.nodes.values() for v in n.values_of(genre) for info in v.infos()
            )
            reply = DiscoveryReply(
                req.kind, req.reply_hadd, route, values=values, extra=reply_extra(req.extra)
            )
        self.publish(reply)

    def _value_request(self, req: ValueRequest) -> None:
        if len(req.uuid) > MAX_UUID or line_break_in(req.uuid) is not None:
            # Never echoed: a refusal would send the oversized or broken uuid back to any reply_hadd.
            log.warning("request for an invalid uuid %s from %s: dropped", short(req.uuid), req.reply_hadd)
            return
        node = self.nodes.get(req.hadd)
        if node is None:
            if req.target is not None and req.target in self.nodes:
                self._refuse(req, None, f"unknown node {req.hadd}")
            # A broadcast SET for another controller's node: not ours (the original raised here).
            return
        value = node.value_for(req.uuid, req.genre)
        if value is None:
            self._refuse(req, None, f"node {node.hadd} has no value {req.uuid!r}")
            return
        if req.genre != value.genre:
            self._refuse(
                req, value, f"{req.uuid} is a {_genre_word(value.genre)} value, not {_genre_word(req.genre)}"
            )
            return
        config_like = req.cmd_class == COMMAND_CONFIGURATION and req.genre in (Genre.CONFIG, Genre.SYSTEM)
        if not config_like and req.cmd_class != value.cmd_class:
            self._refuse(
                req, value, f"wrong cmd_class {req.cmd_class} for {req.uuid} (expected {value.cmd_class})"
            )
            return
        index = req.index if req.index is not None else 0
        if index not in value.indexes and not (req.is_set and index == 0):
            self._refuse(req, value, f"{req.uuid} has no index {index}")
            return
        if req.is_set:
            try:
                stored = value.write(req.data, index)
            except ValueRefused as exc:
                self._refuse(req, value, str(exc))
                return
            except Exception as exc:  # noqa: BLE001 - a failing setter is an answer, not a crash
                log.exception("%s %s: setter failed", node.hadd, req.uuid)
                self._refuse(req, value, f"setter failed: {exc}")
                return
            data = stored if req.genre == Genre.CONFIG else req.data
        elif req.is_readonly:
            data = value.read(index)
        else:
            data = req.data
        if config_like:
            # §4.3 case 1: the request echoed with label and help, only on /values/<genre>/...
            echo = self._echo(req, value, data)
            self.publish(ValuePublication(Genre(req.genre), node.hadd, req.uuid, (echo,)))
            return
        # §4.3 case 2: the full value dict with the request laid over it, on both routes.
        full = value.info(index, data=data)
        full = replace(
            full,
            data=data,
            reply_hadd=req.reply_hadd,
            is_writeonly=False,
            is_readonly=True,
            extra={**full.extra, **reply_extra(req.extra)},
        )
        if req.reply_hadd is not None:
            self.publish(ValueReply(req.reply_hadd, full))
        self.publish(ValuePublication(Genre(req.genre), node.hadd, req.uuid, (full,)))

    def _echo(self, req: ValueRequest, value: Value, data: Any, error: str | None = None) -> ValueInfo:
        keys = list(_ECHO_KEYS)
        if req.index is not None:
            keys.append("index")
        extra = reply_extra(req.extra)
        keys.extend(extra)
        keys.extend(("label", "help"))
        if error is not None:
            extra[ERROR_KEY] = error
            keys.append(ERROR_KEY)
        return ValueInfo(
            uuid=req.uuid,
            hadd=req.hadd,
            genre=req.genre,
            cmd_class=req.cmd_class,
            index=req.index or 0,
            data=data,
            label=value.label,
            help=value.help,
            is_readonly=True,
            is_writeonly=False,
            reply_hadd=req.reply_hadd,
            extra=extra,
            wire_keys=tuple(keys),
        )

    def _refuse(self, req: ValueRequest, value: Value | None, reason: str) -> None:
        """Answer a refused request with the reason (the original only logged, the client waited)."""
        log.warning(
            "%s %s from %s refused: %s", "SET" if req.is_set else "GET", req.uuid, req.reply_hadd, reason
        )
        if req.reply_hadd is None:
            return
        if value is not None:
            current = value.cached(req.index or 0)
            info = replace(value.info(req.index or 0), data=current, reply_hadd=req.reply_hadd,
                           extra={**reply_extra(req.extra), ERROR_KEY: reason})  # fmt: skip
        else:
            info = ValueInfo(uuid=req.uuid, hadd=req.hadd, genre=req.genre, cmd_class=req.cmd_class,
                             data=None, reply_hadd=req.reply_hadd, extra={**reply_extra(req.extra), ERROR_KEY: reason})  # fmt: skip
        # Refusals go to the requester only, never to /values/...: a value's topic carries values.
        self.publish(ValueReply(req.reply_hadd, info))


def _set_poll_delay(poll_value: Value, index: int, data: Any) -> None:
    """The setter of every `<uuid>_poll` companion: its master's new delay, persisted, and rescheduled by the
    master's node manager (the node's on_poll_change)."""
    master = poll_value.master
    assert master is not None and master.node is not None
    check_poll_delay(data)
    if index == 0:
        master.poll_delay = float(data)
    master.node.persist(f"{master.uuid}_poll_{index}", data)
    if master.node.on_poll_change is not None:
        master.node.on_poll_change(master)


def _start(node: Node, start: Callable[[], None], what: str) -> bool:
    """Run a bus's or component's start; a failure makes its node FAILED with a one-line reason."""
    try:
        start()
    except Exception as exc:  # noqa: BLE001 - any plugin's failure is a FAILED node, never a silent stop
        node.failure = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        log.error("%s failed to start: %s; its node %s is FAILED", what, short(node.failure), node.hadd)
        return False
    return True


def reply_extra(extra: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of a request beyond the protocol's own that a reply may carry: our correlation id only.

    The original echoed every unknown key, so any client could make a node send back (to any
    reply_hadd) whatever it was sent; a reply carries known keys only, and a short correlation id.
    """
    cid = extra.get(CORRELATION_KEY)
    if isinstance(cid, str) and 0 < len(cid) <= MAX_CORRELATION and line_break_in(cid) is None:
        return {CORRELATION_KEY: cid}
    return {}


def _genre_word(genre: int) -> str:
    try:
        return Genre(genre).topic_word
    except ValueError:
        return f"genre {genre}"
