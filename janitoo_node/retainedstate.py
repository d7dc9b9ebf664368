"""The retained state of one bus's nodes (the late-join extension): published coalesced, cleared on stop."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from janitoo_protocol import Hadd
from janitoo_protocol.retained import MAX_RETAINED_PAYLOAD, RetainedTopics, controller_payload

from .scheduler import Timer

if TYPE_CHECKING:
    from .node import Node
    from .nodeman import NodeManager

log = logging.getLogger("janitoo.retained")

# (topic, payload, force) -> sent. `force` is for clears: one per bus at a stop, and never dropped by the
# publication ceiling (a dropped clear would leave stale state behind).
PublishRetained = Callable[[str, bytes, bool], bool]
# Seconds between two retained publications of one bus: polls, SETs and state changes are coalesced.
COALESCE = 1.0
# Seconds between two publications with no change: a bridged broker that restarted without persistence
# lost our state, and nothing on our side says so.
REFRESH = 600.0


class RetainedState:
    """Keeps the broker's retained copy of one bus's nodes current; every call on the bus worker."""

    def __init__(
        self, publish: PublishRetained, prefix: str, status: int, coalesce: float = COALESCE,
        refresh: float = REFRESH,
    ) -> None:  # fmt: skip
        self.publish = publish
        self.topics = RetainedTopics(prefix)
        self.status = status  # the controller number of the status topic (and will) covering this bus
        self.coalesce = coalesce
        self.refresh = refresh
        self._refreshing = False  # the pending timer is the periodic refresh, not a coalesced change
        self.manager: NodeManager | None = None
        self._states: dict[Hadd, str] = {}
        self._timer: Timer | None = None
        self.published = 0  # how many retained publications (for tests and benchmarks)

    def start(self, manager: NodeManager) -> None:
        """Publish the bus's nodes now."""
        self.manager = manager
        self.flush()

    def changed(self, node: Node) -> None:
        """A value of `node` was published: the retained copy follows within `coalesce` seconds."""
        if self.manager is None:
            return
        if self._timer is not None and self._refreshing:
            self._timer.cancel()  # a change comes before the next refresh
            self._timer = None
        if self._timer is None:
            self._refreshing = False
            self._timer = self.manager.bus.call_later(self.coalesce, self.flush)

    def state_changed(self, node: Node, state: str) -> None:
        """Called at each heartbeat: a new state is republished (an unchanged one costs nothing)."""
        if self._states.get(node.hadd) not in (None, state):
            self.changed(node)

    def flush(self) -> None:
        """Publish the bus's retained state now."""
        if self._timer is not None:
            self._timer.cancel()  # flushed early (start, reconnect): the pending one is not needed
        self._timer = None
        manager = self.manager
        if manager is None or not manager.online:
            return
        states = {hadd: node.heartbeat_state() for hadd, node in manager.nodes.items()}
        nodes = [node.info(state=states[hadd]) for hadd, node in manager.nodes.items()]
        values = [info for node in manager.nodes.values() for v in node.values.values() for info in v.infos()]
        ctrl = manager.controller.hadd.controller
        payload = controller_payload(nodes, values, self.status)
        if len(payload) > MAX_RETAINED_PAYLOAD:
            # Readers would reject it: say so once per attempt rather than publish what nobody reads.
            log.error("controller %04d: retained state of %d bytes is over %d; not published", ctrl,
                      len(payload), MAX_RETAINED_PAYLOAD)  # fmt: skip
            return
        if self.publish(self.topics.controller(ctrl), payload, False):
            self._states = states
            self.published += 1
            self._refreshing = True
            self._timer = manager.bus.call_later(self.refresh, self.flush)
        else:  # over the publication ceiling: tried again after the next period
            self._refreshing = False
            self._timer = manager.bus.call_later(self.coalesce, self.flush)

    def clear(self) -> None:
        """Clean stop: the bus's retained copy is removed (an empty retained payload)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        manager = self.manager
        self.manager = None
        if manager is not None:
            self.publish(self.topics.controller(manager.controller.hadd.controller), b"", True)
