"""`jnt network`: the primary and secondaries, and every node's liveness state, now or followed live."""

from __future__ import annotations

import json
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import click

from janitoo_protocol import (
    CommandClass,
    Genre,
    Hadd,
    Heartbeat,
    HeartbeatDispatch,
    Message,
    NodeInfo,
    ResolvHeartbeat,
)
from janitoo_protocol.liveness import LivenessTracker, StateChange
from janitoo_protocol.network import NetworkMap
from janitoo_protocol.transport import Envelope, JanitooClient

from .errors import EXIT_FAILED, EXIT_TWO_PRIMARIES, CliError, protocol_errors
from .interrupt import interruptible
from .progress import waiting
from .render import Table, echo_tables, style
from .settings import COMMON_EPILOG, get_settings, leaf_options
from .spy import clock

ROLE_COLUMNS = ("role", "hadd", "name", "state", "epoch", "priority", "last_seen")
NODE_STATE_COLUMNS = ("hadd", "uuid", "name", "state", "heartbeat", "last_seen")
DISCOVERY_KINDS = ("request_info_nodes", "request_info_systems")


@dataclass
class PrimaryInfo:
    """What the last resolv heartbeat of a primary said."""

    hadd: Hadd
    state: str
    last_seen: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def epoch(self) -> Any:
        return self.extra.get("epoch")

    @property
    def priority(self) -> Any:
        return self.extra.get("priority")


@dataclass
class Change:
    """A change worth a line in --watch: a node's state, or a primary's."""

    at: float  # monotonic
    hadd: Hadd
    what: str  # "state" or "primary"
    old: str | None
    new: str
    extra: dict[str, Any] = field(default_factory=dict)


class NetState:
    """The network as seen from heartbeats, resolv heartbeats and one discovery. Time is a parameter."""

    def __init__(self) -> None:
        self.tracker = LivenessTracker()
        self.nodes: dict[Hadd, NodeInfo] = {}
        self.roles: dict[Hadd, str] = {}  # from the network_controller system value / cmd_class
        self.primaries: dict[Hadd, PrimaryInfo] = {}
        self.beats: dict[Hadd, list[float]] = {}  # when each primary's ONLINE resolv heartbeats came
        self.last_heartbeat: dict[Hadd, float] = {}
        self.last_seen: dict[Hadd, float] = {}  # its last heartbeat, or its discovery answer

    def add_discovery(self, network: NetworkMap, now: float) -> None:
        for node in network.node_list():
            assert node.hadd is not None
            self.nodes[node.hadd] = node
            self.last_seen.setdefault(node.hadd, now)  # it just answered
            # A node that answered is alive; its reported state stands until its next heartbeat.
            self.tracker.observe(node.hadd, node.state or "ONLINE", now, period=float(node.heartbeat) or None)
            if CommandClass.NETWORK_CONTROLLER in node.cmd_classes:
                self.roles.setdefault(node.hadd, "network controller")
        for hadd, genres in network.values.items():
            per_index = genres.get(Genre.SYSTEM, {}).get("network_controller")
            if per_index:
                role = str(next(iter(per_index.values())).data or "").strip().lower()
                if role in ("primary", "secondary"):
                    self.roles[hadd] = role

    def feed(self, message: Message, at: float) -> list[Change]:
        changes: list[StateChange] = []
        if isinstance(message, Heartbeat):
            node = self.nodes.get(message.hadd)
            period = float(node.heartbeat) if node is not None and node.heartbeat else None
            changes = self.tracker.observe(message.hadd, message.state, at, period)
            self.last_heartbeat[message.hadd] = at
            self.last_seen[message.hadd] = at
        elif isinstance(message, HeartbeatDispatch):
            if message.whole_controller:
                changes = self.tracker.observe_controller(message.add_ctrl, message.state, at)
            else:
                changes = self.tracker.observe(message.hadd, message.state, at)
        elif isinstance(message, ResolvHeartbeat):
            return self._primary(message, at)
        return [Change(c.at, c.hadd, "state", c.old, c.new) for c in changes]

    def _primary(self, message: ResolvHeartbeat, at: float) -> list[Change]:
        old = self.primaries.get(message.hadd)
        info = PrimaryInfo(message.hadd, message.state, at, dict(message.extra))
        self.primaries[message.hadd] = info
        if message.state == "ONLINE":
            self.beats.setdefault(message.hadd, []).append(at)
        else:
            self.beats.pop(message.hadd, None)  # its will or goodbye: no longer a primary
        if old is not None and old.state == info.state and old.epoch == info.epoch:
            return []
        what = None if old is None else f"{old.state} epoch={old.epoch}"
        return [Change(at, message.hadd, "primary", what, f"{info.state} epoch={info.epoch}",
                       {"epoch": info.epoch, "priority": info.priority})]  # fmt: skip

    def period(self, hadd: Hadd) -> float | None:
        """The slowest interval between a primary's resolv heartbeats heard (None: fewer than two)."""
        times = self.beats.get(hadd, [])
        return max((b - a for a, b in zip(times, times[1:], strict=False)), default=None)

    def listened_enough(self, started: float, now: float, listen: float) -> bool:
        """At least `listen` seconds, and one full period of the slowest primary heard (each heard
        twice, so its period is known): every live primary has beaten within the window by then."""
        if now < started + listen:
            return False
        periods = [self.period(h) for h in self.beats]
        if any(p is None for p in periods):
            return False
        return now >= started + max((p for p in periods if p is not None), default=0.0)

    def enough_at(self, started: float, listen: float) -> float:
        """When `listened_enough` will hold if nothing else arrives (infinity: a primary heard once)."""
        periods = [self.period(h) for h in self.beats]
        if any(p is None for p in periods):
            return float("inf")
        return started + max([listen, *(p for p in periods if p is not None)])

    def rival_primaries(self) -> list[PrimaryInfo]:
        """Primaries beating at once (each beat again after the other's first beat heard): more than one is
        an error. A handover (the old one stops, then the new one beats) is not."""
        live = [h for h, times in self.beats.items() if times]
        rivals = {
            a for a in live for b in live
            if a != b and self.beats[a][-1] > self.beats[b][0] and self.beats[b][-1] > self.beats[a][0]
        }  # fmt: skip
        return [self.primaries[h] for h in sorted(rivals)]

    def tick(self, now: float) -> list[Change]:
        return [Change(c.at, c.hadd, "state", c.old, c.new) for c in self.tracker.tick(now)]

    def empty(self) -> bool:
        return not self.nodes and not self.primaries and len(self.tracker) == 0

    # -- tables

    def primary(self) -> PrimaryInfo | None:
        """The primary in charge: the highest epoch (then priority) among those heard."""
        if not self.primaries:
            return None

        def rank(p: PrimaryInfo) -> tuple[float, float]:
            return (_num(p.epoch), _num(p.priority))

        return max(self.primaries.values(), key=rank)

    def role_rows(self, now: float) -> list[dict[str, Any]]:
        rows = []
        current = self.primary()
        others = sorted((p for p in self.primaries.values() if p is not current), key=lambda p: p.hadd)
        for p in ([current] if current else []) + others:
            node = self.nodes.get(p.hadd)
            rows.append({
                "role": "primary" if p is current else "primary (contender)",
                "hadd": str(p.hadd), "name": node.name if node else None, "state": p.state,
                "epoch": p.epoch, "priority": p.priority, "last_seen": _age(now, p.last_seen),
            })  # fmt: skip
        for hadd in sorted(self.roles):
            if hadd in self.primaries:
                continue
            role = self.roles[hadd]
            if role == "primary":
                role = "primary (silent)"
            node = self.nodes.get(hadd)
            rows.append({
                "role": role, "hadd": str(hadd), "name": node.name if node else None,
                "state": self.tracker.state(hadd), "epoch": None, "priority": None,
                "last_seen": _age(now, self.last_seen.get(hadd)),
            })  # fmt: skip
        return rows

    def node_rows(self, now: float) -> list[dict[str, Any]]:
        rows = []
        for hadd in sorted(set(self.nodes) | set(self.tracker.hadds())):
            node = self.nodes.get(hadd)
            rows.append({
                "hadd": str(hadd), "uuid": node.uuid if node else None, "name": node.name if node else None,
                "state": self.tracker.state(hadd), "heartbeat": node.heartbeat if node else None,
                "last_seen": _age(now, self.last_seen.get(hadd)),
            })  # fmt: skip
        return rows


