"""Network controllers, sans-IO: the primary's and the secondaries' duties, carrying out the election's decisions.

When a controller changes role is decided by the table in `election.py` (with its theory of operation);
this module carries the decisions out and does each role's duties:

* LISTENING: a configured primary builds its map by broadcast meanwhile (all six requests at once,
  `DiscoveryCollector`), so it serves at once when it promotes.
* SECONDARY: replicates the primary's map by resolv (all six requests at once, `ResolvSync`) and keeps it
  hot from heartbeats, value publications and the primary's forwarded updates on
  `/dhcp/resolv/broadcast/`: a takeover needs no rebuild. Announces itself every `resolv_heartbeat` with
  its `network_controller` system value (the candidates of an election are the ones heard recently).
* PRIMARY: publishes the resolv heartbeat every `resolv_heartbeat` seconds with extension keys `epoch`,
  `priority` and `role` (the original ignores them), dispatches liveness changes on `/dhcp/heartbeat/`,
  serves resolv requests for every genre, discovers controllers that appear later from their
  heartbeats, and forwards what they answer to secondaries on `/dhcp/resolv/broadcast/`.

A controller that was frozen (SIGSTOP, swapped out) or cut from the broker did not hear anything
meanwhile. It does not blame others for its own deafness: on thawing or reconnecting it gives every
node and peer a fresh window, restarts its watchdog, and a primary holds its heartbeat for one period
to hear whether it was replaced.

Liveness. Every controller runs a `LivenessTracker` from node heartbeats and from the whole-controller
JSON heartbeats (`add_node = -1`: a node process's will). Only the primary publishes what it finds
(PENDING, FAILED, DEAD) on `/dhcp/heartbeat/`. Per-node JSON heartbeats are some primary's dispatches:
nobody feeds them back into a tracker (the original's loopback refreshed `last_seen` of silent nodes).

Everything here is fed with decoded messages and `now` (seconds, any monotonic origin) and returns
`Actions`: the messages to publish and when to be called again. No I/O, no threads, no clock.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from transitions import Machine

from .addressing import Hadd
from .codes import NETWORK_REQUESTS, CommandClass, Genre, Role, ValueType
from .discovery import DiscoveryCollector
from .election import (
    ELECTING,
    LISTENING,
    PRIMARY,
    ROLES,
    SECONDARY,
    STOPPED,
    TRANSITIONS,
    Act,
    Event,
    Facts,
    Rule,
    decide,
    election_turn,
    rank,
)
from .errors import RoleConfigError
from .events import (
    CORRELATION_KEY,
    REQUEST_GENRES,
    DiscoveryReply,
    DiscoveryRequest,
    Heartbeat,
    HeartbeatDispatch,
    Message,
    ReplyRoute,
    ResolvHeartbeat,
    ValuePublication,
)
from .liveness import BOOT, CONFIG, OFFLINE, ONLINE, LivenessTracker, StateChange
from .model import NodeInfo, ValueInfo
from .network import RESOLV_CHUNK, NetworkMap, ResolvSync

log = logging.getLogger("janitoo.roles")

# What the original's primary can answer over resolv (§4.5 of the spec: it crashes on the other four).
ORIGINAL_RESOLV = ("request_info_nodes", "request_info_systems")

__all__ = [
    "ELECTING", "LISTENING", "PRIMARY", "ROLES", "SECONDARY", "STOPPED", "TRANSITIONS",
    "Actions", "NetworkController", "Peer", "RoleChange", "RoleConfig", "RoleConfigError", "rank",
]  # fmt: skip

# The system value every network controller publishes to announce itself (the original's value
# catalogue: genre 4, type list, cmd_class 0x1051, data "primary" or "secondary").
NETWORK_CONTROLLER_UUID = "network_controller"
NETWORK_CONTROLLER_ITEMS = ["primary", "secondary"]

# How many role changes and dispatches a controller remembers (for tests and tools).
HISTORY = 1000
# How many intervals between a primary's resolv heartbeats size the watchdog (the slowest of them).
BEAT_INTERVALS = 4

# The resolv heartbeat and announcement extension keys.
EPOCH_KEY = "epoch"
PRIORITY_KEY = "priority"
ROLE_KEY = "role"


@dataclass(frozen=True)
class RoleConfig:
    """The `[network]` settings of a network controller (seconds for every duration)."""

    is_primary: bool = False
    is_secondary: bool = False
    priority: int = 0
    resolv_heartbeat: float = 1.0
    resolv_timeout: float = 5.0
    take_back: bool = False
    do_heartbeat_dispatch: bool = True
    heartbeat_count: int = 3
    heartbeat_dead: float = 604800.0
    # How long the k-th ranked candidate waits for a new primary, per better-ranked live candidate.
    election_step: float | None = None  # default 2 * resolv_heartbeat
    # After a primary's will, before promoting: a broker that shuts down publishes every client's will
    # and then drops us; losing our own connection within this grace means "broker restart", not "crash".
    will_grace: float = 0.2
    listen_timeout: float | None = None  # default resolv_timeout (primary), 2 * resolv_timeout (secondary)
    sync_timeout: float | None = None  # resolv sync from an original primary; default resolv_timeout
    discovery_timeout: float = 5.0
    discovery_quiet: float = 0.3
    discovery_idle: float = 1.0
    request_retry: float = 5.0  # before asking a still-unknown controller again
    # The period assumed for a primary whose heartbeats carry no epoch (the original's janitoo_dhcp sends
    # one every resolv_timeout: 15 s in its shipped config) until two of its heartbeats were heard.
    original_period: float = 15.0
    chunk_size: int = RESOLV_CHUNK

    def __post_init__(self) -> None:
        if self.is_primary and self.is_secondary:
            raise RoleConfigError("is_primary and is_secondary cannot both be true: pick one")
        if not (self.is_primary or self.is_secondary):
            raise RoleConfigError("a network controller needs is_primary or is_secondary")
        if self.resolv_heartbeat <= 0:
            raise RoleConfigError("resolv_heartbeat must be a positive number of seconds")
        if self.resolv_timeout < 2 * self.resolv_heartbeat:
            raise RoleConfigError(
                f"resolv_timeout ({self.resolv_timeout:g} s) must be at least twice resolv_heartbeat "
                f"({self.resolv_heartbeat:g} s), or a slow primary would be replaced"
            )
        if self.heartbeat_count < 1:
            raise RoleConfigError("heartbeat_count must be at least 1")
        if self.will_grace < 0:
            raise RoleConfigError("will_grace cannot be negative")
        if self.original_period <= 0:
            raise RoleConfigError("original_period must be a positive number of seconds")
        for name in ("election_step", "listen_timeout", "sync_timeout"):
            v = getattr(self, name)
            if v is not None and v < 0:
                raise RoleConfigError(f"{name} cannot be negative")
        if self.chunk_size < 1:
            raise RoleConfigError("chunk_size must be at least 1")

    @property
    def step(self) -> float:
        """The election step in seconds (default twice `resolv_heartbeat`)."""
        return 2 * self.resolv_heartbeat if self.election_step is None else self.election_step

    @property
    def listen(self) -> float:
        """How long to listen for a running primary at start, in seconds."""
        if self.listen_timeout is not None:
            return self.listen_timeout
        return self.resolv_timeout if self.is_primary else 2 * self.resolv_timeout


@dataclass(frozen=True, slots=True)
class Actions:
    """What the host must do: publish these messages, and call `tick` again at `wake_at`."""

    publish: tuple[Message, ...] = ()
    wake_at: float | None = None


@dataclass(frozen=True, slots=True)
class RoleChange:
    """One entry of a controller's role history (also logged)."""

    at: float
    old: Role
    new: Role
    epoch: int
    primary: Hadd | None


