"""The retained state of one bus's nodes (the late-join extension): published coalesced, cleared on stop."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from janitoo_protocol import Hadd
from janitoo_protocol.retained import RetainedTopics, node_payload

from .scheduler import Timer

if TYPE_CHECKING:
    from .node import Node
    from .nodeman import NodeManager

log = logging.getLogger("janitoo.retained")

# (topic, payload, force) -> sent. `force` is for clears: bounded by the node count, like heartbeats,
# and never dropped by the publication ceiling (a dropped clear would leave stale state behind).
PublishRetained = Callable[[str, bytes, bool], bool]
# Seconds between two retained publications of one node: polls and SETs are coalesced into one.
COALESCE = 1.0


class RetainedState:
    """Keeps the broker's retained copy of one bus's nodes current; all calls on the bus worker."""

    def __init__(
        self, publish: PublishRetained, prefix: str, status: int, coalesce: float = COALESCE
    ) -> None:
        self.publish = publish
        self.topics = RetainedTopics(prefix)
        self.status = status  # the controller number of the status topic (and will) covering this bus
        self.coalesce = coalesce
        self.manager: NodeManager | None = None
        self._dirty: set[Hadd] = set()
        self._states: dict[Hadd, str] = {}
        self._timer: Timer | None = None

    def start(self, manager: NodeManager) -> None:
        """Publish every node now."""
        self.manager = manager
        self._dirty = set(manager.nodes)
        self.flush()

    def changed(self, node: Node) -> None:
        """A value of `node` was published: its retained copy follows within `coalesce` seconds."""
        if self.manager is None:
            return
        self._dirty.add(node.hadd)
        if self._timer is None:
            self._timer = self.manager.bus.call_later(self.coalesce, self.flush)

    def state_changed(self, node: Node, state: str) -> None:
        """Called at each heartbeat: a new state is republished (an unchanged one costs nothing)."""
        if self._states.get(node.hadd) not in (None, state):
            self.changed(node)

    def flush(self) -> None:
        self._timer = None
        manager = self.manager
        if manager is None or not manager.online:
            return
        for hadd in sorted(self._dirty):
            node = manager.nodes.get(hadd)
            if node is None:
                self._dirty.discard(hadd)
                continue
            state = node.heartbeat_state()
            values = [info for v in node.values.values() for info in v.infos()]
            payload = node_payload(node.info(state=state), values, self.status)
            if not self.publish(self.topics.node(hadd), payload, False):
                break  # over the publication ceiling: the rest stays dirty, tried again below
            self._dirty.discard(hadd)
            self._states[hadd] = state
        if self._dirty and self._timer is None:
            self._timer = manager.bus.call_later(self.coalesce, self.flush)

    def clear(self) -> None:
        """Clean stop: the nodes' retained copies are removed (empty retained payloads)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        manager = self.manager
        self.manager = None
        if manager is None:
            return
        for hadd in manager.nodes:
            self.publish(self.topics.node(hadd), b"", True)
