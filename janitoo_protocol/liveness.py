"""Heartbeat liveness tracking, sans-IO: node states from heartbeats and silence, with the clock passed in.

Theory of operation. Every node has a heartbeat period P (its `heartbeat` value, 30 s by default) and is
given the original's 10 % slack, so one period of silence lasts E = 1.1 * P. A node that stops
heartbeating is counted per missed period (the original counted 1 s dispatch ticks instead):

    last heartbeat L ──► L + count*E: PENDING ──► L + 2*count*E: FAILED ──► L + heartbeat_dead: DEAD

An explicit OFFLINE heartbeat is taken at once and starts no timer (a node that said goodbye is not
late). Any heartbeat resets the clock and sets the state it carries. A change is reported exactly once:
`observe` and `tick` return only real transitions, never an unchanged state (the original re-published
FAILED every second for some nodes: the "dispatch storm").

Deadlines sit in one heap with a generation number per node, so `tick` costs O(changes · log n) and
`next_deadline` tells the host when to call `tick` again; no periodic polling is needed.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass

from .addressing import Hadd
from .codes import NodeState
from .errors import UsageError

ONLINE = NodeState.ONLINE
BOOT = NodeState.BOOT
CONFIG = NodeState.CONFIG
PENDING = NodeState.PENDING
FAILED = NodeState.FAILED
DEAD = NodeState.DEAD
OFFLINE = NodeState.OFFLINE
UNKNOWN = NodeState.UNKNOWN
STATES: tuple[NodeState, ...] = tuple(NodeState)

# States a silent node keeps without aging further.
_RESTING = {OFFLINE, DEAD, UNKNOWN}


@dataclass(frozen=True, slots=True)
class StateChange:
    """A node's liveness changed from `old` to `new` at time `at`."""

    hadd: Hadd
    old: str
    new: str
    at: float


@dataclass(slots=True)
class _Entry:
    state: str
    period: float
    last_seen: float | None
    generation: int = 0


class LivenessTracker:
    """Tracks the liveness state of many nodes from their heartbeats; time is always a parameter."""

    def __init__(
        self,
        heartbeat_count: int = 3,
        heartbeat_dead: float = 604800.0,
        slack: float = 1.1,
        default_period: float = 30.0,
    ) -> None:
        if heartbeat_count < 1:
            raise UsageError("heartbeat_count must be at least 1")
        self.heartbeat_count = heartbeat_count
        self.heartbeat_dead = heartbeat_dead
        self.slack = slack
        self.default_period = default_period
        self._nodes: dict[Hadd, _Entry] = {}
        self._heap: list[tuple[float, int, Hadd, int]] = []
        self._seq = 0

    # -- queries

    def state(self, hadd: Hadd) -> str:
        entry = self._nodes.get(hadd)
        return entry.state if entry else UNKNOWN

    def states(self) -> dict[Hadd, str]:
        return {h: e.state for h, e in self._nodes.items()}

    def last_seen(self, hadd: Hadd) -> float | None:
        entry = self._nodes.get(hadd)
        return entry.last_seen if entry else None

    def __contains__(self, hadd: object) -> bool:
        return hadd in self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    def hadds(self) -> Iterable[Hadd]:
        return self._nodes.keys()

    def next_deadline(self) -> float | None:
        """When `tick` next has something to do (None: nothing scheduled)."""
        while self._heap:
            deadline, _, hadd, gen = self._heap[0]
            entry = self._nodes.get(hadd)
            if entry is not None and entry.generation == gen:
                return deadline
            heapq.heappop(self._heap)  # stale: superseded by a later heartbeat or forgotten
        return None

    # -- inputs

    def track(self, hadd: Hadd, period: float | None = None, now: float | None = None) -> None:
        """Know a node (e.g. from discovery) before its first heartbeat; it ages from `now` if given."""
        entry = self._nodes.get(hadd)
        if entry is None:
            entry = _Entry(UNKNOWN if now is None else ONLINE, period or self.default_period, now)
            self._nodes[hadd] = entry
            if now is not None:
                self._schedule(hadd, entry)
        elif period:
            self.set_period(hadd, period)

    def set_period(self, hadd: Hadd, period: float) -> None:
        """A node's heartbeat period changed (its `heartbeat` system value)."""
        entry = self._nodes.get(hadd)
        if entry is None or period <= 0:
            return
        entry.period = float(period)
        self._schedule(hadd, entry)

    def forget(self, hadd: Hadd) -> None:
        self._nodes.pop(hadd, None)

    def observe(self, hadd: Hadd, state: str, now: float, period: float | None = None) -> list[StateChange]:
        """A heartbeat (or a dispatched state) for `hadd` arrived at `now`."""
        state = state.upper()
        entry = self._nodes.get(hadd)
        if entry is None:
            entry = _Entry(UNKNOWN, period or self.default_period, now)
            self._nodes[hadd] = entry
        elif period:
            entry.period = float(period)
        old = entry.state
        entry.state = state
        entry.last_seen = now
        self._schedule(hadd, entry)
        return [] if old == state else [StateChange(hadd, old, state, now)]

    def observe_controller(self, controller: int, state: str, now: float) -> list[StateChange]:
        """A whole-controller heartbeat (`add_node = -1`): applies to every known node of it."""
        changes: list[StateChange] = []
        for hadd in [h for h in self._nodes if h.controller == controller]:
            changes.extend(self.observe(hadd, state, now))
        return changes

    def tick(self, now: float) -> list[StateChange]:
        """Age silent nodes up to `now`; returns the state changes, each once."""
        changes: list[StateChange] = []
        while self._heap and self._heap[0][0] <= now:
            _, _, hadd, gen = heapq.heappop(self._heap)
            entry = self._nodes.get(hadd)
            if entry is None or entry.generation != gen:
                continue
            new = self._aged_state(entry, now)
            if new != entry.state:
                changes.append(StateChange(hadd, entry.state, new, now))
                entry.state = new
            self._schedule(hadd, entry, bump=False)
        return changes

    # -- internals

    def _silence_deadlines(self, entry: _Entry) -> tuple[float, float, float]:
        assert entry.last_seen is not None
        window = self.heartbeat_count * entry.period * self.slack
        pending = entry.last_seen + window
        failed = entry.last_seen + 2 * window
        dead = max(entry.last_seen + self.heartbeat_dead, failed)
        return pending, failed, dead

    def _aged_state(self, entry: _Entry, now: float) -> str:
        if entry.state in _RESTING or entry.last_seen is None:
            return entry.state
        pending, failed, dead = self._silence_deadlines(entry)
        if now >= dead:
            return DEAD
        if now >= failed:
            return FAILED
        if now >= pending:
            return PENDING
        return entry.state

    def _next_deadline_for(self, entry: _Entry) -> float | None:
        if entry.state in _RESTING or entry.last_seen is None:
            return None
        pending, failed, dead = self._silence_deadlines(entry)
        if entry.state == FAILED:
            return dead
        if entry.state == PENDING:
            return failed
        return pending

    def _schedule(self, hadd: Hadd, entry: _Entry, bump: bool = True) -> None:
        if bump:
            # Generations come from one tracker-wide counter, so a stale heap item of a forgotten
            # node can never match the fresh entry of the same hadd.
            self._seq += 1
            entry.generation = self._seq
        deadline = self._next_deadline_for(entry)
        if deadline is not None:
            self._seq += 1
            heapq.heappush(self._heap, (deadline, self._seq, hadd, entry.generation))