def _num(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("-inf")


def _age(now: float, then: float | None) -> float | None:
    """Seconds since `then`, to a tenth (None: never)."""
    return None if then is None else round(max(0.0, now - then), 1)


def change_line(change: Change, fmt: str) -> str:
    wall = time.time() - max(0.0, time.monotonic() - change.at)
    if fmt == "json":
        return json.dumps({"time": clock(wall), "hadd": str(change.hadd), "what": change.what,
                           "old": change.old, "new": change.new, **change.extra}, default=str)  # fmt: skip
    if change.what == "primary":
        if change.old is None:
            text = f"primary {change.new} priority={change.extra.get('priority')} (new)"
        else:
            text = f"primary {change.old} -> {change.new}"
    else:
        text = f"{change.old} -> {style(change.new, bold=True)}"
    return f"{clock(wall)}  {str(change.hadd):<9}  {text}"


@click.command(epilog=COMMON_EPILOG)
@click.option("--watch", "-w", is_flag=True, help="Keep listening and print each change as it happens.")
@click.option(
    "--listen",
    type=click.FloatRange(min=0),
    default=2.0,
    show_default=True,
    metavar="SECONDS",
    help="Shortest listen after the discovery; longer while a primary heard has not shown a full period.",
)
@click.option(
    "--listen-max",
    type=click.FloatRange(min=0),
    default=35.0,
    show_default=True,
    metavar="SECONDS",
    help="Longest listen: two periods of the original's primary (15 s) and their slack.",
)
@click.option(
    "--count", "-n", type=click.IntRange(min=1), metavar="N", help="With --watch: stop after N changes."
)
@leaf_options
def network(watch: bool, listen: float, listen_max: float, count: int | None) -> None:
    """What the network looks like now: the primary and secondaries, every node's liveness state.

    Listens to heartbeats (/dhcp/heartbeat/#) and the primary's resolv heartbeat (/dhcp/resolv/heartbeat,
    with its epoch and priority), and asks every controller for its nodes. A node's state is the one it
    reported, then its heartbeats'; a silent node ages to PENDING, FAILED and DEAD. last_seen is the
    number of seconds since its last heartbeat (or its discovery answer). It listens at least one full
    period of the slowest primary it hears (the original's beats every 15 s); two primaries beating at
    once are an error (exit 6), after the tables. With --watch, each change is printed as one line until
    Ctrl+C (exit 0).

    \b
    Examples:
      jnt network
      jnt network --watch
      jnt network --format json | jq '.nodes[] | select(.state != "ONLINE")'
    """
    settings = get_settings()
    inbox: queue.Queue[Envelope] = queue.Queue()
    with protocol_errors():
        client = settings.client()
        client.connect()
    try:
        with waiting(
            f"listening to the network on {settings.broker} (up to {settings.timeout + max(listen, listen_max):g} s)"
        ):
            state = _listen(client, inbox, settings.timeout, listen, max(listen, listen_max))
        now = time.monotonic()
        state.tick(now)
        if state.empty():
            where = f"{settings.broker}" + (f" under prefix {settings.prefix!r}" if settings.prefix else "")
            raise CliError(f"no node answered and no heartbeat was heard on {where}", EXIT_FAILED)
        print_state(state, now, settings.format, listen)
        rivals = state.rival_primaries()
        if len(rivals) > 1:
            who = ", ".join(
                f"{p.hadd} ({'no epoch: an original primary' if p.epoch is None else f'epoch {p.epoch}'})"
                for p in rivals
            )
            raise CliError(f"two primaries beating at once: {who}; see docs/failover.md", EXIT_TWO_PRIMARIES)
        if watch:
            with interruptible() as stop:
                follow(state, inbox, settings.format, count, stop)
    finally:
        client.close()


def _listen(
    client: JanitooClient, inbox: queue.Queue[Envelope], timeout: float, listen: float, listen_max: float
) -> NetState:
    """Discovery, then heartbeats for `listen` seconds and one full period of the slowest primary heard
    (never more than `listen_max`)."""
    with protocol_errors():
        client.subscribe(client.topics.heartbeat_all(), inbox.put)
        client.subscribe(client.topics.resolv_heartbeat(), inbox.put)
        discovered = client.discover(DISCOVERY_KINDS, timeout=timeout)
    state = NetState()
    state.add_discovery(discovered, time.monotonic())
    # Messages are taken in arrival order and the wait stops as soon as it listened enough, so whatever
    # follows is reported as a change by --watch. (A primary heard once is waited for again: with the
    # original's 15 s beside ours at 1 s, stopping at the first beat showed one primary of two.)
    started = time.monotonic()
    deadline = started + listen_max
    while True:
        now = time.monotonic()
        if state.listened_enough(started, now, listen) or now >= deadline:
            return state
        try:
            env = inbox.get(timeout=max(0.0, min(deadline, state.enough_at(started, listen)) - now))
        except queue.Empty:
            continue
        message = env.message
        if message is None:
            continue
        state.feed(message, env.received_at)


def print_state(state: NetState, now: float, fmt: str, listen: float) -> None:
    current = state.primary()
    if fmt == "json":
        from .render import to_json

        primary = None
        if current is not None:
            primary = {"hadd": str(current.hadd), "state": current.state, "epoch": current.epoch,
                       "priority": current.priority, "last_seen": _age(now, current.last_seen)}  # fmt: skip
        click.echo(to_json({"primary": primary, "controllers": state.role_rows(now),
                            "nodes": state.node_rows(now)}))  # fmt: skip
        return
    title = "controllers"
    if current is None:
        title += f" (no primary heard on the resolv heartbeat within {listen:g} s)"
    tables = [
        Table(ROLE_COLUMNS, state.role_rows(now), title),
        Table(NODE_STATE_COLUMNS, state.node_rows(now), "nodes"),
    ]
    echo_tables(tables, fmt, keyed=True)


def follow(
    state: NetState,
    inbox: queue.Queue[Envelope],
    fmt: str,
    count: int | None,
    stop: threading.Event | None = None,
) -> None:
    """Print every change until Ctrl+C (or `count` changes)."""
    if fmt != "json":
        click.echo("")
    shown = 0
    while stop is None or not stop.is_set():
        deadline = state.tracker.next_deadline()
        wait = 1.0 if deadline is None else min(1.0, max(0.0, deadline - time.monotonic()))
        changes: list[Change] = []
        try:
            env = inbox.get(timeout=wait)
        except queue.Empty:
            pass
        else:
            message = env.message
            if message is not None:
                changes.extend(state.feed(message, env.received_at))
        changes.extend(state.tick(time.monotonic()))
        for change in changes:
            click.echo(change_line(change, "json" if fmt == "json" else "table"))
            shown += 1
            if count is not None and shown >= count:
                return