@dataclass(slots=True)
class Peer:
    """Another network controller as last heard."""

    hadd: Hadd
    role: str  # PRIMARY, or the announced role (listening, secondary, electing)
    epoch: int
    priority: int
    last_seen: float
    follows: str | None = None  # the primary its announcement names

    @property
    def rank(self) -> tuple[int, Hadd]:
        return rank(self.priority, self.hadd)


def _int_extra(extra: Mapping[str, Any], key: str, default: int = 0) -> int:
    v = extra.get(key, default)
    if isinstance(v, bool):
        return default
    if isinstance(v, int):
        return v
    try:
        return int(str(v))
    except (TypeError, ValueError):
        return default


class _RoleModel:
    """The `transitions` model: it only holds the state; the controller does the work."""

    state: Role
    trigger: Callable[..., bool]


class NetworkController:
    """One network controller, sans-IO: feed it messages and time, publish what it returns.

    Inputs: `start(now)`, `receive(message, now)`, `tick(now)`, `connection_changed(up, now)`,
    `stop(now)`; each returns `Actions`. State for tests and tools: `role`, `epoch`, `primary`,
    `secondaries`, `map`, `tracker`, `history`, `status()`.
    """

    def __init__(self, hadd: Hadd | str, config: RoleConfig, node_uuid: str | None = None) -> None:
        self.hadd = Hadd.parse(hadd)
        self.config = config
        self.node_uuid = node_uuid
        self.map = NetworkMap()
        self.tracker = LivenessTracker(config.heartbeat_count, config.heartbeat_dead)
        self.epoch = 0  # the epoch of the primary we follow, or ours when primary (0: none yet)
        self.max_epoch = 0  # the highest epoch ever heard
        self.primary: Hadd | None = None
        self.peers: dict[Hadd, Peer] = {}
        self.history: deque[RoleChange] = deque(maxlen=HISTORY)
        self.connected = False
        self.built = False  # a broadcast build of ours completed
        self.synced = False  # a resolv sync from a primary completed (or timed out)
        self.dispatched: deque[HeartbeatDispatch] = deque(maxlen=HISTORY)  # the latest dispatches
        self._collector: DiscoveryCollector | None = None
        self._sync: ResolvSync | None = None
        self._pending_resolv: list[tuple[DiscoveryRequest, float]] = []  # with when it arrived
        self._asked: dict[int, float] = {}  # controller -> when we last asked it directly
        self._asking: dict[int, float] = {}  # controller -> when asked, until its nodes answer came
        self._have: set[str] = set()  # the request kinds our map holds completely (built or replicated)
        # Resolv heartbeats heard per primary: (when the last one came, the latest intervals), to size
        # the watchdog from the period observed rather than from our own configuration.
        self._beats: dict[Hadd, tuple[float | None, deque[float]]] = {}
        self._original: set[Hadd] = set()  # primaries heard without an epoch (the original's)
        self._cids = 0
        self._out: list[Message] = []
        self._now = 0.0
        self._last_seen_time: float | None = None
        self._listen_until: float | None = None
        self._quiet_at: float | None = (
            None  # a configured primary: when to look whether all peers are starting
        )
        self._watchdog: float | None = None
        self._next_beat: float | None = None  # primary: next resolv heartbeat
        self._next_announce: float | None = None  # others: next network_controller announcement
        self._hold_until: float | None = None  # primary after a freeze: listen before beating again
        self._lost: tuple[Hadd | None, int, bool] = (None, 0, False)  # primary, epoch, by will
        self._lost_at = 0.0
        self._election_due: float | None = None
        self._model = _RoleModel()
        self._machine = Machine(
            model=self._model,
            states=list(ROLES),
            transitions=TRANSITIONS,
            initial=STOPPED,
            auto_transitions=False,
            after_state_change=self._changed,
        )
        self._from = STOPPED

    # ------------------------------------------------------------------------------ state

    @property
    def role(self) -> Role:
        """The current role."""
        return self._model.state

    @property
    def is_primary(self) -> bool:
        """Primary right now."""
        return self.role == PRIMARY

    @property
    def rank(self) -> tuple[int, Hadd]:
        """Our place in an election (lower wins): higher priority first, then the lowest hadd."""
        return rank(self.config.priority, self.hadd)

    @property
    def secondaries(self) -> list[Hadd]:
        """Network controllers heard recently that are not primary (their announcements)."""
        return sorted(p.hadd for p in self._live_peers(self._now) if p.role != PRIMARY)

    def status(self) -> dict[str, Any]:
        """Role, epoch, primary, secondaries and map size as plain JSON-ready data (for tools)."""
        return {
            "hadd": str(self.hadd),
            "role": self.role,
            "epoch": self.epoch,
            "priority": self.config.priority,
            "primary": None if self.primary is None else str(self.primary),
            "secondaries": [str(h) for h in self.secondaries],
            "nodes": len(self.map),
            "values": self.map.value_count(),
            "synced": self.synced,
            "built": self.built,
        }

    def will(self) -> ResolvHeartbeat:
        """The last will for our connection: "this network controller is gone" (it cannot know the
        epoch it will have then; receivers do not need it for OFFLINE)."""
        return ResolvHeartbeat(
            self.hadd.controller,
            self.hadd.node,
            OFFLINE,
            {ROLE_KEY: "offline", EPOCH_KEY: 0, PRIORITY_KEY: self.config.priority},
        )

    # ------------------------------------------------------------------------------ inputs

    def start(self, now: float) -> Actions:
        """Begin: listen for a running primary (a configured primary also starts building its map)."""
        self._now = now
        self._last_seen_time = now
        self.connected = True
        self._fire("begin", now)
        self._listen_until = now + self.config.listen
        if self.config.is_primary:
            quiet = now + 2 * self.config.resolv_heartbeat
            self._quiet_at = quiet if quiet < self._listen_until else None
            self._build(now)
        self._announce(now)
        return self._run(now)

    def stop(self, now: float) -> Actions:
        """Say goodbye (a clean close sends no will, so secondaries must hear it from us)."""
        if self.role == STOPPED:
            return Actions()
        self._now = now
        self._out.append(
            ResolvHeartbeat(
                self.hadd.controller,
                self.hadd.node,
                OFFLINE,
                {ROLE_KEY: "stopped", EPOCH_KEY: self.epoch, PRIORITY_KEY: self.config.priority},
            )
        )
        self._fire("halt", now)
        out = tuple(self._out)
        self._out = []
        return Actions(out, None)

    def connection_changed(self, up: bool, now: float) -> Actions:
        """The broker connection went down or came back (then everyone gets a fresh window)."""
        if self.role == STOPPED:
            self.connected = up
            return Actions()
        was = self.connected
        self.connected = up
        self._now = max(self._now, now)
        if up and not was:
            log.info("%s: broker back; giving everyone a fresh window", self.hadd)
            self._last_seen_time = now
            self._thaw(now)
        return self._run(now)

    def receive(self, message: Message, now: float) -> Actions:
        """Take one decoded message heard on the broker at `now`."""
        if self.role == STOPPED:
            return Actions()
        self._check_freeze(now)
        m = message
        if isinstance(m, ResolvHeartbeat):
            self._on_resolv_heartbeat(m, now)
        elif isinstance(m, Heartbeat):
            self._on_heartbeat(m, now)
        elif isinstance(m, HeartbeatDispatch):
            if m.whole_controller:
                # A node process's will (or an original controller manager): all its nodes at once.
                self._apply(self.tracker.observe_controller(m.add_ctrl, m.state, now))
            # Per-node JSON heartbeats are some primary's dispatches: never fed back (the original's
            # loopback refreshed silent nodes from its own dispatches).
        elif isinstance(m, ValuePublication):
            self._on_publication(m, now)
        elif isinstance(m, DiscoveryRequest):
            if m.resolv:
                self._on_resolv_request(m, now)
        elif isinstance(m, DiscoveryReply):
            self._on_reply(m, now)
        return self._run(now)

    def tick(self, now: float) -> Actions:
        """Time passed: do what is due (call it at the `wake_at` of the last Actions)."""
        if self.role == STOPPED:
            return Actions()
        self._check_freeze(now)
        return self._run(now)

    # ------------------------------------------------------------------------------ role machine

    def _fire(self, trigger: str, now: float) -> None:
        self._now = now
        self._from = self.role
        self._model.trigger(trigger)

    def _changed(self) -> None:
        change = RoleChange(self._now, self._from, self.role, self.epoch, self.primary)
        self.history.append(change)
        log.info(
            "network controller %s: %s -> %s (epoch %d, primary %s, secondaries [%s], map %d nodes)",
            self.hadd, change.old, change.new, self.epoch, self.primary or "none",
            ", ".join(str(h) for h in self.secondaries), len(self.map),
        )  # fmt: skip

    def _follow(self, primary: Hadd, epoch: int, now: float) -> None:
        changed = primary != self.primary or epoch != self.epoch or self.role != SECONDARY
        was_primary = self.role == PRIMARY
        self.primary = primary
        self.epoch = epoch
        self._watchdog = now + self.watchdog_span()
        self._election_due = None
        self._next_beat = None
        self._hold_until = None
        self._pending_resolv.clear()
        if changed:
            self._fire("follow", now)
            if was_primary:
                log.warning("%s: stepping down: %s is primary with epoch %d", self.hadd, primary, epoch)
            self._resync(now)
            self._announce(now)

    def _facts(self, sender: Hadd | None = None, epoch: int = 0, priority: int = 0) -> Facts:
        current = None if self.primary is None else self.peers.get(self.primary)
        lost, lost_epoch, _ = self._lost
        return Facts(
            me=self.hadd, priority=self.config.priority, configured_primary=self.config.is_primary,
            take_back=self.config.take_back, synced=self.synced, epoch=self.epoch, primary=self.primary,
            primary_rank=None if current is None else current.rank, lost=lost, lost_epoch=lost_epoch,
            holding=self._hold_until is not None,
            primary_original=self.primary is not None and self.primary in self._original,
            sender=sender, sender_epoch=epoch, sender_priority=priority,
            sender_original=sender is not None and sender in self._original,
            peers_all_starting=self._peers_all_starting(),
        )  # fmt: skip

    def _peers_all_starting(self) -> bool:
        live = self._live_peers(self._now)
        return (
            bool(live) and self.max_epoch == 0
            and all(p.role == LISTENING and p.follows is None and p.epoch == 0 for p in live)
        )  # fmt: skip

    def primary_period(self, hadd: Hadd | None = None) -> float | None:
        """The period of a primary's resolv heartbeats as observed (the slowest of its latest intervals);
        for an original primary not yet timed, the assumed `original_period`; None: unknown."""
        hadd = self.primary if hadd is None else hadd
        if hadd is None:
            return None
        _, intervals = self._beats.get(hadd, (None, deque()))
        if intervals:
            return max(intervals)
        return self.config.original_period if hadd in self._original else None

    def watchdog_span(self) -> float:
        """How long the primary we follow may stay silent: `resolv_timeout`, or two of its observed
        periods if that is longer (the original's primary beats every 15 s; a fixed 5 s replaced it)."""
        period = self.primary_period()
        base = self.config.resolv_timeout
        return base if period is None else max(base, 2 * period)

    def _on_event(
        self, event: Event, now: float, sender: Hadd | None = None, epoch: int = 0, priority: int = 0,
        by_will: bool = False, detail: str | None = None,
    ) -> Rule | None:  # fmt: skip
        """Look the event up in the decision table (election.DECISIONS) and carry out the act."""
        rule = decide(self.role, event, self._facts(sender, epoch, priority))
        if rule is None:
            return None
        act = rule.act
        if act is Act.FOLLOW:
            assert sender is not None
            self._follow(sender, epoch, now)
        elif act is Act.FOLLOW_LOST:
            lost, lost_epoch, _ = self._lost
            assert lost is not None
            self._follow(lost, lost_epoch, now)
        elif act is Act.PROMOTE:
            if event is Event.PRIMARY_HEARD:
                log.warning("%s: %s (%s, epoch %d)", self.hadd, rule.why, sender, epoch)
            self._promote(now)
        elif act is Act.LOSE_PRIMARY:
            self._lose_primary(now, by_will, detail or rule.why)
        elif act is Act.ELECT:
            self._elect(now)
        elif act is Act.KEEP:
            self.epoch = max(self.epoch, epoch)
            self._watchdog = now + self.watchdog_span()
        elif act is Act.ASSERT:
            self._beat(now)
        return rule

    def _lose_primary(self, now: float, by_will: bool, why: str) -> None:
        lost = self.primary
        log.warning("%s: primary %s lost (%s)", self.hadd, lost or "none", why)
        self._lost = (lost, self.epoch, by_will)
        self._lost_at = now
        self._watchdog = None
        if lost is not None:
            self.peers.pop(lost, None)
        self._fire("lose_primary", now)
        self._announce(now)
        self._elect(now)

    def _elect(self, now: float) -> None:
        """Rank the live candidates: our turn is due now (the table promotes us) or later."""
        lost, _, by_will = self._lost
        better = [
            p for p in self._live_peers(now) if p.role != PRIMARY and p.hadd != lost and p.rank < self.rank
        ]
        grace = self.config.will_grace if by_will else 0.0
        self._election_due = election_turn(self._lost_at, grace, len(better), self.config.step)
        if now >= self._election_due:
            self._on_event(Event.ELECTION_DUE, now)

    def _promote(self, now: float) -> None:
        self.epoch = self.max_epoch + 1
        self.max_epoch = self.epoch
        self.primary = self.hadd
        self._watchdog = None
        self._election_due = None
        self._listen_until = None
        self._quiet_at = None
        self._hold_until = None
        self._fire("promote", now)
        self._beat(now)
        self._announce(now)
        self._rebuild_what_lacks(now)

    def _rebuild_what_lacks(self, now: float) -> None:
        """After a promotion: every genre the map does not hold completely is rebuilt by broadcast at
        once (all six when nobody was replicated from; four after following an original primary)."""
        if self._sync is not None:
            # The primary we replicated from is gone: what it sent is kept, the rest is rebuilt.
            self._have.update(self._sync.received())
            self._sync = None
            self.synced = True
        if self._collector is not None:
            return  # a build is under way (a configured primary listening): it asks everything
        lacking = [k for k in NETWORK_REQUESTS if k not in self._have]
        if not lacking:
            return
        log.warning("%s: the map lacks %s: rebuilding by broadcast", self.hadd,
                    ", ".join(k.removeprefix("request_info_") for k in lacking))  # fmt: skip
        self._build(now, lacking)

    # ------------------------------------------------------------------------------ messages

    def _on_resolv_heartbeat(self, m: ResolvHeartbeat, now: float) -> None:
        h = m.hadd
        epoch = _int_extra(m.extra, EPOCH_KEY)
        if h == self.hadd:
            if m.state != ONLINE and self.connected:
                # Our own will from a connection the broker gave up on, while we live: contradict it.
                log.warning("%s: the broker published our will; announcing we are alive", self.hadd)
                if self.role == PRIMARY:
                    self._beat(now)
                self._announce(now)
            return
        if m.state != ONLINE:
            self.peers.pop(h, None)
            self._beats.pop(h, None)
            # A goodbye ("stopped") is deliberate; a will may be a broker shutting down (will_grace).
            bye = m.extra.get(ROLE_KEY) == "stopped"
            self._on_event(Event.PRIMARY_GONE, now, h, epoch, by_will=not bye,
                           detail="its goodbye" if bye else "its will")  # fmt: skip
            return
        self.max_epoch = max(self.max_epoch, epoch)
        prio = _int_extra(m.extra, PRIORITY_KEY)
        if EPOCH_KEY in m.extra:
            self._original.discard(h)
        else:
            self._original.add(h)  # the original's primary: no epoch, never steps down
        last, intervals = self._beats.get(h, (None, deque(maxlen=BEAT_INTERVALS)))
        if last is not None and now > last:
            intervals.append(now - last)
        self._beats[h] = (now, intervals)
        self.peers[h] = Peer(h, PRIMARY, epoch, prio, now)
        self._on_event(Event.PRIMARY_HEARD, now, h, epoch, prio)

    def _on_publication(self, m: ValuePublication, now: float) -> None:
        if m.uuid == NETWORK_CONTROLLER_UUID and m.genre == Genre.SYSTEM:
            self._on_announcement(m, now)
        self.map.merge_publication(m)
        if m.uuid == "heartbeat" and m.genre == Genre.SYSTEM:
            try:
                self.tracker.set_period(m.hadd, float(m.value.data))
            except (TypeError, ValueError):
                pass

    def _on_announcement(self, m: ValuePublication, now: float) -> None:
        if m.hadd == self.hadd:
            return
        v = m.value
        word = str(v.data).lower() if v.data is not None else ""
        role = str(v.extra.get(ROLE_KEY) or word)
        epoch = _int_extra(v.extra, EPOCH_KEY)
        self.max_epoch = max(self.max_epoch, epoch)
        if role == "offline":
            self.peers.pop(m.hadd, None)
            return
        if word == PRIMARY:
            # Primaries are followed by their resolv heartbeats only; this just refreshes what we know.
            role = PRIMARY
        named = v.extra.get("primary")
        follows = named if isinstance(named, str) and named else None
        self.peers[m.hadd] = Peer(m.hadd, role, epoch, _int_extra(v.extra, PRIORITY_KEY), now, follows)

    def _on_heartbeat(self, m: Heartbeat, now: float) -> None:
        node = self.map.nodes.get(m.hadd)
        if node is None:
            # From the first second: a configured primary still listening (its broadcast may have gone
            # out before this controller subscribed) asks too, not only at the next heartbeat, 30 s on.
            if self.role == PRIMARY or (self.role == LISTENING and self.config.is_primary):
                self._discover_controller(m.hadd.controller, now)
            return
        self._apply(self.tracker.observe(m.hadd, m.state, now, _period(node)))

    def _on_resolv_request(self, req: DiscoveryRequest, now: float) -> None:
        if self.role != PRIMARY:
            return
        if req.kind not in REQUEST_GENRES:
            log.warning("resolv request for unknown %r from %s: ignored", req.kind, req.reply_hadd)
            return
        if self._settling(now):
            self._pending_resolv.append((req, now))  # answered once the map is built and the asked answered
            return
        self._serve(req)

    def _settling(self, now: float) -> bool:
        """The map is being built, or a controller asked directly has not answered yet (for at most
        `discovery_idle`): a resolv answer now would miss it."""
        if self._collector is not None:
            return True
        idle = self.config.discovery_idle
        return any(now < t + idle for t in self._asking.values())

    def _serve(self, req: DiscoveryRequest) -> None:
        # Our own secondaries (they send a correlation id) also get an empty chunk for an empty
        # category, so they know it is complete; original secondaries get the original's silence.
        ours = CORRELATION_KEY in req.extra and req.reply_hadd is not None
        self._out.extend(
            self.map.resolv_replies(
                req.kind, req.reply_hadd, req.extra, self.config.chunk_size, when_empty=ours
            )
        )

    def _on_reply(self, r: DiscoveryReply, now: float) -> None:
        if r.route is ReplyRoute.BROADCAST:
            if r.topic_hadd != self.hadd:
                return
            if self._collector is not None:
                self._collector.feed(r, now)
            self._merge(r, now)
        elif r.route is ReplyRoute.NODE:
            if r.topic_hadd != self.hadd:
                return
            self._merge(r, now)
            for node in r.nodes:
                if node.hadd is not None:
                    self._asking.pop(node.hadd.controller, None)
            if self.role == PRIMARY:
                # The original forwarded to its own reply topic, where nobody listens; secondaries
                # listen on the resolv broadcast.
                part = NetworkMap()
                part.merge_reply(r)
                self._out.extend(part.resolv_replies(r.kind, None, None, self.config.chunk_size))
        elif r.route is ReplyRoute.RESOLV:
            if self._sync is not None and self._sync.feed(r):
                self._merge(r, now)
            elif r.topic_hadd == self.hadd and self.role != PRIMARY:
                self._merge(r, now)  # a straggler of a sync that timed out: still good data
        elif r.route is ReplyRoute.RESOLV_BROADCAST:
            if self.role != PRIMARY:
                self._merge(r, now)

    def _merge(self, r: DiscoveryReply, now: float) -> None:
        self.map.merge_reply(r)
        for node in r.nodes:
            self._learn(node, now)

    def _learn(self, node: NodeInfo, now: float) -> None:
        if node.hadd is None:
            return
        period = _period(node)
        if node.hadd in self.tracker:
            self.tracker.set_period(node.hadd, period)
            current = self.tracker.state(node.hadd)
            if current != self.map.nodes[node.hadd].state:
                self.map.set_state(node.hadd, current)
            return
        if node.state in (None, ONLINE):
            self.tracker.track(node.hadd, period, now)
        else:
            self.tracker.observe(node.hadd, node.state, now, period)

    def _apply(self, changes: Iterable[StateChange]) -> list[StateChange]:
        out = list(changes)
        for c in out:
            self.map.set_state(c.hadd, c.new)
        return out

    # ------------------------------------------------------------------------------ duties

    def _cid(self) -> str:
        self._cids += 1
        return f"{self.hadd.controller:04d}{self.hadd.node:04d}-{self._cids}"

    def _build(self, now: float, kinds: Iterable[str] = NETWORK_REQUESTS) -> None:
        cid = self._cid()
        cfg = self.config
        self._collector = DiscoveryCollector(
            kinds, now, cfg.discovery_timeout, cfg.discovery_quiet, cfg.discovery_idle, cid
        )
        for kind in self._collector.kinds:
            self._out.append(DiscoveryRequest(kind, self.hadd, extra={CORRELATION_KEY: cid}))

    def _resync(self, now: float) -> None:
        timeout = self.config.sync_timeout
        # The original's primary answers only nodes and systems (its handler crashes on the other four):
        # we do not ask it what it cannot answer; a promotion rebuilds the rest by broadcast.
        kinds = ORIGINAL_RESOLV if self.primary in self._original else NETWORK_REQUESTS
        sync = ResolvSync(
            self.hadd, self._cid(), now, self.config.resolv_timeout if timeout is None else timeout, kinds
        )
        self._sync = sync
        self._out.extend(sync.requests())

    def _discover_controller(self, controller: int, now: float) -> None:
        last = self._asked.get(controller)
        if last is not None and now < last + self.config.request_retry:
            return
        self._asked[controller] = now
        self._asking[controller] = now
        cid = self._cid()
        target = Hadd(controller, 0)
        log.info("%s: controller %s heartbeats but is not in the map: asking it", self.hadd, target)
        for kind in NETWORK_REQUESTS:
            self._out.append(DiscoveryRequest(kind, self.hadd, target, extra={CORRELATION_KEY: cid}))

    def _beat(self, now: float) -> None:
        self._out.append(
            ResolvHeartbeat(
                self.hadd.controller,
                self.hadd.node,
                ONLINE,
                {
                    EPOCH_KEY: self.epoch,
                    PRIORITY_KEY: self.config.priority,
                    ROLE_KEY: PRIMARY,
                    "secondaries": [str(h) for h in self.secondaries],
                    "nodes": len(self.map),
                },
            )
        )
        self._next_beat = now + self.config.resolv_heartbeat

    def _announce(self, now: float) -> None:
        word = PRIMARY if self.role == PRIMARY else SECONDARY
        info = ValueInfo(
            uuid=NETWORK_CONTROLLER_UUID,
            hadd=self.hadd,
            node_uuid=self.node_uuid,
            genre=int(Genre.SYSTEM),
            type=int(ValueType.LIST),
            cmd_class=int(CommandClass.NETWORK_CONTROLLER),
            data=word,
            label="Network controller",
            help="The role of this network controller: primary or secondary",
            list_items=list(NETWORK_CONTROLLER_ITEMS),
            is_readonly=True,
            extra={
                ROLE_KEY: self.role,
                EPOCH_KEY: self.epoch,
                PRIORITY_KEY: self.config.priority,
                "primary": None if self.primary is None else str(self.primary),
                "nodes": len(self.map),
                "synced": self.synced or self.built,
            },
        )
        self._out.append(ValuePublication(Genre.SYSTEM, self.hadd, NETWORK_CONTROLLER_UUID, (info,)))
        self._next_announce = now + self.config.resolv_heartbeat

    # ------------------------------------------------------------------------------ time

    def _check_freeze(self, now: float) -> None:
        last = self._last_seen_time
        self._last_seen_time = now
        # We are called at least every resolv_heartbeat; a much longer gap means we were frozen
        # (SIGSTOP, swapped out) and heard nothing: not the others' fault.
        if last is not None and now - last > self.config.resolv_timeout and self.connected:
            log.warning("%s: no activity for %.1f s (frozen?): fresh windows for all", self.hadd, now - last)
            self._thaw(now)

    def _thaw(self, now: float) -> None:
        for hadd, state in self.tracker.states().items():
            if state in (ONLINE, BOOT, CONFIG):
                self.tracker.observe(hadd, state, now)
        for p in self.peers.values():
            p.last_seen = max(p.last_seen, now)
        for h, (_, intervals) in self._beats.items():
            self._beats[h] = (None, intervals)  # an interval spanning our deafness says nothing of theirs
        role = self.role
        if role == PRIMARY:
            # We may have been replaced meanwhile: hear the network for one period before beating.
            self._hold_until = now + self.config.resolv_heartbeat
            self._next_beat = self._hold_until
        elif role == SECONDARY:
            self._watchdog = now + self.watchdog_span()
            self._announce(now)
        elif role == ELECTING:
            # The will or the silence may have been our own deafness (a broker shutting down publishes
            # every will): the table says whether to follow the lost primary again.
            if self._on_event(Event.THAWED, now) is None:
                self._lost_at = now
                self._announce(now)
        elif role == LISTENING:
            self._listen_until = max(self._listen_until or now, now + self.config.listen)
            self._announce(now)
        if self._collector is not None:
            self._collector.deadline = max(self._collector.deadline, now + self.config.discovery_timeout)
        if self._sync is not None:
            self._sync.deadline = max(self._sync.deadline, now + self.config.resolv_timeout)

    def _run(self, now: float) -> Actions:
        """Everything due at `now`, then what to publish and when to wake."""
        self._now = max(self._now, now)
        if not self.connected:
            return self._flush(now)
        if self._collector is not None and self._collector.done(now):
            col = self._collector
            self._collector = None
            self.built = True
            self._have.update(col.kinds)
            log.info(
                "%s: map built by broadcast in %.3f s: %d nodes, %d values",
                self.hadd, now - col.started, len(self.map), self.map.value_count(),
            )  # fmt: skip
        self._asking = {c: t for c, t in self._asking.items() if now < t + self.config.discovery_idle}
        if self._pending_resolv and self._collector is None:
            # A request waits for the controllers asked directly, never more than `discovery_idle` (a
            # stream of made-up controllers heartbeating must not starve the resolv server).
            idle = self.config.discovery_idle
            due = [(r, t) for r, t in self._pending_resolv if not self._settling(now) or now >= t + idle]
            if due:
                self._pending_resolv = [p for p in self._pending_resolv if p not in due]
                if self.role == PRIMARY:
                    for req, _ in due:
                        self._serve(req)
        if self._sync is not None and self._sync.done(now):
            sync = self._sync
            self._sync = None
            self.synced = True
            self._have.update(sync.received())
            if sync.complete:
                log.info("%s: map replicated from %s: %d nodes", self.hadd, self.primary, len(self.map))
            else:
                log.warning(
                    "%s: resolv sync from %s incomplete after %.1f s (missing %s); keeping what came",
                    self.hadd, self.primary, now - sync.started, ", ".join(sync.missing()),
                )  # fmt: skip
        changes = self._apply(self.tracker.tick(now))
        role = self.role
        if role == LISTENING and self._quiet_at is not None and now >= self._quiet_at:
            self._quiet_at = None
            self._on_event(Event.PEERS_QUIET, now)
            role = self.role
        if role == LISTENING and self._listen_until is not None and now >= self._listen_until:
            self._listen_until = None
            self._on_event(Event.LISTEN_TIMEOUT, now, detail=f"none heard within {self.config.listen:g} s")
        elif role == SECONDARY and self._watchdog is not None and now >= self._watchdog:
            self._on_event(Event.WATCHDOG_TIMEOUT, now,
                           detail=f"no resolv heartbeat for {self.watchdog_span():g} s")  # fmt: skip
        elif role == ELECTING and self._election_due is not None and now >= self._election_due:
            self._on_event(Event.ELECTION_DUE, now)
        if self.role == PRIMARY:
            holding = self._hold_until is not None and now < self._hold_until
            if not holding:
                self._hold_until = None
                if self.config.do_heartbeat_dispatch:
                    for c in changes:
                        d = HeartbeatDispatch(c.hadd.controller, c.hadd.node, c.new)
                        self._out.append(d)
                        self.dispatched.append(d)
                if self._next_beat is not None and now >= self._next_beat:
                    self._beat(now)
        elif self._next_announce is not None and now >= self._next_announce:
            self._announce(now)
        self._prune(now)
        return self._flush(now)

    def _live_peers(self, now: float) -> list[Peer]:
        horizon = now - self.config.resolv_timeout
        return [p for p in self.peers.values() if p.last_seen >= horizon]

    def _prune(self, now: float) -> None:
        horizon = now - 3 * self.config.resolv_timeout
        for h in [h for h, p in self.peers.items() if p.last_seen < horizon]:
            del self.peers[h]
        # What we timed of primaries gone from the peers (a made-up hadd's heartbeat must not stay forever);
        # the one we follow stays, however slow.
        for h in [h for h in self._beats if h not in self.peers and h != self.primary]:
            del self._beats[h]
        self._original &= set(self.peers) | ({self.primary} if self.primary is not None else set())

    def _wake(self, now: float) -> float | None:
        if self.role == STOPPED or not self.connected:
            return None
        times = [self.tracker.next_deadline()]
        times += [t + self.config.discovery_idle for t in self._asking.values()]
        times += [t + self.config.discovery_idle for _, t in self._pending_resolv]
        if self._collector is not None:
            times.append(self._collector.next_wake())
        if self._sync is not None:
            times.append(self._sync.next_wake())
        role = self.role
        if role == PRIMARY:
            times.append(self._hold_until if self._hold_until is not None else self._next_beat)
        else:
            times.append(self._next_announce)
            times.append(
                {LISTENING: self._listen_until, SECONDARY: self._watchdog, ELECTING: self._election_due}.get(
                    role
                )
            )
            if role == LISTENING:
                times.append(self._quiet_at)
        due = [t for t in times if t is not None]
        return min(due) if due else None

    def _flush(self, now: float) -> Actions:
        out = tuple(self._out)
        self._out = []
        return Actions(out, self._wake(now))


def _period(node: NodeInfo) -> float:
    try:
        p = float(node.heartbeat)
    except (TypeError, ValueError):
        return 30.0
    return p if p > 0 else 30.0
