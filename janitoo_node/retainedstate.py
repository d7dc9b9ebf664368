"""The retained state of one bus's nodes (the late-join extension): published coalesced, cleared on stop.

A bus's payload holds all its nodes (a controller of 10 simulated nodes: 28 kB), yet a publication follows
a change of one of them: each node's part of the text is kept and written again only when the node changes
(one of its values published, its state), so a publication costs what changed, not the whole bus.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from janitoo_protocol import Hadd
from janitoo_protocol.retained import (
    MAX_RETAINED_PAYLOAD,
    NodePart,
    RetainedTopics,
    node_part,
    payload_of_parts,
)

from .scheduler import Timer

if TYPE_CHECKING:
    from .node import Node
    from .nodeman import NodeManager

log = logging.getLogger("janitoo.retained")

# (topic, payload, force) -> sent. `force` is for clears: one per bus at a stop, and never dropped by the
# publication ceiling (a dropped clear would leave stale state behind).
PublishRetained = Callable[[str, bytes, bool], bool]
# Seconds between two retained publications of one bus: a burst of polls, SETs and state changes is
# coalesced (a lone change after a quiet moment goes at once).
COALESCE = 1.0
# Seconds between two publications for events (state changes, SETs), which a reader must not see late.
EVENT_GAP = 0.1
# Seconds between two publications with no change: a bridged broker that restarted without persistence
# lost our state, and nothing on our side says so.
REFRESH = 600.0
# Text of node parts that the buses of a process keep between them, at most: about 1,500 nodes of the
# simulator's kind (2.8 kB each), so the 1,000-node soak keeps all of them, and a 10,000-node simulation
# (at most 10 kB a node in all, issue #17) pays 0.4 kB a node for it. A bus that finds it full keeps
# nothing, and writes its whole payload at each publication.
KEPT_TEXT = 4 * 1024 * 1024


class TextBudget:
    """How much kept text the buses of a process may hold between them (characters)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._lock = threading.Lock()

    def resize(self, old: int, new: int) -> bool:
        """Hold `new` characters instead of `old`; when that is over the limit, False and `old` given back."""
        with self._lock:
            if self.used - old + new > self.limit:
                self.used -= old
                return False
            self.used += new - old
            return True


PROCESS_BUDGET = TextBudget(KEPT_TEXT)


class RetainedState:
    """Keeps the broker's retained copy of one bus's nodes current; every call on the bus worker."""

    def __init__(
        self, publish: PublishRetained, prefix: str, status: int, coalesce: float = COALESCE,
        refresh: float = REFRESH, budget: TextBudget = PROCESS_BUDGET,
    ) -> None:  # fmt: skip
        self.publish = publish
        self.topics = RetainedTopics(prefix)
        self.status = status  # the controller number of the status topic (and will) covering this bus
        self.coalesce = coalesce
        self.refresh = refresh
        self._refreshing = False  # the pending timer is the periodic refresh, not a coalesced change
        self._sent_at: float | None = None  # when the last publication went (the scheduler's clock)
        self._due = 0.0  # when the pending timer fires
        # changed() comes from any thread (a component publishing); the rest runs on the bus worker.
        self._lock = threading.Lock()
        self.manager: NodeManager | None = None
        self._states: dict[Hadd, str] = {}  # each node's state in the last publication
        self._parts: dict[Hadd, NodePart] = {}  # each node's text, kept within the budget
        self._kept = 0  # characters of that text
        self._changed: set[Hadd] = set()  # nodes changed since their part was written
        self.budget = budget
        self._timer: Timer | None = None
        self.published = 0  # how many retained publications (for tests and benchmarks)

    def start(self, manager: NodeManager) -> None:
        """Publish the bus's nodes as soon as what the start scheduled at once has run (a component's first
        transition, e.g. the tutorial's boot exit, is in the first publication)."""
        with self._lock:
            self.manager = manager
            self._timer = manager.bus.call_later(0.0, self.flush)

    def changed(self, node: Node, event: bool = False) -> None:
        """A value of `node` was published: the retained copy follows within `coalesce` seconds, or
        within `EVENT_GAP` for an `event` (a state change, a SET: not a periodic reading)."""
        with self._lock:
            manager = self.manager
            if manager is None:
                return
            self._changed.add(node.hadd)
            # At once after a quiet moment, so a reader never sees a lone change late; a burst is coalesced
            # into one publication per `coalesce` seconds (per EVENT_GAP for events: a reader that joins
            # between a live publication and its retained copy would keep the stale one until the next).
            gap = EVENT_GAP if event else self.coalesce
            now = manager.bus.ctx.scheduler.clock()
            delay = 0.0 if self._sent_at is None else max(0.0, self._sent_at + gap - now)
            if self._timer is not None and not self._refreshing and self._due <= now + delay:
                return  # a publication is due soon enough: it will hold this change too
            if self._timer is not None:
                self._timer.cancel()
            self._refreshing = False
            self._due = now + delay
            self._timer = manager.bus.call_later(delay, self.flush, False)

    def state_changed(self, node: Node, state: str) -> None:
        """Called at each heartbeat: a new state is republished (an unchanged one costs nothing)."""
        if self._states.get(node.hadd) not in (None, state):
            self.changed(node)

    def flush(self, whole: bool = True) -> None:
        """Publish the bus's retained state now: every node written anew (`whole`: at start, after a
        reconnect, at the periodic refresh), or only the nodes changed since the last publication."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()  # flushed early (start, reconnect): the pending one is not needed
            self._timer = None
            changed, self._changed = self._changed, set()
        manager = self.manager
        if manager is None or not manager.online:
            return
        kept = self._parts
        parts: dict[Hadd, NodePart] = {}
        states: dict[Hadd, str] = {}
        for hadd, node in manager.nodes.items():
            part = None if whole or hadd in changed else kept.get(hadd)
            if part is None:
                state = states[hadd] = node.heartbeat_state()
                infos = [info for v in node.values.values() for info in v.infos()]
                part = node_part(node.info(state=state), infos)
            parts[hadd] = part
        ctrl = manager.controller.hadd.controller
        payload = payload_of_parts(list(parts.values()), self.status)
        size = sum(p.size for p in parts.values())
        if self.budget.resize(self._kept, size):
            self._parts, self._kept = parts, size
        else:
            self._parts, self._kept = {}, 0
        if len(payload) > MAX_RETAINED_PAYLOAD:
            # Readers would reject it: say so once per attempt rather than publish what nobody reads.
            log.error("controller %04d: retained state of %d bytes is over %d; not published", ctrl,
                      len(payload), MAX_RETAINED_PAYLOAD)  # fmt: skip
            return
        sent = self.publish(self.topics.controller(ctrl), payload, False)
        if sent:
            self._states.update(states)
            self.published += 1
            self._sent_at = manager.bus.ctx.scheduler.clock()
        with self._lock:
            if self._timer is None:  # else a change came meanwhile: its flush follows
                # Over the publication ceiling, tried again after the next period; else the refresh.
                self._refreshing = sent
                delay = self.refresh if sent else self.coalesce
                self._due = manager.bus.ctx.scheduler.clock() + delay
                self._timer = manager.bus.call_later(delay, self.flush, sent)

    def clear(self) -> None:
        """Clean stop: the bus's retained copy is removed (an empty retained payload)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            manager = self.manager
            self.manager = None
        self.budget.resize(self._kept, 0)
        self._parts, self._kept = {}, 0
        if manager is not None:
            self.publish(self.topics.controller(manager.controller.hadd.controller), b"", True)
